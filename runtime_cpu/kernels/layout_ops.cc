// Ops that rearrange whole tensors: Transpose, Expand and Tile (each one strided copy), Concat and Split
// (blocks copied between the inputs and outputs along one axis).
#include <cstring>
#include <optional>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/broadcast.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

std::string ints_string(const std::vector<int64_t>& v) { return shape_string(v); }

class TransposeKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }
  explicit TransposeKernel(std::vector<int64_t> perm) : perm_(std::move(perm)) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "data"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *x, "input 0"));
    const std::size_t rank = x->rank();
    std::vector<int64_t> perm = perm_;
    if (perm.empty())  // the default reverses the dimensions
      for (std::size_t d = rank; d-- > 0;) perm.push_back(static_cast<int64_t>(d));
    if (perm.size() != rank)
      return ctx.error("perm " + ints_string(perm) + " has " + std::to_string(perm.size()) +
                       " entries for an input of rank " + std::to_string(rank));
    const std::vector<int64_t> in_strides = row_major_strides(x->shape());
    std::vector<int64_t> shape(rank), strides(rank);
    for (std::size_t d = 0; d < rank; ++d) {
      const auto p = static_cast<std::size_t>(perm[d]);
      shape[d] = x->dim(p);
      strides[d] = in_strides[p];
    }
    Tensor& y = ctx.allocate_output(0, x->dtype(), shape);
    copy_strided(x->dtype(), x->raw(), 0, shape, strides, y.raw());
    return Status::ok();
  }

 private:
  std::vector<int64_t> perm_;  // empty: reverse
};

Result<KernelPtr> make_transpose(const KernelInit& init) {
  const Node& n = init.node();
  std::vector<int64_t> perm = attr_ints(n, "perm");
  std::vector<bool> seen(perm.size(), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(perm.size()) || seen[static_cast<std::size_t>(p)])
      return init.error("perm " + ints_string(perm) + " is not a permutation of 0.." +
                        std::to_string(perm.size() - 1));
    seen[static_cast<std::size_t>(p)] = true;
  }
  return KernelPtr(new TransposeKernel(std::move(perm)));
}

// Expand: the input broadcast (both ways, like numpy) with the requested shape.
class ExpandKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }
  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "input"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* shape_in, required_input(ctx, 1, "shape"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *x, "input 0"));
    TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> shape, read_ints(ctx, *shape_in, "shape"));
    for (int64_t d : shape)
      if (d < 0) return ctx.error("shape " + shape_string(shape) + " has a negative dimension");
    auto out = broadcast_shapes({x->shape(), shape});
    if (!out) return ctx.error("cannot expand: " + out.status().message());
    if (*out == x->shape()) {  // nothing to repeat: share the storage
      ctx.set_output(0, *x);
      return Status::ok();
    }
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, *out, x->dtype()));
    Tensor& y = ctx.allocate_output(0, x->dtype(), *out);
    return copy_strided_stoppable(ctx, x->dtype(), x->raw(), 0, *out, broadcast_strides(x->shape(), *out), y.raw());
  }
};

// Tile: the output, seen as [r0, d0, r1, d1, ...], reads the input with stride 0 along every r.
class TileKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }
  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "input"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* repeats_in, required_input(ctx, 1, "repeats"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *x, "input 0"));
    TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> repeats, read_ints(ctx, *repeats_in, "repeats"));
    const std::size_t rank = x->rank();
    if (repeats.size() != rank)
      return ctx.error("repeats " + ints_string(repeats) + " has " + std::to_string(repeats.size()) +
                       " entries for an input of rank " + std::to_string(rank));
    const std::vector<int64_t> in_strides = row_major_strides(x->shape());
    std::vector<int64_t> out(rank), view_shape, view_strides;
    for (std::size_t d = 0; d < rank; ++d) {
      if (repeats[d] < 0) return ctx.error("repeats " + ints_string(repeats) + " has a negative entry");
      if (__builtin_mul_overflow(x->dim(d), repeats[d], &out[d]))
        return ctx.error("repeats " + ints_string(repeats) + " make " + x->describe() + " too large");
      view_shape.insert(view_shape.end(), {repeats[d], x->dim(d)});
      view_strides.insert(view_strides.end(), {0, in_strides[d]});
    }
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, out, x->dtype()));
    Tensor& y = ctx.allocate_output(0, x->dtype(), out);
    return copy_strided_stoppable(ctx, x->dtype(), x->raw(), 0, view_shape, view_strides, y.raw());
  }
};

class ConcatKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }
  explicit ConcatKernel(int64_t axis) : axis_(axis) {}

  Status run(KernelContext& ctx) const override {
    if (ctx.num_inputs() == 0) return ctx.error("needs at least one input");
    std::vector<const Tensor*> parts;
    for (std::size_t k = 0; k < ctx.num_inputs(); ++k) {
      TANDEM_ASSIGN_OR_RETURN(const Tensor* t, required_input(ctx, k, "inputs"));
      parts.push_back(t);
    }
    return concat_tensors(ctx, 0, parts, axis_, "input");
  }

 private:
  int64_t axis_;
};

Result<KernelPtr> make_concat(const KernelInit& init) {
  const Node& n = init.node();
  if (!has_attr(n, "axis")) return init.error("attribute 'axis' is missing");
  return KernelPtr(new ConcatKernel(attr_int(n, "axis", 0)));
}

// Split's part sizes come from (by opset) the 'split' attribute (< 13) or input (>= 13), else from
// num_outputs (18: equal parts but a smaller last one), else equal parts, one per output.
class SplitKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }
  SplitKernel(int64_t axis, std::optional<std::vector<int64_t>> split_attr, bool split_input,
              int64_t num_outputs)
      : axis_(axis),
        split_attr_(std::move(split_attr)),
        split_input_(split_input),
        num_outputs_(num_outputs) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "input"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *x, "input 0"));
    auto axis = normalize_axis(axis_, static_cast<int64_t>(x->rank()), "axis");
    if (!axis) return ctx.error(axis.status().message());
    const auto a = static_cast<std::size_t>(*axis);
    const int64_t dim = x->dim(a);
    const auto parts = static_cast<int64_t>(ctx.num_outputs());
    std::vector<int64_t> sizes;
    if (split_input_ && ctx.input(1)) {
      TANDEM_ASSIGN_OR_RETURN(sizes, read_ints(ctx, *ctx.input(1), "split"));
    } else if (split_attr_) {
      sizes = *split_attr_;
    } else if (num_outputs_ > 0) {
      const int64_t chunk = (dim + num_outputs_ - 1) / num_outputs_;
      sizes.assign(static_cast<std::size_t>(num_outputs_), chunk);
      sizes.back() = dim - chunk * (num_outputs_ - 1);
      if (sizes.back() < 0)
        return ctx.error("axis " + std::to_string(a) + " of size " + std::to_string(dim) +
                         " cannot be split into " + std::to_string(num_outputs_) + " parts of " +
                         std::to_string(chunk));
    } else {
      if (dim % parts != 0)
        return ctx.error("axis " + std::to_string(a) + " of size " + std::to_string(dim) +
                         " does not split into " + std::to_string(parts) + " equal parts");
      sizes.assign(static_cast<std::size_t>(parts), dim / parts);
    }
    if (static_cast<int64_t>(sizes.size()) != parts)
      return ctx.error("split " + ints_string(sizes) + " has " + std::to_string(sizes.size()) +
                       " sizes for " + std::to_string(parts) + " outputs");
    int64_t total = 0;
    for (int64_t s : sizes) {
      if (s < 0) return ctx.error("split " + ints_string(sizes) + " has a negative size");
      total += s;
    }
    if (total != dim)
      return ctx.error("split " + ints_string(sizes) + " adds up to " + std::to_string(total) +
                       ", but axis " + std::to_string(a) + " has size " + std::to_string(dim));

    int64_t outer = 1, inner = static_cast<int64_t>(element_stride(x->dtype()));
    for (std::size_t d = 0; d < a; ++d) outer *= x->dim(d);
    for (std::size_t d = a + 1; d < x->rank(); ++d) inner *= x->dim(d);
    const auto row = static_cast<std::size_t>(dim * inner);
    std::size_t column = 0;
    for (std::size_t k = 0; k < sizes.size(); ++k) {
      const auto block = static_cast<std::size_t>(sizes[k] * inner);
      if (ctx.wants_output(k)) {
        std::vector<int64_t> shape = x->shape();
        shape[a] = sizes[k];
        Tensor& y = ctx.allocate_output(k, x->dtype(), std::move(shape));
        if (x->numel() > 0)  // else no block to copy, and offsets into x's storage would pass its end
          copy_blocks(x->dtype(), static_cast<const std::byte*>(x->raw()) + column, row,
                      static_cast<std::byte*>(y.raw()), block, outer, block);
      }
      column += block;
    }
    return Status::ok();
  }

 private:
  int64_t axis_;
  std::optional<std::vector<int64_t>> split_attr_;
  bool split_input_;
  int64_t num_outputs_;  // 0: not given
};

