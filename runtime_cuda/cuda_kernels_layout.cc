// Transpose, Slice, Concat, Split, Gather and Expand on the GPU (runtime_cuda/kernels/layout.h and
// elementwise.h's expand). Element types by size, so any fixed-size dtype works.
#include <algorithm>
#include <limits>

#include "runtime_cuda/cuda_kernel.h"
#include "runtime_cuda/kernels/elementwise.h"
#include "runtime_cuda/kernels/layout.h"

namespace tandem::cuda {
namespace {

Status check_fixed_size(const CudaRun& r, const Tensor& t, const char* what) {
  if (t.dtype() == DType::kString || t.dtype() == DType::kUndefined)
    return r.ctx.error(std::string(what) + " has no fixed element size: " + t.describe());
  return Status::ok();
}

class TransposeKernel final : public CudaKernel {
 public:
  TransposeKernel(const CudaDevice& d, const Node& n) : CudaKernel(d) {
    if (const Attribute* a = n.attribute("perm")) perm_ = a->ints;
  }

 private:
  Status compute(CudaRun& r) const override {
    const Tensor* x = r.input(0);
    if (!x) return r.ctx.error("data is missing");
    TANDEM_RETURN_IF_ERROR(check_fixed_size(r, *x, "data"));
    std::vector<int64_t> perm = perm_;
    if (perm.empty())
      for (std::size_t i = x->rank(); i-- > 0;) perm.push_back(static_cast<int64_t>(i));
    if (perm.size() != x->rank()) return r.ctx.error("perm has " + std::to_string(perm.size()) + " entries for " + x->describe());
    std::vector<bool> seen(x->rank(), false);
    std::vector<int64_t> out;
    for (int64_t p : perm) {
      if (p < 0 || p >= static_cast<int64_t>(x->rank()) || seen[static_cast<std::size_t>(p)])
        return r.ctx.error("perm is not a permutation of the input's axes");
      seen[static_cast<std::size_t>(p)] = true;
      out.push_back(x->dim(static_cast<std::size_t>(p)));
    }
    TANDEM_ASSIGN_OR_RETURN(Tensor * y, r.output(0, x->dtype(), out));
    if (y->numel() == 0) return Status::ok();
    Status s = transpose(x->raw(), x->shape(), perm, y->raw(), dtype_size(x->dtype()), r.stream);
    return s ? s : r.ctx.error(s.message());
  }

  std::vector<int64_t> perm_;
};

class SliceKernel final : public CudaKernel {
 public:
  SliceKernel(const CudaDevice& d, std::vector<int64_t> starts, std::vector<int64_t> ends, std::vector<int64_t> axes,
              std::vector<int64_t> steps)
      : CudaKernel(d), starts_(std::move(starts)), ends_(std::move(ends)), axes_(std::move(axes)), steps_(std::move(steps)) {}

 private:
  Status compute(CudaRun& r) const override {
    const Tensor* x = r.input(0);
    if (!x) return r.ctx.error("data is missing");
    TANDEM_RETURN_IF_ERROR(check_fixed_size(r, *x, "data"));
    const auto rank = static_cast<int64_t>(x->rank());
    std::vector<int64_t> starts(x->rank(), 0), steps(x->rank(), 1), out = x->shape();
    std::vector<bool> seen(x->rank(), false);
    for (std::size_t i = 0; i < starts_.size(); ++i) {
      auto a = normalize_axis(axes_.empty() ? static_cast<int64_t>(i) : axes_[i], rank);
      if (!a) return r.ctx.error(a.status().message());
      const auto ax = static_cast<std::size_t>(*a);
      if (seen[ax]) return r.ctx.error("axis " + std::to_string(ax) + " is sliced twice");
      seen[ax] = true;
      const int64_t dim = x->dim(ax), step = steps_.empty() ? 1 : steps_[i];
      if (step == 0) return r.ctx.error("steps must not be 0");
      int64_t start = starts_[i], end = ends_[i];
      if (start < 0) start += dim;
      if (end < 0) end += dim;
      if (step > 0) {
        start = std::clamp<int64_t>(start, 0, dim);
        end = std::clamp<int64_t>(end, 0, dim);
        out[ax] = end > start ? (end - start + step - 1) / step : 0;
      } else if (dim == 0) {
        out[ax] = 0;  // nothing to take backwards (clamping into [0, -1] below would be undefined)
      } else {
        start = std::clamp<int64_t>(start, 0, dim - 1);
        end = std::clamp<int64_t>(end, -1, dim - 1);
        out[ax] = start > end ? (start - end - step - 1) / -step : 0;
      }
      starts[ax] = dim > 0 ? start : 0;
      steps[ax] = step;
    }
    TANDEM_ASSIGN_OR_RETURN(Tensor * y, r.output(0, x->dtype(), out));
    if (y->numel() == 0) return Status::ok();
    Status s = slice(x->raw(), x->shape(), starts, steps, out, y->raw(), dtype_size(x->dtype()), r.stream);
    return s ? s : r.ctx.error(s.message());
  }

