// The persistent time loop of LSTM, GRU and RNN for small hidden sizes and batches: one cooperative launch
// runs every step of every direction, instead of a recurrent GEMM and a cell kernel per step.
//
// The grid is cut by hidden units: each block owns `units` consecutive hidden units of one direction and
// every gate of them, loads those rows of R (G·units rows of H floats) into shared memory once, and keeps
// its units' cell state (LSTM) to itself. Each step, every block reads the whole H(t-1) of its direction
// ([batch, H], double-buffered in global memory) into shared memory, computes its slice of H(t-1)·Rᵀ (a
// warp per dot product), adds the step's input projection (X·Wᵀ + bias, precomputed for all steps as on
// the per-step path), applies the cell exactly as rnn_cell.cu does (clip, activations with alpha/beta,
// peepholes, input_forget, linear_before_reset, sequence_lens: a finished row carries its state) and
// writes its slice of H(t) and of Y. Steps are separated by a grid-wide barrier (cooperative_groups
// grid.sync(), so the grid must be co-resident: plan_rnn_persistent checks the occupancy). GRU without
// linear_before_reset needs r ⊙ H(t-1) of every unit before its h gate, so it takes a second barrier per
// step (r ⊙ H(t-1) goes through global memory like H).
//
// Values other blocks wrote (H and r ⊙ H) are read with __ldcg (L2, never a stale L1 line); everything
// else the kernel reads is constant during the launch. The grid is small (at most 2 · 32 blocks of 128
// threads and tens of KiB of shared memory), so persistent kernels of concurrent runs on other streams fit
// co-resident together; blocks waiting at a barrier for blocks that other kernels keep off the SMs wait
// until those kernels finish. C++17-clean.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "graph/status.h"
#include "runtime_cuda/kernels/rnn_cell.h"

namespace tandem::cuda {

// The sizes the persistent kernel takes (the selection rule's bounds): beyond them the per-step path's
// GEMMs use the GPU better, and the per-step shared memory (H(t-1) of the whole batch) grows.
constexpr int64_t kPersistentRnnMaxHidden = 128;
constexpr int64_t kPersistentRnnMaxBatch = 16;
constexpr int kPersistentRnnThreads = 128;
// Blocks per direction the grid aims at (fewer when H is smaller): enough parallelism for the dot
// products while the grid-wide barrier stays cheap.
constexpr int64_t kPersistentRnnTargetBlocks = 32;

// How the grid is cut for one (cell, directions, hidden, batch) on the current device, or why the
// persistent kernel cannot run it (`fits` false, `reason` says why).
struct RnnPersistentLayout {
  bool fits = false;
  std::string reason;
  int64_t units = 0;           // hidden units per block
  int64_t blocks_per_dir = 0;  // ceil(hidden / units)
  std::size_t smem_bytes = 0;  // dynamic shared memory per block
};

// Checks the size bounds, cooperative-launch support, shared memory per block and co-residency
// (cudaOccupancyMaxActiveBlocksPerMultiprocessor × SMs ≥ blocks) on the calling thread's current device.
// A failed CUDA call is an error; a shape that does not fit is a layout with fits = false.
Result<RnnPersistentLayout> plan_rnn_persistent(RnnCellKind kind, bool linear_before_reset, int64_t dirs,
                                                int64_t hidden, int64_t batch);

// Everything the persistent kernel reads and writes. Pointers are device memory; per-direction arrays
// are [dirs, ...] with direction d's part at d · (its size).
struct RnnPersistentArgs {
  RnnCellKind kind = RnnCellKind::kLstm;
  int64_t batch = 0, hidden = 0, seq = 0, dirs = 1, layout = 0;
  int64_t steps = 0;             // the longest sequence_lens entry: steps every direction takes
  int64_t units = 0, blocks_per_dir = 0;  // from RnnPersistentLayout
  bool reverse = false;          // direction 0 walks backwards (direction == "reverse"); direction 1 always does
  const int32_t* lens = nullptr;  // [batch]
  RnnActivationSpec act[2][3];   // per direction: f, g, h (unused ones ignored)
  bool has_clip = false;
  float clip = 0.0f;
  bool input_forget = false;
  bool linear_before_reset = false;
  const float* xw = nullptr;     // [dirs, rows, G·H]: X·Wᵀ + bias, rows as RnnStepArgs::xw
  const float* r = nullptr;      // [dirs, G·H, H]: R in ONNX layout
  const float* peep = nullptr;   // [dirs, 3H] or nullptr
  const float* rbh = nullptr;    // [dirs, H] (GRU linear_before_reset) or nullptr
  float* h0 = nullptr;           // [dirs, batch, H]: the initial state; H(k) for even k afterwards
  float* h1 = nullptr;           // [dirs, batch, H]: H(k) for odd k (so H(steps) is in h1 when steps is odd)
  float* c = nullptr;            // [dirs, batch, H]: LSTM's cell state, updated in place
  float* rh = nullptr;           // [dirs, batch, H]: GRU (no linear_before_reset) r ⊙ H(t-1) scratch
  float* y = nullptr;            // Y in ONNX layout, zeroed beforehand; nullptr: not written
};

// Launches the kernel (cudaLaunchCooperativeKernel) with dirs · blocks_per_dir blocks. When the launch is
// refused because the grid cannot be co-resident (cudaErrorCooperativeLaunchTooLarge: other work holds
// the SMs' resources in a way the occupancy check did not foresee), `too_large` (if given) is set, the
// error is cleared and nothing ran, so the caller may take another path.
Status launch_rnn_persistent(const RnnPersistentArgs& a, std::size_t smem_bytes, cudaStream_t stream,
                             bool* too_large = nullptr);

}  // namespace tandem::cuda
