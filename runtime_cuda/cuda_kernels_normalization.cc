// Softmax/LogSoftmax, LayerNormalization and the Reduce ops on the GPU (runtime_cuda/kernels/normalization.h).
#include <algorithm>
#include <map>

#include "runtime_cuda/cuda_kernel.h"
#include "runtime_cuda/kernels/normalization.h"

namespace tandem::cuda {
namespace {

int64_t product(const std::vector<int64_t>& s, std::size_t from, std::size_t to) {
  int64_t p = 1;
  for (std::size_t i = from; i < to; ++i) p *= s[i];
  return p;
}

class SoftmaxKernel final : public CudaKernel {
 public:
  SoftmaxKernel(const CudaDevice& d, const Node& n)
      : CudaKernel(d), log_(n.op_type == "LogSoftmax"), legacy_(n.opset < 13),
        axis_(n.attribute_int("axis", n.opset < 13 ? 1 : -1)) {}

 private:
  Status compute(CudaRun& r) const override {
    TANDEM_RETURN_IF_ERROR(expect_float32(r, 0, "input"));
    const Tensor& x = *r.input(0);
    const auto rank = static_cast<int64_t>(x.rank());
    auto axis = normalize_axis(axis_, std::max<int64_t>(rank, 1));
    if (!axis) return r.ctx.error(axis.status().message());
    const auto a = static_cast<std::size_t>(*axis);
    const auto& s = x.shape();
    // Before opset 13 the input is coerced to 2-D at `axis`; from 13 on the softmax runs along `axis`.
    const int64_t outer = product(s, 0, std::min(a, s.size()));
    const int64_t n = legacy_ ? product(s, a, s.size()) : (s.empty() ? 1 : s[a]);
    const int64_t inner = legacy_ ? 1 : product(s, std::min(a + 1, s.size()), s.size());
    TANDEM_ASSIGN_OR_RETURN(Tensor * y, r.output(0, DType::kFloat32, s));
    if (y->numel() == 0) return Status::ok();
    Status st = softmax(x.data<float>(), y->data<float>(), outer, n, inner, log_, r.stream);
    return st ? st : r.ctx.error(st.message());
  }

  bool log_, legacy_;
  int64_t axis_;
};

class LayerNormKernel final : public CudaKernel {
 public:
  LayerNormKernel(const CudaDevice& d, const Node& n)
      : CudaKernel(d), axis_(n.attribute_int("axis", -1)),
        epsilon_(n.attribute_float("epsilon", 1e-5f)) {}

 private:
  Status compute(CudaRun& r) const override {
    TANDEM_RETURN_IF_ERROR(expect_float32(r, 0, "X"));
    TANDEM_RETURN_IF_ERROR(expect_float32(r, 1, "Scale"));
    const Tensor& x = *r.input(0);
    const Tensor& scale = *r.input(1);
    const Tensor* bias = r.input(2);
    if (bias && bias->dtype() != DType::kFloat32) return r.ctx.error("B must be float32, got " + bias->describe());
    auto axis = normalize_axis(axis_, static_cast<int64_t>(x.rank()));
    if (!axis) return r.ctx.error(axis.status().message());
    const auto a = static_cast<std::size_t>(*axis);
    const int64_t rows = product(x.shape(), 0, a), cols = product(x.shape(), a, x.rank());
    // The GPU kernel reads scale and bias as one row of `cols` (no broadcasting within the row).
    if (scale.numel() != cols || (bias && bias->numel() != cols))
      return r.ctx.error("Scale " + scale.describe() + (bias ? " and B " + bias->describe() : std::string()) +
                         " must have the normalised shape's " + std::to_string(cols) + " elements on the GPU");
    TANDEM_ASSIGN_OR_RETURN(Tensor * y, r.output(0, DType::kFloat32, x.shape()));
    std::vector<int64_t> stat_shape(x.shape().begin(), x.shape().begin() + static_cast<std::ptrdiff_t>(a));
    stat_shape.resize(x.rank(), 1);
    float* mean = nullptr;
    float* inv_std = nullptr;
    if (r.ctx.wants_output(1)) {
      TANDEM_ASSIGN_OR_RETURN(Tensor * t, r.output(1, DType::kFloat32, stat_shape));
      mean = t->data<float>();
    }
    if (r.ctx.wants_output(2)) {
      TANDEM_ASSIGN_OR_RETURN(Tensor * t, r.output(2, DType::kFloat32, stat_shape));
      inv_std = t->data<float>();
    }
    if (rows == 0 || cols == 0) return Status::ok();
    Status st = layer_norm(x.data<float>(), scale.data<float>(), bias ? bias->data<float>() : nullptr,
                           y->data<float>(), mean, inv_std, rows, cols, epsilon_, r.stream);
    return st ? st : r.ctx.error(st.message());
  }

