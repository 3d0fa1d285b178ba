// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss through the real pipeline: fixed cases whose
// expected values come from torch.nn.functional.nll_loss / cross_entropy / log_softmax (torch 1.13, in
// double), random cases of several shapes against a direct loop over the flat target (softmax as
// exp / sum, no max shift), and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "tests/support/single_op.h"

namespace tandem {
namespace {

using namespace tandem::test;

// x [2, 3, 2], target [2, 2] with one -1, weights [3].
const F32 kX = {0.5f, -1.25f, 2.0f, 0.75f, -0.5f, 1.5f, 1.0f, 0.25f, -2.0f, 3.0f, 0.125f, -0.75f};
const I64 kT = {2, -1, 0, 1};
const F32 kW = {0.5f, 2.0f, 1.5f};

SingleOp loss_op(const std::string& op, const std::string& reduction, bool weights, int outputs = 1) {
  SingleOp s(13, op, outputs);
  s.in(f32({2, 3, 2}, kX)).in(i64({2, 2}, kT));
  if (weights) s.in(f32({3}, kW));
  s.attr("reduction", reduction).attr("ignore_index", int64_t{-1});
  return s;
}

TEST(NegativeLogLikelihoodLoss, MatchesTorch) {
  expect_near(loss_op("NegativeLogLikelihoodLoss", "none", true).out(), {2, 2}, {0.75, 0.0, -0.5, -6.0});
  expect_near(loss_op("NegativeLogLikelihoodLoss", "sum", true).out(), {}, {-5.75});
  // mean: the weighted sum over the weights of the targets not ignored (1.5 + 0.5 + 2).
  expect_near(loss_op("NegativeLogLikelihoodLoss", "mean", true).out(), {}, {-1.4375});
  // No weights and no ignore_index: the plain mean over all four.
  expect_near(SingleOp(12, "NegativeLogLikelihoodLoss").in(f32({2, 3, 2}, kX)).in(i64({2, 2}, {2, 0, 0, 1})).out(), {},
              {-0.5625});
}

TEST(SoftmaxCrossEntropyLoss, MatchesTorch) {
  auto r = loss_op("SoftmaxCrossEntropyLoss", "none", true, 2).run();
  ASSERT_TRUE(r) << r.status().message();
  expect_near((*r)[0], {2, 2}, {4.149551849710701, 0.0, 0.19149013338067603, 0.167662932471564});
  expect_near((*r)[1], {2, 3, 2},
              {-1.7663678998071337, -3.179373292105246, -0.26636789980713366, -1.1793732921052462, -2.7663678998071335,
               -0.42937329210524633, -0.38298026676135205, -2.833831466235782, -3.382980266761352, -0.083831466235782,
               -1.257980266761352, -3.833831466235782});
  expect_near(loss_op("SoftmaxCrossEntropyLoss", "sum", true).out(), {}, {4.508704915562941});
  expect_near(loss_op("SoftmaxCrossEntropyLoss", "mean", true).out(), {}, {1.1271762288907352});
  // Without weights, mean divides by the three targets not ignored.
  expect_near(loss_op("SoftmaxCrossEntropyLoss", "mean", false).out(), {}, {1.0777265442680892});
}

// --- random cases against a direct loop ---------------------------------------------------------------

struct LossCase {
  I64 shape;  // [N, C, d1..dk]
  bool weights;
  bool ignore;
  int64_t ignore_index;
  std::string reduction;
};

// The expected loss (reduced or not) and log_prob for flat x, target t and weights w.
std::pair<std::vector<double>, std::vector<double>> reference(const LossCase& c, const std::vector<double>& x,
                                                              const I64& t, const std::vector<double>& w,
                                                              bool softmax) {
  const int64_t classes = c.shape[1];
  int64_t d = 1;
  for (std::size_t i = 2; i < c.shape.size(); ++i) d *= c.shape[i];
  std::vector<double> lp(x.size());
  for (std::size_t e = 0; e < x.size(); ++e) {
    if (!softmax) {
      lp[e] = x[e];
      continue;
    }
    const int64_t i = static_cast<int64_t>(e) / (classes * d), j = static_cast<int64_t>(e) % d;
    double s = 0;
    for (int64_t k = 0; k < classes; ++k) s += std::exp(x[static_cast<std::size_t>((i * classes + k) * d + j)]);
    lp[e] = std::log(std::exp(x[e]) / s);
  }
  std::vector<double> loss;
  double sum = 0, wsum = 0;
  for (std::size_t p = 0; p < t.size(); ++p) {
    const int64_t i = static_cast<int64_t>(p) / d, j = static_cast<int64_t>(p) % d;
    const bool skipped = c.ignore && t[p] == c.ignore_index;
    const double wt = skipped ? 0.0 : (c.weights ? w[static_cast<std::size_t>(t[p])] : 1.0);
    const double l = skipped ? 0.0 : -lp[static_cast<std::size_t>((i * classes + t[p]) * d + j)] * wt;
    loss.push_back(l);
    sum += l;
    wsum += wt;
  }
  if (c.reduction == "sum") loss = {sum};
  if (c.reduction == "mean") loss = {sum / wsum};
  return {loss, lp};
}

template <typename T>
void run_random_case(const LossCase& c, bool softmax, std::mt19937& gen) {
  SCOPED_TRACE(::testing::Message() << (softmax ? "SCE " : "NLL ") << c.reduction << " rank " << c.shape.size()
                                    << (c.weights ? " weights" : "") << (c.ignore ? " ignore" : ""));
  std::uniform_real_distribution<double> val(-3, 3), wd(0.1, 2);
  const int64_t classes = c.shape[1];
  std::uniform_int_distribution<int64_t> cls(0, classes - 1);
  std::bernoulli_distribution pick_ignore(0.25);
  I64 tshape = {c.shape[0]};
  tshape.insert(tshape.end(), c.shape.begin() + 2, c.shape.end());
  std::vector<double> x(static_cast<std::size_t>(shape_numel(c.shape))), w(static_cast<std::size_t>(classes));
  I64 t(static_cast<std::size_t>(shape_numel(tshape)));
  std::vector<T> xt(x.size()), wt(w.size());
  for (std::size_t i = 0; i < x.size(); ++i) xt[i] = static_cast<T>(val(gen)), x[i] = static_cast<double>(xt[i]);
  for (std::size_t i = 0; i < w.size(); ++i) wt[i] = static_cast<T>(wd(gen)), w[i] = static_cast<double>(wt[i]);
  for (auto& v : t) v = c.ignore && pick_ignore(gen) ? c.ignore_index : cls(gen);
  while (c.ignore && t[0] == c.ignore_index) t[0] = cls(gen);  // one target counts, so mean is not 0/0 (EveryTargetIgnoredMeanIsNaN covers that)
  SingleOp op(13, softmax ? "SoftmaxCrossEntropyLoss" : "NegativeLogLikelihoodLoss", softmax ? 2 : 1);
  op.in(make_tensor<T>(c.shape, xt)).in(make_tensor<int32_t>(tshape, std::vector<int32_t>(t.begin(), t.end())));
  if (c.weights) op.in(make_tensor<T>({classes}, wt));
  op.attr("reduction", c.reduction);
  if (c.ignore) op.attr("ignore_index", c.ignore_index);
  const auto [want, want_lp] = reference(c, x, t, w, softmax);
  auto r = op.run();
  ASSERT_TRUE(r) << r.status().message();
  const double tol = std::is_same_v<T, float> ? 2e-5 : 1e-12;
  expect_near((*r)[0], c.reduction == "none" ? tshape : I64{}, want, tol, tol);
  if (softmax) expect_near((*r)[1], c.shape, want_lp, tol, tol);
}

TEST(Losses, RandomShapesAgainstDirectLoop) {
  std::mt19937 gen(31);
  const std::vector<I64> shapes = {{5, 4}, {3, 6, 7}, {2, 3, 2, 3, 2}, {1, 1, 4}};
  for (const I64& s : shapes)
    for (const char* red : {"none", "sum", "mean"})
      for (bool weights : {false, true})
        for (int64_t ii : {int64_t{-100}, int64_t{-1}, int64_t{0}, int64_t{2}})
          for (bool softmax : {false, true}) {
            const LossCase c{s, weights, ii != -100, ii == -100 ? 0 : ii, red};
            if (c.ignore && c.ignore_index >= 0 && c.ignore_index >= s[1] - 1) continue;  // leave a class to pick
            run_random_case<float>(c, softmax, gen);
            run_random_case<double>(c, softmax, gen);
          }
}

TEST(Losses, EveryTargetIgnoredMeanIsNaN) {
  // 0 / 0, as torch and ONNX's function body give.
  const Tensor y = SingleOp(13, "NegativeLogLikelihoodLoss").in(iota({2, 3})).in(i64({2}, {1, 1}))
                       .attr("ignore_index", int64_t{1}).out();
  ASSERT_EQ(y.numel(), 1);
  EXPECT_TRUE(std::isnan(values_of<float>(y)[0]));
}

// An input [2^40, 1, 0] (a zero-size tensor may have such a dimension) with target [2^40, 0] has no
// positions at all, but the loops walked its 2^40 rows for hours (found by the fuzzer).
TEST(Losses, NoPositionsAmongHugelyManyRowsEndAtOnce) {
  constexpr int64_t kHuge = int64_t{1} << 40;
  for (const char* op : {"NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"}) {
    SCOPED_TRACE(op);
    const Tensor x = Tensor::empty(DType::kFloat32, {kHuge, 1, 0}), t = Tensor::empty(DType::kInt64, {kHuge, 0});
    EXPECT_EQ(SingleOp(13, op).in(x).in(t).attr("reduction", "none").out().shape(), (I64{kHuge, 0}));
    const Tensor mean = SingleOp(13, op).in(x).in(t).out();  // no targets: 0 / 0
    ASSERT_EQ(mean.numel(), 1);
    EXPECT_TRUE(std::isnan(values_of<float>(mean)[0]));
  }
}

TEST(Losses, Errors) {
  expect_error(SingleOp(13, "NegativeLogLikelihoodLoss").in(iota({2, 3})).in(i64({2}, {1, 3})).run(),
               "target 3 (element 1) is out of range for 3 classes (no ignore_index is set)");
  expect_error(SingleOp(13, "SoftmaxCrossEntropyLoss").in(iota({2, 3})).in(i64({2}, {-2, -1}))
                   .attr("ignore_index", int64_t{-1}).run(),
               "labels -2 (element 0) is out of range for 3 classes and is not ignore_index -1");
  expect_error(SingleOp(13, "NegativeLogLikelihoodLoss").in(iota({2, 3, 4})).in(i64({2, 3}, {0, 0, 0, 0, 0, 0})).run(),
               "does not match input");
  expect_error(SingleOp(13, "NegativeLogLikelihoodLoss").in(iota({2, 3})).in(i64({2}, {0, 0})).in(iota({2})).run(),
               "weights must be a 1-D tensor of 3 float32");
  expect_error(SingleOp(13, "NegativeLogLikelihoodLoss").in(iota({2, 3})).in(f32({2}, {0, 0})).run(),
               "target typestr: Tind, has unsupported type: tensor(float)");  // the import's schema check
  expect_error(SingleOp(13, "SoftmaxCrossEntropyLoss").in(iota({2, 3})).in(i64({2}, {0, 0})).attr("reduction", "avg").run(),
               "reduction 'avg' is not one of none, sum, mean");
}

}  // namespace
}  // namespace tandem
