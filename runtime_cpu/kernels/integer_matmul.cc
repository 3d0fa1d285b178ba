// MatMulInteger and QLinearMatMul (opset 10): numpy matmul of 8-bit matrices (1-D operands promoted and
// dropped again, batch dimensions broadcast) after subtracting zero points, exactly in integers
// (int_gemm). MatMulInteger returns the int32 products; QLinearMatMul requantizes them to 8 bits with the
// scales. Zero points go per tensor, per row of A (and of Y) or per column of B. B shifted by its zero
// points is made when the kernel is, when B and its zero point are initializers (a layer's weights), and
// on every run otherwise.
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime_cpu/kernels/broadcast.h"
#include "runtime_cpu/kernels/elementwise_kernels.h"
#include "runtime_cpu/kernels/int_gemm.h"
#include "runtime_cpu/kernels/quantization.h"
#include "runtime_cpu/kernels/register.h"

namespace tandem::cpu {
namespace {

// Where A, B and Y sit: matrices [m x k] and [k x n] after promoting 1-D operands, and the batches.
struct MatmulShape {
  int64_t m = 0, k = 0, n = 0;
  std::vector<int64_t> batch_a, batch_b, batch, out_shape;
};

Result<MatmulShape> matmul_shape(const KernelContext& ctx, const Tensor& a, const Tensor& b) {
  if (a.rank() == 0 || b.rank() == 0)
    return ctx.error("A and B must have rank 1 or more, got " + a.describe() + " and " + b.describe());
  std::vector<int64_t> as = a.shape(), bs = b.shape();
  if (a.rank() == 1) as.insert(as.begin(), 1);
  if (b.rank() == 1) bs.push_back(1);
  MatmulShape s;
  s.m = as[as.size() - 2], s.k = as.back(), s.n = bs.back();
  if (bs[bs.size() - 2] != s.k)
    return ctx.error("inner dimensions differ: A " + a.describe() + ", B " + b.describe());
  s.batch_a.assign(as.begin(), as.end() - 2);
  s.batch_b.assign(bs.begin(), bs.end() - 2);
  auto batch = broadcast_shapes({s.batch_a, s.batch_b});
  if (!batch) return ctx.error("batch dimensions of A " + a.describe() + " and B " + b.describe() + ": " +
                               batch.status().message());
  s.batch = *batch;
  s.out_shape = s.batch;
  if (a.rank() > 1) s.out_shape.push_back(s.m);
  if (b.rank() > 1) s.out_shape.push_back(s.n);
  return s;
}

// The zero point of each element of a matrix operand: per tensor, per row (A) or column (B) of every
// matrix, or MatMulInteger's N-D form, a tensor [batch..., m, 1] (A) or [batch..., 1, n] (B) whose batch
// dimensions are the operand's or 1, so each matrix of the operand has its own line of zero points.
struct LineZeroPoints {
  std::vector<int32_t> values;
  int64_t lines = 1;                   // zero points per matrix: 1, or m (rows of A) or n (columns of B)
  std::vector<int64_t> matrix_offset;  // N-D form: the first zero point of each operand matrix
  int32_t at(int64_t matrix, int64_t line) const {
    const int64_t base = matrix_offset.empty() ? 0 : matrix_offset[static_cast<std::size_t>(matrix)];
    return values[static_cast<std::size_t>(lines == 1 ? base : base + line)];
  }
};

// The operand shifted by its zero points, as int16 (one copy; each matrix is then read in place).
std::vector<int16_t> shifted(const Tensor& t, const LineZeroPoints& zp, int64_t rows, int64_t cols, bool per_row) {
  std::vector<int16_t> out(static_cast<std::size_t>(t.numel()));
  const int64_t size = rows * cols;
  shift_to_int16(
      t, [&](int64_t i) { return zp.at(size ? i / size : 0, per_row ? i / cols % rows : i % cols); }, out.data());
  return out;
}

// MatMulInteger's zero point of A (is_a) or B, checked against the operand's type and shape; errors leave
// naming the node to the caller. For B only s.n and s.batch_b are read.
Result<LineZeroPoints> integer_zero_points(const Tensor& t, const Tensor* zp, bool is_a, const MatmulShape& s) {
  LineZeroPoints z;
  const std::string name = is_a ? "a_zero_point" : "b_zero_point", operand = is_a ? "A " : "B ";
  if (!zp) {
    z.values = {0};
    return z;
  }
  if (zp->dtype() != t.dtype())
    return Status::error(name + " " + zp->describe() + " must have the type of " + operand + t.describe());
  z.values = int_values(*zp);
  const int64_t lines = is_a ? s.m : s.n;
  if (zp->numel() == 1 && zp->rank() <= 1) return z;
  if (zp->rank() == 1 && zp->dim(0) == lines) {
    z.lines = lines;
    return z;
  }
  // The N-D form: the operand's rank, [..., m, 1] or [..., 1, n], batch dimensions the operand's or 1.
  const std::vector<int64_t>& batch = is_a ? s.batch_a : s.batch_b;
  bool ok = t.rank() >= 2 && zp->rank() == t.rank();
  for (std::size_t d = 0; ok && d < batch.size(); ++d) ok = zp->dim(d) == 1 || zp->dim(d) == batch[d];
  ok = ok && zp->dim(t.rank() - 2) == (is_a ? s.m : 1) && zp->dim(t.rank() - 1) == (is_a ? 1 : s.n);
  if (!ok)
    return Status::error(name + " must be a scalar, a 1-D tensor of " + std::to_string(lines) + " (the " +
                         (is_a ? "rows of A " : "columns of B ") + t.describe() + ") or a tensor of " + operand +
                         "'s rank with one value per " + (is_a ? "row" : "column") + " of each matrix, got " +
                         zp->describe());
  z.lines = lines;
  const std::vector<int64_t> zp_batch(zp->shape().begin(), zp->shape().end() - 2);
  const std::vector<int64_t> stride = broadcast_strides(zp_batch, batch);
  const int64_t matrices = shape_numel(batch);
  z.matrix_offset.resize(static_cast<std::size_t>(matrices));
  for (int64_t i = 0; i < matrices; ++i) {
    int64_t off = 0;
    for (int64_t d = static_cast<int64_t>(batch.size()) - 1, rest = i; d >= 0; --d) {
      off += rest % batch[static_cast<std::size_t>(d)] * stride[static_cast<std::size_t>(d)];
      rest /= batch[static_cast<std::size_t>(d)];
    }
    z.matrix_offset[static_cast<std::size_t>(i)] = off * lines;
  }
  return z;
}

// Runs the product of every output matrix into an int64 scratch matrix and hands it to
// store(output matrix index, accumulators [m x n]). `scratch_bytes`: what the caller shifted for this run.
template <typename Store>
void batched_product(const MatmulShape& s, const std::vector<int16_t>& a, const std::vector<int16_t>& b,
                     std::size_t scratch_bytes, KernelContext& ctx, Store&& store) {
  std::vector<int64_t> acc(static_cast<std::size_t>(s.m * s.n));
  ctx.note_workspace(scratch_bytes + acc.size() * sizeof(int64_t));
  const std::vector<int64_t> stride_a = broadcast_strides(s.batch_a, s.batch);
  const std::vector<int64_t> stride_b = broadcast_strides(s.batch_b, s.batch);
  const int64_t batches = shape_numel(s.batch);
  for (int64_t i = 0; i < batches; ++i) {
    int64_t ia = 0, ib = 0;  // matrix index into A and B for output batch i
    for (int64_t d = static_cast<int64_t>(s.batch.size()) - 1, rest = i; d >= 0; --d) {
      const auto du = static_cast<std::size_t>(d);
      const int64_t coord = rest % s.batch[du];
      rest /= s.batch[du];
      ia += coord * stride_a[du];
      ib += coord * stride_b[du];
    }
    int_gemm(s.m, s.n, s.k, a.data() + ia * s.m * s.k, s.k, b.data() + ib * s.k * s.n, s.n, acc.data(), s.n);
    store(i, acc);
  }
}

Status check_8bit(const KernelContext& ctx, const Tensor& t, const char* name) {
  if (!is_8bit(t.dtype())) return ctx.error(std::string(name) + " must be uint8 or int8, got " + t.describe());
  return Status::ok();
}

// B's matrices alone: k, n and its batch dimensions (what B's zero points are checked against).
MatmulShape b_alone(const Tensor& b) {
  std::vector<int64_t> bs = b.shape();
  if (b.rank() == 1) bs.push_back(1);
  MatmulShape s;
  s.k = bs[bs.size() - 2], s.n = bs.back();
  s.batch_b.assign(bs.begin(), bs.end() - 2);
  return s;
}

// B shifted by its zero points when the kernel is made: set when B and its zero point (or its absence) are
// initializers and check out; otherwise B is shifted on every run, whose checks then report any problem.
struct PreparedB {
  std::vector<int16_t> b16;
  bool ready = false;
  int64_t bytes() const { return ready ? static_cast<int64_t>(b16.size() * sizeof(int16_t)) : -1; }
};

// The constant behind input i as a tensor (sharing its bytes), or undefined when i is computed. `present`:
// whether the node gives input i at all.
Tensor constant_tensor(const KernelInit& init, std::size_t i, bool& present) {
  const Node& n = init.node();
  present = i < n.inputs.size() && n.inputs[i] != kNoValue;
  const TensorDataPtr c = init.constant_input(i);
  return c ? Tensor::from_constant(c) : Tensor();
}

// --- MatMulInteger --------------------------------------------------------------------------------------

class MatMulIntegerKernel final : public Kernel {
 public:
  explicit MatMulIntegerKernel(PreparedB prepared) : prepared_(std::move(prepared)) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* a, ew::required_input(ctx, 0));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* b, ew::required_input(ctx, 1));
    TANDEM_RETURN_IF_ERROR(check_8bit(ctx, *a, "A"));
    TANDEM_RETURN_IF_ERROR(check_8bit(ctx, *b, "B"));
    TANDEM_ASSIGN_OR_RETURN(const MatmulShape s, matmul_shape(ctx, *a, *b));
    auto za = integer_zero_points(*a, ctx.input(2), true, s);
    if (!za) return ctx.error(za.status().message());
    LineZeroPoints zb;  // B's, unless B was shifted when the kernel was made
    if (!prepared_.ready) {
      auto z = integer_zero_points(*b, ctx.input(3), false, s);
      if (!z) return ctx.error(z.status().message());
      zb = std::move(z).value();
    }
    Tensor& product = ctx.allocate_output(0, DType::kInt32, s.out_shape);
    // An empty product needs neither operand shifted, and walking every batch would take 2^40 rounds for
    // A [2^40, 0, 3]: it is done once the zero points have been checked.
    if (product.numel() == 0) return Status::ok();
    std::vector<int16_t> b_run;  // B shifted for this run, unless it was when the kernel was made
    if (!prepared_.ready) b_run = shifted(*b, zb, s.k, s.n, false);
    const std::vector<int16_t>& b16 = prepared_.ready ? prepared_.b16 : b_run;
    const std::vector<int16_t> a16 = shifted(*a, *za, s.m, s.k, true);
    int32_t* y = product.data<int32_t>();
    Status overflow = Status::ok();
    batched_product(s, a16, b16, (a16.size() + b_run.size()) * sizeof(int16_t), ctx,
                    [&](int64_t i, const std::vector<int64_t>& acc) {
                      int32_t* out = y + i * s.m * s.n;
                      for (std::size_t j = 0; j < acc.size(); ++j) {
                        if (acc[j] > std::numeric_limits<int32_t>::max() ||
                            acc[j] < std::numeric_limits<int32_t>::lowest()) {
                          if (overflow.ok())
                            overflow = ctx.error("the product's element " + std::to_string(i * s.m * s.n + j) +
                                                 " is " + std::to_string(acc[j]) +
                                                 ", beyond int32 (ONNX accumulates in int32)");
                          continue;
                        }
                        out[j] = static_cast<int32_t>(acc[j]);
                      }
                    });
    return overflow;
  }

  int64_t own_weight_bytes() const override { return prepared_.bytes(); }
  // B (input 1) and its zero point (input 3), shifted when the kernel was made, are not read again.
  bool reads_constant_input(std::size_t i) const override { return !(prepared_.ready && (i == 1 || i == 3)); }

 private:
  PreparedB prepared_;
};

