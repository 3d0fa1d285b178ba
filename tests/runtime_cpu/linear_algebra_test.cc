// Tests of the linear_algebra kernels: MatMul, Gemm, Conv and pooling, on the ONNX spec's examples, on
// random data against direct double-precision reference loops written here, and on the ONNX node test
// suite's cases.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/runtime_cpu/kernel_test_util.h"
#include "tests/support/rnn_kernel_choice.h"

namespace tandem::test {
namespace {

// ---------------------------------------------------------------------------------------------------
// MatMul

// numpy matmul, one output element at a time: 1-D operands promoted, batch dimensions broadcast.
std::vector<double> ref_matmul(const std::vector<float>& a, std::vector<int64_t> as,
                               const std::vector<float>& b, std::vector<int64_t> bs,
                               std::vector<int64_t>& out_shape) {
  const bool a_vec = as.size() == 1, b_vec = bs.size() == 1;
  if (a_vec) as.insert(as.begin(), 1);
  if (b_vec) bs.push_back(1);
  const int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  const std::size_t rank = std::max(as.size(), bs.size());
  as.insert(as.begin(), rank - as.size(), 1);  // same rank: leading 1s
  bs.insert(bs.begin(), rank - bs.size(), 1);
  std::vector<int64_t> batch;
  for (std::size_t d = 0; d + 2 < rank; ++d) batch.push_back(std::max(as[d], bs[d]));
  out_shape = batch;
  if (!a_vec) out_shape.push_back(m);
  if (!b_vec) out_shape.push_back(n);
  std::vector<double> y;
  for (int64_t bi = 0; bi < numel_of(batch); ++bi) {
    int64_t a_off = 0, b_off = 0;  // matrix index in A and B, broadcast dims read index 0
    for (std::size_t d = 0, rest = static_cast<std::size_t>(bi); d < batch.size(); ++d) {
      const int64_t below =
          numel_of(std::vector<int64_t>(batch.begin() + static_cast<int64_t>(d) + 1, batch.end()));
      const int64_t coord = static_cast<int64_t>(rest) / below;
      rest %= static_cast<std::size_t>(below);
      a_off = a_off * as[d] + (as[d] == 1 ? 0 : coord);
      b_off = b_off * bs[d] + (bs[d] == 1 ? 0 : coord);
    }
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t p = 0; p < k; ++p)
          s += static_cast<double>(a[static_cast<std::size_t>(a_off * m * k + i * k + p)]) *
               b[static_cast<std::size_t>(b_off * k * n + p * n + j)];
        y.push_back(s);
      }
  }
  return y;
}

TEST(MatMul, HandExamples) {
  OneNode dot(13, "MatMul");
  dot.input(make_tensor<float>({3}, {1, 2, 3})).input(make_tensor<float>({3}, {4, 5, 6})).output();
  auto y = dot.run();
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  EXPECT_EQ((*y)[0].shape(), std::vector<int64_t>{});
  EXPECT_EQ(values_of<float>((*y)[0]), std::vector<float>{32});

  OneNode mm(9, "MatMul");
  mm.input(make_tensor<float>({2, 2}, {1, 2, 3, 4})).input(make_tensor<float>({2, 2}, {5, 6, 7, 8})).output();
  auto y2 = mm.run();
  ASSERT_TRUE(y2.is_ok()) << y2.status().message();
  EXPECT_EQ(values_of<float>((*y2)[0]), (std::vector<float>{19, 22, 43, 50}));
}

TEST(MatMul, RandomShapesAgainstReference) {
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> cases = {
      {{3, 4}, {4, 5}},
      {{1, 7}, {7, 1}},
      {{4}, {4, 3}},
      {{2, 4}, {4}},
      {{5}, {2, 5, 3}},
      {{2, 3, 5}, {5}},
      {{2, 3, 4}, {4, 6}},
      {{4, 6}, {3, 6, 2}},
      {{2, 1, 3, 4}, {5, 4, 2}},
      {{3, 1, 2, 3}, {1, 4, 3, 2}},
      {{1, 3, 4}, {2, 4, 5}},
      {{2, 3, 0}, {0, 4}},
      {{0, 3}, {3, 2}},
      {{33, 65}, {65, 17}}};
  uint32_t seed = 1;
  for (const auto& [as, bs] : cases)
    for (bool constant_b : {false, true}) {
      const auto a = random_floats(numel_of(as), seed++), b = random_floats(numel_of(bs), seed++);
      OneNode n(13, "MatMul");
      n.input(make_tensor<float>(as, a));
      if (constant_b)
        n.constant(make_tensor<float>(bs, b));
      else
        n.input(make_tensor<float>(bs, b));
      n.output();
      auto y = n.run();
      ASSERT_TRUE(y.is_ok()) << y.status().message();
      std::vector<int64_t> want_shape;
      const auto want = ref_matmul(a, as, b, bs, want_shape);
      SCOPED_TRACE(shape_string(as) + " x " + shape_string(bs));
      EXPECT_EQ((*y)[0].shape(), want_shape);
      expect_close((*y)[0], want);
    }
}

