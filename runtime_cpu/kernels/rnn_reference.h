// The reference path of the LSTM/GRU/RNN kernel (rnn.cc computes the input projection for every path): per
// step one GEMM for the recurrent projection of the whole batch, then the cell row by row, written straight
// from the ONNX equations. In float it is the fast path's twin (float32 and float16 nodes); in double it is
// the only path of float64 nodes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "graph/status.h"
#include "runtime_cpu/kernels/rnn_types.h"

namespace tandem::cpu::rnn {

// C = A·B + beta·C, row-major with leading dimensions in elements: oneDNN's sgemm in float, double_gemm
// in double (oneDNN 2.6 has no dgemm).
Status gemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
            float* c, int64_t ldc);
Status gemm(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b, int64_t ldb,
            double beta, double* c, int64_t ldc);

// One direction's recurrent weights as the reference path reads them.
template <class T>
struct ReferenceWeights {
  const T* rt = nullptr;    // [H][G*H]: R transposed, so H·Rᵀ is a plain row-major GEMM
  const T* peep = nullptr;  // [3H]: LSTM peepholes p_i, p_o, p_f; nullptr: none
  const T* rbh = nullptr;   // [H]: Rbh, apart for GRU with linear_before_reset; nullptr: zero
};

// Bytes of state one direction allocates per run besides its input projection, for elements of
// `element_size` bytes: the state(s), the gate pre-activations and GRU's r*h.
std::size_t reference_state_bytes(const RnnAttrs& a, const RunShape& s, std::size_t element_size);

// Runs direction d over the whole sequence from xw, its input projection of every step (bias folded in,
// [seq * batch rows][gates * hidden]), writing Y, Y_h and Y_c where io asks.
template <class T>
Status run_reference_direction(const RnnAttrs& a, const ReferenceWeights<T>& w, const RunShape& s, int64_t d,
                               bool reverse, const T* xw, const TypedDirectionIO<T>& io);

extern template Status run_reference_direction<float>(const RnnAttrs&, const ReferenceWeights<float>&,
                                                      const RunShape&, int64_t, bool, const float*,
                                                      const TypedDirectionIO<float>&);
extern template Status run_reference_direction<double>(const RnnAttrs&, const ReferenceWeights<double>&,
                                                       const RunShape&, int64_t, bool, const double*,
                                                       const TypedDirectionIO<double>&);

}  // namespace tandem::cpu::rnn
