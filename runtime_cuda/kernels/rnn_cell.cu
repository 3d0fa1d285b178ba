// Fused cell kernels of LSTM, GRU and RNN. The arithmetic follows runtime_cpu/kernels/rnn.cc step for step
// (clip before each gate activation, none before LSTM's h(C); LSTM's output peephole reads C(t)), so the
// GPU and the CPU agree to float rounding.
#include <cuda_runtime.h>

#include "runtime_cuda/cuda_check.h"
#include "runtime_cuda/kernels/rnn_cell.cuh"
#include "runtime_cuda/kernels/rnn_cell.h"

namespace tandem::cuda {
namespace {

__device__ __forceinline__ float activate(const RnnActivationSpec& s, float x) { return rnn_activate(s, x); }

__device__ __forceinline__ float clip_to(const RnnStepArgs& a, float x) { return rnn_clip(a.has_clip, a.clip, x); }

// The time index row b reads at this step, or -1 when the row has finished (or never started).
__device__ __forceinline__ int64_t time_of(const RnnStepArgs& a, int64_t b) {
  const int64_t len = a.lens[b];
  if (a.step >= len) return -1;
  return a.reverse ? len - 1 - a.step : a.step;
}

__device__ __forceinline__ int64_t x_row(const RnnStepArgs& a, int64_t t, int64_t b) {
  return a.layout == 0 ? t * a.batch + b : b * a.seq + t;
}

__device__ __forceinline__ int64_t y_offset(const RnnStepArgs& a, int64_t t, int64_t b) {
  return (a.layout == 0 ? (t * a.dirs + a.dir) * a.batch + b : (b * a.seq + t) * a.dirs + a.dir) * a.hidden;
}

__global__ void gru_reset_gate_kernel(RnnStepArgs a, float* rh) {
  const int64_t n = a.hidden, gh = 3 * n;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < a.batch * n; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t b = i / n, j = i % n;
    const int64_t t = time_of(a, b);
    if (t < 0) {
      rh[i] = 0.0f;
      continue;
    }
    const float* xw = a.xw + x_row(a, t, b) * gh;
    float* g = a.gates + b * gh;
    const float z = activate(a.act_f, clip_to(a, g[j] + xw[j]));
    const float r = activate(a.act_f, clip_to(a, g[n + j] + xw[n + j]));
    g[j] = z;  // kept activated for the cell kernel
    g[n + j] = r;
    rh[i] = r * a.h[i];
  }
}

__global__ void rnn_cell_kernel(RnnStepArgs a, bool gru_gates_done) {
  const int64_t n = a.hidden;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < a.batch * n; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t b = i / n, j = i % n;
    const int64_t t = time_of(a, b);
    if (t < 0) continue;  // the row keeps its state; its Y stays zero
    float h_new = 0.0f;
    if (a.kind == RnnCellKind::kRnn) {
      const float* xw = a.xw + x_row(a, t, b) * n;
      h_new = activate(a.act_f, clip_to(a, a.gates[b * n + j] + xw[j]));
    } else if (a.kind == RnnCellKind::kGru) {
      const int64_t gh = 3 * n;
      const float* xw = a.xw + x_row(a, t, b) * gh;
      const float* g = a.gates + b * gh;
      float z, r;
      if (gru_gates_done) {
        z = g[j];
        r = g[n + j];
      } else {
        z = activate(a.act_f, clip_to(a, g[j] + xw[j]));
        r = activate(a.act_f, clip_to(a, g[n + j] + xw[n + j]));
      }
      // With linear_before_reset g[2H+j] is (H·Rhᵀ)[j]; without, ((r ⊙ H)·Rhᵀ)[j].
      const float hh_pre = a.linear_before_reset ? xw[2 * n + j] + r * (g[2 * n + j] + (a.rbh ? a.rbh[j] : 0.0f))
                                                 : g[2 * n + j] + xw[2 * n + j];
      const float hh = activate(a.act_g, clip_to(a, hh_pre));
      h_new = (1.0f - z) * hh + z * a.h[i];
    } else {
      const int64_t gh = 4 * n;
      const float* xw = a.xw + x_row(a, t, b) * gh;
      const float* g = a.gates + b * gh;
      const float c_prev = a.c[i];
      const float pi = a.peep ? a.peep[j] : 0.0f, po = a.peep ? a.peep[n + j] : 0.0f,
                  pf = a.peep ? a.peep[2 * n + j] : 0.0f;
      const float gi = activate(a.act_f, clip_to(a, g[j] + xw[j] + pi * c_prev));
      const float gf = a.input_forget ? 1.0f - gi : activate(a.act_f, clip_to(a, g[2 * n + j] + xw[2 * n + j] + pf * c_prev));
      const float gc = activate(a.act_g, clip_to(a, g[3 * n + j] + xw[3 * n + j]));
      const float c_new = gf * c_prev + gi * gc;
      const float go = activate(a.act_f, clip_to(a, g[n + j] + xw[n + j] + po * c_new));
      a.c[i] = c_new;
      h_new = go * activate(a.act_h, c_new);
    }
    a.h[i] = h_new;
    if (a.y) a.y[y_offset(a, t, b) + j] = h_new;
  }
}

int blocks_for(int64_t n, int threads) {
  const int64_t b = (n + threads - 1) / threads;
  return static_cast<int>(b < 65535 ? (b > 0 ? b : 1) : 65535);
}

}  // namespace

Status launch_gru_reset_gate(const RnnStepArgs& a, float* rh, cudaStream_t stream) {
  constexpr int kThreads = 256;
  gru_reset_gate_kernel<<<blocks_for(a.batch * a.hidden, kThreads), kThreads, 0, stream>>>(a, rh);
  return launch_status("gru_reset_gate_kernel");
}

Status launch_rnn_cell(const RnnStepArgs& a, cudaStream_t stream) {
  constexpr int kThreads = 256;
  const bool gru_gates_done = a.kind == RnnCellKind::kGru && !a.linear_before_reset;
  rnn_cell_kernel<<<blocks_for(a.batch * a.hidden, kThreads), kThreads, 0, stream>>>(a, gru_gates_done);
  return launch_status("rnn_cell_kernel");
}

}  // namespace tandem::cuda
