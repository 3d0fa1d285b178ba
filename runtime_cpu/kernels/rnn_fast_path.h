// The fast recurrent path of the LSTM/GRU/RNN kernel (DeepCPU style; rnn_fast_step.h says how a step
// works): the recurrent weights packed once into per-block panels, then per step a register-blocked product
// fused with the cell update, at every batch size (tiles of up to 8 rows over each panel), the time loop
// inside one OpenMP parallel region over blocks of hidden units. The two directions of a bidirectional
// layer run at the same time when neither needs the whole team. The input projection stays one oneDNN
// GEMM per direction (rnn.cc computes it for every path); rnn.cc's straightforward path is the reference
// twin.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "graph/status.h"
#include "runtime_cpu/kernels/rnn_fast_isa.h"
#include "runtime_cpu/kernels/rnn_types.h"

namespace tandem::cpu::rnn {

// Which path a kernel takes, fixed when it is created, from the environment variable TANDEM_RNN_KERNEL:
//   unset or "auto"  the panels, with as many threads as the work per step pays for, on the best
//                    instruction set of this CPU.
//   "reference"      the reference twin at every batch size (tests and benchmarks compare against it).
//   "fast", "fast-avx512", "fast-avx2", "fast-scalar"
//                    the panels, on that instruction set or the best one below it
//                    that this CPU has, on every thread that has a block of hidden units (so tests cover
//                    each instruction set and the threaded loop even on small shapes).
// Any other value is reported once on stderr and treated as "auto".
struct KernelChoice {
  bool reference_only = false;
  bool fast_always = false;
  Isa isa = Isa::kScalar;
};
KernelChoice kernel_choice_from_env();
const char* isa_name(Isa isa);

// R rearranged for one instruction set: per direction, per block of `block` hidden units, a panel
// [hidden][gates][block] (for each recurrent input k, all gates of the block's units side by side), so one
// pass over a contiguous panel yields every gate of the block. Units past `hidden` in the last block are
// zero; peepholes and Rbh are padded the same way so the cell reads whole vectors. block == 0: nothing
// packed (the reference path alone runs).
//
// (Until 2026-11-21 batches above 8 rows multiplied with oneDNN's sgemm per step and ran the cell on one
// thread; the panels in tiles of 6 to 8 rows beat it at every large-batch shape measured, 1.03 to 1.8 times
// on one thread, more on two: bench notes in docs/performance.md.)
struct FastWeights {
  Isa isa = Isa::kScalar;
  int64_t hidden = 0, gates = 0, block = 0, blocks = 0, padded = 0;  // padded = blocks * block
  std::vector<float> panels;  // [dirs][blocks][hidden][gates][block]
  std::vector<float> peep;    // [dirs][3][padded]: p_i, p_o, p_f; empty: no P
  std::vector<float> rbh;     // [dirs][padded]: GRU linear_before_reset's Rbh; empty: none
  std::size_t bytes() const { return (panels.size() + peep.size() + rbh.size()) * sizeof(float); }
};

// r: R as ONNX lays it out, [dirs][gates * hidden][hidden]; peep: [dirs][3 * hidden] or nullptr; rbh:
// [dirs][hidden] or nullptr.
FastWeights pack_fast_weights(const RnnAttrs& a, Isa isa, int64_t hidden, const float* r, const float* peep,
                              const float* rbh);

// Bytes of state one direction allocates per run, besides the input projection (and a few KiB of stack
// per thread).
std::size_t fast_state_bytes(const RnnAttrs& a, const FastWeights& w, int64_t batch);

// How a run shares its steps among the calling thread's OpenMP team (CpuDevice sets its size): each
// direction's team is capped by its blocks and, unless every_thread, by the work per step. When a
// bidirectional layer's direction would leave threads idle, or its steps are small, the two directions
// run at once, each on its share (a thread done with its own direction then helps the other); otherwise
// one after the other on the whole team. A team of one runs without OpenMP.
struct FastTeams {
  int64_t per_direction = 1;  // one after the other: each direction's team
  bool concurrent = false;    // both directions at once, on `forward` and `backward` threads
  int64_t forward = 0, backward = 0;
};
FastTeams plan_fast_teams(const RnnAttrs& a, const FastWeights& w, int64_t batch, bool every_thread);

// Runs direction d over the whole sequence from xw, the direction's input projection of every step (bias
// folded in, [seq * batch rows][gates * hidden]), writing Y, Y_h and Y_c where io asks, on `team` threads.
Status run_fast_direction(const RnnAttrs& a, const FastWeights& w, const RunShape& s, int64_t d, bool reverse,
                          const float* xw, const DirectionIO& io, int64_t team);

// Runs both directions of a bidirectional layer at once (teams.concurrent); xw[d] as above. The result is
// bit for bit that of running them one after the other: they share no state and write disjoint parts of
// Y, Y_h and Y_c.
Status run_fast_bidirectional(const RnnAttrs& a, const FastWeights& w, const RunShape& s,
                              const float* const xw[2], const DirectionIO& io, const FastTeams& teams);

}  // namespace tandem::cpu::rnn
