// Products with a few columns against constant weights, on the RNN fast path's panels: a Conv at batch 1
// whose output has a few positions (Silero VAD's STFT and encoder: 4 or fewer) is a GEMM with N <= 4, and
// oneDNN's sgemm packs all of W again on every call for it (its STFT Conv ran at 30 GFLOP/s). Packed once
// into one-gate panels, W streams through registers once per pass of up to 8 columns, each column's patch
// contiguous (bt, the patch matrix transposed).
#pragma once

#include <cstdint>
#include <vector>

#include "runtime_cpu/kernels/rnn_fast_isa.h"

namespace tandem::cpu {

// Columns up to which the panels beat sgemm (two passes of 8 at most).
constexpr int64_t kPanelProductMaxColumns = 16;

struct PanelMatrix {
  const rnn::IsaKernels* isa = nullptr;  // nullptr: none packed
  int64_t rows = 0, depth = 0;           // A is [rows x depth]
  std::vector<float> panels;             // [blocks][depth][block]
  std::size_t bytes() const { return panels.size() * sizeof(float); }
};

// A [rows x depth], row-major, packed for the instruction set TANDEM_RNN_KERNEL picks (the best this CPU
// has by default): the same choice, and the same "reference" that leaves the product to sgemm, as the RNNs.
PanelMatrix pack_panel_matrix(const float* a, int64_t rows, int64_t depth);

// y[m * ldy + n] = sum over k of A[m][k] * bt[n * depth + k], for m < rows and n < cols.
inline void panel_multiply(const PanelMatrix& a, const float* bt, int64_t cols, float* y, int64_t ldy) {
  a.isa->panel_product(a.panels.data(), a.rows, a.depth, bt, cols, y, ldy);
}

}  // namespace tandem::cpu
