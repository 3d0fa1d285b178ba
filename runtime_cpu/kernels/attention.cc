// Attention (opsets 23 and 24): scaled dot-product attention with multi-head, grouped-query and multi-query
// heads. Per batch b and query head h (kv head g = h / (q_heads / kv_heads), np.repeat's order):
//   scores = scale * Q[b,h] · K[b,g]^T        (scale: the attribute, else 1/sqrt(head_size))
//   scores = softcap * tanh(scores / softcap)  when softcap > 0
//   scores += bias                              attn_mask (bool: false is -inf; float: added), is_causal, and
//                                               at 24 nonpad_kv_seqlen (keys at or past it are -inf)
//   Y[b,h] = softmax(scores) · V[b,g]
// Q, K, V are 4-D [batch, heads, seq, head_size], or 3-D [batch, seq, heads * head_size] with q_num_heads and
// kv_num_heads (Y is then 3-D too); V's head size may differ. past_key/past_value [batch, kv_heads, past, .]
// go in front of K and V along the sequence; present_key/present_value are the results (always 4-D).
// qk_matmul_output (output 3) is, by qk_matmul_output_mode, the scores after the product (0), the softcap
// (1), the bias (2) or the softmax (3).
//
// Decisions where the spec's text and its revisions differ (each is also ONNX Runtime 1.30's behaviour):
// - softcap comes before the bias, and mode 1 is the softcapped scores, mode 2 those plus the bias: the
//   order onnx/onnx#7867 fixed (the original text added the mask first, so tanh turned -inf into -softcap).
// - is_causal keeps key t for query s when t <= s + offset, offset = past length with past_key, else
//   nonpad_kv_seqlen[b] - q_seq at 24 (bottom-right: onnx/onnx#8068), else 0 (the upper-left diagonal).
// - a query row with every key masked (-inf) gets zero probabilities and a zero output row (onnx/onnx#8068's
//   errata; the original reference gave NaN).
// - attn_mask's last axis: at 23 it broadcasts (1) or is total_seq long; at 24 it may be shorter than
//   total_seq, and the missing keys are masked (-inf), a length of 1 included, as ONNX's reference pads it.
// Arithmetic is in float (float16 and bfloat16 widened exactly) or double (when Q, K or V is double, or
// softmax_precision asks for double: then the softmax alone). float products use oneDNN's sgemm; the
// plain loops (TANDEM_ATTENTION_KERNEL=reference) are its reference twin. Scores are made a block of query
// rows at a time, so scratch memory stays near 4 MiB whatever the sequence lengths. The float softmax runs
// over whole vectors (vector_math.h, per instruction set): with std::exp per element it was 70% of a run
// at 512 keys.
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/elementwise_kernels.h"
#include "runtime_cpu/kernels/gemm.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/rnn_fast_path.h"
#include "runtime_cpu/kernels/vector_math.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

constexpr int64_t kScoreBlock = int64_t{1} << 20;  // score elements per block of query rows

bool reference_from_env() {
  const char* v = std::getenv("TANDEM_ATTENTION_KERNEL");
  return v != nullptr && std::string(v) == "reference";
}

struct Options {
  int opset = 23;
  int64_t q_heads = 0, kv_heads = 0;  // 0: attribute absent
  bool causal = false;
  bool has_scale = false;
  float scale = 1.0f;
  float softcap = 0.0f;
  int mode = 0;
  bool softmax_double = false;
  bool reference = false;
  // The float softmax over whole vectors, for the best instruction set this CPU has (vector_math.h);
  // nullptr for the reference twin, which takes softmax_row's plain loops.
  AttentionSoftmaxFn vector_softmax = nullptr;
};

// Sizes of one run: batch, heads, query length, new keys, past keys, all keys, head sizes.
struct Dims {
  int64_t b = 0, hq = 0, hkv = 0, s = 0, l = 0, p = 0, t = 0, d = 0, dv = 0;
  bool three_d = false;
};

// A row-major matrix in a buffer: element (i, j) at p[i * ld + j].
template <typename C>
struct Mat {
  const C* p;
  int64_t ld;
};