Result<KernelPtr> make_split(const KernelInit& init) {
  const Node& n = init.node();
  std::optional<std::vector<int64_t>> split_attr;
  if (n.opset < 13 && has_attr(n, "split")) split_attr = attr_ints(n, "split");
  int64_t num_outputs = 0;
  if (n.opset >= 18 && has_attr(n, "num_outputs")) {
    num_outputs = attr_int(n, "num_outputs", 0);
    if (num_outputs < 1 || num_outputs != static_cast<int64_t>(n.outputs.size()))
      return init.error("num_outputs is " + std::to_string(num_outputs) + " but the node has " +
                        std::to_string(n.outputs.size()) + " outputs");
  }
  if (n.outputs.empty()) return init.error("needs at least one output");
  return KernelPtr(
      new SplitKernel(attr_int(n, "axis", 0), std::move(split_attr), n.opset >= 13, num_outputs));
}

}  // namespace

void copy_blocks(DType dtype, const std::byte* src, std::size_t src_pitch, std::byte* dst, std::size_t dst_pitch,
                 int64_t outer, std::size_t block) {
  if (block == 0) return;
  for (int64_t o = 0; o < outer; ++o) copy_elements(dtype, dst + o * dst_pitch, src + o * src_pitch, block);
}

Status concat_tensors(KernelContext& ctx, std::size_t out, std::span<const Tensor* const> parts_in, int64_t axis,
                      const std::string& what) {
  for (std::size_t k = 0; k < parts_in.size(); ++k)
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *parts_in[k], what + " " + std::to_string(k)));
  // Exporters sometimes concatenate an empty 1-D tensor onto others; it contributes nothing, so it is
  // skipped even when its rank differs (as other runtimes do).
  std::size_t reference = 0;
  while (reference + 1 < parts_in.size() && parts_in[reference]->shape() == std::vector<int64_t>{0}) ++reference;
  const Tensor* first = parts_in[reference];
  const std::string others = what + " " + std::to_string(reference) + " ";
  const auto rank = static_cast<int64_t>(first->rank());
  auto normalized = normalize_axis(axis, rank, "axis");
  if (!normalized) return ctx.error(normalized.status().message());
  const auto a = static_cast<std::size_t>(*normalized);
  std::vector<const Tensor*> parts;
  std::vector<int64_t> shape = first->shape();
  shape[a] = 0;
  for (std::size_t k = 0; k < parts_in.size(); ++k) {
    const Tensor* t = parts_in[k];
    if (t->dtype() != first->dtype())
      return ctx.error(what + " " + std::to_string(k) + " is " + t->describe() + " but " + others + "is " +
                       first->describe());
    if (t->rank() != first->rank() && t->shape() == std::vector<int64_t>{0}) continue;
    bool same = t->rank() == first->rank();
    for (std::size_t d = 0; same && d < t->rank(); ++d) same = d == a || t->dim(d) == first->dim(d);
    if (!same)
      return ctx.error(what + " " + std::to_string(k) + " " + shape_string(t->shape()) + " does not match " + others +
                       shape_string(first->shape()) + " outside axis " + std::to_string(a));
    shape[a] += t->dim(a);
    parts.push_back(t);
  }
  TANDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.try_allocate_output(out, first->dtype(), shape));
  int64_t outer = 1, inner = static_cast<int64_t>(element_stride(first->dtype()));
  for (std::size_t d = 0; d < a; ++d) outer *= shape[d];
  for (std::size_t d = a + 1; d < shape.size(); ++d) inner *= shape[d];
  const auto row = static_cast<std::size_t>(shape[a] * inner);
  std::size_t column = 0;
  for (const Tensor* t : parts) {
    const auto block = static_cast<std::size_t>(t->dim(a) * inner);
    copy_blocks(first->dtype(), static_cast<const std::byte*>(t->raw()), block,
                static_cast<std::byte*>(y->raw()) + column, row, outer, block);
    column += block;
  }
  return Status::ok();
}

void register_layout_ops(KernelRegistry& r) {
  r.add("Transpose", make_transpose);
  r.add("Expand", [](const KernelInit&) -> Result<KernelPtr> { return KernelPtr(new ExpandKernel()); });
  r.add("Tile", [](const KernelInit&) -> Result<KernelPtr> { return KernelPtr(new TileKernel()); });
  r.add("Concat", make_concat);
  r.add("Split", make_split);
  for (const char* op : {"Transpose", "Expand", "Tile", "Concat", "Split"}) r.take_strings(op);
}

}  // namespace tandem::cpu
