// One time step of the fast RNN path, written once over a vector type V and compiled per instruction set
// (rnn_fast_avx512.cc, rnn_fast_avx2.cc, rnn_fast_scalar.cc include this inside their target region; hence
// templates with internal linkage only).
//
// As in DeepCPU (Zhang et al., "DeepCPU: Serving RNN-based Deep Learning Models 10x Faster", USENIX ATC
// 2018): the recurrent weights of a block of hidden units sit in one contiguous panel holding all gates of
// those units, so one pass over the panel yields every gate pre-activation of the block for a few batch rows
// at once (register-blocked small-M GEMM, accumulators in registers), and the cell update for the block runs
// right after, while the pre-activations are still in L1. Each thread owns a fixed range of blocks, so its
// panels stay in its own L2 across steps.
//
// V provides: T (a vector of kLanes floats); kBlock (hidden units per block, a multiple of kLanes);
// kMaxAcc (accumulators its register file holds); load/store (unaligned); set1, zero, add, sub, mul, div,
// min, max; fma(a, b, c) = a*b + c; fnma(a, b, c) = c - a*b; floor; pow2(n) = 2^n for whole n in
// [-126, 127] (0 at -127 and +inf at 128, which exp_v's saturation relies on); abs; copy_sign(magnitude, sign); select_lt(a, b, x, y) = a < b ? x : y; exponent(x) (the
// unbiased exponent field, as a float) and mantissa(x) (the significand, in [1, 2)) for vector_math_impl.h. The including file
// includes <cmath> and <limits> before its target region, so that no standard inline code is compiled here.
#pragma once

#include "runtime_cpu/kernels/rnn_fast_isa.h"
#include "runtime_cpu/kernels/rnn_fast_math.h"