// The elements of a float tensor of any float type as C.
template <typename C>
std::vector<C> widen(const Tensor& t) {
  std::vector<C> out(static_cast<std::size_t>(t.numel()));
  dispatch(t.dtype(), FloatTypes{}, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = t.data<T>();
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<C>(ElementTraits<T>::load(src[i]));
  });
  return out;
}

// out's elements [at, at + n) from src, rounded to out's float type.
template <typename C>
void store(const C* src, int64_t n, Tensor& out, int64_t at) {
  dispatch(out.dtype(), FloatTypes{}, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* dst = out.data<T>() + at;
    for (int64_t i = 0; i < n; ++i) dst[i] = ElementTraits<T>::store(static_cast<compute_t<T>>(src[i]));
  });
}

// Where attn_mask's element for (b, h, s, t) is: strides over [batch, q_heads, q_seq, keys] (0 where it
// broadcasts), and how many keys it covers (the rest are masked: opset 24's shorter mask).
struct MaskView {
  const Tensor* mask = nullptr;
  int64_t stride[4] = {0, 0, 0, 0};
  int64_t covered = 0;
};

class AttentionKernel final : public Kernel {
 public:
  explicit AttentionKernel(Options o) : o_(o) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* q, required_input(ctx, 0, "Q"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* k, required_input(ctx, 1, "K"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* v, required_input(ctx, 2, "V"));
    const Tensor* mask = ctx.input(3);
    const Tensor* past_k = ctx.input(4);
    const Tensor* past_v = ctx.input(5);
    const Tensor* nonpad = o_.opset >= 24 ? ctx.input(6) : nullptr;
    for (const auto& [t, name] : {std::pair{q, "Q"}, std::pair{k, "K"}, std::pair{v, "V"}})
      if (!dispatch(t->dtype(), FloatTypes{}, [](auto) {}))
        return ew::unsupported(ctx, name, *t, FloatTypes{});
    if (k->dtype() != q->dtype())
      return ctx.error("K " + k->describe() + " must have Q's type " + std::string(dtype_name(q->dtype())));

    Dims n;
    TANDEM_RETURN_IF_ERROR(read_dims(ctx, *q, *k, *v, past_k, past_v, n));
    MaskView mv;
    if (mask) TANDEM_RETURN_IF_ERROR(read_mask(ctx, *q, *mask, n, mv));
    std::vector<int64_t> valid;  // nonpad_kv_seqlen
    if (nonpad) {
      if (nonpad->dtype() != DType::kInt64 || nonpad->rank() != 1 || nonpad->dim(0) != n.b)
        return ctx.error("nonpad_kv_seqlen must be int64 [" + std::to_string(n.b) + "] (one per batch row), got " +
                         nonpad->describe());
      valid.assign(nonpad->data<int64_t>(), nonpad->data<int64_t>() + n.b);
      for (int64_t b = 0; b < n.b; ++b)
        if (valid[static_cast<std::size_t>(b)] < 0 || valid[static_cast<std::size_t>(b)] > n.t)
          return ctx.error("nonpad_kv_seqlen[" + std::to_string(b) + "] = " +
                           std::to_string(valid[static_cast<std::size_t>(b)]) + " is not a key count in [0, " +
                           std::to_string(n.t) + "]");
    }

    const std::vector<int64_t> y_shape = n.three_d ? std::vector<int64_t>{n.b, n.s, n.hq * n.dv}
                                                   : std::vector<int64_t>{n.b, n.hq, n.s, n.dv};
    const std::vector<int64_t> pk_shape = {n.b, n.hkv, n.t, n.d}, pv_shape = {n.b, n.hkv, n.t, n.dv},
                               qk_shape = {n.b, n.hq, n.s, n.t};
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, y_shape, q->dtype()));
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, pk_shape, q->dtype()));
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, pv_shape, v->dtype()));
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, qk_shape, q->dtype()));

    const bool wide = q->dtype() == DType::kFloat64 || v->dtype() == DType::kFloat64;
    return wide ? compute<double>(ctx, *q, *k, *v, past_k, past_v, mv, valid, n)
                : compute<float>(ctx, *q, *k, *v, past_k, past_v, mv, valid, n);
  }

 private:
  Status read_dims(const KernelContext& ctx, const Tensor& q, const Tensor& k, const Tensor& v,
                   const Tensor* past_k, const Tensor* past_v, Dims& n) const {
    if ((q.rank() != 3 && q.rank() != 4) || k.rank() != q.rank() || v.rank() != q.rank())
      return ctx.error("Q, K and V must all be 4-D [batch, heads, seq, head_size] or all 3-D [batch, seq, "
                       "heads * head_size], got Q " + q.describe() + ", K " + k.describe() + ", V " + v.describe());
    n.three_d = q.rank() == 3;
    n.b = q.dim(0);
    if (k.dim(0) != n.b || v.dim(0) != n.b)
      return ctx.error("Q " + q.describe() + ", K " + k.describe() + " and V " + v.describe() +
                       " must have one batch size");
    if (n.three_d) {
      if (o_.q_heads < 1 || o_.kv_heads < 1)
        return ctx.error("3-D Q, K and V need the attributes q_num_heads and kv_num_heads (1 or more)");
      n.hq = o_.q_heads;
      n.hkv = o_.kv_heads;
      if (q.dim(2) % n.hq != 0)
        return ctx.error("Q's hidden size " + std::to_string(q.dim(2)) + " (" + q.describe() +
                         ") is not a multiple of q_num_heads " + std::to_string(n.hq));
      n.s = q.dim(1);
      n.d = q.dim(2) / n.hq;
      n.l = k.dim(1);
      if (k.dim(2) != n.hkv * n.d)
        return ctx.error("K " + k.describe() + " must have hidden size kv_num_heads * head_size = " +
                         std::to_string(n.hkv) + " * " + std::to_string(n.d) + " (head_size from Q " +
                         q.describe() + ")");
      if (v.dim(1) != n.l || v.dim(2) % n.hkv != 0)
        return ctx.error("V " + v.describe() + " must be [" + std::to_string(n.b) + ", " + std::to_string(n.l) +
                         ", kv_num_heads * v_head_size] with kv_num_heads " + std::to_string(n.hkv));
      n.dv = v.dim(2) / n.hkv;
    } else {
      n.hq = q.dim(1);
      n.hkv = k.dim(1);
      n.s = q.dim(2);
      n.d = q.dim(3);
      n.l = k.dim(2);
      n.dv = v.dim(3);
      if (o_.q_heads != 0 && o_.q_heads != n.hq)
        return ctx.error("q_num_heads " + std::to_string(o_.q_heads) + " does not match Q " + q.describe());
      if (o_.kv_heads != 0 && o_.kv_heads != n.hkv)
        return ctx.error("kv_num_heads " + std::to_string(o_.kv_heads) + " does not match K " + k.describe());
      if (k.dim(3) != n.d)
        return ctx.error("K " + k.describe() + " must have Q's head size " + std::to_string(n.d) + " (Q " +
                         q.describe() + ")");
      if (v.dim(1) != n.hkv || v.dim(2) != n.l)
        return ctx.error("V " + v.describe() + " must have K's heads and sequence length (K " + k.describe() + ")");
    }
    if (n.hkv < 1 || n.hq % n.hkv != 0)
      return ctx.error("the " + std::to_string(n.hq) + " query heads must be a whole multiple of the " +
                       std::to_string(n.hkv) + " key/value heads");
    if ((past_k == nullptr) != (past_v == nullptr))
      return ctx.error("past_key and past_value must be given together");
    if (past_k) {
      if (past_k->dtype() != q.dtype() || past_v->dtype() != v.dtype())
        return ctx.error("past_key " + past_k->describe() + " must have Q's type and past_value " +
                         past_v->describe() + " V's type");
      n.p = past_k->rank() == 4 ? past_k->dim(2) : -1;
      const std::vector<int64_t> want_k = {n.b, n.hkv, n.p, n.d}, want_v = {n.b, n.hkv, n.p, n.dv};
      if (past_k->shape() != want_k || past_v->shape() != want_v)
        return ctx.error("past_key " + past_k->describe() + " and past_value " + past_v->describe() +
                         " must be [batch, kv_heads, past_seq, head_size] = [" + std::to_string(n.b) + ", " +
                         std::to_string(n.hkv) + ", P, " + std::to_string(n.d) + "] and [..., " +
                         std::to_string(n.dv) + "] with one P");
    }
    n.t = n.p + n.l;
    return Status::ok();
  }

  Status read_mask(const KernelContext& ctx, const Tensor& q, const Tensor& mask, const Dims& n,
                   MaskView& mv) const {
    if (mask.dtype() != DType::kBool && mask.dtype() != q.dtype())
      return ctx.error("attn_mask must be bool or Q's type " + std::string(dtype_name(q.dtype())) + ", got " +
                       mask.describe());
    if (mask.rank() > 4) return ctx.error("attn_mask must have rank 4 or less, got " + mask.describe());
    const int64_t full[4] = {n.b, n.hq, n.s, n.t};
    std::vector<int64_t> dims(4, 1);
    const auto mask_rank = static_cast<int64_t>(mask.rank());
    for (int64_t i = 0; i < mask_rank; ++i) dims[static_cast<std::size_t>(4 - mask_rank + i)] = mask.dim(i);
    const std::string target = "[" + std::to_string(n.b) + ", " + std::to_string(n.hq) + ", " +
                               std::to_string(n.s) + ", " + std::to_string(n.t) + "]";
    for (int i = 0; i < 3; ++i)
      if (dims[static_cast<std::size_t>(i)] != 1 && dims[static_cast<std::size_t>(i)] != full[i])
        return ctx.error("attn_mask " + mask.describe() + " does not broadcast to [batch, q_heads, q_seq, keys] = " +
                         target);
    const int64_t last = dims[3];
    if (last > n.t || (o_.opset < 24 && last != n.t && last != 1))
      return ctx.error("attn_mask " + mask.describe() + " does not broadcast to [batch, q_heads, q_seq, keys] = " +
                       target + (o_.opset < 24 ? "" : " (its last axis may be shorter than the keys, not longer)"));
    int64_t step = 1;
    for (int i = 3; i >= 0; --i) {
      mv.stride[i] = dims[static_cast<std::size_t>(i)] == 1 && full[i] != 1 ? 0 : step;
      step *= dims[static_cast<std::size_t>(i)];
    }
    // At 23 a last axis of 1 broadcasts; at 24 a shorter one (1 included) covers only its own keys.
    const bool broadcast_last = o_.opset < 24 && last == 1;
    mv.stride[3] = broadcast_last ? 0 : 1;
    mv.covered = broadcast_last ? n.t : last;
    mv.mask = &mask;
    return Status::ok();
  }

  template <typename C>
  Status compute(KernelContext& ctx, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* past_k,
                 const Tensor* past_v, const MaskView& mv, const std::vector<int64_t>& valid, const Dims& n) const {
    constexpr DType kC = std::is_same_v<C, float> ? DType::kFloat32 : DType::kFloat64;
    // Q, K and V as C: in place when they already are, else widened (exactly) once.
    std::vector<C> qw, kw, vw;
    const C* qp = q.dtype() == kC ? q.data<C>() : (qw = widen<C>(q)).data();
    const C* kp = k.dtype() == kC ? k.data<C>() : (kw = widen<C>(k)).data();
    const C* vp = v.dtype() == kC ? v.data<C>() : (vw = widen<C>(v)).data();
    // One head of a 3-D or 4-D input: its `seq` rows of `size` elements.
    const auto head = [&](const C* base, int64_t heads, int64_t seq, int64_t size, int64_t b, int64_t h) {
      return n.three_d ? Mat<C>{base + (b * seq * heads + h) * size, heads * size}
                       : Mat<C>{base + ((b * heads + h) * seq) * size, size};
    };
    // Keys and values with the past in front: [batch, kv_heads, total, size], built only when there is a past.
    std::vector<C> kt, vt;
    if (past_k) {
      const std::vector<C> pk = widen<C>(*past_k), pv = widen<C>(*past_v);
      const auto concat = [&](const std::vector<C>& past, const C* cur, int64_t size, std::vector<C>& out) {
        out.resize(static_cast<std::size_t>(n.b * n.hkv * n.t * size));
        for (int64_t b = 0; b < n.b; ++b)
          for (int64_t g = 0; g < n.hkv; ++g) {
            C* dst = out.data() + (b * n.hkv + g) * n.t * size;
            const C* from = past.data() + (b * n.hkv + g) * n.p * size;
            std::copy(from, from + n.p * size, dst);
            const Mat<C> m = head(cur, n.hkv, n.l, size, b, g);
            for (int64_t i = 0; i < n.l; ++i)
              std::copy(m.p + i * m.ld, m.p + i * m.ld + size, dst + (n.p + i) * size);
          }
      };
      concat(pk, kp, n.d, kt);
      concat(pv, vp, n.dv, vt);
    }
    const auto keys = [&](int64_t b, int64_t g) {
      return past_k ? Mat<C>{kt.data() + (b * n.hkv + g) * n.t * n.d, n.d} : head(kp, n.hkv, n.l, n.d, b, g);
    };
    const auto values = [&](int64_t b, int64_t g) {
      return past_k ? Mat<C>{vt.data() + (b * n.hkv + g) * n.t * n.dv, n.dv} : head(vp, n.hkv, n.l, n.dv, b, g);
    };

    // present_key and present_value: the keys and values attended to, 4-D in K's and V's types.
    const auto present = [&](std::size_t index, int64_t size, DType dtype, const auto& mat) {
      if (index >= ctx.num_outputs() || !ctx.wants_output(index)) return;
      Tensor& out = ctx.allocate_output(index, dtype, {n.b, n.hkv, n.t, size});
      for (int64_t b = 0; b < n.b; ++b)
        for (int64_t g = 0; g < n.hkv; ++g) {
          const Mat<C> m = mat(b, g);
          for (int64_t t = 0; t < n.t; ++t) store(m.p + t * m.ld, size, out, ((b * n.hkv + g) * n.t + t) * size);
        }
    };
    present(1, n.d, k.dtype(), keys);
    present(2, n.dv, v.dtype(), values);

    Tensor& y = ctx.allocate_output(0, q.dtype(), n.three_d ? std::vector<int64_t>{n.b, n.s, n.hq * n.dv}
                                                             : std::vector<int64_t>{n.b, n.hq, n.s, n.dv});
    const bool want_qk = o_.mode >= 0 && ctx.num_outputs() > 3 && ctx.wants_output(3);
    Tensor* qk = want_qk ? &ctx.allocate_output(3, q.dtype(), {n.b, n.hq, n.s, n.t}) : nullptr;
    if (y.numel() == 0 && qk == nullptr) return Status::ok();

    const C scale = o_.has_scale ? static_cast<C>(o_.scale)
                                 : (n.d > 0 ? static_cast<C>(1.0 / std::sqrt(static_cast<double>(n.d))) : C(1));
    const int64_t rows = std::max<int64_t>(1, std::min<int64_t>(n.s, kScoreBlock / std::max<int64_t>(1, n.t)));
    std::vector<C> scores(static_cast<std::size_t>(rows * n.t)), out(static_cast<std::size_t>(rows * n.dv));
    std::vector<C> bias(static_cast<std::size_t>(n.t));
    ctx.note_workspace((scores.size() + out.size() + bias.size()) * sizeof(C) +
                       (qw.size() + kw.size() + vw.size() + kt.size() + vt.size()) * sizeof(C));
    constexpr C kNegInf = -std::numeric_limits<C>::infinity();
    const int64_t group = n.hq / n.hkv;
    OutputProgress progress(ctx, n.b * n.hq * n.s, static_cast<std::size_t>(std::max<int64_t>(1, n.t)) * sizeof(C),
                            "query row");

    for (int64_t b = 0; b < n.b; ++b)
      for (int64_t h = 0; h < n.hq; ++h) {
        const int64_t g = h / group;
        const Mat<C> qm = head(qp, n.hq, n.s, n.d, b, h), km = keys(b, g), vm = values(b, g);
        const int64_t offset = n.p > 0 ? n.p : (valid.empty() ? 0 : valid[static_cast<std::size_t>(b)] - n.s);
        const int64_t keys_valid = valid.empty() ? n.t : valid[static_cast<std::size_t>(b)];
        for (int64_t s0 = 0; s0 < n.s; s0 += rows) {
          TANDEM_RETURN_IF_ERROR(progress.at((b * n.hq + h) * n.s + s0));
          const int64_t r = std::min(rows, n.s - s0);
          C* sc = scores.data();
          TANDEM_RETURN_IF_ERROR(products_qk(r, n, scale, Mat<C>{qm.p + s0 * qm.ld, qm.ld}, km, sc));
          const int64_t qk_at = ((b * n.hq + h) * n.s + s0) * n.t;
          if (qk && o_.mode == 0) store(sc, r * n.t, *qk, qk_at);
          if (o_.softcap > 0.0f) {
            const C cap = static_cast<C>(o_.softcap);
            for (int64_t i = 0; i < r * n.t; ++i) sc[i] = cap * std::tanh(sc[i] / cap);
          }
          if (qk && o_.mode == 1) store(sc, r * n.t, *qk, qk_at);
          for (int64_t i = 0; i < r; ++i) {
            const int64_t s = s0 + i;
            C* row = sc + i * n.t;
            if (mv.mask) {
              mask_row(mv, b, h, s, n.t, bias.data());
              for (int64_t t = 0; t < n.t; ++t) row[t] += bias[static_cast<std::size_t>(t)];
            }
            if (o_.causal)
              for (int64_t t = std::max<int64_t>(0, s + offset + 1); t < n.t; ++t) row[t] = kNegInf;
            for (int64_t t = keys_valid; t < n.t; ++t) row[t] = kNegInf;
          }
          if (qk && o_.mode == 2) store(sc, r * n.t, *qk, qk_at);
          for (int64_t i = 0; i < r; ++i) {
            if (o_.softmax_double)
              softmax_row<C, double>(sc + i * n.t, n.t);
            else if (std::is_same_v<C, float> && o_.vector_softmax)
              o_.vector_softmax(reinterpret_cast<float*>(sc + i * n.t), n.t);
            else
              softmax_row<C, C>(sc + i * n.t, n.t);
          }
          if (qk && o_.mode == 3) store(sc, r * n.t, *qk, qk_at);
          TANDEM_RETURN_IF_ERROR(products_pv(r, n, sc, vm, out.data()));
          for (int64_t i = 0; i < r; ++i) {
            const int64_t s = s0 + i;
            const int64_t at = n.three_d ? (b * n.s + s) * n.hq * n.dv + h * n.dv : ((b * n.hq + h) * n.s + s) * n.dv;
            store(out.data() + i * n.dv, n.dv, y, at);
          }
        }
      }
    return Status::ok();
  }

  // bias[t] for key t of query row (b, h, s): the mask's value (bool: 0 or -inf), -inf past what it covers.
  template <typename C>
  static void mask_row(const MaskView& mv, int64_t b, int64_t h, int64_t s, int64_t keys, C* bias) {
    const int64_t base = b * mv.stride[0] + h * mv.stride[1] + s * mv.stride[2];
    const int64_t covered = std::min(keys, mv.covered);
    constexpr C kNegInf = -std::numeric_limits<C>::infinity();
    if (mv.mask->dtype() == DType::kBool) {
      const uint8_t* m = mv.mask->data<uint8_t>() + base;
      for (int64_t t = 0; t < covered; ++t) bias[t] = m[t * mv.stride[3]] ? C(0) : kNegInf;
    } else {
      dispatch(mv.mask->dtype(), FloatTypes{}, [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T* m = mv.mask->data<T>() + base;
        for (int64_t t = 0; t < covered; ++t) bias[t] = static_cast<C>(ElementTraits<T>::load(m[t * mv.stride[3]]));
      });
    }
    for (int64_t t = covered; t < keys; ++t) bias[t] = kNegInf;
  }

  // A row of scores made probabilities in precision A. A row with every key masked (-inf), or with no keys,
  // attends to nothing: zeros (onnx/onnx#8068). NaN anywhere makes the row NaN, as the formula would.
  template <typename C, typename A>
  static void softmax_row(C* x, int64_t count) {
    C top = -std::numeric_limits<C>::infinity();
    bool nan = false;
    for (int64_t t = 0; t < count; ++t) {
      nan = nan || std::isnan(x[t]);
      if (x[t] > top) top = x[t];
    }
    if (nan || top == -std::numeric_limits<C>::infinity()) {
      std::fill(x, x + count, nan ? std::numeric_limits<C>::quiet_NaN() : C(0));
      return;
    }
    A sum = 0;
    for (int64_t t = 0; t < count; ++t) {
      const A e = std::exp(static_cast<A>(x[t]) - static_cast<A>(top));
      x[t] = static_cast<C>(e);
      sum += e;
    }
    const A inv = A(1) / sum;
    for (int64_t t = 0; t < count; ++t) x[t] = static_cast<C>(static_cast<A>(x[t]) * inv);
  }

  // sc[r x t] = scale * q[r x d] · k[t x d]^T.
  template <typename C>
  Status products_qk(int64_t r, const Dims& n, C scale, Mat<C> q, Mat<C> k, C* sc) const {
    if constexpr (std::is_same_v<C, float>)
      if (!o_.reference) return sgemm(false, true, r, n.t, n.d, scale, q.p, q.ld, k.p, k.ld, 0.0f, sc, n.t);
    for (int64_t i = 0; i < r; ++i)
      for (int64_t t = 0; t < n.t; ++t) {
        C acc = 0;
        for (int64_t j = 0; j < n.d; ++j) acc += q.p[i * q.ld + j] * k.p[t * k.ld + j];
        sc[i * n.t + t] = scale * acc;
      }
    return Status::ok();
  }

  // out[r x dv] = p[r x t] · v[t x dv].
  template <typename C>
  Status products_pv(int64_t r, const Dims& n, const C* p, Mat<C> v, C* out) const {
    if constexpr (std::is_same_v<C, float>)
      if (!o_.reference) return sgemm(false, false, r, n.dv, n.t, 1.0f, p, n.t, v.p, v.ld, 0.0f, out, n.dv);
    for (int64_t i = 0; i < r; ++i)
      for (int64_t j = 0; j < n.dv; ++j) {
        C acc = 0;
        for (int64_t t = 0; t < n.t; ++t) acc += p[i * n.t + t] * v.p[t * v.ld + j];
        out[i * n.dv + j] = acc;
      }
    return Status::ok();
  }

  Options o_;
};