TEST(MatMul, Errors) {
  OneNode n(13, "MatMul");
  n.input(make_tensor<float>({2, 3}, random_floats(6, 1)), true)
      .input(make_tensor<float>({4, 2}, random_floats(8, 2)), true);
  n.output();
  auto y = n.run();
  ASSERT_FALSE(y.is_ok());
  EXPECT_NE(y.status().message().find("inner dimensions"), std::string::npos) << y.status().message();
  OneNode b(13, "MatMul");
  b.input(make_tensor<float>({2, 2, 3}, random_floats(12, 1)), true)
      .input(make_tensor<float>({3, 3, 2}, random_floats(18, 2)), true)
      .output();
  auto y2 = b.run();
  ASSERT_FALSE(y2.is_ok());
  EXPECT_NE(y2.status().message().find("broadcast"), std::string::npos) << y2.status().message();
  OneNode i(13, "MatMul");
  i.input(make_tensor<int64_t>({1, 1}, {1}), true).input(make_tensor<int64_t>({1, 1}, {2}), true);
  i.output(onnx::TensorProto::INT64);
  auto y3 = i.run();
  ASSERT_FALSE(y3.is_ok());
  EXPECT_NE(y3.status().message().find("float32"), std::string::npos) << y3.status().message();
}

// ---------------------------------------------------------------------------------------------------
// Gemm

TEST(Gemm, HandExample) {
  OneNode n(13, "Gemm");
  n.input(make_tensor<float>({2, 2}, {1, 2, 3, 4}))
      .input(make_tensor<float>({2, 2}, {5, 6, 7, 8}))
      .input(make_tensor<float>({2}, {1, 2}))
      .output();
  auto y = n.run();
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  EXPECT_EQ(values_of<float>((*y)[0]), (std::vector<float>{20, 24, 44, 52}));
}

TEST(Gemm, AllTransposeScaleAndBiasCombinations) {
  const int64_t m = 3, k = 5, n = 4;
  // C shapes that broadcast unidirectionally to [M, N]; empty optional means no C at all.
  const std::vector<std::optional<std::vector<int64_t>>> c_shapes = {std::nullopt,
                                                                     std::vector<int64_t>{},
                                                                     std::vector<int64_t>{1},
                                                                     std::vector<int64_t>{n},
                                                                     std::vector<int64_t>{m, 1},
                                                                     std::vector<int64_t>{1, n},
                                                                     std::vector<int64_t>{m, n}};
  uint32_t seed = 10;
  for (int64_t ta : {0, 1})
    for (int64_t tb : {0, 1})
      for (float alpha : {1.0f, 0.5f})
        for (float beta : {1.0f, 2.0f, 0.0f})
          for (const auto& cs : c_shapes)
            for (bool constant_b : {false, true}) {
              const auto a = random_floats(m * k, seed++), b = random_floats(k * n, seed++);
              const auto c = cs ? random_floats(numel_of(*cs), seed++) : std::vector<float>{};
              OneNode g(13, "Gemm");
              g.input(make_tensor<float>(ta ? std::vector<int64_t>{k, m} : std::vector<int64_t>{m, k}, a));
              const Tensor bt =
                  make_tensor<float>(tb ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n}, b);
              if (constant_b)
                g.constant(bt);
              else
                g.input(bt);
              if (cs) g.input(make_tensor<float>(*cs, c));
              g.output();
              set_int(g.node(), "transA", ta);
              set_int(g.node(), "transB", tb);
              set_float(g.node(), "alpha", alpha);
              set_float(g.node(), "beta", beta);
              auto y = g.run();
              ASSERT_TRUE(y.is_ok()) << y.status().message();
              std::vector<double> want;
              for (int64_t i = 0; i < m; ++i)
                for (int64_t j = 0; j < n; ++j) {
                  double s = 0;
                  for (int64_t p = 0; p < k; ++p)
                    s += static_cast<double>(a[static_cast<std::size_t>(ta ? p * m + i : i * k + p)]) *
                         b[static_cast<std::size_t>(tb ? j * k + p : p * n + j)];
                  double cv = 0;
                  if (cs) {
                    const int64_t rows = cs->size() == 2 ? (*cs)[0] : 1, cols = cs->empty() ? 1 : cs->back();
                    cv = c[static_cast<std::size_t>((rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j))];
                  }
                  want.push_back(alpha * s + beta * cv);
                }
              SCOPED_TRACE("transA " + std::to_string(ta) + " transB " + std::to_string(tb) + " alpha " +
                           std::to_string(alpha) + " beta " + std::to_string(beta) + " C " +
                           (cs ? shape_string(*cs) : "none"));
              EXPECT_EQ((*y)[0].shape(), (std::vector<int64_t>{m, n}));
              expect_close((*y)[0], want);
            }
}

