// The per-time-step GPU kernels of LSTM, GRU and RNN (ONNX semantics), used by CudaRnn.
//
// A step's recurrent projection H·Rᵀ is a cuBLAS GEMM into `gates`; these kernels then add the step's
// input projection (X·Wᵀ + bias, computed for all steps beforehand), apply clip and the activations, and
// update the state in place, one thread per (batch row, hidden unit). Gate orders are ONNX's: LSTM i,o,f,c
// (peepholes i,o,f), GRU z,r,h. C++17-clean.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "graph/status.h"

namespace tandem::cuda {

enum class RnnCellKind { kRnn, kGru, kLstm };

// ONNX's RNN activation functions (the `activations` attribute) with their alpha/beta.
enum class RnnActivationFn { kSigmoid, kTanh, kRelu, kAffine, kLeakyRelu, kThresholdedRelu, kScaledTanh,
                             kHardSigmoid, kElu, kSoftsign, kSoftplus };
struct RnnActivationSpec {
  RnnActivationFn fn = RnnActivationFn::kTanh;
  float alpha = 0.0f, beta = 0.0f;
};

// Everything one step of one direction reads and writes. Pointers are device memory.
struct RnnStepArgs {
  RnnCellKind kind = RnnCellKind::kLstm;
  int64_t batch = 0, hidden = 0, seq = 0, dirs = 1, dir = 0, layout = 0;
  int64_t step = 0;         // k: the k-th step this direction takes
  bool reverse = false;     // walk each row from its own last valid time backwards
  const int32_t* lens = nullptr;  // [batch] valid lengths; row b takes part while step < lens[b]
  RnnActivationSpec act_f, act_g, act_h;  // f for gates, g for the candidate, h for LSTM's output (unused ones ignored)
  bool has_clip = false;
  float clip = 0.0f;
  bool input_forget = false;         // LSTM: f = 1 - i
  bool linear_before_reset = false;  // GRU
  const float* xw = nullptr;     // [rows, G*H]: X·Wᵀ + bias, row x_row(t, b)
  float* gates = nullptr;        // [batch, G*H]: H·Rᵀ of this step (scratch)
  float* h = nullptr;            // [batch, H] state, updated in place
  float* c = nullptr;            // [batch, H] LSTM cell state, updated in place
  const float* peep = nullptr;   // [3H] LSTM p_i, p_o, p_f; nullptr: none
  const float* rbh = nullptr;    // [H] GRU linear_before_reset: Rbh; nullptr: zero
  float* y = nullptr;            // Y in ONNX layout (all directions); nullptr: not written
};

// GRU without linear_before_reset, before the h gate's GEMM: activates z and r in `gates` and writes
// rh = r ⊙ H(t-1) ([batch, H]).
Status launch_gru_reset_gate(const RnnStepArgs& a, float* rh, cudaStream_t stream);
// The cell update of one step for every active row; writes Y at (t, dir, b) when y is set.
Status launch_rnn_cell(const RnnStepArgs& a, cudaStream_t stream);

}  // namespace tandem::cuda
