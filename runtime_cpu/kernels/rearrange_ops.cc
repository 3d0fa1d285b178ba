// Ops that only rearrange elements: DepthToSpace and SpaceToDepth (a reshape, a transpose and a reshape, done
// as one strided copy) and ReverseSequence (each batch entry's first seq_len steps reversed in time).
#include <cstring>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/sub_families.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

// Copies `x` viewed as `view` (row-major) with its dimensions permuted by `perm` into a new output of
// `out_shape`: numpy's x.reshape(view).transpose(perm).reshape(out_shape).
void permuted_copy(const Tensor& x, const std::vector<int64_t>& view, const std::vector<std::size_t>& perm,
                   Tensor& y) {
  const std::vector<int64_t> strides = row_major_strides(view);
  std::vector<int64_t> shape(perm.size()), steps(perm.size());
  for (std::size_t d = 0; d < perm.size(); ++d) shape[d] = view[perm[d]], steps[d] = strides[perm[d]];
  copy_strided(x.dtype(), x.raw(), 0, shape, steps, y.raw());
}

// DepthToSpace (to_space) and SpaceToDepth on [N, C, H, W].
class BlockRearrangeKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }
  BlockRearrangeKernel(bool to_space, int64_t block, bool crd) : to_space_(to_space), block_(block), crd_(crd) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "input"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *x, "input"));
    if (x->rank() != 4) return ctx.error("input must be 4-D [N, C, H, W], got " + x->describe());
    const int64_t n = x->dim(0), c = x->dim(1), h = x->dim(2), w = x->dim(3), b = block_;
    // Sizes multiplied by the block (from an attribute) must not overflow.
    int64_t hb = 0, wb = 0, cbb = 0;
    if (__builtin_mul_overflow(h, b, &hb) || __builtin_mul_overflow(w, b, &wb) ||
        __builtin_mul_overflow(c, b, &cbb) || __builtin_mul_overflow(cbb, b, &cbb))
      return ctx.error("blocksize " + std::to_string(b) + " is too large for " + x->describe());
    if (to_space_) {
      if (c % b != 0 || (c / b) % b != 0)
        return ctx.error("channels " + std::to_string(c) + " are not a multiple of blocksize^2 = " +
                         std::to_string(b) + "^2");
      TANDEM_RETURN_IF_ERROR(check_output_size(ctx, {n, c / b / b, hb, wb}, x->dtype()));
      Tensor& y = ctx.allocate_output(0, x->dtype(), {n, c / b / b, hb, wb});
      if (crd_)
        permuted_copy(*x, {n, c / b / b, b, b, h, w}, {0, 1, 4, 2, 5, 3}, y);
      else
        permuted_copy(*x, {n, b, b, c / b / b, h, w}, {0, 3, 4, 1, 5, 2}, y);
    } else {
      if (h % b != 0 || w % b != 0)
        return ctx.error("height " + std::to_string(h) + " and width " + std::to_string(w) +
                         " must be multiples of blocksize " + std::to_string(b));
      TANDEM_RETURN_IF_ERROR(check_output_size(ctx, {n, cbb, h / b, w / b}, x->dtype()));
      Tensor& y = ctx.allocate_output(0, x->dtype(), {n, cbb, h / b, w / b});
      permuted_copy(*x, {n, c, h / b, b, w / b, b}, {0, 3, 5, 1, 2, 4}, y);
    }
    return Status::ok();
  }

 private:
  bool to_space_;
  int64_t block_;
  bool crd_;
};

Result<KernelPtr> make_block_rearrange(const KernelInit& init, bool to_space) {
  const Node& n = init.node();
  if (!has_attr(n, "blocksize")) return init.error("attribute 'blocksize' is required");
  const int64_t block = attr_int(n, "blocksize", 0);
  if (block < 1) return init.error("blocksize must be >= 1, got " + std::to_string(block));
  bool crd = false;
  if (to_space && n.opset >= 11) {
    const std::string mode = attr_string(n, "mode", "DCR");
    if (mode != "DCR" && mode != "CRD") return init.error("mode '" + mode + "' is not DCR or CRD");
    crd = mode == "CRD";
  }
  return KernelPtr(new BlockRearrangeKernel(to_space, block, crd));
}

