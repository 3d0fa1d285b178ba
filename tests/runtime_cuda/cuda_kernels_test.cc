// The GPU's GEMM, elementwise, normalisation, layout and Conv kernels against host references written here
// (double precision, straight from the ONNX definitions), on random data of several shapes. Skips without
// a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "runtime_cuda/kernels/conv.h"
#include "runtime_cuda/kernels/elementwise.h"
#include "runtime_cuda/kernels/gemm.h"
#include "runtime_cuda/kernels/layout.h"
#include "runtime_cuda/kernels/normalization.h"
#include "tests/runtime_cuda/gpu_test_util.h"

namespace tandem::cuda {
namespace {

using test::expect_near_all;
using test::random_vector;
using Shape = std::vector<int64_t>;

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

// Index of output element i in an operand of shape `in` broadcast to `out` (numpy rules).
int64_t broadcast_index(int64_t i, const Shape& out, const Shape& in) {
  int64_t off = 0, stride = 1;
  for (std::size_t k = 0; k < out.size(); ++k) {
    const std::size_t d = out.size() - 1 - k;
    const int64_t idx = i % out[d];
    i /= out[d];
    if (k < in.size()) {
      const int64_t id = in[in.size() - 1 - k];
      off += (id == 1 ? 0 : idx) * stride;
      stride *= id;
    }
  }
  return off;
}

class CudaKernelsTest : public test::GpuTest {};

TEST_F(CudaKernelsTest, GemmMatchesHostWithTransposesAndBroadcastC) {
  const int64_t m = 37, n = 45, k = 29;
  uint32_t seed = 1;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (const Shape& cs : {Shape{}, Shape{n}, Shape{m, 1}, Shape{m, n}}) {
        SCOPED_TRACE("transA=" + std::to_string(ta) + " transB=" + std::to_string(tb) + " C rank " + std::to_string(cs.size()));
        const auto a = random_vector(m * k, seed++), b = random_vector(k * n, seed++), c = random_vector(numel(cs), seed++);
        const float alpha = 0.7f, beta = 1.3f;
        std::vector<double> want(static_cast<std::size_t>(m * n));
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            double s = 0;
            for (int64_t p = 0; p < k; ++p)
              s += double(a[static_cast<std::size_t>(ta ? p * m + i : i * k + p)]) *
                   b[static_cast<std::size_t>(tb ? j * k + p : p * n + j)];
            want[static_cast<std::size_t>(i * n + j)] = alpha * s + beta * c[static_cast<std::size_t>(broadcast_index(i * n + j, {m, n}, cs))];
          }
        DeviceBuffer da = upload(a), db = upload(b), dc = upload(c), dy = device<float>(m * n);
        Status st = gemm(cublas_->get(), stream(), ta, tb, m, n, k, alpha, da.as<float>(), db.as<float>(), beta,
                         dc.as<float>(), cs, dy.as<float>());
        ASSERT_TRUE(st) << st.message();
        expect_near_all(download<float>(dy, m * n), want, "Gemm");
      }
}

TEST_F(CudaKernelsTest, MatMulBroadcastsBatchesLikeNumpy) {
  struct C { Shape a, b; };
  uint32_t seed = 10;
  for (const C& c : {C{{2, 3, 4}, {4, 5}}, C{{4}, {4, 5}}, C{{3, 4}, {4}}, C{{2, 1, 3, 4}, {3, 4, 2}}, C{{5, 2, 3}, {5, 3, 6}}}) {
    auto out = matmul_output_shape(c.a, c.b);
    ASSERT_TRUE(out) << out.status().message();
    const auto a = random_vector(numel(c.a), seed++), b = random_vector(numel(c.b), seed++);
    // Host: promote to ≥ 2-D, loop over the broadcast batch.
    Shape a2 = c.a, b2 = c.b;
    if (a2.size() == 1) a2.insert(a2.begin(), 1);
    if (b2.size() == 1) b2.push_back(1);
    const int64_t m = a2[a2.size() - 2], k = a2.back(), n = b2.back();
    Shape ba(a2.begin(), a2.end() - 2), bb(b2.begin(), b2.end() - 2);
    auto batch = broadcast_shape(ba, bb);
    ASSERT_TRUE(batch);
    std::vector<double> want;
    for (int64_t bi = 0; bi < numel(*batch); ++bi) {
      const int64_t ia = broadcast_index(bi, *batch, ba), ib = broadcast_index(bi, *batch, bb);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double s = 0;
          for (int64_t p = 0; p < k; ++p)
            s += double(a[static_cast<std::size_t>(ia * m * k + i * k + p)]) * b[static_cast<std::size_t>(ib * k * n + p * n + j)];
          want.push_back(s);
        }
    }
    ASSERT_EQ(static_cast<int64_t>(want.size()), numel(*out));
    DeviceBuffer da = upload(a), db = upload(b), dy = device<float>(numel(*out));
    Status st = matmul(cublas_->get(), stream(), da.as<float>(), c.a, db.as<float>(), c.b, dy.as<float>());
    ASSERT_TRUE(st) << st.message();
    expect_near_all(download<float>(dy, numel(*out)), want, "MatMul");
  }
}

