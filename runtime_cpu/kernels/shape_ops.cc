// Ops that only read or change a tensor's dimensions: Shape and Size compute them, Reshape, Flatten,
// Squeeze and Unsqueeze hand out the input's storage under new ones (no copy: tensors are immutable).
#include <algorithm>
#include <optional>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

// Shape, with opset 15's start/end: a slice of the dimensions, clamped into [0, rank].
class ShapeKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }  // reads only the shape
  ShapeKernel(int64_t start, std::optional<int64_t> end) : start_(start), end_(end) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "data"));
    const auto rank = static_cast<int64_t>(x->rank());
    auto clamp = [rank](int64_t a) { return std::clamp(a < 0 ? a + rank : a, int64_t{0}, rank); };
    const int64_t begin = clamp(start_), end = clamp(end_.value_or(rank));
    const int64_t n = std::max<int64_t>(end - begin, 0);
    Tensor& y = ctx.allocate_output(0, DType::kInt64, {n});
    for (int64_t i = 0; i < n; ++i) y.data<int64_t>()[i] = x->dim(static_cast<std::size_t>(begin + i));
    return Status::ok();
  }

 private:
  int64_t start_;
  std::optional<int64_t> end_;
};

Result<KernelPtr> make_shape(const KernelInit& init) {
  const Node& n = init.node();
  if (n.opset < 15) return KernelPtr(new ShapeKernel(0, std::nullopt));
  std::optional<int64_t> end;
  if (has_attr(n, "end")) end = attr_int(n, "end", 0);
  return KernelPtr(new ShapeKernel(attr_int(n, "start", 0), end));
}

class SizeKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }  // reads only the shape
  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "data"));
    ctx.allocate_output(0, DType::kInt64, {}).data<int64_t>()[0] = x->numel();
    return Status::ok();
  }
};

// The dimensions Reshape produces: 0 copies the input's dimension at that position (unless allowzero),
// one -1 takes whatever makes the element counts match.
Result<std::vector<int64_t>> reshape_dims(const KernelContext& ctx, const std::vector<int64_t>& in,
                                          std::vector<int64_t> dims, bool allowzero) {
  const std::string target = "target shape " + shape_string(dims);
  std::optional<std::size_t> infer;
  bool zero = false, overflow = false;
  int64_t known = 1;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1) {
      if (infer) return ctx.error(target + " has more than one -1");
      infer = i;
      continue;
    }
    if (dims[i] < -1) return ctx.error(target + " has the negative dimension " + std::to_string(dims[i]));
    if (dims[i] == 0 && allowzero) zero = true;
    if (dims[i] == 0 && !allowzero) {
      if (i >= in.size())
        return ctx.error(target + ": the 0 at position " + std::to_string(i) +
                         " copies a dimension the input " + shape_string(in) + " does not have");
      dims[i] = in[i];
    }
    overflow = overflow || __builtin_mul_overflow(known, dims[i], &known);
  }
  const int64_t count = shape_numel(in);
  const std::string from =
      "cannot reshape " + shape_string(in) + " (" + std::to_string(count) + " elements) to ";
  if (infer) {
    if (zero) return ctx.error(target + " has both a 0 and a -1, which allowzero=1 does not allow");
    if (known == 0) return ctx.error(from + target + ": -1 is ambiguous next to a 0 dimension");
    if (overflow || count % known != 0)
      return ctx.error(from + target + ": the element counts do not divide");
    dims[*infer] = count / known;
  } else if (overflow || known != count) {
    return ctx.error(from + shape_string(dims) + " (" + (overflow ? "too many" : std::to_string(known)) +
                     " elements)");
  }
  return dims;
}

class ReshapeKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }  // reads only the shape
  explicit ReshapeKernel(bool allowzero) : allowzero_(allowzero) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "data"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* shape, required_input(ctx, 1, "shape"));
    TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> dims, read_ints(ctx, *shape, "shape"));
    TANDEM_ASSIGN_OR_RETURN(dims, reshape_dims(ctx, x->shape(), std::move(dims), allowzero_));
    ctx.set_output(0, x->reshaped(std::move(dims)));
    return Status::ok();
  }

 private:
  bool allowzero_;
};

Result<KernelPtr> make_reshape(const KernelInit& init) {
  const Node& n = init.node();
  const int64_t allowzero = n.opset >= 14 ? attr_int(n, "allowzero", 0) : 0;
  if (allowzero != 0 && allowzero != 1)
    return init.error("allowzero must be 0 or 1, got " + std::to_string(allowzero));
  return KernelPtr(new ReshapeKernel(allowzero == 1));
}

