#include "runtime_cpu/kernels/rnn_reference.h"

#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "runtime_cpu/kernels/double_gemm.h"
#include "runtime_cpu/kernels/rnn_step_stop.h"

namespace tandem::cpu::rnn {

Status gemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
            float* c, int64_t ldc) {
  if (m == 0 || n == 0) return Status::ok();
  if (k == 0) {  // an empty sum: C = beta * C
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    return Status::ok();
  }
  const dnnl_status_t st = dnnl_sgemm('N', 'N', m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
  if (st != dnnl_success)
    return Status::error("oneDNN sgemm failed (status " + std::to_string(static_cast<int>(st)) + ") for M=" +
                         std::to_string(m) + " N=" + std::to_string(n) + " K=" + std::to_string(k));
  return Status::ok();
}

Status gemm(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b, int64_t ldb,
            double beta, double* c, int64_t ldc) {
  double_gemm(m, n, k, a, lda, b, ldb, beta, c, ldc);
  return Status::ok();
}

std::size_t reference_state_bytes(const RnnAttrs& a, const RunShape& s, std::size_t element_size) {
  const int64_t state = s.batch * s.hidden;
  int64_t elements = state + s.batch * a.gates * s.hidden;
  if (a.kind == CellKind::kLstm) elements += state;
  if (a.kind == CellKind::kGru && !a.linear_before_reset) elements += state;
  return static_cast<std::size_t>(elements) * element_size;
}

namespace {

template <class T>
void clip_in_place(T* x, int64_t n, T limit) {
  for (int64_t i = 0; i < n; ++i) x[i] = std::min(std::max(x[i], -limit), limit);
}

// What a cell update of one direction needs besides the row data.
template <class T>
struct CellArgs {
  int64_t hidden = 0;
  bool has_clip = false;
  T clip = 0;
  const RnnActivation* acts = nullptr;  // f (g, h) of this direction
  const T* peep = nullptr;              // LSTM: p_i, p_o, p_f; nullptr: none
  const T* rbh = nullptr;               // GRU with linear_before_reset: Rbh; nullptr: zero
  bool input_forget = false;
  bool linear_before_reset = false;

  // Clips (if asked) and applies activation `which` to a gate's pre-activations.
  void activate(T* x, std::size_t which) const {
    if (has_clip) clip_in_place(x, hidden, clip);
    acts[which].apply(x, hidden);
  }
};

// g: the row's recurrent projection H·Rᵀ, used as scratch; xw: X·Wᵀ + bias at this row's time step.
template <class T>
void rnn_row(const CellArgs<T>& c, const T* xw, T* g, T* h) {
  for (int64_t j = 0; j < c.hidden; ++j) g[j] += xw[j];
  c.activate(g, 0);
  std::memcpy(h, g, static_cast<std::size_t>(c.hidden) * sizeof(T));
}

// LSTM gates i, o, f, c; `cell` holds C(t-1) and receives C(t), `h` receives H(t).
template <class T>
void lstm_row(const CellArgs<T>& c, const T* xw, T* g, T* cell, T* h) {
  const int64_t n = c.hidden;
  T *gi = g, *go = g + n, *gf = g + 2 * n, *gc = g + 3 * n;
  const T *xi = xw, *xo = xw + n, *xf = xw + 2 * n, *xc = xw + 3 * n;
  const T* pi = c.peep;
  const T* po = c.peep ? c.peep + n : nullptr;
  const T* pf = c.peep ? c.peep + 2 * n : nullptr;
  for (int64_t j = 0; j < n; ++j) gi[j] += xi[j] + (pi ? pi[j] * cell[j] : T(0));
  c.activate(gi, 0);
  if (c.input_forget) {
    for (int64_t j = 0; j < n; ++j) gf[j] = T(1) - gi[j];
  } else {
    for (int64_t j = 0; j < n; ++j) gf[j] += xf[j] + (pf ? pf[j] * cell[j] : T(0));
    c.activate(gf, 0);
  }
  for (int64_t j = 0; j < n; ++j) gc[j] += xc[j];
  c.activate(gc, 1);
  for (int64_t j = 0; j < n; ++j) cell[j] = gf[j] * cell[j] + gi[j] * gc[j];
  for (int64_t j = 0; j < n; ++j) go[j] += xo[j] + (po ? po[j] * cell[j] : T(0));  // peephole on C(t)
  c.activate(go, 0);
  std::memcpy(gc, cell, static_cast<std::size_t>(n) * sizeof(T));  // h(C(t)) without clip
  c.acts[2].apply(gc, n);
  for (int64_t j = 0; j < n; ++j) h[j] = go[j] * gc[j];
}

// GRU gates z and r (g[0:2H]); with rh, also r (.) H(t-1) for the h gate's separate GEMM.
template <class T>
void gru_zr(const CellArgs<T>& c, const T* xw, T* g, const T* h, T* rh) {
  const int64_t n = c.hidden;
  for (int64_t j = 0; j < 2 * n; ++j) g[j] += xw[j];
  c.activate(g, 0);
  c.activate(g + n, 0);
  if (rh)
    for (int64_t j = 0; j < n; ++j) rh[j] = g[n + j] * h[j];
}

// GRU's h gate and new state; g[2H:3H] holds (r (.) H)·Rhᵀ, or H·Rhᵀ with linear_before_reset.
template <class T>
void gru_finish(const CellArgs<T>& c, const T* xw, T* g, T* h) {
  const int64_t n = c.hidden;
  const T *z = g, *r = g + n;
  T* gh = g + 2 * n;
  const T* xh = xw + 2 * n;
  if (c.linear_before_reset) {
    for (int64_t j = 0; j < n; ++j) gh[j] = xh[j] + r[j] * (gh[j] + (c.rbh ? c.rbh[j] : T(0)));
  } else {
    for (int64_t j = 0; j < n; ++j) gh[j] += xh[j];
  }
  c.activate(gh, 1);
  for (int64_t j = 0; j < n; ++j) h[j] = (T(1) - z[j]) * gh[j] + z[j] * h[j];
}

}  // namespace

template <class T>
Status run_reference_direction(const RnnAttrs& a, const ReferenceWeights<T>& w, const RunShape& s, int64_t d,
                               bool reverse, const T* xw, const TypedDirectionIO<T>& io) {
  const int64_t n = s.hidden, gh = a.gates * n, batch = s.batch;
  const auto hsize = static_cast<std::size_t>(n) * sizeof(T);
  const std::vector<int64_t>& lens = *io.lens;

  std::vector<T> h(static_cast<std::size_t>(batch * n), T(0)), cell;
  const bool lstm = a.kind == CellKind::kLstm;
  if (lstm) cell.assign(static_cast<std::size_t>(batch * n), T(0));
  for (int64_t b = 0; b < batch; ++b) {
    if (io.init_h) std::memcpy(h.data() + b * n, io.init_h + s.state_offset(d, b), hsize);
    if (lstm && io.init_c) std::memcpy(cell.data() + b * n, io.init_c + s.state_offset(d, b), hsize);
  }

  CellArgs<T> c;
  c.hidden = n;
  c.has_clip = a.has_clip;
  c.clip = static_cast<T>(a.clip);
  c.acts = a.acts.data() + d * static_cast<int64_t>(activations_per_direction(a.kind));
  c.peep = w.peep;
  c.rbh = w.rbh;
  c.input_forget = a.input_forget;
  c.linear_before_reset = a.linear_before_reset;

  const T* rt = w.rt;
  const bool gru_split = a.kind == CellKind::kGru && !a.linear_before_reset;
  std::vector<T> g(static_cast<std::size_t>(batch * gh), T(0)), rh;
  if (gru_split) rh.assign(static_cast<std::size_t>(batch * n), T(0));
  const int64_t steps = lens.empty() ? 0 : *std::max_element(lens.begin(), lens.end());
  auto time_of = [&](int64_t b, int64_t k) {
    return reverse ? lens[static_cast<std::size_t>(b)] - 1 - k : k;
  };
  auto active = [&](int64_t b, int64_t k) { return k < lens[static_cast<std::size_t>(b)]; };

  for (int64_t k = 0; k < steps; ++k) {
    if (io.stop && io.stop->at(k)) return io.stop->status();
    // GRU without linear_before_reset needs r before its h gate's GEMM: z and r first, then h.
    TANDEM_RETURN_IF_ERROR(gemm(batch, gru_split ? 2 * n : gh, n, h.data(), n, rt, gh, T(0), g.data(), gh));
    if (gru_split) {
      for (int64_t b = 0; b < batch; ++b) {
        if (active(b, k))
          gru_zr(c, xw + s.x_row(time_of(b, k), b) * gh, g.data() + b * gh, h.data() + b * n,
                 rh.data() + b * n);
        else
          std::fill_n(rh.data() + b * n, n, T(0));
      }
      TANDEM_RETURN_IF_ERROR(gemm(batch, n, n, rh.data(), n, rt + 2 * n, gh, T(0), g.data() + 2 * n, gh));
    }
    for (int64_t b = 0; b < batch; ++b) {
      if (!active(b, k)) continue;
      const int64_t t = time_of(b, k);
      const T* xrow = xw + s.x_row(t, b) * gh;
      T* grow = g.data() + b * gh;
      T* hrow = h.data() + b * n;
      switch (a.kind) {
        case CellKind::kRnn:
          rnn_row(c, xrow, grow, hrow);
          break;
        case CellKind::kGru:
          if (!gru_split) gru_zr(c, xrow, grow, hrow, static_cast<T*>(nullptr));
          gru_finish(c, xrow, grow, hrow);
          break;
        case CellKind::kLstm:
          lstm_row(c, xrow, grow, cell.data() + b * n, hrow);
          break;
      }
      if (io.y) std::memcpy(io.y + s.y_offset(t, d, b), hrow, hsize);
    }
  }
  // Rows keep the state of their last valid step (the initial state for length 0).
  for (int64_t b = 0; b < batch; ++b) {
    if (io.y_h) std::memcpy(io.y_h + s.state_offset(d, b), h.data() + b * n, hsize);
    if (io.y_c) std::memcpy(io.y_c + s.state_offset(d, b), cell.data() + b * n, hsize);
  }
  return Status::ok();
}

template Status run_reference_direction<float>(const RnnAttrs&, const ReferenceWeights<float>&, const RunShape&,
                                               int64_t, bool, const float*, const TypedDirectionIO<float>&);
template Status run_reference_direction<double>(const RnnAttrs&, const ReferenceWeights<double>&,
                                                const RunShape&, int64_t, bool, const double*,
                                                const TypedDirectionIO<double>&);

}  // namespace tandem::cpu::rnn