TEST_F(CudaKernelsTest, BinaryOpsBroadcast) {
  struct C { Shape a, b; };
  const std::vector<std::pair<BinaryOp, std::function<double(double, double)>>> ops = {
      {BinaryOp::kAdd, [](double x, double y) { return x + y; }},
      {BinaryOp::kSub, [](double x, double y) { return x - y; }},
      {BinaryOp::kMul, [](double x, double y) { return x * y; }},
      {BinaryOp::kDiv, [](double x, double y) { return x / y; }},
      {BinaryOp::kPow, [](double x, double y) { return std::pow(x, y); }},
      {BinaryOp::kMax, [](double x, double y) { return std::max(x, y); }},
      {BinaryOp::kMin, [](double x, double y) { return std::min(x, y); }}};
  uint32_t seed = 20;
  for (const C& c : {C{{2, 3, 4}, {2, 3, 4}}, C{{2, 3, 4}, {4}}, C{{2, 1, 4}, {3, 1}}, C{{5, 1, 1, 7}, {1, 6, 2, 1}}, C{{}, {3, 2}}}) {
    auto out = broadcast_shape(c.a, c.b);
    ASSERT_TRUE(out);
    // Positive operands so Pow and Div stay finite and well conditioned.
    const auto a = random_vector(numel(c.a), seed++, 0.5f, 2.0f), b = random_vector(numel(c.b), seed++, 0.5f, 2.0f);
    DeviceBuffer da = upload(a), db = upload(b), dy = device<float>(numel(*out));
    for (const auto& [op, f] : ops) {
      std::vector<double> want(static_cast<std::size_t>(numel(*out)));
      for (int64_t i = 0; i < numel(*out); ++i)
        want[static_cast<std::size_t>(i)] = f(a[static_cast<std::size_t>(broadcast_index(i, *out, c.a))],
                                              b[static_cast<std::size_t>(broadcast_index(i, *out, c.b))]);
      Status st = binary(op, DType::kFloat32, da.get(), c.a, db.get(), c.b, dy.get(), stream());
      ASSERT_TRUE(st) << st.message();
      expect_near_all(download<float>(dy, numel(*out)), want, "binary op " + std::to_string(static_cast<int>(op)));
    }
  }
  // int64 takes the same path.
  const std::vector<int64_t> a = {1, -2, 3, 40000000000}, b = {5};
  DeviceBuffer da = upload(a), db = upload(b), dy = device<int64_t>(4);
  ASSERT_TRUE(binary(BinaryOp::kMul, DType::kInt64, da.get(), {2, 2}, db.get(), {1}, dy.get(), stream()));
  EXPECT_EQ(download<int64_t>(dy, 4), (std::vector<int64_t>{5, -10, 15, 200000000000}));
  EXPECT_FALSE(binary(BinaryOp::kAdd, DType::kFloat32, da.get(), {2, 2}, db.get(), {3}, dy.get(), stream()));
}