TEST(Gemm, OldOpsetAndBadBias) {
  OneNode g(7, "Gemm");
  g.input(make_tensor<float>({1, 2}, {1, 2})).input(make_tensor<float>({2, 1}, {3, 4}));
  g.input(make_tensor<float>({1, 1}, {0.5f})).output();
  auto y = g.run();
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  EXPECT_EQ(values_of<float>((*y)[0]), std::vector<float>{11.5f});

  OneNode bad(13, "Gemm");
  bad.input(make_tensor<float>({2, 2}, {1, 2, 3, 4}), true)
      .input(make_tensor<float>({2, 2}, {1, 2, 3, 4}), true);
  bad.input(make_tensor<float>({3}, {1, 2, 3}), true).output();
  auto y2 = bad.run();
  ASSERT_FALSE(y2.is_ok());
  EXPECT_NE(y2.status().message().find("does not broadcast"), std::string::npos) << y2.status().message();
}

// ---------------------------------------------------------------------------------------------------
// Window geometry, as the ONNX spec states it, for the Conv and pooling references.

struct Geometry {
  int64_t out, pad_begin, pad_end;
};

Geometry geometry(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe,
                  const std::string& auto_pad, bool ceil_mode) {
  const int64_t extent = d * (k - 1) + 1;
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    const auto out = static_cast<int64_t>(std::ceil(static_cast<double>(in) / static_cast<double>(s)));
    const int64_t total = std::max<int64_t>(0, (out - 1) * s + extent - in);
    const int64_t begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    return {out, begin, total - begin};
  }
  if (auto_pad == "VALID") return {(in - extent) / s + 1, 0, 0};
  const double span = static_cast<double>(in + pb + pe - extent) / static_cast<double>(s);
  int64_t out = static_cast<int64_t>(ceil_mode ? std::ceil(span) : std::floor(span)) + 1;
  if (ceil_mode && (out - 1) * s >= in + pb) --out;  // no window may start in the end padding
  return {out, pb, pe};
}

// One spatial configuration for up to three dimensions (unused leading dimensions have size 1).
struct Spatial {
  std::vector<int64_t> in, kernel, strides, dilations, pads;  // pads: begins then ends, as ONNX lists them
  std::string auto_pad = "NOTSET";
  bool ceil_mode = false;
};

std::vector<Geometry> geometries(const Spatial& sp) {
  std::vector<Geometry> g;
  const std::size_t r = sp.in.size();
  for (std::size_t i = 0; i < r; ++i)
    g.push_back(geometry(sp.in[i], sp.kernel[i], sp.strides.empty() ? 1 : sp.strides[i],
                         sp.dilations.empty() ? 1 : sp.dilations[i], sp.pads.empty() ? 0 : sp.pads[i],
                         sp.pads.empty() ? 0 : sp.pads[i + r], sp.auto_pad, sp.ceil_mode));
  return g;
}

void set_window_attrs(onnx::NodeProto* node, const Spatial& sp, bool kernel_attr) {
  if (kernel_attr) set_ints(node, "kernel_shape", sp.kernel);
  if (!sp.strides.empty()) set_ints(node, "strides", sp.strides);
  if (!sp.dilations.empty()) set_ints(node, "dilations", sp.dilations);
  if (!sp.pads.empty()) set_ints(node, "pads", sp.pads);
  if (sp.auto_pad != "NOTSET") set_string(node, "auto_pad", sp.auto_pad);
  if (sp.ceil_mode) set_int(node, "ceil_mode", 1);
}

