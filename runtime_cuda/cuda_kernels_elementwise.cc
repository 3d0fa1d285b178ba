// Binary ops with numpy broadcasting and unary float ops on the GPU (runtime_cuda/kernels/elementwise.h).
#include <map>

#include "runtime_cuda/cuda_kernel.h"
#include "runtime_cuda/kernels/elementwise.h"

namespace tandem::cuda {
namespace {

class BinaryKernel final : public CudaKernel {
 public:
  BinaryKernel(const CudaDevice& d, BinaryOp op, bool float_only) : CudaKernel(d), op_(op), float_only_(float_only) {}

 private:
  Status compute(CudaRun& r) const override {
    const Tensor* a = r.input(0);
    const Tensor* b = r.input(1);
    if (!a || !b) return r.ctx.error("takes two inputs");
    if (a->dtype() != b->dtype())
      return r.ctx.error("inputs differ in type: " + a->describe() + " and " + b->describe());
    const DType t = a->dtype();
    if (t != DType::kFloat32 && (float_only_ || (t != DType::kInt32 && t != DType::kInt64)))
      return r.ctx.error(std::string("type ") + std::string(dtype_name(t)) + " is not supported on the GPU");
    auto shape = broadcast_shape(a->shape(), b->shape());
    if (!shape) return r.ctx.error(shape.status().message());
    if (static_cast<int>(shape->size()) > kMaxKernelRank)
      return r.ctx.error("rank " + std::to_string(shape->size()) + " is above the GPU kernels' " +
                         std::to_string(kMaxKernelRank));
    TANDEM_ASSIGN_OR_RETURN(Tensor * y, r.output(0, t, *shape));
    if (y->numel() == 0) return Status::ok();
    Status s = binary(op_, t, a->raw(), a->shape(), b->raw(), b->shape(), y->raw(), r.stream);
    return s ? s : r.ctx.error(s.message());
  }

  BinaryOp op_;
  bool float_only_;
};

class UnaryKernel final : public CudaKernel {
 public:
  UnaryKernel(const CudaDevice& d, UnaryOp op) : CudaKernel(d), op_(op) {}

 private:
  Status compute(CudaRun& r) const override {
    TANDEM_RETURN_IF_ERROR(expect_float32(r, 0, "X"));
    const Tensor& x = *r.input(0);
    TANDEM_ASSIGN_OR_RETURN(Tensor * y, r.output(0, DType::kFloat32, x.shape()));
    if (y->numel() == 0) return Status::ok();
    Status s = unary(op_, x.data<float>(), y->data<float>(), x.numel(), r.stream);
    return s ? s : r.ctx.error(s.message());
  }

  UnaryOp op_;
};

}  // namespace

Result<KernelPtr> make_elementwise_kernel(const CudaDevice& device, const KernelInit& init) {
  static const std::map<std::string, BinaryOp> kBinary = {
      {"Add", BinaryOp::kAdd}, {"Sub", BinaryOp::kSub}, {"Mul", BinaryOp::kMul}, {"Div", BinaryOp::kDiv},
      {"Pow", BinaryOp::kPow}, {"Max", BinaryOp::kMax}, {"Min", BinaryOp::kMin}};
  static const std::map<std::string, UnaryOp> kUnary = {
      {"Neg", UnaryOp::kNeg},   {"Abs", UnaryOp::kAbs},   {"Relu", UnaryOp::kRelu},
      {"Sigmoid", UnaryOp::kSigmoid}, {"Tanh", UnaryOp::kTanh}, {"Exp", UnaryOp::kExp},
      {"Log", UnaryOp::kLog},   {"Sqrt", UnaryOp::kSqrt}, {"Reciprocal", UnaryOp::kReciprocal},
      {"Erf", UnaryOp::kErf}};
  const std::string& op = init.node().op_type;
  if (auto it = kBinary.find(op); it != kBinary.end()) {
    if ((op == "Max" || op == "Min") && init.node().inputs.size() != 2)
      return init.error(op + " on the GPU takes exactly two inputs");
    return prepared(std::make_unique<BinaryKernel>(device, it->second, op == "Pow"), init);
  }
  if (auto it = kUnary.find(op); it != kUnary.end())
    return prepared(std::make_unique<UnaryKernel>(device, it->second), init);
  return init.error("no CUDA kernel for op '" + op + "'");
}

}  // namespace tandem::cuda