TEST_F(CudaKernelsTest, UnaryOpsAndExpand) {
  const auto x = random_vector(1000, 30, 0.1f, 3.0f);
  const std::vector<std::pair<UnaryOp, std::function<double(double)>>> ops = {
      {UnaryOp::kNeg, [](double v) { return -v; }}, {UnaryOp::kAbs, [](double v) { return std::abs(v); }},
      {UnaryOp::kRelu, [](double v) { return std::max(v, 0.0); }},
      {UnaryOp::kSigmoid, [](double v) { return 1 / (1 + std::exp(-v)); }},
      {UnaryOp::kTanh, [](double v) { return std::tanh(v); }}, {UnaryOp::kExp, [](double v) { return std::exp(v); }},
      {UnaryOp::kLog, [](double v) { return std::log(v); }}, {UnaryOp::kSqrt, [](double v) { return std::sqrt(v); }},
      {UnaryOp::kReciprocal, [](double v) { return 1 / v; }}, {UnaryOp::kErf, [](double v) { return std::erf(v); }}};
  DeviceBuffer dx = upload(x), dy = device<float>(1000);
  for (const auto& [op, f] : ops) {
    std::vector<double> want;
    for (float v : x) want.push_back(f(v));
    ASSERT_TRUE(unary(op, dx.as<float>(), dy.as<float>(), 1000, stream()));
    expect_near_all(download<float>(dy, 1000), want, "unary op " + std::to_string(static_cast<int>(op)));
  }
  const Shape in = {3, 1, 5}, out = {2, 3, 4, 5};
  const auto e = random_vector(numel(in), 31);
  DeviceBuffer de = upload(e), dout = device<float>(numel(out));
  ASSERT_TRUE(expand(de.get(), in, dout.get(), out, DType::kFloat32, stream()));
  std::vector<double> want;
  for (int64_t i = 0; i < numel(out); ++i) want.push_back(e[static_cast<std::size_t>(broadcast_index(i, out, in))]);
  expect_near_all(download<float>(dout, numel(out)), want, "Expand", 0, 0);
}

