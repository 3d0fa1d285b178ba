// The random ops (RandomUniform, RandomNormal, their Like forms, Bernoulli, Multinomial) and Dropout in
// training mode, through the real pipeline. No expected value here comes from the kernels' own output:
// large draws are held to their distributions' properties with bounds of 6 standard errors or more (a
// false failure about once in 10^8 runs per check), seeds to a reproducible sequence of draws, and every
// call (run after run, Loop iteration, concurrent runs) to fresh draws.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "runtime/executor.h"
#include "runtime_cpu/cpu_device.h"
#include "tests/support/model_builder.h"
#include "tests/support/op_runner.h"
#include "tests/support/single_op.h"

namespace tandem {
namespace {

using namespace tandem::test;
using Op = SingleOp;

// --- helpers ---------------------------------------------------------------------------------------------

std::vector<double> doubles(const Tensor& t) {
  std::vector<double> v(static_cast<std::size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[static_cast<std::size_t>(i)] = element_as_double(t, i);
  return v;
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double variance_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return s / static_cast<double>(v.size() - 1);
}

// Six standard errors of a frequency with probability p over n trials.
double six_se(double p, double n) { return 6.0 * std::sqrt(p * (1.0 - p) / n); }

// Checks a sample against a distribution with this mean, variance and kurtosis (mu4 / sigma^4): the mean
// within 6 standard errors, the variance within 6 standard errors of the sample variance.
void expect_moments(const std::vector<double>& v, double mean, double var, double kurtosis, const std::string& what) {
  const double n = static_cast<double>(v.size());
  EXPECT_NEAR(mean_of(v), mean, 6.0 * std::sqrt(var / n)) << what << ": mean";
  EXPECT_NEAR(variance_of(v) / var, 1.0, 6.0 * std::sqrt((kurtosis - 1.0) / n)) << what << ": variance";
}

// A model compiled once, to run several times (and from several threads) in one session.
struct Compiled {
  ModelIR ir;
  std::shared_ptr<const GraphExecutor> exec;
  std::vector<Tensor> feeds;

  Tensor run() const {
    std::vector<const Tensor*> ptrs;
    for (const Tensor& t : feeds) ptrs.push_back(&t);
    auto r = exec->run(ptrs);
    EXPECT_TRUE(r) << r.status().message();
    return r ? (*r)[0] : Tensor();
  }
};

std::unique_ptr<Compiled> compile(const Op& op, std::vector<DType> types) {
  static const cpu::CpuDevice device;
  auto c = std::make_unique<Compiled>();
  auto ir = import_proto(op.proto(std::move(types)));
  EXPECT_TRUE(ir) << ir.status().message();
  if (!ir) return nullptr;
  c->ir = std::move(*ir);
  auto exec = GraphExecutor::compile(*c->ir.graph, device);
  EXPECT_TRUE(exec) << exec.status().message();
  if (!exec) return nullptr;
  c->exec = *exec;
  c->feeds = op.feeds();
  return c;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

Op uniform(float low, float high, I64 shape, int64_t dtype = 1) {
  return Op(17, "RandomUniform").attr("low", low).attr("high", high).attr("shape", shape).attr("dtype", dtype);
}

Op normal(float mean, float scale, I64 shape, int64_t dtype = 1) {
  return Op(17, "RandomNormal").attr("mean", mean).attr("scale", scale).attr("shape", shape).attr("dtype", dtype);
}

constexpr int64_t kF16 = 10, kF32 = 1, kF64 = 11;

// ============================== RandomUniform, RandomUniformLike =========================================

TEST(RandomUniform, DrawsAreUniformOnLowHigh) {
  const double low = -2, high = 5, w = high - low;
  for (auto [onnx_type, dtype] : {std::pair{kF32, DType::kFloat32}, std::pair{kF64, DType::kFloat64},
                                  std::pair{kF16, DType::kFloat16}}) {
    const std::string what(dtype_name(dtype));
    Tensor y = uniform(static_cast<float>(low), static_cast<float>(high), {400, 500}, onnx_type).out({dtype});
    ASSERT_TRUE(y.defined()) << what;
    EXPECT_EQ(y.dtype(), dtype);
    EXPECT_EQ(y.shape(), (I64{400, 500}));
    const std::vector<double> v = doubles(y);
    double lo = high, hi = low;
    for (double x : v) lo = std::min(lo, x), hi = std::max(hi, x);
    EXPECT_GE(lo, low) << what;
    EXPECT_LT(hi, high) << what;
    EXPECT_LT(lo, low + 0.01 * w) << what << ": the draws reach down to low";
    EXPECT_GT(hi, high - 0.01 * w) << what << ": the draws reach up to high";
    expect_moments(v, (low + high) / 2, w * w / 12, 9.0 / 5.0, what);
    // Ten equal bins hold a tenth each.
    std::vector<double> bins(10);
    for (double x : v) bins[std::min<std::size_t>(9, static_cast<std::size_t>((x - low) / w * 10))] += 1;
    for (std::size_t b = 0; b < bins.size(); ++b)
      EXPECT_NEAR(bins[b] / static_cast<double>(v.size()), 0.1, six_se(0.1, static_cast<double>(v.size())))
          << what << ": bin " << b;
  }
}

TEST(RandomUniform, DefaultsAreFloatOnZeroOne) {
  Op op(17, "RandomUniform");
  op.attr("shape", I64{100000});
  Tensor y = op.out({DType::kFloat32});
  ASSERT_TRUE(y.defined());
  EXPECT_EQ(y.dtype(), DType::kFloat32);
  const std::vector<double> v = doubles(y);
  for (double x : v) ASSERT_TRUE(x >= 0.0 && x < 1.0) << x;
  expect_moments(v, 0.5, 1.0 / 12, 9.0 / 5.0, "default");
}

TEST(RandomUniform, NeverReachesHighEvenWhenTheIntervalIsOneStep) {
  // [1, 1 + 2^-10) in float16 holds the one value 1: draws that round up to high must come back below it.
  Tensor y = uniform(1.0f, 1.0f + 0x1.0p-10f, {10000}, kF16).out({DType::kFloat16});
  ASSERT_TRUE(y.defined());
  for (double x : doubles(y)) ASSERT_EQ(x, 1.0);
  // Equal bounds give low.
  Tensor z = uniform(3.0f, 3.0f, {10}, kF32).out({DType::kFloat32});
  ASSERT_TRUE(z.defined());
  for (double x : doubles(z)) EXPECT_EQ(x, 3.0);
}

TEST(RandomUniformLike, TakesTheInputsShapeAndType) {
  {  // dtype defaults to the input's
    Op op(17, "RandomUniformLike");
    op.in(Tensor::zeros(DType::kFloat64, {3, 0, 2}));
    Tensor y = op.out({DType::kFloat64});
    EXPECT_EQ(y.dtype(), DType::kFloat64);
    EXPECT_EQ(y.shape(), (I64{3, 0, 2}));
  }
  {  // a dtype attribute overrides it, and any input type does with one
    Op op(17, "RandomUniformLike");
    op.in(Tensor::zeros(DType::kInt64, {200, 300})).attr("dtype", kF16).attr("low", 10.0f).attr("high", 12.0f);
    Tensor y = op.out({DType::kFloat16});
    ASSERT_EQ(y.dtype(), DType::kFloat16);
    EXPECT_EQ(y.shape(), (I64{200, 300}));
    const std::vector<double> v = doubles(y);
    for (double x : v) ASSERT_TRUE(x >= 10.0 && x < 12.0) << x;
    expect_moments(v, 11.0, 4.0 / 12, 9.0 / 5.0, "float16 like int64");
  }
  // An integer input without a dtype has no float type to give (ONNX's type inference already says so).
  expect_error(Op(17, "RandomUniformLike").in(i64({2}, {1, 2})).run({DType::kInt64}),
               "node 'n' (RandomUniformLike): shape inference: output has unsupported type tensor(int64)");
}

// ============================== RandomNormal, RandomNormalLike ===========================================

TEST(RandomNormal, DrawsHaveTheMeanAndScale) {
  const double mean = 3, scale = 0.5;
  for (auto [onnx_type, dtype] : {std::pair{kF32, DType::kFloat32}, std::pair{kF64, DType::kFloat64},
                                  std::pair{kF16, DType::kFloat16}}) {
    const std::string what(dtype_name(dtype));
    Tensor y = normal(static_cast<float>(mean), static_cast<float>(scale), {500, 400}, onnx_type).out({dtype});
    ASSERT_TRUE(y.defined()) << what;
    EXPECT_EQ(y.dtype(), dtype);
    EXPECT_EQ(y.shape(), (I64{500, 400}));
    const std::vector<double> v = doubles(y);
    const double n = static_cast<double>(v.size());
    expect_moments(v, mean, scale * scale, 3.0, what);
    // The shape of the bell: 68.27% within one scale of the mean, 95.45% within two, symmetric.
    double in1 = 0, in2 = 0, above = 0;
    for (double x : v) {
      in1 += std::abs(x - mean) < scale;
      in2 += std::abs(x - mean) < 2 * scale;
      above += x > mean;
    }
    EXPECT_NEAR(in1 / n, 0.682689, six_se(0.682689, n)) << what;
    EXPECT_NEAR(in2 / n, 0.954500, six_se(0.954500, n)) << what;
    EXPECT_NEAR(above / n, 0.5, six_se(0.5, n)) << what;
  }
}

TEST(RandomNormalLike, TakesTheInputsShapeAndType) {
  Op op(17, "RandomNormalLike");
  op.in(Tensor::zeros(DType::kFloat16, {300, 300})).attr("mean", -1.0f).attr("scale", 2.0f);
  Tensor y = op.out({DType::kFloat16});
  ASSERT_EQ(y.dtype(), DType::kFloat16);
  EXPECT_EQ(y.shape(), (I64{300, 300}));
  expect_moments(doubles(y), -1.0, 4.0, 3.0, "float16");
  Op f64(17, "RandomNormalLike");
  f64.in(Tensor::zeros(DType::kFloat32, {7})).attr("dtype", kF64);
  EXPECT_EQ(f64.out({DType::kFloat64}).dtype(), DType::kFloat64);
}

// ============================== seeds ====================================================================

// A seed fixes a kernel's sequence of draws: its k-th call draws alike in every session (the first as
// std::mt19937_64 from the seed, the single-op run), while successive calls draw afresh.
TEST(RandomSeeds, ASeedFixesTheSequenceOfDrawsAcrossSessions) {
  auto seeded = [](float seed) { return uniform(0, 1, {1000}).attr("seed", seed); };
  auto a = compile(seeded(5.0f), {DType::kFloat32});
  auto b = compile(seeded(5.0f), {DType::kFloat32});
  ASSERT_TRUE(a && b);
  const Tensor first = a->run(), second = a->run(), third = a->run();
  EXPECT_FALSE(same_bytes(first, second)) << "same session, next run";
  EXPECT_FALSE(same_bytes(second, third)) << "same session, the run after";
  EXPECT_TRUE(same_bytes(first, b->run())) << "another session, first run";
  EXPECT_TRUE(same_bytes(second, b->run())) << "another session, second run";
  EXPECT_TRUE(same_bytes(third, b->run())) << "another session, third run";
  EXPECT_TRUE(same_bytes(first, seeded(5.0f).out({DType::kFloat32})));
  EXPECT_FALSE(same_bytes(first, seeded(6.0f).out({DType::kFloat32}))) << "another seed";
  EXPECT_FALSE(same_bytes(first, seeded(5.5f).out({DType::kFloat32}))) << "seeds differing in fraction bits";

  // Every op with a seed attribute.
  const Tensor on = make_bool_tensor({}, {true});
  for (const auto& [op, types] : std::vector<std::pair<Op, std::vector<DType>>>{
           {normal(0, 1, {100}).attr("seed", 1.0f), {DType::kFloat32}},
           {Op(17, "RandomUniformLike").in(iota({100})).attr("seed", 2.0f), {}},
           {Op(17, "RandomNormalLike").in(iota({100})).attr("seed", 2.0f), {}},
           {Op(17, "Bernoulli").in(f32({100}, F32(100, 0.5f))).attr("seed", 3.0f), {}},
           {Op(17, "Multinomial").in(f32({1, 3}, {0, 0, 0})).attr("sample_size", int64_t{100}).attr("seed", 4.0f),
            {DType::kInt32}},
           {Op(13, "Dropout").in(iota({100})).in(f32({}, {0.5f})).in(on).attr("seed", int64_t{7}), {}}}) {
    const std::string what = op.proto(types).graph().node(0).op_type();
    auto x = compile(op, types), y = compile(op, types);
    ASSERT_TRUE(x && y) << what;
    const Tensor once = x->run(), twice = x->run();
    EXPECT_FALSE(same_bytes(once, twice)) << what << ": same session, next run";
    EXPECT_TRUE(same_bytes(once, y->run())) << what << ": another session, first run";
    EXPECT_TRUE(same_bytes(twice, y->run())) << what << ": another session, second run";
  }
}

// A Loop whose body draws from a seeded RandomUniform: each iteration draws afresh (a seed that repeated
// each call's draws gave every iteration the same sample), and another session repeats the whole run.
TEST(RandomSeeds, EachLoopIterationDrawsAfresh) {
  auto m = make_model(17);
  auto& g = *m.mutable_graph();
  add_input(g, "M", onnx::TensorProto::INT64, {});
  add_input(g, "go", onnx::TensorProto::BOOL, {});
  auto* loop = add_node(g, "Loop", {"M", "go"}, {"draws"}, "loop");
  auto* body = set_graph(loop, "body");
  body->set_name("draw");
  add_input(*body, "i", onnx::TensorProto::INT64, {});
  add_input(*body, "cond_in", onnx::TensorProto::BOOL, {});
  add_node(*body, "Identity", {"cond_in"}, {"cond_out"}, "keep_going");
  auto* r = add_node(*body, "RandomUniform", {}, {"r"}, "sample");
  set_ints(r, "shape", {16});
  set_float(r, "seed", 3.0f);
  add_output(*body, "cond_out", onnx::TensorProto::BOOL);
  add_output(*body, "r", onnx::TensorProto::FLOAT);
  add_output(g, "draws", onnx::TensorProto::FLOAT);
  const std::vector<Tensor> in = {make_tensor<int64_t>({}, {3}), make_bool_tensor({}, {true})};
  std::vector<Tensor> runs;
  for (int session = 0; session < 2; ++session) {
    auto out = run_on_cpu(m, in);
    ASSERT_TRUE(out) << out.status().message();
    runs.push_back((*out)[0]);
  }
  const Tensor& draws = runs[0];
  ASSERT_EQ(draws.shape(), (I64{3, 16}));
  const float* v = draws.data<float>();
  EXPECT_NE(std::memcmp(v, v + 16, 16 * sizeof(float)), 0) << "iterations 0 and 1";
  EXPECT_NE(std::memcmp(v + 16, v + 32, 16 * sizeof(float)), 0) << "iterations 1 and 2";
  EXPECT_TRUE(same_bytes(draws, runs[1])) << "another session";
}

TEST(RandomSeeds, WithoutASeedEveryRunDrawsAfresh) {
  auto c = compile(uniform(0, 1, {64}), {DType::kFloat32});
  auto d = compile(uniform(0, 1, {64}), {DType::kFloat32});
  ASSERT_TRUE(c && d);
  const Tensor first = c->run();
  EXPECT_FALSE(same_bytes(first, c->run())) << "same session, next run";
  EXPECT_FALSE(same_bytes(first, d->run())) << "another session";

  // Concurrent runs of one session: 4 threads x 25 runs, all different.
  std::vector<std::vector<Tensor>> got(4);
  std::vector<std::thread> threads;
  for (auto& out : got)
    threads.emplace_back([&c, &out] {
      for (int k = 0; k < 25; ++k) out.push_back(c->run());
    });
  for (auto& t : threads) t.join();
  std::set<std::string> distinct;  // each run's bytes
  for (const auto& out : got)
    for (const Tensor& t : out) distinct.insert(std::string(static_cast<const char*>(t.raw()), t.nbytes()));
  EXPECT_EQ(distinct.size(), 100u);

  // And for the other ops.
  const Tensor on = make_bool_tensor({}, {true});
  for (const auto& [op, types] : std::vector<std::pair<Op, std::vector<DType>>>{
           {normal(0, 1, {64}), {DType::kFloat32}},
           {Op(17, "RandomNormalLike").in(iota({64})), {}},
           {Op(17, "Bernoulli").in(f32({256}, F32(256, 0.5f))), {}},
           {Op(17, "Multinomial").in(f32({1, 4}, {0, 0, 0, 0})).attr("sample_size", int64_t{256}), {DType::kInt32}},
           {Op(13, "Dropout").in(iota({256})).in(f32({}, {0.5f})).in(on), {}}}) {
    const std::string what = op.proto(types).graph().node(0).op_type();
    auto k = compile(op, types);
    ASSERT_TRUE(k) << what;
    EXPECT_FALSE(same_bytes(k->run(), k->run())) << what;
  }
}

// ============================== Bernoulli ================================================================

TEST(Bernoulli, FrequenciesFollowTheProbabilities) {
  const F32 probs = {0.0f, 0.05f, 0.2f, 0.5f, 0.7f, 1.0f};
  const int64_t per = 40000;
  F32 p;
  for (float q : probs) p.insert(p.end(), static_cast<std::size_t>(per), q);
  const Tensor input = f32({static_cast<int64_t>(probs.size()), per}, p);
  // The output type: the input's by default, else the dtype attribute's (numeric or bool).
  for (auto [onnx_type, dtype] : {std::pair{int64_t{0}, DType::kFloat32}, std::pair{kF64, DType::kFloat64},
                                  std::pair{int64_t{7}, DType::kInt64}, std::pair{int64_t{2}, DType::kUInt8},
                                  std::pair{int64_t{9}, DType::kBool}, std::pair{kF16, DType::kFloat16}}) {
    const std::string what(dtype_name(dtype));
    Op op(17, "Bernoulli");
    op.in(input);
    if (onnx_type) op.attr("dtype", onnx_type);
    Tensor y = op.out({dtype});
    ASSERT_TRUE(y.defined()) << what;
    EXPECT_EQ(y.dtype(), dtype);
    EXPECT_EQ(y.shape(), input.shape());
    const std::vector<double> v = doubles(y);
    for (std::size_t g = 0; g < probs.size(); ++g) {
      double ones = 0;
      for (int64_t i = 0; i < per; ++i) {
        const double x = v[g * static_cast<std::size_t>(per) + static_cast<std::size_t>(i)];
        ASSERT_TRUE(x == 0.0 || x == 1.0) << what << ": " << x;
        ones += x;
      }
      const double q = probs[g];
      if (q == 0.0f || q == 1.0f) {
        EXPECT_EQ(ones, q * static_cast<double>(per)) << what << ": p = " << q;
      } else {
        EXPECT_NEAR(ones / static_cast<double>(per), q, six_se(q, static_cast<double>(per))) << what << ": p = " << q;
      }
    }
  }
  // A float16 input.
  Op half(17, "Bernoulli");
  half.in(Tensor::zeros(DType::kFloat16, {5}));
  EXPECT_EQ(values_of<uint16_t>(half.out()), std::vector<uint16_t>(5, 0));
}

TEST(Bernoulli, ProbabilitiesOutsideZeroOneAreRefused) {
  expect_error(Op(17, "Bernoulli").in(f32({3}, {0.5f, 1.5f, 0.0f})).run(), "probability 1.5");
  expect_error(Op(17, "Bernoulli").in(f32({2}, {-0.25f, 0.0f})).run(), "outside [0, 1]");
  expect_error(Op(17, "Bernoulli").in(f32({1}, {std::nanf("")})).run(), "outside [0, 1]");
}

// ============================== Multinomial ==============================================================

TEST(Multinomial, FrequenciesFollowTheSoftmaxOfEachRow) {
  const F32 logits = {0.0f, 1.0f, 2.0f, -1.0f,                                      // row 0
                      5.0f, 5.0f, -std::numeric_limits<float>::infinity(), 4.0f};  // row 1: class 2 impossible
  const int64_t samples = 100000;
  for (auto [onnx_type, dtype] : {std::pair{int64_t{0}, DType::kInt32}, std::pair{int64_t{7}, DType::kInt64}}) {
    const std::string what(dtype_name(dtype));
    Op op(17, "Multinomial");
    op.in(f32({2, 4}, logits)).attr("sample_size", samples);
    if (onnx_type) op.attr("dtype", onnx_type);
    Tensor y = op.out({dtype});
    ASSERT_TRUE(y.defined()) << what;
    EXPECT_EQ(y.dtype(), dtype);
    ASSERT_EQ(y.shape(), (I64{2, samples}));
    const std::vector<double> v = doubles(y);
    for (int64_t row = 0; row < 2; ++row) {
      double z = 0;
      for (int c = 0; c < 4; ++c) z += std::exp(static_cast<double>(logits[static_cast<std::size_t>(row * 4 + c)]));
      std::vector<double> count(4);
      for (int64_t s = 0; s < samples; ++s) {
        const double c = v[static_cast<std::size_t>(row * samples + s)];
        ASSERT_TRUE(c == 0 || c == 1 || c == 2 || c == 3) << c;
        count[static_cast<std::size_t>(c)] += 1;
      }
      for (int c = 0; c < 4; ++c) {
        const double p = std::exp(static_cast<double>(logits[static_cast<std::size_t>(row * 4 + c)])) / z;
        if (p == 0) {
          EXPECT_EQ(count[static_cast<std::size_t>(c)], 0) << what << ": row " << row << " class " << c;
        } else {
          EXPECT_NEAR(count[static_cast<std::size_t>(c)] / static_cast<double>(samples), p,
                      six_se(p, static_cast<double>(samples)))
              << what << ": row " << row << " class " << c;
        }
      }
    }
  }
  // The default sample_size is 1.
  EXPECT_EQ(Op(17, "Multinomial").in(f32({3, 2}, F32(6, 0.0f))).out({DType::kInt32}).shape(), (I64{3, 1}));
}

TEST(Multinomial, RowsWithoutADistributionAreRefused) {
  const float inf = std::numeric_limits<float>::infinity();
  expect_error(Op(17, "Multinomial").in(f32({2, 2}, {0, 0, -inf, -inf})).run({DType::kInt32}),
               "row 1 gives every class probability 0");
  expect_error(Op(17, "Multinomial").in(f32({1, 2}, {0, std::nanf("")})).run({DType::kInt32}), "row 0 holds nan");
  expect_error(Op(17, "Multinomial").in(f32({1, 2}, {0, inf})).run({DType::kInt32}), "row 0 holds inf");
}

// ============================== Dropout in training mode =================================================

Op training_dropout(const Tensor& x, std::optional<float> ratio) {
  Op op(13, "Dropout", 2);
  op.in(x);
  if (ratio)
    op.in(f32({}, {*ratio}));
  else
    op.skip();
  op.in(make_bool_tensor({}, {true}));
  return op;
}

TEST(DropoutTraining, KeptElementsAreScaledAndTheRestZero) {
  const int64_t n = 200000;
  F32 xs(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) xs[static_cast<std::size_t>(i)] = 1.0f + static_cast<float>(i % 1000) * 0.37f;
  const Tensor x = f32({n}, xs);
  for (std::optional<float> ratio : {std::optional<float>(0.3f), std::optional<float>(0.9f), std::optional<float>()}) {
    const double r = ratio ? static_cast<double>(*ratio) : 0.5;  // 0.5 without the input
    const std::string what = "ratio " + std::to_string(r);
    auto out = training_dropout(x, ratio).run({DType::kFloat32, DType::kBool});
    ASSERT_TRUE(out) << what << ": " << out.status().message();
    const Tensor& y = (*out)[0];
    const Tensor& mask = (*out)[1];
    ASSERT_EQ(y.dtype(), DType::kFloat32);
    ASSERT_EQ(mask.dtype(), DType::kBool);
    ASSERT_EQ(y.shape(), x.shape());
    ASSERT_EQ(mask.shape(), x.shape());
    double kept = 0;
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t m = mask.data<uint8_t>()[i];
      ASSERT_TRUE(m == 0 || m == 1);
      const double xi = xs[static_cast<std::size_t>(i)];
      const float want = m ? static_cast<float>(xi / (1.0 - r)) : 0.0f;
      ASSERT_EQ(y.data<float>()[i], want) << what << ": element " << i << " mask " << int(m);
      kept += m;
    }
    EXPECT_NEAR(kept / static_cast<double>(n), 1.0 - r, six_se(1.0 - r, static_cast<double>(n))) << what;
  }
}

TEST(DropoutTraining, OtherTypesAndNoMaskOutput) {
  // float16 and float64 data; only the output asked for.
  for (DType t : {DType::kFloat16, DType::kFloat64}) {
    Tensor x = Tensor::empty(t, {10000});
    for (int64_t i = 0; i < x.numel(); ++i) {
      if (t == DType::kFloat16)
        x.data<uint16_t>()[i] = 0x4200;  // 3.0
      else
        x.data<double>()[i] = 3.0;
    }
    Op op(13, "Dropout");
    op.in(x).in(f32({}, {0.75f})).in(make_bool_tensor({}, {true}));
    Tensor y = op.out();
    ASSERT_EQ(y.dtype(), t);
    double kept = 0;
    for (double v : doubles(y)) {
      ASSERT_TRUE(v == 0.0 || v == 12.0) << v;
      kept += v == 12.0;
    }
    EXPECT_NEAR(kept / 10000.0, 0.25, six_se(0.25, 10000.0));
  }
  // A dropped NaN stays NaN (x * mask), as the spec's formula gives.
  Tensor y = training_dropout(f32({1000}, F32(1000, std::nanf(""))), 0.5f).out({DType::kFloat32, DType::kBool});
  for (double v : doubles(y)) ASSERT_TRUE(std::isnan(v));
}

TEST(DropoutTraining, ZeroRatioIsTheIdentityWithAnAllTrueMask) {
  const Tensor x = f32({2, 3}, {1, -2, 3, -4, 5, -6});
  auto out = training_dropout(x, 0.0f).run({DType::kFloat32, DType::kBool});
  ASSERT_TRUE(out) << out.status().message();
  EXPECT_EQ(values_of<float>((*out)[0]), values_of<float>(x));
  EXPECT_EQ(values_of<uint8_t>((*out)[1]), std::vector<uint8_t>(6, 1));
}

TEST(DropoutTraining, RatioOutsideZeroOneIsRefused) {
  const Tensor x = f32({4}, {1, 2, 3, 4});
  expect_error(training_dropout(x, 1.0f).run({DType::kFloat32, DType::kBool}),
               "node 'n' (Dropout): ratio must be in [0, 1) in training mode, got 1");
  expect_error(training_dropout(x, -0.1f).run({DType::kFloat32, DType::kBool}), "ratio must be in [0, 1)");
  expect_error(training_dropout(x, std::nanf("")).run({DType::kFloat32, DType::kBool}), "ratio must be in [0, 1)");
  // At inference the ratio is not read, as before.
  Op inference(13, "Dropout");
  inference.in(x).in(f32({}, {1.0f})).in(make_bool_tensor({}, {false}));
  EXPECT_EQ(values_of<float>(inference.out()), values_of<float>(x));
}

// Opsets 1-6: the is_test attribute, 0 by default, means training with the ratio attribute (0.5 by default);
// the mask then has the data's type, 1 where kept and 0 where dropped.
TEST(DropoutTraining, OpsetsOneToSixTrainUnlessIsTest) {
  const int64_t n = 100000;
  F32 xs(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) xs[static_cast<std::size_t>(i)] = 0.5f + static_cast<float>(i % 97);
  const Tensor x = f32({n}, xs);
  for (int64_t opset : {1, 6})
    for (std::optional<float> ratio : {std::optional<float>(0.2f), std::optional<float>()}) {
      const double r = ratio ? static_cast<double>(*ratio) : 0.5;
      const std::string what = "opset " + std::to_string(opset) + " ratio " + std::to_string(r);
      Op op(opset, "Dropout", 2);
      op.in(x);
      if (ratio) op.attr("ratio", *ratio);
      auto out = op.run({DType::kFloat32, DType::kFloat32});
      ASSERT_TRUE(out) << what << ": " << out.status().message();
      const Tensor& y = (*out)[0];
      const Tensor& mask = (*out)[1];
      ASSERT_EQ(mask.dtype(), DType::kFloat32) << what;
      ASSERT_EQ(mask.shape(), x.shape()) << what;
      double kept = 0;
      for (int64_t i = 0; i < n; ++i) {
        const float m = mask.data<float>()[i];
        ASSERT_TRUE(m == 0.0f || m == 1.0f) << what << ": mask " << m;
        const float want = m == 1.0f ? static_cast<float>(xs[static_cast<std::size_t>(i)] / (1.0 - r)) : 0.0f;
        ASSERT_EQ(y.data<float>()[i], want) << what << ": element " << i;
        kept += m;
      }
      EXPECT_NEAR(kept / static_cast<double>(n), 1.0 - r, six_se(1.0 - r, static_cast<double>(n))) << what;
    }
  // Without a mask output, float64 data.
  Tensor xd = Tensor::empty(DType::kFloat64, {20000});
  for (int64_t i = 0; i < xd.numel(); ++i) xd.data<double>()[i] = 2.0;
  Tensor yd = Op(6, "Dropout").in(xd).attr("ratio", 0.75f).out();
  double kept = 0;
  for (double v : doubles(yd)) {
    ASSERT_TRUE(v == 0.0 || v == 8.0) << v;
    kept += v == 8.0;
  }
  EXPECT_NEAR(kept / 20000.0, 0.25, six_se(0.25, 20000.0));
  // is_test 1 is inference: the input itself and a mask of ones; ratio 0 trains but keeps everything.
  for (int64_t opset : {1, 6}) {
    Op test(opset, "Dropout", 2);
    test.in(x).attr("is_test", int64_t{1}).attr("ratio", 0.9f);
    auto out = test.run({DType::kFloat32, DType::kFloat32});
    ASSERT_TRUE(out) << out.status().message();
    EXPECT_EQ((*out)[0].raw(), x.raw());
    EXPECT_EQ(values_of<float>((*out)[1]), F32(static_cast<std::size_t>(n), 1.0f));
    Op none(opset, "Dropout", 2);
    none.in(x).attr("ratio", 0.0f);
    out = none.run({DType::kFloat32, DType::kFloat32});
    ASSERT_TRUE(out) << out.status().message();
    EXPECT_EQ(values_of<float>((*out)[0]), xs);
    EXPECT_EQ(values_of<float>((*out)[1]), F32(static_cast<std::size_t>(n), 1.0f));
  }
  expect_error(Op(6, "Dropout").in(x).attr("ratio", 1.0f).run(),
               "node 'n' (Dropout): ratio must be in [0, 1) in training mode (is_test 0), got 1");
}

// ============================== errors ===================================================================

TEST(RandomOps, BadAttributesAndHugeShapesAreRefused) {
  expect_error(uniform(2.0f, 1.0f, {3}).run({DType::kFloat32}), "node 'n' (RandomUniform): low (2) is above high (1)");
  expect_error(uniform(0, std::numeric_limits<float>::infinity(), {3}).run({DType::kFloat32}),
               "node 'n' (RandomUniform): low and high must be finite");
  expect_error(normal(std::nanf(""), 1, {3}).run({DType::kFloat32}),
               "node 'n' (RandomNormal): mean and scale must be finite");
  // Shapes and types that the kernels would refuse (check_output_size, the dtype checks) are refused when the
  // model is imported already, by ONNX's type and shape inference and tandem's limits on inferred shapes.
  expect_error(uniform(0, 1, {int64_t{1} << 30, int64_t{1} << 30}).run({DType::kFloat32}),
               "shape [1073741824,1073741824]");
  expect_error(normal(0, 1, {int64_t{1} << 40, int64_t{1} << 20}).run({DType::kFloat32}), "[1099511627776,1048576]");
  expect_error(uniform(0, 1, {3}, 7).run({DType::kInt64}), "int64");
  expect_error(Op(17, "Multinomial").in(f32({1, 2}, {0, 0})).attr("dtype", kF32).run({DType::kFloat32}),
               "int32 or int64");
  expect_error(Op(17, "Multinomial").in(f32({1, 2}, {0, 0})).attr("sample_size", int64_t{1} << 60).run({DType::kInt32}),
               "1152921504606846976");
}

}  // namespace
}  // namespace tandem
