// Det against torch.det on fixed matrices (values pasted from torch 1.13 in double) and against a cofactor
// (Laplace) expansion along the first row on random batches of sizes 0 to 6, singular ones included.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "tests/support/single_op.h"

namespace tandem {
namespace {

using namespace tandem::test;

// Laplace expansion of the m x m matrix at a (row stride `stride`), along the first row; rows are the
// ones listed, columns the ones not yet used.
double cofactor_det(const std::vector<double>& a, int64_t m, std::vector<int64_t> cols, int64_t row) {
  if (cols.empty()) return 1.0;
  double sum = 0, sign = 1;
  for (std::size_t c = 0; c < cols.size(); ++c, sign = -sign) {
    std::vector<int64_t> rest = cols;
    rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(c));
    sum += sign * a[static_cast<std::size_t>(row * m + cols[c])] * cofactor_det(a, m, rest, row + 1);
  }
  return sum;
}

TEST(Det, MatchesTorch) {
  expect_near(SingleOp(11, "Det").in(f32({3, 3}, {2, -1, 0.5f, 1.5f, 3, -2, 0.25f, 4, 1})).out(), {}, {26.625});
  expect_near(SingleOp(11, "Det").in(f32({2, 2, 2}, {1, 2, 3, 4, 0, 1, 1, 0})).out(), {2}, {-2, -1});
  expect_near(SingleOp(11, "Det").in(make_tensor<double>({1, 4, 4}, {1, 2, 3, 4, 0.5, -1, 2, 0, 3, 1, -1, 2, 2, 0, 1, -3}))
                  .out(),
              {1}, {-97.5}, 1e-14, 1e-14);
}

template <typename T>
void random_batches(std::mt19937& gen) {
  std::uniform_real_distribution<double> val(-2, 2);
  std::uniform_int_distribution<int> kind(0, 3);
  for (int64_t m = 0; m <= 6; ++m)
    for (const I64& batch : {I64{}, I64{5}, I64{2, 3}}) {
      SCOPED_TRACE(::testing::Message() << "m " << m << " batch rank " << batch.size());
      I64 shape = batch;
      shape.push_back(m);
      shape.push_back(m);
      const int64_t count = shape_numel(batch);
      std::vector<T> x(static_cast<std::size_t>(count * m * m));
      std::vector<double> want;
      std::vector<double> tol;
      for (int64_t b = 0; b < count; ++b) {
        std::vector<double> a(static_cast<std::size_t>(m * m));
        for (auto& v : a) v = static_cast<double>(static_cast<T>(val(gen)));
        // Make some singular: a repeated row, a zero column, or a row that is the sum of two others.
        const int k = kind(gen);
        if (m >= 2 && k == 1)
          for (int64_t j = 0; j < m; ++j) a[static_cast<std::size_t>(m + j)] = a[static_cast<std::size_t>(j)];
        if (m >= 1 && k == 2)
          for (int64_t i = 0; i < m; ++i) a[static_cast<std::size_t>(i * m + m - 1)] = 0;
        if (m >= 3 && k == 3)
          for (int64_t j = 0; j < m; ++j)
            a[static_cast<std::size_t>(2 * m + j)] =
                static_cast<double>(static_cast<T>(a[static_cast<std::size_t>(j)] + a[static_cast<std::size_t>(m + j)]));
        for (int64_t i = 0; i < m * m; ++i) x[static_cast<std::size_t>(b * m * m + i)] = static_cast<T>(a[static_cast<std::size_t>(i)]);
        std::vector<int64_t> cols(static_cast<std::size_t>(m));
        for (int64_t j = 0; j < m; ++j) cols[static_cast<std::size_t>(j)] = j;
        want.push_back(cofactor_det(a, m, cols, 0));
        // Hadamard's bound scales the rounding error.
        double bound = 1;
        for (int64_t i = 0; i < m; ++i) {
          double s = 0;
          for (int64_t j = 0; j < m; ++j) s += a[static_cast<std::size_t>(i * m + j)] * a[static_cast<std::size_t>(i * m + j)];
          bound *= std::sqrt(s);
        }
        tol.push_back(bound);
      }
      const Tensor y = SingleOp(11, "Det").in(make_tensor<T>(shape, x)).out();
      ASSERT_EQ(y.shape(), batch);
      const double eps = std::is_same_v<T, float> ? 1e-6 : 1e-14;
      for (int64_t b = 0; b < count; ++b)
        EXPECT_NEAR(element_as_double(y, b), want[static_cast<std::size_t>(b)], eps * tol[static_cast<std::size_t>(b)] + eps)
            << "matrix " << b;
    }
}

TEST(Det, RandomBatchesAgainstCofactorExpansion) {
  std::mt19937 gen(11);
  random_batches<float>(gen);
  random_batches<double>(gen);
}

TEST(Det, SingularAndSpecial) {
  // Repeated rows give exactly 0; a NaN gives NaN; the empty matrix gives 1.
  EXPECT_EQ(values_of<float>(SingleOp(11, "Det").in(f32({3, 3}, {1, 2, 3, 4, 5, 6, 1, 2, 3})).out())[0], 0.0f);
  EXPECT_EQ(values_of<float>(SingleOp(11, "Det").in(f32({2, 2}, {0, 0, 0, 0})).out())[0], 0.0f);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(values_of<float>(SingleOp(11, "Det").in(f32({2, 2}, {0, nan, 0, 1})).out())[0]));
  expect_f32(SingleOp(11, "Det").in(f32({2, 0, 0}, {})).out(), {2}, {1, 1});
}

// No matrices at all, of a size that would not fit in memory: x [0, 2^20, 2^20] failed with "std::bad_alloc"
// (an M x M scratch matrix made for nothing), x [0, 2^40, 2^40] overflowed M * M (found by the fuzzer).
TEST(Det, NoMatricesOfAnySize) {
  for (const int64_t m : {int64_t{1} << 20, int64_t{1} << 40}) {
    const Tensor y = SingleOp(11, "Det").in(Tensor::empty(DType::kFloat32, {0, m, m})).out();
    EXPECT_EQ(y.shape(), (I64{0}));
  }
}

TEST(Det, Errors) {
  expect_error(SingleOp(11, "Det").in(iota({2, 3})).run(), "must be [*, M, M]");
  expect_error(SingleOp(11, "Det").unranked(iota({4})).run(), "must be [*, M, M]");
}

}  // namespace
}  // namespace tandem