// A spatial position (up to 3-D, leading entries 1) and the helpers to index flat [.., D, H, W] data.
std::vector<int64_t> padded3(const std::vector<int64_t>& v, int64_t fill) {
  std::vector<int64_t> out(3 - v.size(), fill);
  out.insert(out.end(), v.begin(), v.end());
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Conv

// Direct convolution: for every output element, the sum over its group's input channels and kernel taps.
std::vector<double> ref_conv(const std::vector<float>& x, int64_t batch, int64_t channels, const Spatial& sp,
                             const std::vector<float>& w, int64_t maps, int64_t group,
                             const std::vector<float>* bias, std::vector<int64_t>& out_shape) {
  const auto g = geometries(sp);
  std::vector<int64_t> out_sp, pb;
  for (const auto& gi : g) out_sp.push_back(gi.out), pb.push_back(gi.pad_begin);
  out_shape = {batch, maps};
  out_shape.insert(out_shape.end(), out_sp.begin(), out_sp.end());
  const auto in = padded3(sp.in, 1), k = padded3(sp.kernel, 1), out = padded3(out_sp, 1), p = padded3(pb, 0);
  const auto s = padded3(sp.strides.empty() ? std::vector<int64_t>(sp.in.size(), 1) : sp.strides, 1);
  const auto d = padded3(sp.dilations.empty() ? std::vector<int64_t>(sp.in.size(), 1) : sp.dilations, 1);
  const int64_t cg = channels / group, mg = maps / group;
  std::vector<double> y;
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t m = 0; m < maps; ++m)
      for (int64_t od = 0; od < out[0]; ++od)
        for (int64_t oh = 0; oh < out[1]; ++oh)
          for (int64_t ow = 0; ow < out[2]; ++ow) {
            double acc = bias ? (*bias)[static_cast<std::size_t>(m)] : 0.0;
            for (int64_t c = 0; c < cg; ++c)
              for (int64_t kd = 0; kd < k[0]; ++kd)
                for (int64_t kh = 0; kh < k[1]; ++kh)
                  for (int64_t kw = 0; kw < k[2]; ++kw) {
                    const int64_t id = od * s[0] - p[0] + kd * d[0], ih = oh * s[1] - p[1] + kh * d[1],
                                  iw = ow * s[2] - p[2] + kw * d[2];
                    if (id < 0 || id >= in[0] || ih < 0 || ih >= in[1] || iw < 0 || iw >= in[2]) continue;
                    const int64_t ic = m / mg * cg + c;
                    const int64_t xi = (((n * channels + ic) * in[0] + id) * in[1] + ih) * in[2] + iw;
                    const int64_t wi = (((m * cg + c) * k[0] + kd) * k[1] + kh) * k[2] + kw;
                    acc += static_cast<double>(x[static_cast<std::size_t>(xi)]) *
                           w[static_cast<std::size_t>(wi)];
                  }
            y.push_back(acc);
          }
  return y;
}

TEST(Conv, SpecExample) {
  std::vector<float> x(25);
  for (int i = 0; i < 25; ++i) x[static_cast<std::size_t>(i)] = static_cast<float>(i);
  for (bool padded : {true, false}) {
    OneNode n(11, "Conv");
    n.input(make_tensor<float>({1, 1, 5, 5}, x))
        .input(make_tensor<float>({1, 1, 3, 3}, std::vector<float>(9, 1)))
        .output();
    set_ints(n.node(), "kernel_shape", {3, 3});
    set_ints(n.node(), "pads", padded ? std::vector<int64_t>{1, 1, 1, 1} : std::vector<int64_t>{0, 0, 0, 0});
    auto y = n.run();
    ASSERT_TRUE(y.is_ok()) << y.status().message();
    if (padded) {
      EXPECT_EQ(values_of<float>((*y)[0]),
                (std::vector<float>{12,  21, 27, 33,  24,  33,  54,  63, 72,  51,  63,  99, 108,
                                    117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84}));
    } else {
      EXPECT_EQ((*y)[0].shape(), (std::vector<int64_t>{1, 1, 3, 3}));
      EXPECT_EQ(values_of<float>((*y)[0]), (std::vector<float>{54, 63, 72, 99, 108, 117, 144, 153, 162}));
    }
  }
}

struct ConvCase {
  int64_t batch, channels, maps, group;
  Spatial sp;
};