  std::vector<int64_t> starts_, ends_, axes_, steps_;
};

class ConcatKernel final : public CudaKernel {
 public:
  ConcatKernel(const CudaDevice& d, const Node& n) : CudaKernel(d), axis_(n.attribute_int("axis", 0)) {}

 private:
  Status compute(CudaRun& r) const override {
    if (r.in.empty() || !r.input(0)) return r.ctx.error("takes at least one input");
    const Tensor& first = *r.input(0);
    TANDEM_RETURN_IF_ERROR(check_fixed_size(r, first, "input 0"));
    auto axis = normalize_axis(axis_, static_cast<int64_t>(first.rank()));
    if (!axis) return r.ctx.error(axis.status().message());
    const auto ax = static_cast<std::size_t>(*axis);
    std::vector<const void*> ptrs;
    std::vector<std::vector<int64_t>> shapes;
    std::vector<int64_t> out = first.shape();
    out[ax] = 0;
    for (std::size_t k = 0; k < r.in.size(); ++k) {
      const Tensor* t = r.input(k);
      if (!t) return r.ctx.error("input " + std::to_string(k) + " is missing");
      if (t->dtype() != first.dtype() || t->rank() != first.rank())
        return r.ctx.error("input " + std::to_string(k) + " " + t->describe() + " does not match input 0 " + first.describe());
      for (std::size_t d = 0; d < t->rank(); ++d)
        if (d != ax && t->dim(d) != first.dim(d))
          return r.ctx.error("input " + std::to_string(k) + " " + t->describe() + " differs from input 0 " +
                             first.describe() + " outside axis " + std::to_string(ax));
      out[ax] += t->dim(ax);
      ptrs.push_back(t->raw());
      shapes.push_back(t->shape());
    }
    TANDEM_ASSIGN_OR_RETURN(Tensor * y, r.output(0, first.dtype(), out));
    if (y->numel() == 0) return Status::ok();
    Status s = concat(ptrs, shapes, static_cast<int64_t>(ax), y->raw(), dtype_size(first.dtype()), r.stream);
    return s ? s : r.ctx.error(s.message());
  }

  int64_t axis_;
};

class SplitKernel final : public CudaKernel {
 public:
  SplitKernel(const CudaDevice& d, const Node& n, std::vector<int64_t> sizes)
      : CudaKernel(d), axis_(n.attribute_int("axis", 0)), sizes_(std::move(sizes)) {}

 private:
  Status compute(CudaRun& r) const override {
    const Tensor* x = r.input(0);
    if (!x) return r.ctx.error("input is missing");
    TANDEM_RETURN_IF_ERROR(check_fixed_size(r, *x, "input"));
    auto axis = normalize_axis(axis_, static_cast<int64_t>(x->rank()));
    if (!axis) return r.ctx.error(axis.status().message());
    const auto ax = static_cast<std::size_t>(*axis);
    const int64_t dim = x->dim(ax);
    const auto parts = static_cast<int64_t>(r.ctx.num_outputs());
    std::vector<int64_t> sizes = sizes_;
    if (sizes.empty()) {
      // Equal parts, the last one smaller when the axis does not divide (opset 18's rule).
      const int64_t each = parts > 0 ? (dim + parts - 1) / parts : 0;
      for (int64_t k = 0, left = dim; k < parts; ++k, left -= each) sizes.push_back(std::clamp<int64_t>(left, 0, each));
    }
    if (static_cast<int64_t>(sizes.size()) != parts)
      return r.ctx.error("split has " + std::to_string(sizes.size()) + " sizes for " + std::to_string(parts) + " outputs");
    int64_t sum = 0;
    for (int64_t s : sizes) sum += s;
    if (sum != dim) return r.ctx.error("split sizes add up to " + std::to_string(sum) + ", not the axis' " + std::to_string(dim));
    std::vector<void*> outs;
    for (std::size_t k = 0; k < sizes.size(); ++k) {
      std::vector<int64_t> shape = x->shape();
      shape[ax] = sizes[k];
      TANDEM_ASSIGN_OR_RETURN(Tensor * y, r.output(k, x->dtype(), shape));
      outs.push_back(y->raw());
    }
    if (x->numel() == 0) return Status::ok();
    Status s = split(x->raw(), x->shape(), static_cast<int64_t>(ax), sizes, outs, dtype_size(x->dtype()), r.stream);
    return s ? s : r.ctx.error(s.message());
  }

  int64_t axis_;
  std::vector<int64_t> sizes_;
};

class GatherKernel final : public CudaKernel {
 public:
  GatherKernel(const CudaDevice& d, const Node& n) : CudaKernel(d), axis_(n.attribute_int("axis", 0)) {}