TEST_F(CudaKernelsTest, SoftmaxLayerNormAndReductionsMatchHost) {
  for (const auto& [outer, n, inner] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{{3, 5, 4}, {2, 1000, 1}, {1, 7, 33}}) {
    SCOPED_TRACE(std::to_string(outer) + "x" + std::to_string(n) + "x" + std::to_string(inner));
    const auto x = random_vector(outer * n * inner, 40, -4.0f, 4.0f);
    DeviceBuffer dx = upload(x), dy = device<float>(outer * n * inner), dr = device<float>(outer * inner);
    for (bool log : {false, true}) {
      std::vector<double> want(x.size());
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          auto at = [&](int64_t k) { return static_cast<std::size_t>((o * n + k) * inner + i); };
          double m = -1e300, s = 0;
          for (int64_t k = 0; k < n; ++k) m = std::max(m, double(x[at(k)]));
          for (int64_t k = 0; k < n; ++k) s += std::exp(x[at(k)] - m);
          for (int64_t k = 0; k < n; ++k) want[at(k)] = log ? x[at(k)] - m - std::log(s) : std::exp(x[at(k)] - m) / s;
        }
      ASSERT_TRUE(softmax(dx.as<float>(), dy.as<float>(), outer, n, inner, log, stream()));
      expect_near_all(download<float>(dy, outer * n * inner), want, log ? "LogSoftmax" : "Softmax");
    }
    for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kMean, ReduceOp::kMax, ReduceOp::kMin, ReduceOp::kSumSquare,
                        ReduceOp::kL1, ReduceOp::kL2, ReduceOp::kLogSumExp}) {
      std::vector<double> want;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          double s = 0, mx = -1e300, mn = 1e300, sq = 0, l1 = 0, lse = 0;
          for (int64_t k = 0; k < n; ++k) {
            const double v = x[static_cast<std::size_t>((o * n + k) * inner + i)];
            s += v, mx = std::max(mx, v), mn = std::min(mn, v), sq += v * v, l1 += std::abs(v), lse += std::exp(v);
          }
          want.push_back(op == ReduceOp::kSum ? s : op == ReduceOp::kMean ? s / n : op == ReduceOp::kMax ? mx
                         : op == ReduceOp::kMin ? mn : op == ReduceOp::kSumSquare ? sq : op == ReduceOp::kL1 ? l1
                         : op == ReduceOp::kL2 ? std::sqrt(sq) : std::log(lse));
        }
      ASSERT_TRUE(reduce(op, dx.as<float>(), dr.as<float>(), outer, n, inner, stream()));
      expect_near_all(download<float>(dr, outer * inner), want, "reduce " + std::to_string(static_cast<int>(op)), 1e-4, 1e-4);
    }
  }
  const int64_t rows = 7, cols = 300;
  const auto x = random_vector(rows * cols, 41, -3.0f, 5.0f), scale = random_vector(cols, 42), bias = random_vector(cols, 43);
  std::vector<double> want, want_mean, want_inv;
  for (int64_t r = 0; r < rows; ++r) {
    double m = 0, v = 0;
    for (int64_t c = 0; c < cols; ++c) m += x[static_cast<std::size_t>(r * cols + c)];
    m /= cols;
    for (int64_t c = 0; c < cols; ++c) v += std::pow(x[static_cast<std::size_t>(r * cols + c)] - m, 2);
    const double inv = 1 / std::sqrt(v / cols + 1e-5);
    for (int64_t c = 0; c < cols; ++c)
      want.push_back((x[static_cast<std::size_t>(r * cols + c)] - m) * inv * scale[static_cast<std::size_t>(c)] + bias[static_cast<std::size_t>(c)]);
    want_mean.push_back(m);
    want_inv.push_back(inv);
  }
  DeviceBuffer dx = upload(x), ds = upload(scale), db = upload(bias), dy = device<float>(rows * cols),
               dm = device<float>(rows), di = device<float>(rows);
  ASSERT_TRUE(layer_norm(dx.as<float>(), ds.as<float>(), db.as<float>(), dy.as<float>(), dm.as<float>(), di.as<float>(),
                         rows, cols, 1e-5f, stream()));
  expect_near_all(download<float>(dy, rows * cols), want, "LayerNormalization Y", 1e-4, 1e-4);
  expect_near_all(download<float>(dm, rows), want_mean, "LayerNormalization mean", 1e-4, 1e-5);
  expect_near_all(download<float>(di, rows), want_inv, "LayerNormalization inv_std_dev");
}

