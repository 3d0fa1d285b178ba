// The contract between the fast RNN path's time loop (rnn_fast_path.cc, portable) and its per-step code,
// which is compiled once per instruction set (rnn_fast_avx512.cc, rnn_fast_avx2.cc, rnn_fast_scalar.cc from
// the one template in rnn_fast_step.h) and picked at run time, so the binary needs no AVX-512 to start.
#pragma once

#include <cstdint>

#include "runtime_cpu/kernels/rnn_types.h"

namespace tandem::cpu::rnn {

enum class Isa { kScalar, kAvx2, kAvx512 };

// Everything one step of one direction reads and writes. State buffers are [batch][padded] (each row padded
// to whole blocks, so the cell works on full vectors); h alternates between two buffers, step k reading
// h[k % 2] and writing h[(k + 1) % 2], so threads never overwrite a state another thread is still reading.
struct StepArgs {
  CellKind kind = CellKind::kLstm;
  bool linear_before_reset = false, input_forget = false, has_clip = false;
  float clip = 0.0f;
  const RnnActivation* acts = nullptr;  // this direction's f (g, h)
  int64_t hidden = 0, padded = 0, batch = 0;
  int64_t gates = 0;              // gates per panel row (and per xw row)
  const float* panels = nullptr;  // this direction's R: [blocks][hidden][gates][block] (rnn_fast_path.h)
  const float* peep = nullptr;    // [3][padded] p_i, p_o, p_f; nullptr: none
  const float* rbh = nullptr;     // [padded] GRU linear_before_reset's Rbh; nullptr: zero
  const float* xw = nullptr;      // X·Wᵀ + bias of every time step: [seq * batch rows][gates * hidden]
  const RunShape* shape = nullptr;
  int64_t direction = 0;
  bool reverse = false;
  const int64_t* lens = nullptr;  // [batch]
  float* h[2] = {nullptr, nullptr};
  float* c = nullptr;   // LSTM's cell state
  float* z = nullptr;   // GRU without linear_before_reset: z between the two phases of a step
  float* rh = nullptr;  // ... and r (.) H(t-1), the second phase's input
  float* y = nullptr;   // Y, nullptr when not wanted
};

// Step k (phase 0; GRU without linear_before_reset also phase 1, after a barrier) for the hidden units of
// blocks [first, last).
using StepFn = void (*)(const StepArgs& s, int64_t k, int phase, int64_t first, int64_t last);

// y[m * ldy + n] = sum over k < K of A[m][k] * bt[n * K + k], for m < M and n < N, where A [M x K] is
// packed as one-gate panels ([blocks][K][block], rows past M zero): the panels' product with few columns
// (Conv at batch 1, whose output has a few positions: panel_product.h).
using PanelProductFn = void (*)(const float* panels, int64_t M, int64_t K, const float* bt, int64_t N, float* y,
                                int64_t ldy);

struct IsaKernels {
  int64_t block = 0;  // hidden units per block (the panel width)
  StepFn step = nullptr;
  PanelProductFn panel_product = nullptr;
};

// Only call an ISA's kernels where the CPU has it (rnn_fast_path.cc checks).
const IsaKernels& avx512_kernels();
const IsaKernels& avx2_kernels();
const IsaKernels& scalar_kernels();
const IsaKernels& kernels_for(Isa isa);

}  // namespace tandem::cpu::rnn