 private:
  Status compute(CudaRun& r) const override {
    const Tensor* data = r.input(0);
    const Tensor* idx = r.input(1);
    if (!data || !idx) return r.ctx.error("takes data and indices");
    TANDEM_RETURN_IF_ERROR(check_fixed_size(r, *data, "data"));
    if (idx->dtype() != DType::kInt64) return r.ctx.error("indices must be int64 on the GPU, got " + idx->describe());
    auto axis = normalize_axis(axis_, static_cast<int64_t>(data->rank()));
    if (!axis) return r.ctx.error(axis.status().message());
    const auto ax = static_cast<std::size_t>(*axis);
    std::vector<int64_t> out(data->shape().begin(), data->shape().begin() + static_cast<std::ptrdiff_t>(ax));
    out.insert(out.end(), idx->shape().begin(), idx->shape().end());
    out.insert(out.end(), data->shape().begin() + static_cast<std::ptrdiff_t>(ax) + 1, data->shape().end());
    TANDEM_ASSIGN_OR_RETURN(Tensor * y, r.output(0, data->dtype(), out));
    if (y->numel() == 0) return Status::ok();
    // Out-of-range indices write zeros rather than fail: checking them would wait for the GPU.
    Status s = gather(data->raw(), data->shape(), static_cast<int64_t>(ax), idx->data<int64_t>(), idx->numel(),
                      y->raw(), dtype_size(data->dtype()), nullptr, r.stream);
    return s ? s : r.ctx.error(s.message());
  }

  int64_t axis_;
};

class ExpandKernel final : public CudaKernel {
 public:
  ExpandKernel(const CudaDevice& d, std::vector<int64_t> shape) : CudaKernel(d), shape_(std::move(shape)) {}

 private:
  Status compute(CudaRun& r) const override {
    const Tensor* x = r.input(0);
    if (!x) return r.ctx.error("input is missing");
    TANDEM_RETURN_IF_ERROR(check_fixed_size(r, *x, "input"));
    auto out = broadcast_shape(x->shape(), shape_);
    if (!out) return r.ctx.error(out.status().message());
    if (*out == x->shape()) {  // nothing to repeat: share the storage, as the CPU kernel does (and the
      r.ctx.set_output(0, *x);  // profile, measured on the CPU, says: a view, outside the memory plan)
      return Status::ok();
    }
    TANDEM_ASSIGN_OR_RETURN(Tensor * y, r.output(0, x->dtype(), *out));
    if (y->numel() == 0) return Status::ok();
    Status s = expand(x->raw(), x->shape(), y->raw(), *out, x->dtype(), r.stream);
    return s ? s : r.ctx.error(s.message());
  }

  std::vector<int64_t> shape_;
};

// A constant input, or empty when the input is omitted.
Result<std::vector<int64_t>> optional_ints(const KernelInit& init, std::size_t i) {
  const Node& n = init.node();
  if (i >= n.inputs.size() || n.inputs[i] == kNoValue) return std::vector<int64_t>{};
  return constant_ints(init, i);
}

}  // namespace

Result<KernelPtr> make_layout_kernel(const CudaDevice& device, const KernelInit& init) {
  const Node& n = init.node();
  const std::string& op = n.op_type;
  if (op == "Transpose") return prepared(std::make_unique<TransposeKernel>(device, n), init);
  if (op == "Concat") return prepared(std::make_unique<ConcatKernel>(device, n), init);
  if (op == "Gather") return prepared(std::make_unique<GatherKernel>(device, n), init);
  if (op == "Expand") {
    TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> shape, constant_ints(init, 1));
    return prepared(std::make_unique<ExpandKernel>(device, std::move(shape)), init);
  }
  if (op == "Split") {
    std::vector<int64_t> sizes;
    if (n.inputs.size() > 1 && n.inputs[1] != kNoValue) {
      TANDEM_ASSIGN_OR_RETURN(sizes, constant_ints(init, 1));
    } else if (const Attribute* a = n.attribute("split")) {
      sizes = a->ints;
    }
    return prepared(std::make_unique<SplitKernel>(device, n, std::move(sizes)), init);
  }
  if (op == "Slice") {
    std::vector<int64_t> starts, ends, axes, steps;
    if (n.opset < 10) {  // attributes before opset 10
      if (const Attribute* a = n.attribute("starts")) starts = a->ints;
      if (const Attribute* a = n.attribute("ends")) ends = a->ints;
      if (const Attribute* a = n.attribute("axes")) axes = a->ints;
    } else {
      TANDEM_ASSIGN_OR_RETURN(starts, constant_ints(init, 1));
      TANDEM_ASSIGN_OR_RETURN(ends, constant_ints(init, 2));
      TANDEM_ASSIGN_OR_RETURN(axes, optional_ints(init, 3));
      TANDEM_ASSIGN_OR_RETURN(steps, optional_ints(init, 4));
    }
    if (starts.size() != ends.size() || (!axes.empty() && axes.size() != starts.size()) ||
        (!steps.empty() && steps.size() != starts.size()))
      return init.error("starts, ends, axes and steps differ in length");
    return prepared(std::make_unique<SliceKernel>(device, std::move(starts), std::move(ends), std::move(axes),
                                                  std::move(steps)),
                    init);
  }
  return init.error("no CUDA kernel for op '" + op + "'");
}

}  // namespace tandem::cuda