TEST_F(CudaKernelsTest, TransposeSliceConcatSplitGather) {
  const Shape s = {2, 3, 4, 5};
  const auto x = random_vector(numel(s), 50);
  DeviceBuffer dx = upload(x);
  auto at = [&](int64_t a, int64_t b, int64_t c, int64_t d) { return double(x[static_cast<std::size_t>(((a * 3 + b) * 4 + c) * 5 + d)]); };
  {  // Transpose perm (3, 1, 0, 2): y[d][b][a][c]
    DeviceBuffer dy = device<float>(numel(s));
    ASSERT_TRUE(transpose(dx.get(), s, {3, 1, 0, 2}, dy.get(), 4, stream()));
    std::vector<double> want;
    for (int64_t d = 0; d < 5; ++d)
      for (int64_t b = 0; b < 3; ++b)
        for (int64_t a = 0; a < 2; ++a)
          for (int64_t c = 0; c < 4; ++c) want.push_back(at(a, b, c, d));
    expect_near_all(download<float>(dy, numel(s)), want, "Transpose", 0, 0);
    EXPECT_FALSE(transpose(dx.get(), s, {0, 0, 1, 2}, dy.get(), 4, stream()));
  }
  {  // Slice: axis 1 from 2 down by -2 (2, 0), axis 3 from 1 step 2 (1, 3)
    const Shape out = {2, 2, 4, 2};
    DeviceBuffer dy = device<float>(numel(out));
    ASSERT_TRUE(slice(dx.get(), s, {0, 2, 0, 1}, {1, -2, 1, 2}, out, dy.get(), 4, stream()));
    std::vector<double> want;
    for (int64_t a = 0; a < 2; ++a)
      for (int64_t b : {2, 0})
        for (int64_t c = 0; c < 4; ++c)
          for (int64_t d : {1, 3}) want.push_back(at(a, b, c, d));
    expect_near_all(download<float>(dy, numel(out)), want, "Slice", 0, 0);
  }
  {  // Split along axis 2 into 1 + 3, then Concat back.
    DeviceBuffer p1 = device<float>(2 * 3 * 1 * 5), p2 = device<float>(2 * 3 * 3 * 5), back = device<float>(numel(s));
    ASSERT_TRUE(split(dx.get(), s, 2, {1, 3}, {p1.get(), p2.get()}, 4, stream()));
    std::vector<double> want1;
    for (int64_t a = 0; a < 2; ++a)
      for (int64_t b = 0; b < 3; ++b)
        for (int64_t d = 0; d < 5; ++d) want1.push_back(at(a, b, 0, d));
    expect_near_all(download<float>(p1, 30), want1, "Split part 0", 0, 0);
    ASSERT_TRUE(concat({p1.get(), p2.get()}, {{2, 3, 1, 5}, {2, 3, 3, 5}}, 2, back.get(), 4, stream()));
    expect_near_all(download<float>(back, numel(s)), std::vector<double>(x.begin(), x.end()), "Concat", 0, 0);
  }
  {  // Gather along axis 1 with a negative index, then with one out of range.
    const std::vector<int64_t> idx = {2, -3, 1};
    DeviceBuffer di = upload(idx), dy = device<float>(2 * 3 * 20), flag = upload(std::vector<int>{0});
    ASSERT_TRUE(gather(dx.get(), s, 1, di.as<int64_t>(), 3, dy.get(), 4, flag.as<int>(), stream()));
    std::vector<double> want;
    for (int64_t a = 0; a < 2; ++a)
      for (int64_t b : {2, 0, 1})
        for (int64_t c = 0; c < 4; ++c)
          for (int64_t d = 0; d < 5; ++d) want.push_back(at(a, b, c, d));
    expect_near_all(download<float>(dy, 120), want, "Gather", 0, 0);
    EXPECT_EQ(download<int>(flag, 1)[0], 0);
    DeviceBuffer bad = upload(std::vector<int64_t>{3});
    ASSERT_TRUE(gather(dx.get(), s, 1, bad.as<int64_t>(), 1, dy.get(), 4, flag.as<int>(), stream()));
    EXPECT_EQ(download<int>(flag, 1)[0], 1);
  }
}

// ---- Conv -----------------------------------------------------------------------------------------------

// A Conv geometry in three spatial dimensions; `pad_end` gives the output size as ONNX does (NOTSET).
ConvShape conv_shape(int64_t batch, int64_t channels, int64_t maps, int64_t group, Shape in, Shape kernel,
                     Shape stride, Shape dilation, Shape pad_begin, Shape pad_end) {
  ConvShape s;
  s.batch = batch, s.channels = channels, s.maps = maps, s.group = group;
  const std::size_t shift = 3 - in.size();
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::size_t d = shift + i;
    s.in[d] = in[i], s.kernel[d] = kernel[i], s.stride[d] = stride[i], s.dilation[d] = dilation[i];
    s.pad_begin[d] = pad_begin[i];
    s.out[d] = (in[i] + pad_begin[i] + pad_end[i] - (kernel[i] - 1) * dilation[i] - 1) / stride[i] + 1;
  }
  return s;
}

