// Whether two runs' outputs are the same bit for bit (NaNs compared as bits, -0 apart from 0), for the tests
// and the fuzz target that require a plan over several devices to give what one device gives: the form
// (tensor, sequence, empty optional), type and shape, then the bytes of a tensor of plain elements, the
// strings of a string tensor, and a sequence's tensors one by one. Host tensors only.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/tensor.h"

namespace tandem::test {

// Empty when equal; otherwise what differs, `what` naming the tensor ("output 2").
inline std::string bitwise_difference(const Tensor& got, const Tensor& want, const std::string& what) {
  if (got.form() != want.form() || got.dtype() != want.dtype() || got.shape() != want.shape() ||
      got.none_of_sequence() != want.none_of_sequence())
    return what + " is " + got.describe() + ", want " + want.describe();
  if (got.is_sequence()) {
    if (got.elements().size() != want.elements().size())
      return what + " has " + std::to_string(got.elements().size()) + " tensors, want " +
             std::to_string(want.elements().size());
    for (std::size_t k = 0; k < got.elements().size(); ++k) {
      std::string d = bitwise_difference(got.elements()[k], want.elements()[k], what + " tensor " + std::to_string(k));
      if (!d.empty()) return d;
    }
    return "";
  }
  if (!got.is_tensor()) return "";
  if (got.dtype() == DType::kString) {
    for (int64_t i = 0; i < got.numel(); ++i)
      if (got.data<std::string>()[i] != want.data<std::string>()[i])
        return what + " differs in its strings (element " + std::to_string(i) + ")";
    return "";
  }
  if (got.nbytes() && std::memcmp(got.raw(), want.raw(), got.nbytes()) != 0) return what + " differs in its bits";
  return "";
}

inline std::string bitwise_difference(const std::vector<Tensor>& got, const std::vector<Tensor>& want) {
  if (got.size() != want.size()) return std::to_string(got.size()) + " outputs, want " + std::to_string(want.size());
  for (std::size_t k = 0; k < got.size(); ++k) {
    std::string d = bitwise_difference(got[k], want[k], "output " + std::to_string(k));
    if (!d.empty()) return d;
  }
  return "";
}

}  // namespace tandem::test