TEST(Conv, RandomAgainstDirectReference) {
  const std::vector<ConvCase> cases = {
      // 1-D
      {2, 3, 4, 1, {{9}, {3}, {}, {}, {}}},
      {1, 4, 6, 2, {{10}, {3}, {2}, {2}, {1, 2}}},
      {2, 2, 2, 2, {{7}, {1}, {}, {}, {}}},  // depthwise 1x1
      {1, 3, 2, 1, {{8}, {4}, {3}, {}, {}, "SAME_UPPER"}},
      {1, 3, 2, 1, {{8}, {4}, {3}, {}, {}, "SAME_LOWER"}},
      {1, 3, 2, 1, {{8}, {3}, {2}, {}, {}, "VALID"}},
      {1, 1, 9, 1, {{40}, {16}, {8}, {}, {4, 4}}},  // an STFT as a Conv (Silero VAD): a few output columns
      {1, 5, 20, 1, {{14}, {3}, {}, {}, {}}},        // 12 positions: two passes of the panel product
      // 2-D
      {2, 3, 4, 1, {{6, 7}, {3, 3}, {}, {}, {1, 1, 1, 1}}},
      {1, 4, 4, 4, {{7, 6}, {3, 2}, {2, 1}, {1, 2}, {0, 1, 2, 0}}},  // depthwise, asymmetric pads
      {1, 6, 4, 2, {{8, 8}, {3, 3}, {2, 2}, {2, 2}, {2, 2, 2, 2}}},
      {2, 8, 16, 1, {{5, 5}, {1, 1}, {}, {}, {}}},     // 1x1: the input is the patch matrix
      {1, 3, 5, 1, {{5, 6}, {1, 1}, {2, 2}, {}, {}}},  // 1x1 with strides
      {1, 3, 2, 1, {{7, 5}, {3, 2}, {2, 2}, {}, {}, "SAME_UPPER"}},
      {1, 3, 2, 1, {{7, 5}, {2, 3}, {3, 2}, {2, 1}, {}, "SAME_LOWER"}},
      {2, 2, 3, 1, {{6, 9}, {2, 4}, {2, 3}, {}, {}, "VALID"}},
      {1, 16, 32, 1, {{12, 12}, {3, 3}, {1, 1}, {}, {1, 1, 1, 1}}},
      {1, 32, 3, 1, {{64, 64}, {3, 3}, {}, {}, {1, 1, 1, 1}}},  // patches built in two bands of rows
      // 3-D
      {1, 2, 3, 1, {{4, 5, 6}, {2, 3, 2}, {1, 2, 2}, {2, 1, 1}, {1, 0, 1, 0, 1, 1}}},
  };
  // W computed (sgemm); constant W, whose products with up to 16 output positions run on packed panels, on
  // each instruction set (the best here, AVX2, portable), and with TANDEM_RNN_KERNEL=reference on sgemm.
  const std::vector<std::pair<bool, const char*>> paths = {
      {false, nullptr}, {true, nullptr}, {true, "fast-avx2"}, {true, "fast-scalar"}, {true, "reference"}};
  uint32_t seed = 50;
  for (const auto& c : cases)
    for (const auto& [constant_w, choice] : paths)
      for (bool with_bias : {false, true})
        for (bool kernel_attr : {false, true}) {
          std::vector<int64_t> x_shape{c.batch, c.channels}, w_shape{c.maps, c.channels / c.group};
          x_shape.insert(x_shape.end(), c.sp.in.begin(), c.sp.in.end());
          w_shape.insert(w_shape.end(), c.sp.kernel.begin(), c.sp.kernel.end());
          const auto x = random_floats(numel_of(x_shape), seed++),
                     w = random_floats(numel_of(w_shape), seed++);
          const auto b = random_floats(c.maps, seed++);
          test::RnnKernelChoice kernels(choice);
          OneNode n(11, "Conv");
          n.input(make_tensor<float>(x_shape, x));
          if (constant_w)
            n.constant(make_tensor<float>(w_shape, w));
          else
            n.input(make_tensor<float>(w_shape, w));
          if (with_bias) n.input(make_tensor<float>({c.maps}, b));
          n.output();
          set_window_attrs(n.node(), c.sp, kernel_attr);
          if (c.group != 1) set_int(n.node(), "group", c.group);
          auto y = n.run();
          ASSERT_TRUE(y.is_ok()) << y.status().message();
          std::vector<int64_t> want_shape;
          const auto want = ref_conv(x, c.batch, c.channels, c.sp, w, c.maps, c.group,
                                     with_bias ? &b : nullptr, want_shape);
          SCOPED_TRACE("X " + shape_string(x_shape) + " W " + shape_string(w_shape) + " group " +
                       std::to_string(c.group) + " auto_pad " + c.sp.auto_pad + (constant_w ? " constant W" : "") +
                       " TANDEM_RNN_KERNEL=" + (choice ? choice : "(unset)"));
          EXPECT_EQ((*y)[0].shape(), want_shape);
          expect_close((*y)[0], want);
        }
}

