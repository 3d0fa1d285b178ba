// Constant tensor contents: initializers, Constant nodes' values and tensor attributes. Immutable once
// built and shared by pointer, so a graph, its copies and the kernels prepared from it hold one copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "graph/dtype.h"

namespace tandem {

struct TensorData {
  DType dtype = DType::kUndefined;
  std::vector<int64_t> dims;
  std::vector<std::byte> bytes;       // little-endian elements, row-major; empty for strings
  std::vector<std::string> strings;   // only for DType::kString

  int64_t num_elements() const;  // product of dims (1 for a scalar)
  std::size_t byte_size() const { return bytes.size(); }

  template <typename T>
  std::span<const T> as() const {
    return {reinterpret_cast<const T*>(bytes.data()), bytes.size() / sizeof(T)};
  }
};

using TensorDataPtr = std::shared_ptr<const TensorData>;

}  // namespace tandem