Result<KernelPtr> make_attention(const KernelInit& init) {
  const Node& node = init.node();
  Options o;
  o.opset = node.opset;
  o.reference = reference_from_env();
  if (!o.reference) {
    prepare_sgemm();
    o.vector_softmax = vector_math_for(rnn::kernel_choice_from_env().isa).attention_softmax_row;
  }
  const int64_t causal = attr_int(node, "is_causal", 0);
  if (causal != 0 && causal != 1) return init.error("is_causal must be 0 or 1, got " + std::to_string(causal));
  o.causal = causal == 1;
  o.q_heads = attr_int(node, "q_num_heads", 0);
  o.kv_heads = attr_int(node, "kv_num_heads", 0);
  if (o.q_heads < 0 || o.kv_heads < 0 || (has_attr(node, "q_num_heads") && o.q_heads == 0) ||
      (has_attr(node, "kv_num_heads") && o.kv_heads == 0))
    return init.error("q_num_heads and kv_num_heads must be 1 or more, got " + std::to_string(o.q_heads) + " and " +
                      std::to_string(o.kv_heads));
  if (has_attr(node, "scale")) {
    o.has_scale = true;
    o.scale = attr_float(node, "scale", 1.0f);
    if (!(o.scale > 0.0f) || !std::isfinite(o.scale))
      return init.error("scale must be a finite number above 0, got " + std::to_string(o.scale));
  }
  o.softcap = attr_float(node, "softcap", 0.0f);
  if (!std::isfinite(o.softcap)) return init.error("softcap must be finite, got " + std::to_string(o.softcap));
  const int64_t mode = attr_int(node, "qk_matmul_output_mode", 0);
  if (mode < 0 || mode > 3)
    return init.error("qk_matmul_output_mode must be 0, 1, 2 or 3, got " + std::to_string(mode));
  o.mode = static_cast<int>(mode);
  if (has_attr(node, "softmax_precision")) {  // a floating-point TensorProto type
    const int64_t p = attr_int(node, "softmax_precision", 1);
    if (p != 1 && p != 10 && p != 11 && p != 16)
      return init.error("softmax_precision must be a floating-point type (1, 10, 11 or 16), got " +
                        std::to_string(p));
    o.softmax_double = p == 11;  // float, float16 and bfloat16 are met by computing in float
  }
  return KernelPtr(new AttentionKernel(o));
}

}  // namespace

void register_attention_kernels(KernelRegistry& r) {
  r.add("Attention", make_attention);
}

}  // namespace tandem::cpu