namespace tandem::cpu::rnn {
namespace {

// Batch rows per panel pass (register blocking), at most: AVX-512's 24 accumulators hold 6 rows of an LSTM
// block and 8 of a GRU's, and each extra row is another use of every weight loaded (batch 64 LSTM: 4 to 9%
// faster with 6 rows than with 4 on the development machine).
constexpr int kMaxRows = 8;
// Panel rows fetched ahead of use: a large R streams from L3 every step, and the hardware prefetcher
// restarts at each 4 KiB page (about 4% faster at hidden 256 and 1024 on the development machine).
constexpr int64_t kPrefetchRows = 16;  // (one prefetch per 64-byte line)

// acc[r][g][:] = sum over k < K of in[r * ld + k] * panel[k * kstride + g * kBlock + :], for r < MB, g < G.
// With few accumulators (one row, few gates) each would wait on its own previous FMA (4 cycles), so S sets
// take turns over k and are summed at the end, keeping about 8 FMAs in flight.
template <class V, int G, int MB>
void gemv_panel(const float* panel, int64_t kstride, int64_t K, const float* in, int64_t ld, float* acc) {
  using T = typename V::T;
  constexpr int L = V::kLanes, NV = V::kBlock / V::kLanes, N = MB * G * NV;
  constexpr int S = N >= 8 ? 1 : N >= 4 ? 2 : 4;
  T a[S][MB][G][NV];
  for (int u = 0; u < S; ++u)
    for (int r = 0; r < MB; ++r)
      for (int g = 0; g < G; ++g)
        for (int v = 0; v < NV; ++v) a[u][r][g][v] = V::zero();
  auto accumulate = [&](T(&au)[MB][G][NV], int64_t k) __attribute__((always_inline)) {
    const float* p = panel + k * kstride;
    for (int g = 0; g < G * V::kBlock; g += 16) __builtin_prefetch(p + kPrefetchRows * kstride + g);
    T w[G][NV];
    for (int g = 0; g < G; ++g)
      for (int v = 0; v < NV; ++v) w[g][v] = V::load(p + g * V::kBlock + v * L);
    for (int r = 0; r < MB; ++r) {
      const T x = V::set1(in[r * ld + k]);
      for (int g = 0; g < G; ++g)
        for (int v = 0; v < NV; ++v) au[r][g][v] = V::fma(x, w[g][v], au[r][g][v]);
    }
  };
  int64_t k = 0;
  for (; k + S <= K; k += S)
    for (int u = 0; u < S; ++u) accumulate(a[u], k + u);
  for (; k < K; ++k) accumulate(a[0], k);
  for (int r = 0; r < MB; ++r)
    for (int g = 0; g < G; ++g)
      for (int v = 0; v < NV; ++v) {
        T sum = a[0][r][g][v];
        for (int u = 1; u < S; ++u) sum = V::add(sum, a[u][r][g][v]);
        V::store(acc + (r * G + g) * V::kBlock + v * L, sum);
      }
}

using GemvFn = void (*)(const float*, int64_t, int64_t, const float*, int64_t, float*);

// Rows per pass for G gates: as many as the accumulators fit in registers, at most kMaxRows.
template <class V>
constexpr int rows_per_pass(int g) {
  const int rows = V::kMaxAcc / (g * (V::kBlock / V::kLanes));
  return rows < 1 ? 1 : rows > kMaxRows ? kMaxRows : rows;
}

template <class V, int G>
GemvFn gemv_for_rows(int rows) {
  switch (rows) {
    case 1: return &gemv_panel<V, G, 1>;
    case 2: return &gemv_panel<V, G, 2>;
    case 3: return &gemv_panel<V, G, 3>;
    case 4: return &gemv_panel<V, G, 4>;
    case 5: return &gemv_panel<V, G, 5>;
    case 6: return &gemv_panel<V, G, 6>;
    case 7: return &gemv_panel<V, G, 7>;
    default: return &gemv_panel<V, G, 8>;
  }
}

template <class V>
GemvFn gemv_for(int gates, int rows) {
  switch (gates) {
    case 1: return gemv_for_rows<V, 1>(rows);
    case 2: return gemv_for_rows<V, 2>(rows);
    case 3: return gemv_for_rows<V, 3>(rows);
    default: return gemv_for_rows<V, 4>(rows);
  }
}

// PanelProductFn (rnn_fast_isa.h): per block of rows of A, the columns in passes of as many as the
// accumulators hold, each pass one gemv_panel of one gate.
template <class V>
void panel_product(const float* panels, int64_t M, int64_t K, const float* bt, int64_t N, float* y, int64_t ldy) {
  constexpr int B = V::kBlock, R = rows_per_pass<V>(1);
  alignas(64) float acc[R * B];
  for (int64_t b = 0; b * B < M; ++b) {
    const float* panel = panels + b * K * B;
    const int64_t rows = M - b * B < B ? M - b * B : B;
    for (int64_t n0 = 0; n0 < N; n0 += R) {
      const int cols = static_cast<int>(N - n0 < R ? N - n0 : R);
      gemv_for<V>(1, cols)(panel, B, K, bt + n0 * K, K, acc);
      for (int c = 0; c < cols; ++c)
        for (int64_t j = 0; j < rows; ++j) y[(b * B + j) * ldy + n0 + c] = acc[c * B + j];
    }
  }
}

template <class V>
[[gnu::always_inline]] inline typename V::T clip_v(const StepArgs& s, typename V::T x) {
  if (!s.has_clip) return x;
  return V::min(V::set1(s.clip), V::max(V::set1(-s.clip), x));
}

// One batch row's view of one block at one step. Pointers are at the block's first unit; gates of xw are
// `hidden` apart (unpadded), those of acc kBlock apart; the last block of a row may be partial (`n` units),
// which the caller pads (xw) or trims (Y) around.
struct RowBlock {
  const float* acc;  // [gates][kBlock] this row's recurrent pre-activations
  const float* xw;   // gate g at xw + g * xw_gate_stride
  int64_t xw_gate_stride;
  const float* h_prev;  // [kBlock]
  float* h_next;        // [kBlock]
  float* c;             // LSTM: [kBlock], updated in place
  float* z;             // GRU phase 0 -> 1
  float* rh;
};

// The cells below update a tile of rows (those of one panel pass) together, each stage for every row before
// the next: a row's activations are one long dependent chain (exp, then a division), and the rows'
// chains side by side keep the core busy where one row alone would wait on them (timed with the cycle
// counter at batch 64 on the development machine, the cell took as long as the panel product itself, row
// by row; whole runs are 10 to 30% faster this way). Each element's arithmetic is the same either way.
// Gate buffers hold the tile's rows kBlock apart.

// Applies f to rows [0, N) of a gate buffer, in place. Sigmoid and Tanh (the defaults, and nearly every
// model's) run vectorised here; the other functions are rare enough to go through the reference path's
// own code.
template <class V, int N>
inline void activate_rows(const RnnActivation& f, float* x) {
  constexpr int L = V::kLanes, count = N * V::kBlock;
  switch (f.kind) {
    case RnnActivationKind::kSigmoid:
      for (int v = 0; v < count; v += L) V::store(x + v, sigmoid_v<V>(V::load(x + v)));
      break;
    case RnnActivationKind::kTanh:
      for (int v = 0; v < count; v += L) V::store(x + v, tanh_v<V>(V::load(x + v)));
      break;
    default:
      f.apply(x, count);
      break;
  }
}

// LSTM gates i, o, f, c (ONNX order). The peephole on o reads C(t); h(C(t)) takes no clip (as the spec).
template <class V, int N>
inline void lstm_rows(const StepArgs& s, int64_t unit0, const RowBlock* rows) {
  using T = typename V::T;
  constexpr int B = V::kBlock, L = V::kLanes;
  alignas(64) float gi[N * B], go[N * B], gf[N * B], gc[N * B];
  const float* pi = s.peep ? s.peep + unit0 : nullptr;
  const float* po = s.peep ? pi + s.padded : nullptr;
  const float* pf = s.peep ? pi + 2 * s.padded : nullptr;
  for (int r = 0; r < N; ++r) {
    const RowBlock& rb = rows[r];
    const float *ai = rb.acc, *af = rb.acc + 2 * B, *agc = rb.acc + 3 * B;
    const int64_t xs = rb.xw_gate_stride;
    const float *xi = rb.xw, *xf = rb.xw + 2 * xs, *xc = rb.xw + 3 * xs;
    for (int v = 0; v < B; v += L) {
      const T c = V::load(rb.c + v);
      T i = V::add(V::load(ai + v), V::load(xi + v));
      T f = V::add(V::load(af + v), V::load(xf + v));
      if (pi) {
        i = V::fma(V::load(pi + v), c, i);
        f = V::fma(V::load(pf + v), c, f);
      }
      V::store(gi + r * B + v, clip_v<V>(s, i));
      V::store(gf + r * B + v, clip_v<V>(s, f));
      V::store(gc + r * B + v, clip_v<V>(s, V::add(V::load(agc + v), V::load(xc + v))));
    }
  }
  activate_rows<V, N>(s.acts[0], gi);
  if (s.input_forget) {
    for (int v = 0; v < N * B; v += L) V::store(gf + v, V::sub(V::set1(1.0f), V::load(gi + v)));
  } else {
    activate_rows<V, N>(s.acts[0], gf);
  }
  activate_rows<V, N>(s.acts[1], gc);
  for (int r = 0; r < N; ++r) {
    const RowBlock& rb = rows[r];
    const float *ao = rb.acc + B, *xo = rb.xw + rb.xw_gate_stride;
    for (int v = 0; v < B; v += L) {
      const int w = r * B + v;
      const T c = V::fma(V::load(gf + w), V::load(rb.c + v), V::mul(V::load(gi + w), V::load(gc + w)));
      V::store(rb.c + v, c);
      T o = V::add(V::load(ao + v), V::load(xo + v));
      if (po) o = V::fma(V::load(po + v), c, o);
      V::store(go + w, clip_v<V>(s, o));
      V::store(gc + w, c);
    }
  }
  activate_rows<V, N>(s.acts[0], go);
  activate_rows<V, N>(s.acts[2], gc);
  for (int r = 0; r < N; ++r)
    for (int v = 0; v < B; v += L)
      V::store(rows[r].h_next + v, V::mul(V::load(go + r * B + v), V::load(gc + r * B + v)));
}

// GRU gates z and r from acc[0:2]; with linear_before_reset the h gate (acc[2]) and the new state follow;
// without it, z and r (.) H(t-1) are kept for phase 1.
template <class V, int N>
inline void gru_zr_rows(const StepArgs& s, int64_t unit0, const RowBlock* rows) {
  using T = typename V::T;
  constexpr int B = V::kBlock, L = V::kLanes;
  alignas(64) float gz[N * B], gr[N * B], gh[N * B];
  for (int r = 0; r < N; ++r) {
    const RowBlock& rb = rows[r];
    const int64_t xs = rb.xw_gate_stride;
    for (int v = 0; v < B; v += L) {
      V::store(gz + r * B + v, clip_v<V>(s, V::add(V::load(rb.acc + v), V::load(rb.xw + v))));
      V::store(gr + r * B + v, clip_v<V>(s, V::add(V::load(rb.acc + B + v), V::load(rb.xw + xs + v))));
    }
  }
  activate_rows<V, N>(s.acts[0], gz);
  activate_rows<V, N>(s.acts[0], gr);
  if (!s.linear_before_reset) {
    for (int r = 0; r < N; ++r) {
      const RowBlock& rb = rows[r];
      for (int v = 0; v < B; v += L) {
        V::store(rb.z + v, V::load(gz + r * B + v));
        V::store(rb.rh + v, V::mul(V::load(gr + r * B + v), V::load(rb.h_prev + v)));
      }
    }
    return;
  }
  const float* rbh = s.rbh ? s.rbh + unit0 : nullptr;
  for (int r = 0; r < N; ++r) {
    const RowBlock& rb = rows[r];
    const int64_t xs = rb.xw_gate_stride;
    for (int v = 0; v < B; v += L) {
      T rec = V::load(rb.acc + 2 * B + v);
      if (rbh) rec = V::add(rec, V::load(rbh + v));
      V::store(gh + r * B + v, clip_v<V>(s, V::fma(V::load(gr + r * B + v), rec, V::load(rb.xw + 2 * xs + v))));
    }
  }
  activate_rows<V, N>(s.acts[1], gh);
  for (int r = 0; r < N; ++r) {
    const RowBlock& rb = rows[r];
    for (int v = 0; v < B; v += L) {
      const T z = V::load(gz + r * B + v), h = V::load(gh + r * B + v);
      V::store(rb.h_next + v, V::fma(z, V::load(rb.h_prev + v), V::fnma(z, h, h)));
    }
  }
}

// GRU without linear_before_reset, phase 1: acc[0] holds (r (.) H(t-1))·Rhᵀ.
template <class V, int N>
inline void gru_h_rows(const StepArgs& s, const RowBlock* rows) {
  using T = typename V::T;
  constexpr int B = V::kBlock, L = V::kLanes;
  alignas(64) float gh[N * B];
  for (int r = 0; r < N; ++r) {
    const RowBlock& rb = rows[r];
    for (int v = 0; v < B; v += L)
      V::store(gh + r * B + v,
               clip_v<V>(s, V::add(V::load(rb.acc + v), V::load(rb.xw + 2 * rb.xw_gate_stride + v))));
  }
  activate_rows<V, N>(s.acts[1], gh);
  for (int r = 0; r < N; ++r) {
    const RowBlock& rb = rows[r];
    for (int v = 0; v < B; v += L) {
      const T z = V::load(rb.z + v), h = V::load(gh + r * B + v);
      V::store(rb.h_next + v, V::fma(z, V::load(rb.h_prev + v), V::fnma(z, h, h)));
    }
  }
}

template <class V, int N>
inline void rnn_rows(const StepArgs& s, const RowBlock* rows) {
  constexpr int B = V::kBlock, L = V::kLanes;
  alignas(64) float g[N * B];
  for (int r = 0; r < N; ++r)
    for (int v = 0; v < B; v += L)
      V::store(g + r * B + v, clip_v<V>(s, V::add(V::load(rows[r].acc + v), V::load(rows[r].xw + v))));
  activate_rows<V, N>(s.acts[0], g);
  for (int r = 0; r < N; ++r)
    for (int v = 0; v < B; v += L) V::store(rows[r].h_next + v, V::load(g + r * B + v));
}

// The cell of N rows, a count fixed at compile time so the gate buffers of few rows can stay in registers
// (1 to 5% faster than a count known only at run time, in cpu_rnn_bench at batch 1 to 64).
template <class V, int N>
inline void cell_rows(const StepArgs& s, int phase, int64_t unit0, const RowBlock* rows) {
  switch (s.kind) {
    case CellKind::kLstm: lstm_rows<V, N>(s, unit0, rows); break;
    case CellKind::kGru:
      if (phase == 0) gru_zr_rows<V, N>(s, unit0, rows);
      else gru_h_rows<V, N>(s, rows);
      break;
    case CellKind::kRnn: rnn_rows<V, N>(s, rows); break;
  }
}

// The cell of batch rows [r0, r0 + mb) for one block at step k, from acc (each row's recurrent
// pre-activations of the phase's gates, [gates][kBlock], rows gates * kBlock apart); a row past its
// sequence keeps its state.
template <class V>
inline void rows_step(const StepArgs& s, int64_t k, int phase, int64_t r0, int mb, int64_t unit0,
                      const float* acc, int gates) {
  constexpr int64_t B = V::kBlock;
  const int64_t H = s.hidden, n = H - unit0 < B ? H - unit0 : B;
  const bool final_phase = !(s.kind == CellKind::kGru && !s.linear_before_reset) || phase == 1;
  RowBlock rows[kMaxRows];
  int64_t times[kMaxRows], batch_rows[kMaxRows];
  alignas(64) float xpad[kMaxRows * 4 * B];  // a partial block's xw, padded with zeros
  int count = 0;
  for (int r = 0; r < mb; ++r) {
    const int64_t b = r0 + r, len = s.lens[b], row = b * s.padded + unit0;
    const float* h_prev = s.h[k & 1] + row;
    float* h_next = s.h[(k + 1) & 1] + row;
    if (k >= len) {  // past this row's sequence: the state stays
      if (final_phase)
        for (int64_t j = 0; j < B; ++j) h_next[j] = h_prev[j];
      continue;
    }
    const int64_t t = s.reverse ? len - 1 - k : k;
    RowBlock& rb = rows[count];
    rb.acc = acc + r * gates * B;
    rb.xw = s.xw + s.shape->x_row(t, b) * s.gates * H + unit0;
    rb.xw_gate_stride = H;
    if (n < B) {
      float* pad = xpad + count * 4 * B;
      for (int64_t g = 0; g < s.gates; ++g)
        for (int64_t j = 0; j < B; ++j) pad[g * B + j] = j < n ? rb.xw[g * H + j] : 0.0f;
      rb.xw = pad;
      rb.xw_gate_stride = B;
    }
    rb.h_prev = h_prev;
    rb.h_next = h_next;
    rb.c = s.c ? s.c + row : nullptr;
    rb.z = s.z ? s.z + row : nullptr;
    rb.rh = s.rh ? s.rh + row : nullptr;
    times[count] = t;
    batch_rows[count] = b;
    ++count;
  }
  switch (count) {
    case 0: return;
    case 1: cell_rows<V, 1>(s, phase, unit0, rows); break;
    case 2: cell_rows<V, 2>(s, phase, unit0, rows); break;
    case 3: cell_rows<V, 3>(s, phase, unit0, rows); break;
    case 4: cell_rows<V, 4>(s, phase, unit0, rows); break;
    case 5: cell_rows<V, 5>(s, phase, unit0, rows); break;
    case 6: cell_rows<V, 6>(s, phase, unit0, rows); break;
    case 7: cell_rows<V, 7>(s, phase, unit0, rows); break;
    default: cell_rows<V, 8>(s, phase, unit0, rows); break;
  }
  if (!final_phase || !s.y) return;
  for (int i = 0; i < count; ++i) {
    float* y = s.y + s.shape->y_offset(times[i], s.direction, batch_rows[i]) + unit0;
    for (int64_t j = 0; j < n; ++j) y[j] = rows[i].h_next[j];
  }
}

template <class V>
void step(const StepArgs& s, int64_t k, int phase, int64_t first, int64_t last) {
  constexpr int64_t B = V::kBlock;
  const int64_t H = s.hidden, Hp = s.padded;
  // GRU without linear_before_reset: phase 0 multiplies H(t-1) by the z and r columns of R, phase 1
  // multiplies r (.) H(t-1) by the h columns.
  const bool gru_split = s.kind == CellKind::kGru && !s.linear_before_reset;
  const int gates = gru_split ? (phase == 0 ? 2 : 1) : static_cast<int>(s.gates);
  const int64_t gate0 = gru_split && phase == 1 ? 2 : 0;
  alignas(64) float acc[kMaxRows * 4 * B];

  const float* in = gru_split && phase == 1 ? s.rh : s.h[k & 1];
  // Passes as few as the registers allow, and as even as can be (batch 8 of an LSTM on AVX-512 as 4 + 4
  // rows, not 6 + 2: a pass of 2 rows streams the panel for a third of the work).
  // (Divided only when the batch needs several passes: this runs per block and step, and at batch 1 the
  // divisions cost LSTM hidden 64 about 7%.)
  const int most = rows_per_pass<V>(gates);
  int rows = s.batch < most ? static_cast<int>(s.batch) : most;
  if (s.batch > most) {
    const int64_t passes = (s.batch + most - 1) / most;
    rows = static_cast<int>((s.batch + passes - 1) / passes);
  }
  const GemvFn full = gemv_for<V>(gates, rows);
  const int64_t kstride = s.gates * B;
  for (int64_t blk = first; blk < last; ++blk) {
    const float* panel = s.panels + blk * H * kstride + gate0 * B;
    for (int64_t r0 = 0; r0 < s.batch; r0 += rows) {
      const int mb = s.batch - r0 < rows ? static_cast<int>(s.batch - r0) : rows;
      (mb == rows ? full : gemv_for<V>(gates, mb))(panel, kstride, H, in + r0 * Hp, Hp, acc);
      rows_step<V>(s, k, phase, r0, mb, blk * B, acc, gates);
    }
  }
}

}  // namespace
}  // namespace tandem::cpu::rnn