TEST(Conv, Errors) {
  const auto run_conv = [](std::vector<int64_t> x_shape, std::vector<int64_t> w_shape, int64_t group,
                           std::vector<int64_t> kernel) {
    OneNode n(11, "Conv");
    n.input(make_tensor<float>(x_shape, random_floats(numel_of(x_shape), 1)), true);
    n.constant(make_tensor<float>(w_shape, random_floats(numel_of(w_shape), 2))).output();
    set_int(n.node(), "group", group);
    if (!kernel.empty()) set_ints(n.node(), "kernel_shape", kernel);
    return n.run();
  };
  auto channels = run_conv({1, 3, 5, 5}, {2, 2, 3, 3}, 1, {});
  ASSERT_FALSE(channels.is_ok());
  EXPECT_NE(channels.status().message().find("channels"), std::string::npos) << channels.status().message();
  auto groups = run_conv({1, 4, 5, 5}, {3, 2, 3, 3}, 2, {});
  ASSERT_FALSE(groups.is_ok());
  EXPECT_NE(groups.status().message().find("group"), std::string::npos) << groups.status().message();
  auto kernel = run_conv({1, 2, 5, 5}, {2, 2, 3, 3}, 1, {2, 2});
  ASSERT_FALSE(kernel.is_ok());
  EXPECT_NE(kernel.status().message().find("kernel_shape"), std::string::npos) << kernel.status().message();
  auto low_rank = run_conv({2, 3}, {2, 2, 3, 3}, 1, {});
  ASSERT_FALSE(low_rank.is_ok());
  EXPECT_NE(low_rank.status().message().find("rank"), std::string::npos) << low_rank.status().message();
  auto too_big = run_conv({1, 2, 2, 2}, {2, 2, 3, 3}, 1, {});
  ASSERT_FALSE(too_big.is_ok());
  EXPECT_NE(too_big.status().message().find("larger"), std::string::npos) << too_big.status().message();
}

// ---------------------------------------------------------------------------------------------------
// MaxPool and AveragePool

// Direct pooling; AveragePool divides by the in-bounds taps, or with count_include_pad by the taps inside
// the padded input (a ceil_mode window may hang past the end padding: that part never counts).
std::vector<double> ref_pool(bool is_max, const std::vector<float>& x, int64_t planes, const Spatial& sp,
                             bool count_include_pad, std::vector<int64_t>& out_sp) {
  const auto g = geometries(sp);
  out_sp.clear();
  std::vector<int64_t> pb, pe;
  for (const auto& gi : g) out_sp.push_back(gi.out), pb.push_back(gi.pad_begin), pe.push_back(gi.pad_end);
  const auto in = padded3(sp.in, 1), k = padded3(sp.kernel, 1), out = padded3(out_sp, 1);
  const auto p0 = padded3(pb, 0), p1 = padded3(pe, 0);
  const auto s = padded3(sp.strides.empty() ? std::vector<int64_t>(sp.in.size(), 1) : sp.strides, 1);
  const auto d = padded3(sp.dilations.empty() ? std::vector<int64_t>(sp.in.size(), 1) : sp.dilations, 1);
  std::vector<double> y;
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t od = 0; od < out[0]; ++od)
      for (int64_t oh = 0; oh < out[1]; ++oh)
        for (int64_t ow = 0; ow < out[2]; ++ow) {
          double best = -INFINITY, sum = 0;
          int64_t valid = 0, padded = 0;
          for (int64_t kd = 0; kd < k[0]; ++kd)
            for (int64_t kh = 0; kh < k[1]; ++kh)
              for (int64_t kw = 0; kw < k[2]; ++kw) {
                const int64_t pos[3] = {od * s[0] - p0[0] + kd * d[0], oh * s[1] - p0[1] + kh * d[1],
                                        ow * s[2] - p0[2] + kw * d[2]};
                bool inside = true, inside_padded = true;
                for (int i = 0; i < 3; ++i) {
                  inside = inside && pos[i] >= 0 && pos[i] < in[static_cast<std::size_t>(i)];
                  inside_padded = inside_padded &&
                                  pos[i] < in[static_cast<std::size_t>(i)] + p1[static_cast<std::size_t>(i)];
                }
                padded += inside_padded;
                if (!inside) continue;
                const double v =
                    x[static_cast<std::size_t>(((p * in[0] + pos[0]) * in[1] + pos[1]) * in[2] + pos[2])];
                best = std::max(best, v);
                sum += v;
                ++valid;
              }
          y.push_back(is_max ? best : sum / static_cast<double>(count_include_pad ? padded : valid));
        }
  return y;
}