// ReverseSequence: along time_axis, batch entry i's first sequence_lens[i] steps reversed, the rest copied.
class ReverseSequenceKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }
  ReverseSequenceKernel(int64_t batch_axis, int64_t time_axis) : batch_axis_(batch_axis), time_axis_(time_axis) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "input"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* lens_in, required_input(ctx, 1, "sequence_lens"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *x, "input"));
    if (x->rank() < 2) return ctx.error("input must have rank >= 2, got " + x->describe());
    const auto ba = static_cast<std::size_t>(batch_axis_), ta = static_cast<std::size_t>(time_axis_);
    TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> lens, read_ints(ctx, *lens_in, "sequence_lens"));
    const int64_t batch = x->dim(ba), steps = x->dim(ta);
    if (static_cast<int64_t>(lens.size()) != batch)
      return ctx.error("sequence_lens has " + std::to_string(lens.size()) + " entries for a batch of " +
                       std::to_string(batch));
    for (std::size_t i = 0; i < lens.size(); ++i)
      if (lens[i] < 0 || lens[i] > steps)
        return ctx.error("sequence_lens[" + std::to_string(i) + "] = " + std::to_string(lens[i]) +
                         " is out of range [0, " + std::to_string(steps) + "]");
    Tensor& y = ctx.allocate_output(0, x->dtype(), x->shape());
    // Rows: one per (batch, time) pair, each holding the dimensions after both axes; the dimensions
    // between or before them are outer loops, walked through the strides.
    const std::size_t elem = element_stride(x->dtype());
    const std::vector<int64_t> strides = row_major_strides(x->shape());
    int64_t inner = 1, outer = 1;
    for (std::size_t d = std::max(ba, ta) + 1; d < x->rank(); ++d) inner *= x->dim(d);
    std::vector<int64_t> outer_shape, outer_strides;
    for (std::size_t d = 0; d <= std::max(ba, ta); ++d)
      if (d != ba && d != ta) outer_shape.push_back(x->dim(d)), outer_strides.push_back(strides[d]);
    for (int64_t s : outer_shape) outer *= s;
    const auto* src = static_cast<const std::byte*>(x->raw());
    auto* dst = static_cast<std::byte*>(y.raw());
    const std::size_t row = static_cast<std::size_t>(inner) * elem;
    std::vector<int64_t> pos(outer_shape.size(), 0);
    int64_t base = 0;
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t b = 0; b < batch; ++b) {
        for (int64_t t = 0; t < steps; ++t) {
          const int64_t from = t < lens[static_cast<std::size_t>(b)] ? lens[static_cast<std::size_t>(b)] - 1 - t : t;
          const int64_t d_off = base + b * strides[ba] + t * strides[ta];
          const int64_t s_off = base + b * strides[ba] + from * strides[ta];
          copy_elements(x->dtype(), dst + d_off * static_cast<int64_t>(elem), src + s_off * static_cast<int64_t>(elem), row);
        }
      }
      for (std::size_t d = pos.size(); d-- > 0;) {
        base += outer_strides[d];
        if (++pos[d] < outer_shape[d]) break;
        base -= outer_strides[d] * outer_shape[d];
        pos[d] = 0;
      }
    }
    return Status::ok();
  }

 private:
  int64_t batch_axis_, time_axis_;
};

Result<KernelPtr> make_reverse_sequence(const KernelInit& init) {
  const int64_t batch_axis = attr_int(init.node(), "batch_axis", 1);
  const int64_t time_axis = attr_int(init.node(), "time_axis", 0);
  if (!((batch_axis == 1 && time_axis == 0) || (batch_axis == 0 && time_axis == 1)))
    return init.error("batch_axis " + std::to_string(batch_axis) + " and time_axis " + std::to_string(time_axis) +
                      " must be 0 and 1 in some order");
  return KernelPtr(new ReverseSequenceKernel(batch_axis, time_axis));
}

}  // namespace

void register_rearrange_kernels(KernelRegistry& r) {
  r.add("DepthToSpace", [](const KernelInit& init) { return make_block_rearrange(init, true); });
  r.add("SpaceToDepth", [](const KernelInit& init) { return make_block_rearrange(init, false); });
  r.add("ReverseSequence", make_reverse_sequence);
  for (const char* op : {"DepthToSpace", "SpaceToDepth", "ReverseSequence"}) r.take_strings(op);
}

}  // namespace tandem::cpu
