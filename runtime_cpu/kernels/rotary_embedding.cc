// RotaryEmbedding (opset 23): rotates the first rotary_embedding_dim elements of every head of X (all of
// them when it is 0) by a position's angles, given as cos_cache and sin_cache rows of rotary_dim / 2
// values: pair k is (x[2k], x[2k+1]) when interleaved, else (x[k], x[k + rotary_dim / 2]), and becomes
// (c x1 - s x2, s x1 + c x2) with c, s the row's k-th values. The rest of the head is copied.
// X is [batch, num_heads, seq, head_size], or [batch, seq, hidden] with the num_heads attribute (a 4-D X
// ignores it, as the spec's function body does). With position_ids [batch, seq] the caches are
// [max_position, rotary_dim / 2] and a token reads row position_ids[b, s]; without, they are
// [batch, seq, rotary_dim / 2], one row per token. The shapes are exact, as ONNX Runtime requires (the
// function body would slice a wider cache). Computed in float for the 16-bit types and rounded once, as
// ONNX Runtime does.
#include <string>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/elementwise_kernels.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

using RopeTypes = TypeList<float, Half, BFloat16>;

class RotaryEmbeddingKernel final : public Kernel {
 public:
  RotaryEmbeddingKernel(bool interleaved, int64_t rotary_dim, int64_t num_heads)
      : interleaved_(interleaved), rotary_dim_(rotary_dim), num_heads_(num_heads) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "X"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* cos, required_input(ctx, 1, "cos_cache"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* sin, required_input(ctx, 2, "sin_cache"));
    const Tensor* positions = ctx.input(3);
    if (x->rank() != 3 && x->rank() != 4)
      return ctx.error("X must be [batch, num_heads, seq, head_size] or [batch, seq, hidden], got " + x->describe());
    int64_t batch = x->dim(0), heads, seq, head_size;
    if (x->rank() == 4) {
      heads = x->dim(1);
      seq = x->dim(2);
      head_size = x->dim(3);
    } else {
      if (num_heads_ < 1) return ctx.error("a 3-D X " + x->describe() + " needs the num_heads attribute");
      seq = x->dim(1);
      heads = num_heads_;
      if (x->dim(2) % heads != 0)
        return ctx.error("X's hidden size " + std::to_string(x->dim(2)) + " does not split into num_heads " +
                         std::to_string(heads) + " heads");
      head_size = x->dim(2) / heads;
    }
    const int64_t rotary = rotary_dim_ == 0 ? head_size : rotary_dim_;
    if (rotary > head_size)
      return ctx.error("rotary_embedding_dim " + std::to_string(rotary) + " is larger than the head size " +
                       std::to_string(head_size) + " of X " + x->describe());
    if (rotary % 2 != 0)
      return ctx.error("the head size " + std::to_string(head_size) + " of X " + x->describe() +
                       " is odd: a full rotation needs pairs");
    const int64_t half = rotary / 2;
    for (const Tensor* c : {cos, sin})
      if (c->dtype() != x->dtype())
        return ctx.error("cos_cache and sin_cache must have X's type " + std::string(dtype_name(x->dtype())) +
                         ", got " + c->describe());
    if (cos->shape() != sin->shape())
      return ctx.error("cos_cache " + cos->describe() + " and sin_cache " + sin->describe() + " differ in shape");
    const std::vector<int64_t> want = positions ? std::vector<int64_t>{cos->rank() == 2 ? cos->dim(0) : -1, half}
                                                : std::vector<int64_t>{batch, seq, half};
    if (cos->shape() != want)
      return ctx.error(std::string("cos_cache and sin_cache must be ") +
                       (positions ? "[max_position," + std::to_string(half) + "] (one row per position id"
                                  : shape_string(want) + " (one row per token of X: no position_ids") +
                       ", rotary_dim / 2 = " + std::to_string(half) + " per row), got " + cos->describe());
    const int64_t* ids = nullptr;
    if (positions) {
      if (positions->dtype() != DType::kInt64 || positions->shape() != std::vector<int64_t>{batch, seq})
        return ctx.error("position_ids must be int64 " + shape_string({batch, seq}) +
                         " (X's batch and sequence), got " + positions->describe());
      ids = positions->data<int64_t>();
      const int64_t rows = cos->dim(0);
      for (int64_t i = 0; i < positions->numel(); ++i)
        if (ids[i] < 0 || ids[i] >= rows)
          return ctx.error("position_ids[" + std::to_string(i / seq) + ", " + std::to_string(i % seq) + "] = " +
                           std::to_string(ids[i]) + " is outside the caches' " + std::to_string(rows) +
                           " rows [0, " + std::to_string(rows) + ")");
    }
    const bool known = dispatch(x->dtype(), RopeTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Tr = ElementTraits<T>;
      const T* px = x->data<T>();
      const T* pc = cos->data<T>();
      const T* ps = sin->data<T>();
      T* py = ctx.allocate_output(0, x->dtype(), x->shape()).data<T>();
      // An empty X may still name many (b, s, h), whose products could overflow: nothing to rotate.
      if (x->numel() == 0) return;
      // Element strides of a head's (b, s, h) in X's layout.
      const bool four_d = x->rank() == 4;
      const int64_t stride_b = heads * seq * head_size;
      const int64_t stride_s = four_d ? head_size : heads * head_size;
      const int64_t stride_h = four_d ? seq * head_size : head_size;
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t s = 0; s < seq; ++s) {
          const int64_t row = ids ? ids[b * seq + s] : b * seq + s;
          const T* c = pc + row * half;
          const T* sn = ps + row * half;
          for (int64_t h = 0; h < heads; ++h) {
            const int64_t at = b * stride_b + s * stride_s + h * stride_h;
            const T* in = px + at;
            T* out = py + at;
            // Pair k sits at (2k, 2k + 1) interleaved, else at (k, k + half).
            const int64_t step = interleaved_ ? 2 : 1, partner = interleaved_ ? 1 : half;
            for (int64_t k = 0; k < half; ++k) {
              const float ck = Tr::load(c[k]), sk = Tr::load(sn[k]);
              const float x1 = Tr::load(in[k * step]), x2 = Tr::load(in[k * step + partner]);
              out[k * step] = Tr::store(ck * x1 - sk * x2);
              out[k * step + partner] = Tr::store(sk * x1 + ck * x2);
            }
            for (int64_t d = rotary; d < head_size; ++d) out[d] = in[d];
          }
        }
    });
    return known ? Status::ok() : ew::unsupported(ctx, "X", *x, RopeTypes{});
  }

 private:
  bool interleaved_;
  int64_t rotary_dim_, num_heads_;  // 0: the whole head; 0: not given
};

Result<KernelPtr> make_rotary_embedding(const KernelInit& init) {
  const Node& n = init.node();
  const int64_t interleaved = attr_int(n, "interleaved", 0);
  if (interleaved != 0 && interleaved != 1)
    return init.error("interleaved must be 0 or 1, got " + std::to_string(interleaved));
  const int64_t rotary_dim = attr_int(n, "rotary_embedding_dim", 0);
  if (rotary_dim < 0 || rotary_dim % 2 != 0)
    return init.error("rotary_embedding_dim must be 0 (the whole head) or a positive even number, got " +
                      std::to_string(rotary_dim));
  const int64_t num_heads = attr_int(n, "num_heads", 0);
  if (num_heads < 0) return init.error("num_heads must be positive, got " + std::to_string(num_heads));
  return KernelPtr(new RotaryEmbeddingKernel(interleaved == 1, rotary_dim, num_heads));
}

}  // namespace

void register_rotary_embedding_kernels(KernelRegistry& r) { r.add("RotaryEmbedding", make_rotary_embedding); }

}  // namespace tandem::cpu