// Conv straight from its definition, in double.
std::vector<double> conv_reference(const ConvShape& s, const std::vector<float>& x, const std::vector<float>& w,
                                   const std::vector<float>& b) {
  const int64_t cg_n = s.channels / s.group, mg_n = s.maps / s.group;
  std::vector<double> y;
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t m = 0; m < s.maps; ++m)
      for (int64_t od = 0; od < s.out[0]; ++od)
        for (int64_t oh = 0; oh < s.out[1]; ++oh)
          for (int64_t ow = 0; ow < s.out[2]; ++ow) {
            const int64_t g = m / mg_n;
            double acc = b.empty() ? 0.0 : b[static_cast<std::size_t>(m)];
            for (int64_t cg = 0; cg < cg_n; ++cg)
              for (int64_t kd = 0; kd < s.kernel[0]; ++kd)
                for (int64_t kh = 0; kh < s.kernel[1]; ++kh)
                  for (int64_t kw = 0; kw < s.kernel[2]; ++kw) {
                    const int64_t id = od * s.stride[0] - s.pad_begin[0] + kd * s.dilation[0];
                    const int64_t ih = oh * s.stride[1] - s.pad_begin[1] + kh * s.dilation[1];
                    const int64_t iw = ow * s.stride[2] - s.pad_begin[2] + kw * s.dilation[2];
                    if (id < 0 || id >= s.in[0] || ih < 0 || ih >= s.in[1] || iw < 0 || iw >= s.in[2]) continue;
                    const int64_t xi = (((n * s.channels + g * cg_n + cg) * s.in[0] + id) * s.in[1] + ih) * s.in[2] + iw;
                    const int64_t wi = (((m * cg_n + cg) * s.kernel[0] + kd) * s.kernel[1] + kh) * s.kernel[2] + kw;
                    acc += double(w[static_cast<std::size_t>(wi)]) * x[static_cast<std::size_t>(xi)];
                  }
            y.push_back(acc);
          }
  return y;
}

TEST(ConvPlanNoGpu, WorkspaceFollowsTheAlgorithm) {
  // Depthwise: K = 5, the direct kernel, no scratch.
  const ConvShape dw = conv_shape(1, 16, 16, 16, {300}, {5}, {2}, {2}, {4}, {3});
  EXPECT_EQ(conv_algo(dw, ConvAlgo::kAuto), ConvAlgo::kDirect);
  EXPECT_EQ(conv_workspace_floats(dw, ConvAlgo::kAuto), 0);
  EXPECT_EQ(conv_workspace_floats(dw, ConvAlgo::kIm2col), 16 * 5 * dw.out_size());
  // Dense with a small K (C = 4, a 1-D kernel of 3: K = 12): the GEMM, not the direct kernel.
  EXPECT_EQ(conv_algo(conv_shape(1, 4, 8, 1, {50}, {3}, {1}, {1}, {1}, {1}), ConvAlgo::kAuto), ConvAlgo::kIm2col);
  // Dense: K = 6·3·2 = 36, im2col over all three images at once.
  const ConvShape dense = conv_shape(3, 6, 9, 1, {11, 13}, {3, 2}, {2, 1}, {1, 2}, {1, 0}, {1, 0});
  EXPECT_EQ(conv_algo(dense, ConvAlgo::kAuto), ConvAlgo::kIm2col);
  EXPECT_EQ(conv_workspace_floats(dense, ConvAlgo::kAuto), 3 * 6 * 6 * dense.out_size());
  // A 1x1 kernel over every position reads X in place.
  EXPECT_EQ(conv_workspace_floats(conv_shape(2, 64, 32, 1, {5, 6}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}),
                                  ConvAlgo::kIm2col), 0);
  // One image's patches over the budget: bands of output positions, within the budget.
  const ConvShape big = conv_shape(2, 64, 4, 1, {175, 175}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1});
  const int64_t ws = conv_workspace_floats(big, ConvAlgo::kAuto);
  EXPECT_GT(ws, 0);
  EXPECT_LE(ws, kConvColumnBudget);
  EXPECT_LT(ws, 64 * 9 * big.out_size());
  EXPECT_FALSE(check_conv_shape(conv_shape(1, 6, 4, 4, {8}, {3}, {1}, {1}, {0}, {0})));  // 6 channels, group 4
}

