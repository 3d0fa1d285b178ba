#include "runtime_cpu/kernels/broadcast.h"

#include <algorithm>

#include "runtime/tensor.h"

namespace tandem::cpu {

Result<std::vector<int64_t>> broadcast_shapes(const std::vector<std::vector<int64_t>>& shapes) {
  std::size_t rank = 0;
  for (const auto& s : shapes) rank = std::max(rank, s.size());
  std::vector<int64_t> out(rank, 1);
  std::vector<std::size_t> owner(rank, 0);  // which input set each output dimension, for messages
  for (std::size_t k = 0; k < shapes.size(); ++k) {
    const auto& s = shapes[k];
    for (std::size_t i = 0; i < s.size(); ++i) {
      const std::size_t d = rank - s.size() + i;
      if (s[i] == out[d]) continue;
      if (s[i] == 1) continue;
      if (out[d] == 1) {
        out[d] = s[i];
        owner[d] = k;
        continue;
      }
      return Status::error("shapes " + shape_string(shapes[owner[d]]) + " and " + shape_string(s) +
                           " cannot be broadcast together");
    }
  }
  return out;
}

std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& shape, const std::vector<int64_t>& out_shape) {
  std::vector<int64_t> strides(out_shape.size(), 0);
  int64_t stride = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    const std::size_t d = out_shape.size() - shape.size() + i;
    strides[d] = shape[i] == 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

}  // namespace tandem::cpu