  int64_t axis_;
  float epsilon_;
};

class ReduceKernel final : public CudaKernel {
 public:
  ReduceKernel(const CudaDevice& d, const Node& n, ReduceOp op, std::vector<int64_t> axes, bool has_axes)
      : CudaKernel(d), op_(op), axes_(std::move(axes)), has_axes_(has_axes),
        keepdims_(n.attribute_int("keepdims", 1) != 0), noop_(n.attribute_int("noop_with_empty_axes", 0) != 0) {}

 private:
  Status compute(CudaRun& r) const override {
    TANDEM_RETURN_IF_ERROR(expect_float32(r, 0, "data"));
    const Tensor& x = *r.input(0);
    const auto rank = static_cast<int64_t>(x.rank());
    if ((!has_axes_ || axes_.empty()) && noop_) {
      r.ctx.set_output(0, x);  // tensors are immutable: the input itself is the result
      return Status::ok();
    }
    std::vector<bool> reduced(x.rank(), !has_axes_ || axes_.empty());
    for (int64_t ax : axes_) {
      auto a = normalize_axis(ax, rank);
      if (!a) return r.ctx.error(a.status().message());
      reduced[static_cast<std::size_t>(*a)] = true;
    }
    // The kernel reduces one run of adjacent axes; other axes of size 1 may sit anywhere in it.
    std::size_t first = x.rank(), last = 0;
    for (std::size_t i = 0; i < x.rank(); ++i)
      if (reduced[i] && x.dim(i) != 1) first = std::min(first, i), last = std::max(last, i);
    for (std::size_t i = first; i <= last && first < x.rank(); ++i)
      if (!reduced[i] && x.dim(i) != 1)
        return r.ctx.error("reducing non-adjacent axes runs on the CPU only (axis " + std::to_string(i) + " is kept)");
    std::vector<int64_t> out;
    for (std::size_t i = 0; i < x.rank(); ++i) {
      if (!reduced[i]) out.push_back(x.dim(i));
      else if (keepdims_) out.push_back(1);
    }
    TANDEM_ASSIGN_OR_RETURN(Tensor * y, r.output(0, DType::kFloat32, out));
    if (y->numel() == 0) return Status::ok();
    int64_t outer = 1, n = 1, inner = 1;
    if (first < x.rank()) {
      outer = product(x.shape(), 0, first);
      n = product(x.shape(), first, last + 1);
      inner = product(x.shape(), last + 1, x.rank());
    } else {
      inner = x.numel();  // every reduced axis has size 1: a copy through the kernel with n = 1
    }
    Status st = reduce(op_, x.data<float>(), y->data<float>(), outer, n, inner, r.stream);
    return st ? st : r.ctx.error(st.message());
  }

  ReduceOp op_;
  std::vector<int64_t> axes_;
  bool has_axes_, keepdims_, noop_;
};

}  // namespace

Result<KernelPtr> make_normalization_kernel(const CudaDevice& device, const KernelInit& init) {
  const Node& n = init.node();
  if (n.op_type == "Softmax" || n.op_type == "LogSoftmax") return prepared(std::make_unique<SoftmaxKernel>(device, n), init);
  if (n.op_type == "LayerNormalization") return prepared(std::make_unique<LayerNormKernel>(device, n), init);
  static const std::map<std::string, ReduceOp> kReduce = {
      {"ReduceSum", ReduceOp::kSum},   {"ReduceMean", ReduceOp::kMean},           {"ReduceMax", ReduceOp::kMax},
      {"ReduceMin", ReduceOp::kMin},   {"ReduceProd", ReduceOp::kProd},           {"ReduceSumSquare", ReduceOp::kSumSquare},
      {"ReduceL1", ReduceOp::kL1},     {"ReduceL2", ReduceOp::kL2},               {"ReduceLogSumExp", ReduceOp::kLogSumExp}};
  auto it = kReduce.find(n.op_type);
  if (it == kReduce.end()) return init.error("no CUDA kernel for op '" + n.op_type + "'");
  // Axes: an attribute before the op moved them to input 1 (ReduceSum at opset 13, the others at 18).
  std::vector<int64_t> axes;
  bool has_axes = false;
  if (n.inputs.size() > 1 && n.inputs[1] != kNoValue) {
    TANDEM_ASSIGN_OR_RETURN(axes, constant_ints(init, 1));
    has_axes = true;
  } else if (const Attribute* a = n.attribute("axes")) {
    axes = a->ints;
    has_axes = true;
  }
  return prepared(std::make_unique<ReduceKernel>(device, n, it->second, std::move(axes), has_axes), init);
}

}  // namespace tandem::cuda