// Flatten: a 2-D view, dimensions before `axis` in the rows and the rest in the columns.
class FlattenKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }  // reads only the shape
  explicit FlattenKernel(int64_t axis) : axis_(axis) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "input"));
    const auto rank = static_cast<int64_t>(x->rank());
    const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    if (axis < 0 || axis > rank)
      return ctx.error("axis " + std::to_string(axis_) + " is out of range for rank " + std::to_string(rank));
    int64_t rows = 1;
    for (int64_t d = 0; d < axis; ++d) rows *= x->dim(static_cast<std::size_t>(d));
    int64_t cols = 1;
    for (int64_t d = axis; d < rank; ++d) cols *= x->dim(static_cast<std::size_t>(d));
    ctx.set_output(0, x->reshaped({rows, cols}));
    return Status::ok();
  }

 private:
  int64_t axis_;
};

Result<KernelPtr> make_flatten(const KernelInit& init) {
  return KernelPtr(new FlattenKernel(attr_int(init.node(), "axis", 1)));
}

// Where Squeeze and Unsqueeze find their axes: the attribute before opset 13, input 1 from then on.
struct AxesSource {
  std::optional<std::vector<int64_t>> attribute;
  bool from_input = false;

  Result<std::optional<std::vector<int64_t>>> read(const KernelContext& ctx) const {
    if (!from_input) return attribute;
    if (!ctx.input(1)) return std::optional<std::vector<int64_t>>();
    TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> axes, read_ints(ctx, *ctx.input(1), "axes"));
    return std::optional<std::vector<int64_t>>(std::move(axes));
  }
};

AxesSource axes_source(const KernelInit& init) {
  const Node& n = init.node();
  AxesSource s;
  if (n.opset >= 13)
    s.from_input = true;
  else if (has_attr(n, "axes"))
    s.attribute = attr_ints(n, "axes");
  return s;
}

class SqueezeKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }  // reads only the shape
  explicit SqueezeKernel(AxesSource axes) : axes_(std::move(axes)) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "data"));
    TANDEM_ASSIGN_OR_RETURN(auto given, axes_.read(ctx));
    const auto& in = x->shape();
    std::vector<bool> drop(in.size(), false);
    if (!given || given->empty()) {  // no axes (or an empty list, as onnxruntime reads it): every 1
      for (std::size_t d = 0; d < in.size(); ++d) drop[d] = in[d] == 1;
    } else {
      TANDEM_ASSIGN_OR_RETURN(auto axes,
                              normalize_axes(ctx, *given, static_cast<int64_t>(in.size()), "axes"));
      for (int64_t a : axes) {
        const auto d = static_cast<std::size_t>(a);
        if (in[d] != 1)
          return ctx.error("cannot squeeze axis " + std::to_string(a) + " of " + shape_string(in) +
                           ": its size is " + std::to_string(in[d]) + ", not 1");
        drop[d] = true;
      }
    }
    std::vector<int64_t> out;
    for (std::size_t d = 0; d < in.size(); ++d)
      if (!drop[d]) out.push_back(in[d]);
    ctx.set_output(0, x->reshaped(std::move(out)));
    return Status::ok();
  }

 private:
  AxesSource axes_;
};

Result<KernelPtr> make_squeeze(const KernelInit& init) {
  return KernelPtr(new SqueezeKernel(axes_source(init)));
}

class UnsqueezeKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }  // reads only the shape
  explicit UnsqueezeKernel(AxesSource axes) : axes_(std::move(axes)) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "data"));
    TANDEM_ASSIGN_OR_RETURN(auto given, axes_.read(ctx));
    if (!given) return ctx.error("input 1 (axes) is missing");
    const auto& in = x->shape();
    const auto out_rank = static_cast<int64_t>(in.size() + given->size());
    TANDEM_ASSIGN_OR_RETURN(auto axes, normalize_axes(ctx, *given, out_rank, "axes"));
    std::vector<int64_t> out(static_cast<std::size_t>(out_rank), -1);
    for (int64_t a : axes) out[static_cast<std::size_t>(a)] = 1;
    auto next = in.begin();
    for (int64_t& d : out)
      if (d == -1) d = *next++;
    ctx.set_output(0, x->reshaped(std::move(out)));
    return Status::ok();
  }

 private:
  AxesSource axes_;
};

Result<KernelPtr> make_unsqueeze(const KernelInit& init) {
  AxesSource axes = axes_source(init);
  if (!axes.from_input && !axes.attribute) return init.error("attribute 'axes' is missing");
  return KernelPtr(new UnsqueezeKernel(std::move(axes)));
}

}  // namespace

void register_shape_ops(KernelRegistry& r) {
  r.add("Shape", make_shape);
  r.add("Size", [](const KernelInit&) -> Result<KernelPtr> { return KernelPtr(new SizeKernel()); });
  r.add("Reshape", make_reshape);
  r.add("Flatten", make_flatten);
  r.add("Squeeze", make_squeeze);
  r.add("Unsqueeze", make_unsqueeze);
  for (const char* op : {"Shape", "Size", "Reshape", "Flatten", "Squeeze", "Unsqueeze"}) r.take_strings(op);
}

}  // namespace tandem::cpu
