// What the LSTM/GRU/RNN kernel (rnn.cc) shares with its recurrent paths (rnn_fast_path.h, rnn_reference.h):
// the cell kinds, the attributes, the sizes of one run and where one direction reads and writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime_cpu/kernels/rnn_activation.h"

namespace tandem::cpu::rnn {

class StepStop;  // rnn_step_stop.h

enum class CellKind { kRnn, kGru, kLstm };

inline int64_t gates_of(CellKind k) { return k == CellKind::kRnn ? 1 : k == CellKind::kGru ? 3 : 4; }
inline std::size_t activations_per_direction(CellKind k) {
  return k == CellKind::kRnn ? 1 : k == CellKind::kGru ? 2 : 3;
}

struct RnnAttrs {
  CellKind kind = CellKind::kLstm;
  int64_t gates = 4;
  int64_t num_dirs = 1;
  bool reverse = false;  // direction == "reverse"
  int64_t hidden = -1;   // hidden_size; -1 when absent (then taken from W's shape)
  int64_t layout = 0;
  bool has_clip = false;
  float clip = 0.0f;
  bool input_forget = false;         // LSTM
  bool linear_before_reset = false;  // GRU
  std::vector<RnnActivation> acts;   // activations_per_direction(kind) per direction, forward first
};

// Sizes and layout of one run.
struct RunShape {
  int64_t seq = 0, batch = 0, input = 0, hidden = 0, dirs = 1, layout = 0;
  int64_t x_row(int64_t t, int64_t b) const { return layout == 0 ? t * batch + b : b * seq + t; }
  // Offset of [t, d, b, :] in Y.
  int64_t y_offset(int64_t t, int64_t d, int64_t b) const {
    return (layout == 0 ? (t * dirs + d) * batch + b : (b * seq + t) * dirs + d) * hidden;
  }
  // Offset of [d, b, :] in initial_h, initial_c, Y_h and Y_c.
  int64_t state_offset(int64_t d, int64_t b) const {
    return (layout == 0 ? d * batch + b : b * dirs + d) * hidden;
  }
};

// With sequence_lens, a batch row takes part in step k only while k < its length; a reverse direction walks
// each sequence from its own last valid step backwards, so at step k row b reads time len[b]-1-k. T is the
// type the steps compute in: float (the fast path's), or double on the reference path.
template <class T>
struct TypedDirectionIO {
  const T* x = nullptr;
  const std::vector<int64_t>* lens = nullptr;
  const T* init_h = nullptr;  // nullptr: zeros
  const T* init_c = nullptr;
  T* y = nullptr;  // nullptr: not wanted
  T* y_h = nullptr;
  T* y_c = nullptr;
  const StepStop* stop = nullptr;  // checked before every step; nullptr: the run never stops early
};
using DirectionIO = TypedDirectionIO<float>;

}  // namespace tandem::cpu::rnn