class CudaConvKernelTest : public test::GpuTest {
 protected:
  void check(const ConvShape& s, bool bias, uint32_t seed, const std::string& what) {
    const int64_t x_n = s.batch * s.channels * s.in_size(), w_n = s.maps * s.k(), y_n = s.batch * s.maps * s.out_size();
    const auto x = random_vector(x_n, seed), w = random_vector(w_n, seed + 1);
    const auto b = bias ? random_vector(s.maps, seed + 2) : std::vector<float>{};
    const std::vector<double> want = conv_reference(s, x, w, b);
    DeviceBuffer dx = upload(x), dw = upload(w), db = upload(b), dy = device<float>(y_n);
    for (ConvAlgo algo : {ConvAlgo::kAuto, ConvAlgo::kIm2col, ConvAlgo::kDirect}) {
      SCOPED_TRACE(what + " algo " + std::to_string(static_cast<int>(algo)) + (bias ? " with bias" : " without bias"));
      const int64_t ws = conv_workspace_floats(s, algo);
      DeviceBuffer col = device<float>(ws);
      ASSERT_EQ(cudaMemsetAsync(dy.get(), 0xff, static_cast<std::size_t>(y_n) * 4, stream()), cudaSuccess);  // NaNs
      Status st = conv_forward(cublas_->get(), stream(), s, algo, dx.as<float>(), dw.as<float>(),
                               bias ? db.as<float>() : nullptr, dy.as<float>(), ws > 0 ? col.as<float>() : nullptr);
      ASSERT_TRUE(st) << st.message();
      expect_near_all(download<float>(dy, y_n), want, "Conv", 1e-4, 1e-4);
    }
  }
};

TEST_F(CudaConvKernelTest, MatchesTheDefinitionWithEveryAlgorithm) {
  uint32_t seed = 500;
  for (bool bias : {true, false}) {
    check(conv_shape(1, 16, 16, 16, {300}, {5}, {2}, {2}, {4}, {3}), bias, seed++, "1-D depthwise");
    check(conv_shape(1, 64, 32, 1, {257}, {3}, {1}, {1}, {1}, {1}), bias, seed++, "1-D dense");
    check(conv_shape(1, 12, 8, 4, {64}, {7}, {2}, {1}, {3}, {3}), bias, seed++, "1-D grouped (batch over groups)");
    check(conv_shape(3, 6, 9, 3, {11, 13}, {3, 2}, {2, 1}, {1, 2}, {1, 0}, {1, 0}), bias, seed++, "2-D grouped");
    check(conv_shape(2, 8, 4, 2, {5, 6}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}), bias, seed++, "2-D 1x1 in place");
    check(conv_shape(1, 4, 2, 1, {4, 5, 6}, {2, 3, 2}, {1, 2, 1}, {2, 1, 1}, {1, 1, 0}, {0, 1, 1}), bias, seed++, "3-D");
  }
}

// One image's patches exceed kConvColumnBudget: bands of output positions, one image at a time.
TEST_F(CudaConvKernelTest, MatchesTheDefinitionInBands) {
  check(conv_shape(2, 64, 4, 1, {175, 175}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}), true, 600, "2-D in bands");
}

}  // namespace
}  // namespace tandem::cuda