Result<KernelPtr> make_matmul_integer(const KernelInit& init) {
  PreparedB prepared;
  bool b_given = false, zp_given = false;
  const Tensor b = constant_tensor(init, 1, b_given);
  const Tensor zp = constant_tensor(init, 3, zp_given);
  if (b.defined() && (zp.defined() || !zp_given) && is_8bit(b.dtype()) && b.rank() >= 1) {
    const MatmulShape s = b_alone(b);
    if (auto zb = integer_zero_points(b, zp.defined() ? &zp : nullptr, false, s)) {
      prepared.b16 = shifted(b, *zb, s.k, s.n, false);
      prepared.ready = true;
    }
  }
  return KernelPtr(new MatMulIntegerKernel(std::move(prepared)));
}

// --- QLinearMatMul --------------------------------------------------------------------------------------

// Reads one operand's scale and zero point (inputs scale_at and scale_at + 1) as per tensor or per line;
// `narrow`: the scale may be float16 or bfloat16 (QLinearMatMul-21).
Result<QuantParams> line_params(const KernelContext& ctx, std::size_t scale_at, const std::string& name,
                                int64_t lines, const std::string& meaning, const Tensor* operand, bool narrow) {
  TANDEM_ASSIGN_OR_RETURN(const Tensor* scale, ew::required_input(ctx, scale_at));
  TANDEM_ASSIGN_OR_RETURN(const Tensor* zp, ew::required_input(ctx, scale_at + 1));
  if (operand && zp->dtype() != operand->dtype())
    return ctx.error(name + "_zero_point " + zp->describe() + " must have the type of " + name + " " +
                     operand->describe());
  QuantOperand what{name, lines, meaning};
  what.narrow_scales = narrow;
  return read_quant_params(ctx, scale, zp, what);
}

