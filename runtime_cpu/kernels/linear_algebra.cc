// MatMul and Gemm (float32, through oneDNN's sgemm); Conv, ConvTranspose and pooling live in conv.cc,
// conv_transpose.cc and pool.cc.
#include <string>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/broadcast.h"
#include "runtime_cpu/kernels/gemm.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/sub_families.h"

namespace tandem::cpu {
namespace {

Status check_float(const KernelContext& ctx, std::size_t i, const char* name) {
  const Tensor* t = ctx.input(i);
  if (!t) return ctx.error(std::string("input ") + std::to_string(i) + " (" + name + ") is missing");
  if (t->dtype() != DType::kFloat32)
    return ctx.error(std::string("input ") + std::to_string(i) + " (" + name + ") must be float32, got " +
                     t->describe());
  return Status::ok();
}

// numpy matmul: 1-D operands become a row (A) or a column (B) and lose that dimension again in the result;
// the leading (batch) dimensions broadcast.
class MatMulKernel final : public Kernel {
 public:
  Status run(KernelContext& ctx) const override {
    TANDEM_RETURN_IF_ERROR(check_float(ctx, 0, "A"));
    TANDEM_RETURN_IF_ERROR(check_float(ctx, 1, "B"));
    const Tensor& a = *ctx.input(0);
    const Tensor& b = *ctx.input(1);
    if (a.rank() == 0 || b.rank() == 0)
      return ctx.error("A and B must have rank 1 or more, got " + a.describe() + " and " + b.describe());
    std::vector<int64_t> as = a.shape(), bs = b.shape();
    const bool a_vector = as.size() == 1, b_vector = bs.size() == 1;
    if (a_vector) as.insert(as.begin(), 1);
    if (b_vector) bs.push_back(1);
    const int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
    if (bs[bs.size() - 2] != k)
      return ctx.error("inner dimensions differ: A " + shape_string(a.shape()) + ", B " +
                       shape_string(b.shape()));
    const std::vector<int64_t> batch_a(as.begin(), as.end() - 2), batch_b(bs.begin(), bs.end() - 2);
    auto batch = broadcast_shapes({batch_a, batch_b});
    if (!batch) return ctx.error("batch dimensions: " + batch.status().message());
    std::vector<int64_t> out_shape = *batch;
    if (!a_vector) out_shape.push_back(m);
    if (!b_vector) out_shape.push_back(n);
    Tensor& y = ctx.allocate_output(0, DType::kFloat32, out_shape);
    const float* pa = a.data<float>();
    const float* pb = b.data<float>();
    float* py = y.data<float>();
    const int64_t batches = shape_numel(*batch);
    if (shape_numel(batch_b) == 1) {
      // One B for every batch (the usual weight matrix): the batches of A stack into one tall product.
      if (Status s = sgemm(false, false, batches * m, n, k, 1.0f, pa, k, pb, n, 0.0f, py, n); !s)
        return ctx.error(s.message());
      return Status::ok();
    }
    const std::vector<int64_t> stride_a = broadcast_strides(batch_a, *batch);
    const std::vector<int64_t> stride_b = broadcast_strides(batch_b, *batch);
    for (int64_t i = 0; i < batches; ++i) {
      int64_t ia = 0, ib = 0;  // matrix index into A and B for output batch i
      for (int64_t d = static_cast<int64_t>(batch->size()) - 1, rest = i; d >= 0; --d) {
        const int64_t coord = rest % (*batch)[d];
        rest /= (*batch)[d];
        ia += coord * stride_a[d];
        ib += coord * stride_b[d];
      }
      if (Status s = sgemm(false, false, m, n, k, 1.0f, pa + ia * m * k, k, pb + ib * k * n, n, 0.0f,
                           py + i * m * n, n);
          !s)
        return ctx.error(s.message());
    }
    return Status::ok();
  }
};

Result<KernelPtr> make_matmul(const KernelInit&) {
  prepare_sgemm();
  return KernelPtr(new MatMulKernel());
}

// Y = alpha * op(A) * op(B) + beta * C, C broadcasting unidirectionally to [M, N].
class GemmKernel final : public Kernel {
 public:
  GemmKernel(float alpha, float beta, bool trans_a, bool trans_b)
      : alpha_(alpha), beta_(beta), trans_a_(trans_a), trans_b_(trans_b) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_RETURN_IF_ERROR(check_float(ctx, 0, "A"));
    TANDEM_RETURN_IF_ERROR(check_float(ctx, 1, "B"));
    const Tensor& a = *ctx.input(0);
    const Tensor& b = *ctx.input(1);
    if (a.rank() != 2 || b.rank() != 2)
      return ctx.error("A and B must be 2-D, got " + a.describe() + " and " + b.describe());
    const int64_t m = trans_a_ ? a.dim(1) : a.dim(0), k = trans_a_ ? a.dim(0) : a.dim(1);
    const int64_t kb = trans_b_ ? b.dim(1) : b.dim(0), n = trans_b_ ? b.dim(0) : b.dim(1);
    if (k != kb)
      return ctx.error("inner dimensions differ: A " + shape_string(a.shape()) +
                       (trans_a_ ? " (transposed)" : "") + ", B " + shape_string(b.shape()) +
                       (trans_b_ ? " (transposed)" : ""));
    const Tensor* c = ctx.input(2);
    Tensor& y = ctx.allocate_output(0, DType::kFloat32, {m, n});
    float* py = y.data<float>();
    float beta = 0.0f;
    if (c) {
      TANDEM_RETURN_IF_ERROR(check_float(ctx, 2, "C"));
      const auto& cs = c->shape();
      const int64_t c_rows = cs.size() == 2 ? cs[0] : 1, c_cols = cs.empty() ? 1 : cs.back();
      if (cs.size() > 2 || (c_rows != 1 && c_rows != m) || (c_cols != 1 && c_cols != n))
        return ctx.error("C " + c->describe() + " does not broadcast to [" + std::to_string(m) + "," +
                         std::to_string(n) + "]");
    }
    if (c && beta_ != 0.0f) {
      // Strides of C seen as [M, N]: 0 along broadcast dimensions.
      const int64_t c_rows = c->rank() == 2 ? c->dim(0) : 1, c_cols = c->rank() == 0 ? 1 : c->shape().back();
      const int64_t row_stride = c_rows == 1 ? 0 : c_cols, col_stride = c_cols == 1 ? 0 : 1;
      const float* pc = c->data<float>();
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) py[i * n + j] = beta_ * pc[i * row_stride + j * col_stride];
      beta = 1.0f;
    }
    if (Status s = sgemm(trans_a_, trans_b_, m, n, k, alpha_, a.data<float>(), a.dim(1), b.data<float>(),
                         b.dim(1), beta, py, n);
        !s)
      return ctx.error(s.message());
    return Status::ok();
  }

 private:
  float alpha_, beta_;
  bool trans_a_, trans_b_;
};

Result<KernelPtr> make_gemm(const KernelInit& init) {
  prepare_sgemm();
  const Node& n = init.node();
  const int64_t trans_a = attr_int(n, "transA", 0), trans_b = attr_int(n, "transB", 0);
  if ((trans_a != 0 && trans_a != 1) || (trans_b != 0 && trans_b != 1))
    return init.error("transA and transB must be 0 or 1, got " + std::to_string(trans_a) + " and " +
                      std::to_string(trans_b));
  if (has_attr(n, "broadcast")) return init.error("the pre-opset-7 'broadcast' attribute is not supported");
  return KernelPtr(
      new GemmKernel(attr_float(n, "alpha", 1.0f), attr_float(n, "beta", 1.0f), trans_a == 1, trans_b == 1));
}

}  // namespace

void register_linear_algebra_kernels(KernelRegistry& r) {
  r.add("MatMul", make_matmul);
  r.add("Gemm", make_gemm);
  register_conv_kernels(r);
  register_conv_transpose_kernels(r);
  register_pool_kernels(r);
  register_einsum_kernels(r);
}

}  // namespace tandem::cpu
