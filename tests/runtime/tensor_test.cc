// Host tensors' storage: aligned as kernels assume, the requested bytes all usable, shared by copies.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <new>
#include <string>

#include "runtime/tensor.h"

namespace tandem {
namespace {

TEST(Tensor, EmptyHostStorageIsCacheLineAlignedAndWholeForEverySize) {
  // Sizes around the allocator's size classes and page boundaries; the bytes are written end to end, so
  // AddressSanitizer (a CMake option) reports a block shorter than asked for.
  for (int64_t n : {0, 1, 3, 15, 16, 17, 63, 64, 65, 255, 256, 257, 1000, 1024, 4096, 4097, 65536, 300001}) {
    const Tensor t = Tensor::empty(DType::kUInt8, {n});
    ASSERT_NE(t.raw(), nullptr) << n;
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.raw()) % 64, 0u) << n;
    std::memset(const_cast<void*>(t.raw()), 0xab, static_cast<std::size_t>(n));
    const Tensor copy = t;  // shares the storage
    EXPECT_EQ(copy.raw(), t.raw());
    EXPECT_EQ(copy.storage(), t.storage());
    if (n > 0) {
      EXPECT_EQ(static_cast<const uint8_t*>(copy.raw())[n - 1], 0xab);
    }
  }
}

TEST(Tensor, StorageOutlivesTheTensorItCameFrom) {
  Tensor view;
  {
    Tensor t = Tensor::empty(DType::kFloat32, {4, 8});
    for (int i = 0; i < 32; ++i) t.data<float>()[i] = static_cast<float>(i);
    view = t.view(64, DType::kFloat32, {16});
  }
  for (int i = 0; i < 16; ++i) EXPECT_EQ(view.data<float>()[i], static_cast<float>(16 + i));
}

TEST(Tensor, AHostTensorBeyondMemorySaysHowManyBytesForWhat) {
  try {
    Tensor::empty(DType::kFloat32, {int64_t{1} << 40, 16});
    FAIL() << "no error";
  } catch (const std::bad_alloc& e) {
    EXPECT_NE(std::string(e.what()).find("cannot allocate 70368744177664 bytes for a float32 [1099511627776,16] tensor"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tandem
