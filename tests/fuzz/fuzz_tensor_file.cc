#include <cstring>
#include <stdexcept>
#include <string>

#include "session/tensor_io.h"
#include "tests/fuzz/fuzz_entry.h"

namespace tandem::fuzz {
namespace {

// No folder of that name exists, so a .pb's external data is refused rather than read from wherever the
// fuzzer runs.
const std::string kPath = "/nonexistent-tandem-fuzz/input";

// The same elements, bit for bit (NaNs compare equal to themselves).
bool same(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  if (a.dtype() != DType::kString) return a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    if (a.data<std::string>()[i] != b.data<std::string>()[i]) return false;
  return true;
}

// NumPy's fixed-width strings are NUL-padded, so a string's trailing NULs do not survive a .npy (as in
// NumPy itself); those strings are left out of the round trip.
bool npy_keeps(const Tensor& t) {
  if (t.dtype() != DType::kString) return true;
  for (int64_t i = 0; i < t.numel(); ++i) {
    const std::string& s = t.data<std::string>()[i];
    if (!s.empty() && s.back() == '\0') return false;
  }
  return true;
}

}  // namespace

void fuzz_tensor_file(const uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  if (auto t = parse_tensor_bytes(bytes, kPath); t && npy_keeps(t->tensor)) {
    // What tandem writes it must read back as it was.
    if (auto npy = npy_bytes(t->tensor)) {
      auto back = parse_tensor_bytes(*npy, kPath);
      if (!back) throw std::logic_error("a .npy written by tandem does not read back: " + back.status().message());
      if (!same(t->tensor, back->tensor))
        throw std::logic_error("a .npy written by tandem reads back as another tensor: " + t->tensor.describe() +
                               " -> " + back->tensor.describe());
    }
  }
  for (ValueForm form : {ValueForm::kSequence, ValueForm::kOptionalTensor, ValueForm::kOptionalSequence})
    (void)parse_value_bytes(bytes, kPath, form, DType::kFloat32);
}

}  // namespace tandem::fuzz
