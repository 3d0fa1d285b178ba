// Index arithmetic shared by the broadcasting kernels: an output's dimensions and, per operand, the stride
// of each output dimension in that operand (0 where the operand is broadcast). Passed to kernels by value.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/status.h"

// Only .cu files include this header (the offset function runs on the device).
#ifndef __CUDACC__
#error "broadcast_index.h is for .cu files"
#endif

namespace tandem::cuda {

struct StridedShape {
  int rank = 0;
  int64_t dims[8] = {};
  int64_t strides[2][8] = {};  // per operand

  // The operand offset of output element `i`.
  __host__ __device__ int64_t offset(int operand, int64_t i) const {
    int64_t off = 0;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t idx = i % dims[d];
      i /= dims[d];
      off += idx * strides[operand][d];
    }
    return off;
  }
};

// Builds the strides of operands (shapes right-aligned to `out`, each dimension 1 or equal to out's),
// merging neighbouring dimensions that are contiguous in every operand so the kernels do fewer divisions.
Result<StridedShape> make_strided_shape(const std::vector<int64_t>& out, const std::vector<std::vector<int64_t>>& operands);

}  // namespace tandem::cuda