TEST(Pool, HandExamples) {
  // AveragePool 3x3, strides 2, ceil_mode over 1..16 (ONNX averagepool_2d_ceil).
  std::vector<float> x(16);
  for (int i = 0; i < 16; ++i) x[static_cast<std::size_t>(i)] = static_cast<float>(i + 1);
  OneNode avg(10, "AveragePool");
  avg.input(make_tensor<float>({1, 1, 4, 4}, x)).output();
  set_window_attrs(avg.node(), {{4, 4}, {3, 3}, {2, 2}, {}, {}, "NOTSET", true}, true);
  auto y = avg.run();
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  EXPECT_EQ((*y)[0].shape(), (std::vector<int64_t>{1, 1, 2, 2}));
  EXPECT_EQ(values_of<float>((*y)[0]), (std::vector<float>{6, 7.5f, 12, 13.5f}));
  // MaxPool 2x2 strides 2 over the same data.
  OneNode mx(8, "MaxPool");
  mx.input(make_tensor<float>({1, 1, 4, 4}, x)).output();
  set_window_attrs(mx.node(), {{4, 4}, {2, 2}, {2, 2}, {}, {}}, true);
  auto y2 = mx.run();
  ASSERT_TRUE(y2.is_ok()) << y2.status().message();
  EXPECT_EQ(values_of<float>((*y2)[0]), (std::vector<float>{6, 8, 14, 16}));
}

TEST(Pool, RandomAgainstReference) {
  const std::vector<Spatial> spatials = {
      {{9}, {3}, {}, {}, {}},
      {{10}, {3}, {2}, {}, {1, 1}},
      {{10}, {4}, {3}, {}, {2, 1}, "NOTSET", true},
      {{11}, {3}, {2}, {2}, {1, 2}},
      {{8}, {3}, {3}, {}, {}, "SAME_UPPER"},
      {{6, 7}, {3, 3}, {}, {}, {}},
      {{6, 7}, {3, 2}, {2, 2}, {}, {1, 0, 1, 1}},
      {{7, 7}, {3, 3}, {2, 2}, {}, {1, 1, 1, 1}, "NOTSET", true},
      {{8, 5}, {2, 3}, {3, 2}, {}, {}, "NOTSET", true},
      {{4}, {3}, {2}, {}, {0, 2}, "NOTSET", true},  // last ceil window would start in padding
      {{4, 6}, {3, 2}, {2, 2}, {}, {0, 0, 2, 1}, "NOTSET", true},
      {{9, 8}, {3, 2}, {2, 2}, {2, 2}, {2, 1, 2, 1}},
      {{6, 5}, {3, 2}, {2, 3}, {}, {}, "SAME_UPPER"},
      {{6, 5}, {3, 2}, {2, 3}, {}, {}, "SAME_LOWER"},
      {{7, 6}, {2, 3}, {2, 2}, {}, {}, "VALID"},
      {{4, 5, 6}, {2, 3, 2}, {2, 1, 2}, {}, {1, 1, 0, 0, 1, 1}},
  };
  uint32_t seed = 80;
  for (const auto& sp : spatials)
    for (bool is_max : {true, false})
      for (bool include_pad : {false, true}) {
        if (is_max && include_pad) continue;
        if (!is_max && !sp.dilations.empty()) continue;  // AveragePool takes dilations only from opset 19
        std::vector<int64_t> x_shape{2, 3};
        x_shape.insert(x_shape.end(), sp.in.begin(), sp.in.end());
        const auto x = random_floats(numel_of(x_shape), seed++, -5.0f, 5.0f);
        OneNode n(12, is_max ? "MaxPool" : "AveragePool");
        n.input(make_tensor<float>(x_shape, x)).output();
        set_window_attrs(n.node(), sp, true);
        if (include_pad) set_int(n.node(), "count_include_pad", 1);
        auto y = n.run();
        ASSERT_TRUE(y.is_ok()) << y.status().message();
        std::vector<int64_t> out_sp;
        const auto want = ref_pool(is_max, x, 6, sp, include_pad, out_sp);
        std::vector<int64_t> want_shape{2, 3};
        want_shape.insert(want_shape.end(), out_sp.begin(), out_sp.end());
        SCOPED_TRACE(std::string(is_max ? "MaxPool" : "AveragePool") + " X " + shape_string(x_shape) +
                     " kernel " + shape_string(sp.kernel) + " auto_pad " + sp.auto_pad +
                     (sp.ceil_mode ? " ceil" : "") + (include_pad ? " count_include_pad" : ""));
        EXPECT_EQ((*y)[0].shape(), want_shape);
        expect_close((*y)[0], want);
      }
}