class QLinearMatMulKernel final : public Kernel {
 public:
  QLinearMatMulKernel(PreparedB prepared, bool narrow_scales)
      : prepared_(std::move(prepared)), narrow_(narrow_scales) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* a, ew::required_input(ctx, 0));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* b, ew::required_input(ctx, 3));
    TANDEM_RETURN_IF_ERROR(check_8bit(ctx, *a, "a"));
    TANDEM_RETURN_IF_ERROR(check_8bit(ctx, *b, "b"));
    TANDEM_ASSIGN_OR_RETURN(const MatmulShape s, matmul_shape(ctx, *a, *b));
    TANDEM_ASSIGN_OR_RETURN(const QuantParams pa,
                            line_params(ctx, 1, "a", s.m, "the rows of a " + a->describe(), a, narrow_));
    TANDEM_ASSIGN_OR_RETURN(const QuantParams pb,
                            line_params(ctx, 4, "b", s.n, "the columns of b " + b->describe(), b, narrow_));
    TANDEM_ASSIGN_OR_RETURN(const QuantParams py, line_params(ctx, 6, "y", s.m, "the rows of y", nullptr, narrow_));
    Tensor& y = ctx.allocate_output(0, py.zero_point_type, s.out_shape);
    // An empty product needs neither operand shifted, and walking every batch would take 2^40 rounds for
    // a [2^40, 0, 3]: it is done once the scales and zero points have been checked.
    if (y.numel() == 0) return Status::ok();
    LineZeroPoints za{pa.zero_point, static_cast<int64_t>(pa.zero_point.size()), {}};
    LineZeroPoints zb{pb.zero_point, static_cast<int64_t>(pb.zero_point.size()), {}};
    const std::vector<int16_t> a16 = shifted(*a, za, s.m, s.k, true);
    const std::vector<int16_t> b_run = prepared_.ready ? std::vector<int16_t>() : shifted(*b, zb, s.k, s.n, false);
    const std::vector<int16_t>& b16 = prepared_.ready ? prepared_.b16 : b_run;
    const auto requantize = [&](auto* out) {
      using Q = std::remove_pointer_t<decltype(out)>;
      batched_product(s, a16, b16, (a16.size() + b_run.size()) * sizeof(int16_t), ctx,
                      [&](int64_t i, const std::vector<int64_t>& acc) {
                        Q* o = out + i * s.m * s.n;
                        for (int64_t r = 0, j = 0; r < s.m; ++r)
                          for (int64_t c = 0; c < s.n; ++c, ++j) {
                            // a_scale * b_scale / y_scale in float32, applied to the exact sum in double,
                            // as ONNX's reference computes C * (a_scale * b_scale / y_scale) in numpy.
                            const float mult = pa.scale_at(r) * pb.scale_at(c) / py.scale_at(r);
                            o[j] = quantize_value<Q>(static_cast<double>(acc[static_cast<std::size_t>(j)]) * mult,
                                                     py.zero_point_at(r));
                          }
                      });
    };
    if (py.zero_point_type == DType::kUInt8)
      requantize(y.data<uint8_t>());
    else
      requantize(y.data<int8_t>());
    return Status::ok();
  }

  int64_t own_weight_bytes() const override { return prepared_.bytes(); }
  // b (input 3) shifted when the kernel was made is not read again; its scale and zero point still are.
  bool reads_constant_input(std::size_t i) const override { return !(prepared_.ready && i == 3); }

 private:
  PreparedB prepared_;
  bool narrow_;  // opset 21: float16 and bfloat16 scales
};

Result<KernelPtr> make_qlinear_matmul(const KernelInit& init) {
  PreparedB prepared;
  bool b_given = false, zp_given = false;
  const Tensor b = constant_tensor(init, 3, b_given);
  const Tensor zp = constant_tensor(init, 5, zp_given);
  if (b.defined() && zp.defined() && b.rank() >= 1) {
    const MatmulShape s = b_alone(b);
    if (auto values = constant_zero_points(&zp, b.dtype(), s.n)) {
      const LineZeroPoints zb{*values, static_cast<int64_t>(values->size()), {}};
      prepared.b16 = shifted(b, zb, s.k, s.n, false);
      prepared.ready = true;
    }
  }
  return KernelPtr(new QLinearMatMulKernel(std::move(prepared), init.node().opset >= 21));
}

}  // namespace

void register_integer_matmul_kernels(KernelRegistry& r) {
  r.add("MatMulInteger", make_matmul_integer);
  r.add("QLinearMatMul", make_qlinear_matmul);
}

}  // namespace tandem::cpu
