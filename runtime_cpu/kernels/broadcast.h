// numpy-style (multidirectional) broadcasting, shared by the elementwise ops, Where, Expand and others.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/status.h"

namespace tandem::cpu {

// The shape all of `shapes` broadcast to, or an error naming the two that cannot.
Result<std::vector<int64_t>> broadcast_shapes(const std::vector<std::vector<int64_t>>& shapes);

// Element strides for reading a row-major tensor of `shape` as if it had `out_shape` (which it broadcasts
// to): 0 along broadcast dimensions. The result has out_shape.size() entries.
std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& shape, const std::vector<int64_t>& out_shape);

// Visits every element of `out_shape` in row-major order, calling f(out_index, in_offsets) where
// in_offsets[k] is the element offset into input k (whose strides come from broadcast_strides). The
// innermost dimension is handed over as a run: f(out_start, offsets, run_length, inner_strides).
template <typename F>
void for_each_broadcast_run(const std::vector<int64_t>& out_shape, const std::vector<std::vector<int64_t>>& strides,
                            F&& f) {
  const std::size_t rank = out_shape.size(), n = strides.size();
  int64_t total = 1;
  for (int64_t d : out_shape) total *= d;
  if (total == 0) return;
  const int64_t inner = rank ? out_shape[rank - 1] : 1;
  std::vector<int64_t> inner_strides(n), offsets(n, 0), index(rank > 0 ? rank - 1 : 0, 0);
  for (std::size_t k = 0; k < n; ++k) inner_strides[k] = rank ? strides[k][rank - 1] : 0;
  for (int64_t out = 0; out < total; out += inner) {
    f(out, offsets, inner, inner_strides);
    // Advance the outer index (all but the last dimension) like an odometer.
    for (std::size_t d = index.size(); d-- > 0;) {
      ++index[d];
      for (std::size_t k = 0; k < n; ++k) offsets[k] += strides[k][d];
      if (index[d] < out_shape[d]) break;
      for (std::size_t k = 0; k < n; ++k) offsets[k] -= strides[k][d] * out_shape[d];
      index[d] = 0;
    }
  }
}

}  // namespace tandem::cpu