TEST(Pool, MaxPoolIndices) {
  // 1 x 2 x 3 x 3; 2x2 windows, stride 1: indices count over the whole tensor (channel 1 starts at 9).
  const std::vector<float> x{1, 9, 2, 3, 4, 5, 8, 6, 7, /* channel 1 */ 0, 0, 0, 0, 1, 0, 0, 0, 2};
  for (int64_t order : {0, 1}) {
    OneNode n(12, "MaxPool");
    n.input(make_tensor<float>({1, 2, 3, 3}, x)).output().output(onnx::TensorProto::INT64);
    set_ints(n.node(), "kernel_shape", {2, 2});
    set_int(n.node(), "storage_order", order);
    auto y = n.run();
    ASSERT_TRUE(y.is_ok()) << y.status().message();
    EXPECT_EQ(values_of<float>((*y)[0]), (std::vector<float>{9, 9, 8, 7, 1, 1, 1, 2}));
    // Row-major positions (h * 3 + w) of 9, 9, 8, 7 | 1, 1, 1, 2, or column-major (h + w * 3).
    const std::vector<int64_t> row{1, 1, 6, 8, 13, 13, 13, 17}, col{3, 3, 2, 8, 13, 13, 13, 17};
    EXPECT_EQ(values_of<int64_t>((*y)[1]), order ? col : row);
  }
}

TEST(Pool, UInt8MaxPoolAndErrors) {
  OneNode u(12, "MaxPool");
  u.input(make_tensor<uint8_t>({1, 1, 4}, {3, 250, 7, 1})).output(onnx::TensorProto::UINT8);
  set_ints(u.node(), "kernel_shape", {2});
  auto y = u.run();
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  EXPECT_EQ(values_of<uint8_t>((*y)[0]), (std::vector<uint8_t>{250, 250, 7}));

  OneNode rank(12, "AveragePool");
  rank.input(make_tensor<float>({1, 1, 4}, {1, 2, 3, 4}), true).output();
  set_ints(rank.node(), "kernel_shape", {2, 2});
  auto y2 = rank.run();
  ASSERT_FALSE(y2.is_ok());
  EXPECT_NE(y2.status().message().find("rank"), std::string::npos) << y2.status().message();

  OneNode pads(12, "MaxPool");
  pads.input(make_tensor<float>({1, 1, 4}, {1, 2, 3, 4}), true).output();
  set_ints(pads.node(), "kernel_shape", {2});
  set_ints(pads.node(), "pads", {1});
  auto y3 = pads.run();
  ASSERT_FALSE(y3.is_ok());
  EXPECT_NE(y3.status().message().find("pads"), std::string::npos) << y3.status().message();
}

TEST(Pool, GlobalPools) {
  const std::vector<std::vector<int64_t>> shapes = {{2, 3, 5}, {1, 4, 3, 3}, {2, 2, 2, 3, 2}};
  uint32_t seed = 90;
  for (const auto& shape : shapes) {
    const auto x = random_floats(numel_of(shape), seed++);
    const int64_t planes = shape[0] * shape[1], size = numel_of(shape) / planes;
    std::vector<double> want_avg, want_max;
    for (int64_t p = 0; p < planes; ++p) {
      double s = 0, m = -INFINITY;
      for (int64_t i = 0; i < size; ++i) {
        s += x[static_cast<std::size_t>(p * size + i)];
        m = std::max<double>(m, x[static_cast<std::size_t>(p * size + i)]);
      }
      want_avg.push_back(s / static_cast<double>(size));
      want_max.push_back(m);
    }
    std::vector<int64_t> want_shape(shape.size(), 1);
    want_shape[0] = shape[0], want_shape[1] = shape[1];
    for (const char* op : {"GlobalAveragePool", "GlobalMaxPool"}) {
      OneNode n(13, op);
      n.input(make_tensor<float>(shape, x)).output();
      auto y = n.run();
      ASSERT_TRUE(y.is_ok()) << y.status().message();
      EXPECT_EQ((*y)[0].shape(), want_shape) << op;
      expect_close((*y)[0], std::string(op) == "GlobalMaxPool" ? want_max : want_avg);
    }
  }
}

// The ONNX node test cases for these ops run in tests/conformance/onnx_node_test.cc, with every other
// in-scope case and one skip list.

}  // namespace
}  // namespace tandem::test
