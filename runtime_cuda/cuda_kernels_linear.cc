// MatMul and Gemm on the GPU: cuBLAS in FP32 (runtime_cuda/kernels/gemm.h).
#include "runtime_cuda/cuda_kernel.h"
#include "runtime_cuda/kernels/gemm.h"

namespace tandem::cuda {
namespace {

class MatMulKernel final : public CudaKernel {
 public:
  explicit MatMulKernel(const CudaDevice& d) : CudaKernel(d) {}

 private:
  Status compute(CudaRun& r) const override {
    TANDEM_RETURN_IF_ERROR(expect_float32(r, 0, "A"));
    TANDEM_RETURN_IF_ERROR(expect_float32(r, 1, "B"));
    const Tensor& a = *r.input(0);
    const Tensor& b = *r.input(1);
    auto shape = matmul_output_shape(a.shape(), b.shape());
    if (!shape) return r.ctx.error(shape.status().message());
    TANDEM_ASSIGN_OR_RETURN(Tensor * y, r.output(0, DType::kFloat32, *shape));
    if (y->numel() == 0) return Status::ok();
    TANDEM_ASSIGN_OR_RETURN(const CublasContext* blas, cublas(r));
    cublasHandle_t h = blas->get();
    Status s = matmul(h, r.stream, a.data<float>(), a.shape(), b.data<float>(), b.shape(), y->data<float>());
    return s ? s : r.ctx.error(s.message());
  }
};

class GemmKernel final : public CudaKernel {
 public:
  GemmKernel(const CudaDevice& d, const Node& n)
      : CudaKernel(d),
        alpha_(n.attribute_float("alpha", 1.0f)),
        beta_(n.attribute_float("beta", 1.0f)),
        trans_a_(n.attribute_int("transA", 0) != 0),
        trans_b_(n.attribute_int("transB", 0) != 0) {}

 private:
  Status compute(CudaRun& r) const override {
    TANDEM_RETURN_IF_ERROR(expect_float32(r, 0, "A"));
    TANDEM_RETURN_IF_ERROR(expect_float32(r, 1, "B"));
    const Tensor& a = *r.input(0);
    const Tensor& b = *r.input(1);
    if (a.rank() != 2 || b.rank() != 2)
      return r.ctx.error("Gemm takes 2-D A and B, got " + a.describe() + " and " + b.describe());
    const int64_t m = trans_a_ ? a.dim(1) : a.dim(0), k = trans_a_ ? a.dim(0) : a.dim(1);
    const int64_t kb = trans_b_ ? b.dim(1) : b.dim(0), n = trans_b_ ? b.dim(0) : b.dim(1);
    if (k != kb) return r.ctx.error("inner dimensions differ: A " + a.describe() + ", B " + b.describe());
    const Tensor* c = r.input(2);
    if (c) {
      if (c->dtype() != DType::kFloat32) return r.ctx.error("C must be float32 on the GPU, got " + c->describe());
      const auto& cs = c->shape();
      const bool ok = cs.size() <= 2 && (cs.size() < 1 || cs.back() == 1 || cs.back() == n) &&
                      (cs.size() < 2 || cs[0] == 1 || cs[0] == m);
      if (!ok) return r.ctx.error("C " + c->describe() + " does not broadcast to [" + std::to_string(m) + "," + std::to_string(n) + "]");
    }
    TANDEM_ASSIGN_OR_RETURN(Tensor * y, r.output(0, DType::kFloat32, {m, n}));
    if (y->numel() == 0) return Status::ok();
    TANDEM_ASSIGN_OR_RETURN(const CublasContext* blas, cublas(r));
    cublasHandle_t h = blas->get();
    Status s = gemm(h, r.stream, trans_a_, trans_b_, m, n, k, alpha_, a.data<float>(), b.data<float>(), beta_,
                    c ? c->data<float>() : nullptr, c ? c->shape() : std::vector<int64_t>{}, y->data<float>());
    return s ? s : r.ctx.error(s.message());
  }

  float alpha_, beta_;
  bool trans_a_, trans_b_;
};

}  // namespace

Result<KernelPtr> make_linear_kernel(const CudaDevice& device, const KernelInit& init) {
  const Node& n = init.node();
  if (n.op_type == "MatMul") return prepared(std::make_unique<MatMulKernel>(device), init);
  return prepared(std::make_unique<GemmKernel>(device, n), init);
}

}  // namespace tandem::cuda
