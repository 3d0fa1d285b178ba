// The persistent RNN kernel (rnn_persistent.h). Shared memory of a block, in floats:
//   Rs [G, units, H]   its rows of R: gate q, unit u is R[q·H + j0 + u, :]
//   hs [batch, H]      H(t-1) of its direction, read at the start of each step
//   gs [batch, G, units]  the step's recurrent products (then, for two-phase GRU, activated z and r)
//   rs [batch, H]      two-phase GRU only: r ⊙ H(t-1) of every unit
#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include "runtime_cuda/cuda_check.h"
#include "runtime_cuda/kernels/rnn_cell.cuh"
#include "runtime_cuda/kernels/rnn_persistent.h"

namespace tandem::cuda {
namespace {

namespace cg = cooperative_groups;

__host__ __device__ __forceinline__ int gate_count(RnnCellKind kind) {
  return kind == RnnCellKind::kRnn ? 1 : kind == RnnCellKind::kGru ? 3 : 4;
}

__host__ __device__ __forceinline__ bool two_phase_gru(RnnCellKind kind, bool linear_before_reset) {
  return kind == RnnCellKind::kGru && !linear_before_reset;
}

// gs[(b·G + q)·units + u] = Rs[q, u, :] · v[b, :] for b < batch, q in [q_begin, q_end), u < owned.
// One warp per dot product, lanes striding over H, then a butterfly sum (every lane of a warp takes the
// same items, so the full-mask shuffles are safe).
__device__ void recurrent_dots(const float* Rs, const float* v, float* gs, int64_t batch, int64_t gates,
                               int64_t q_begin, int64_t q_end, int64_t owned, int64_t units, int64_t hidden) {
  const int lane = static_cast<int>(threadIdx.x % 32u);
  const int64_t warp = threadIdx.x / 32u, warps = blockDim.x / 32u;
  const int64_t nq = q_end - q_begin, items = batch * nq * owned;
  for (int64_t item = warp; item < items; item += warps) {
    const int64_t u = item % owned, rest = item / owned;
    const int64_t q = q_begin + rest % nq, b = rest / nq;
    const float* row = Rs + (q * units + u) * hidden;
    const float* vb = v + b * hidden;
    float s = 0.0f;
    for (int64_t k = lane; k < hidden; k += 32) s += row[k] * vb[k];
    for (int off = 16; off > 0; off >>= 1) s += __shfl_xor_sync(0xffffffffu, s, off);
    if (lane == 0) gs[(b * gates + q) * units + u] = s;
  }
}

__global__ void __launch_bounds__(kPersistentRnnThreads) rnn_persistent_kernel(RnnPersistentArgs a) {
  cg::grid_group grid = cg::this_grid();
  extern __shared__ float smem[];
  const int64_t G = gate_count(a.kind), H = a.hidden, B = a.batch, units = a.units, gh = G * H;
  const int64_t d = blockIdx.x / a.blocks_per_dir;
  const int64_t j0 = (blockIdx.x % a.blocks_per_dir) * units;
  const int64_t owned = units < H - j0 ? units : H - j0;  // ≥ 1: blocks_per_dir = ceil(H / units)
  const bool two_phase = two_phase_gru(a.kind, a.linear_before_reset);
  float* Rs = smem;
  float* hs = Rs + G * units * H;
  float* gs = hs + B * H;
  float* rs = gs + B * G * units;

  // This block's rows of R, once.
  const float* rd = a.r + d * gh * H;
  for (int64_t i = threadIdx.x; i < G * owned * H; i += blockDim.x) {
    const int64_t q = i / (owned * H), rest = i % (owned * H), u = rest / H, k = rest % H;
    Rs[(q * units + u) * H + k] = rd[(q * H + j0 + u) * H + k];
  }

  const bool rev = a.reverse || d == 1;
  const RnnActivationSpec act_f = a.act[d][0], act_g = a.act[d][1], act_h = a.act[d][2];
  float* h_even = a.h0 + d * B * H;
  float* h_odd = a.h1 + d * B * H;
  float* cd = a.c + d * B * H;
  float* rhd = a.rh + d * B * H;
  const float* xwd = a.xw + d * a.seq * B * gh;
  const float* peep = a.peep ? a.peep + d * 3 * H : nullptr;
  const float* rbh = a.rbh ? a.rbh + d * H : nullptr;
  auto time_of = [&](int64_t b, int64_t k) -> int64_t {
    const int64_t len = a.lens[b];
    if (k >= len) return -1;
    return rev ? len - 1 - k : k;
  };
  auto x_row = [&](int64_t t, int64_t b) { return a.layout == 0 ? t * B + b : b * a.seq + t; };
  auto y_offset = [&](int64_t t, int64_t b) {
    return (a.layout == 0 ? (t * a.dirs + d) * B + b : (b * a.seq + t) * a.dirs + d) * H;
  };
  auto clip = [&](float x) { return rnn_clip(a.has_clip, a.clip, x); };

  for (int64_t k = 0; k < a.steps; ++k) {
    const float* hp = (k & 1) ? h_odd : h_even;
    float* hn = (k & 1) ? h_even : h_odd;
    // After the barrier that ended the previous step (or, at k = 0, after the R loads: __syncthreads).
    for (int64_t i = threadIdx.x; i < B * H; i += blockDim.x) hs[i] = __ldcg(hp + i);
    __syncthreads();
    recurrent_dots(Rs, hs, gs, B, G, 0, two_phase ? 2 : G, owned, units, H);
    __syncthreads();

    if (two_phase) {
      // z and r of this block's units, and r ⊙ H(t-1) for every block's h gate.
      for (int64_t i = threadIdx.x; i < B * owned; i += blockDim.x) {
        const int64_t b = i / owned, u = i % owned, j = j0 + u;
        const int64_t t = time_of(b, k);
        if (t < 0) {
          rhd[b * H + j] = 0.0f;
          continue;
        }
        const float* xw = xwd + x_row(t, b) * gh;
        float* g = gs + b * G * units;
        const float z = rnn_activate(act_f, clip(g[u] + xw[j]));
        const float r = rnn_activate(act_f, clip(g[units + u] + xw[H + j]));
        g[u] = z;  // kept activated for the cell below
        g[units + u] = r;
        rhd[b * H + j] = r * hs[b * H + j];
      }
      grid.sync();
      for (int64_t i = threadIdx.x; i < B * H; i += blockDim.x) rs[i] = __ldcg(rhd + i);
      __syncthreads();
      recurrent_dots(Rs, rs, gs, B, G, 2, 3, owned, units, H);
      __syncthreads();
    }

    // The cell of this block's units; a finished row carries its state into the other buffer.
    for (int64_t i = threadIdx.x; i < B * owned; i += blockDim.x) {
      const int64_t b = i / owned, u = i % owned, j = j0 + u;
      const float h_prev = hs[b * H + j];
      const int64_t t = time_of(b, k);
      if (t < 0) {
        hn[b * H + j] = h_prev;
        continue;
      }
      const float* xw = xwd + x_row(t, b) * gh;
      const float* g = gs + b * G * units;
      float h_new;
      if (a.kind == RnnCellKind::kRnn) {
        h_new = rnn_activate(act_f, clip(g[u] + xw[j]));
      } else if (a.kind == RnnCellKind::kGru) {
        float z, r;
        if (two_phase) {
          z = g[u];
          r = g[units + u];
        } else {
          z = rnn_activate(act_f, clip(g[u] + xw[j]));
          r = rnn_activate(act_f, clip(g[units + u] + xw[H + j]));
        }
        // With linear_before_reset g[2, u] is (H·Rhᵀ)[j]; without, ((r ⊙ H)·Rhᵀ)[j].
        const float hh_pre = a.linear_before_reset ? xw[2 * H + j] + r * (g[2 * units + u] + (rbh ? rbh[j] : 0.0f))
                                                   : g[2 * units + u] + xw[2 * H + j];
        const float hh = rnn_activate(act_g, clip(hh_pre));
        h_new = (1.0f - z) * hh + z * h_prev;
      } else {
        const float c_prev = cd[b * H + j];
        const float pi = peep ? peep[j] : 0.0f, po = peep ? peep[H + j] : 0.0f, pf = peep ? peep[2 * H + j] : 0.0f;
        const float gi = rnn_activate(act_f, clip(g[u] + xw[j] + pi * c_prev));
        const float gf = a.input_forget ? 1.0f - gi
                                        : rnn_activate(act_f, clip(g[2 * units + u] + xw[2 * H + j] + pf * c_prev));
        const float gc = rnn_activate(act_g, clip(g[3 * units + u] + xw[3 * H + j]));
        const float c_new = gf * c_prev + gi * gc;
        const float go = rnn_activate(act_f, clip(g[units + u] + xw[H + j] + po * c_new));
        cd[b * H + j] = c_new;
        h_new = go * rnn_activate(act_h, c_new);
      }
      hn[b * H + j] = h_new;
      if (a.y) a.y[y_offset(t, b) + j] = h_new;
    }
    // H(t) complete everywhere before anyone reads it; the kernel's end orders the last step.
    if (k + 1 < a.steps) grid.sync();
  }
}

std::string n_of(int64_t v) { return std::to_string(v); }

std::size_t smem_floats(RnnCellKind kind, bool linear_before_reset, int64_t units, int64_t hidden, int64_t batch) {
  const int64_t g = gate_count(kind);
  const int64_t floats = g * units * hidden + batch * hidden * (two_phase_gru(kind, linear_before_reset) ? 2 : 1) +
                         batch * g * units;
  return static_cast<std::size_t>(floats);
}

}  // namespace

Result<RnnPersistentLayout> plan_rnn_persistent(RnnCellKind kind, bool linear_before_reset, int64_t dirs,
                                                int64_t hidden, int64_t batch) {
  RnnPersistentLayout layout;
  auto no = [&layout](std::string why) {
    layout.fits = false;
    layout.reason = std::move(why);
    return layout;
  };
  if (dirs < 1 || dirs > 2 || hidden < 1 || batch < 1)
    return no("needs 1 or 2 directions, hidden ≥ 1 and batch ≥ 1 (got " + n_of(dirs) + ", " + n_of(hidden) + ", " +
              n_of(batch) + ")");
  if (hidden > kPersistentRnnMaxHidden)
    return no("hidden size " + n_of(hidden) + " is above " + n_of(kPersistentRnnMaxHidden));
  if (batch > kPersistentRnnMaxBatch) return no("batch " + n_of(batch) + " is above " + n_of(kPersistentRnnMaxBatch));
  int device = 0, cooperative = 0, sms = 0, smem_optin = 0;
  TANDEM_CUDA_RETURN_IF_ERROR(cudaGetDevice(&device));
  TANDEM_CUDA_RETURN_IF_ERROR(cudaDeviceGetAttribute(&cooperative, cudaDevAttrCooperativeLaunch, device));
  TANDEM_CUDA_RETURN_IF_ERROR(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  TANDEM_CUDA_RETURN_IF_ERROR(cudaDeviceGetAttribute(&smem_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  if (!cooperative) return no("device " + std::to_string(device) + " does not support cooperative launches");

  const int64_t target = std::max<int64_t>(1, std::min<int64_t>({hidden, kPersistentRnnTargetBlocks, sms / dirs}));
  int64_t units = (hidden + target - 1) / target;
  auto bytes = [&](int64_t u) { return smem_floats(kind, linear_before_reset, u, hidden, batch) * sizeof(float); };
  while (units > 1 && bytes(units) > static_cast<std::size_t>(smem_optin)) units = (units + 1) / 2;
  if (bytes(units) > static_cast<std::size_t>(smem_optin))
    return no("a block needs " + std::to_string(bytes(units)) + " bytes of shared memory, the device allows " +
              std::to_string(smem_optin));
  const int64_t blocks_per_dir = (hidden + units - 1) / units;
  // The largest dynamic size any launch may ask (the same value from every thread, so setting it races
  // with nothing); the launch's own size decides the occupancy.
  cudaFuncAttributes attrs{};
  TANDEM_CUDA_RETURN_IF_ERROR(cudaFuncGetAttributes(&attrs, reinterpret_cast<const void*>(&rnn_persistent_kernel)));
  const int dynamic_max = smem_optin - static_cast<int>(attrs.sharedSizeBytes);
  if (bytes(units) > static_cast<std::size_t>(dynamic_max))
    return no("a block needs " + std::to_string(bytes(units)) + " bytes of dynamic shared memory, the device allows " +
              std::to_string(dynamic_max));
  TANDEM_CUDA_RETURN_IF_ERROR(cudaFuncSetAttribute(reinterpret_cast<const void*>(&rnn_persistent_kernel),
                                                   cudaFuncAttributeMaxDynamicSharedMemorySize, dynamic_max));
  int per_sm = 0;
  TANDEM_CUDA_RETURN_IF_ERROR(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
      &per_sm, reinterpret_cast<const void*>(&rnn_persistent_kernel), kPersistentRnnThreads, bytes(units)));
  const int64_t resident = static_cast<int64_t>(per_sm) * sms;
  if (dirs * blocks_per_dir > resident)
    return no(n_of(dirs * blocks_per_dir) + " blocks cannot all be resident (" + std::to_string(per_sm) +
              " per SM × " + std::to_string(sms) + " SMs)");
  layout.fits = true;
  layout.units = units;
  layout.blocks_per_dir = blocks_per_dir;
  layout.smem_bytes = bytes(units);
  return layout;
}

Status launch_rnn_persistent(const RnnPersistentArgs& a, std::size_t smem_bytes, cudaStream_t stream,
                             bool* too_large) {
  if (too_large) *too_large = false;
  if (a.units < 1 || a.blocks_per_dir < 1 || a.blocks_per_dir * a.units < a.hidden || a.dirs < 1 || a.dirs > 2)
    return Status::error("launch_rnn_persistent: bad layout (units " + n_of(a.units) + ", blocks per direction " +
                         n_of(a.blocks_per_dir) + ", hidden " + n_of(a.hidden) + ")");
  if (a.steps == 0) return Status::ok();
  RnnPersistentArgs args = a;
  void* params[] = {&args};
  const auto blocks = static_cast<unsigned>(a.dirs * a.blocks_per_dir);
  const cudaError_t err = cudaLaunchCooperativeKernel(reinterpret_cast<const void*>(&rnn_persistent_kernel),
                                                      dim3(blocks), dim3(kPersistentRnnThreads), params, smem_bytes,
                                                      stream);
  if (err != cudaSuccess) (void)cudaGetLastError();  // a refused launch is not sticky: later checks must not see it
  if (err == cudaErrorCooperativeLaunchTooLarge && too_large) {
    *too_large = true;
    return Status::ok();
  }
  return cuda_status(err, "cudaLaunchCooperativeKernel(rnn_persistent_kernel, " + std::to_string(blocks) +
                              " blocks, " + std::to_string(smem_bytes) + " bytes of shared memory)");
}

}  // namespace tandem::cuda
