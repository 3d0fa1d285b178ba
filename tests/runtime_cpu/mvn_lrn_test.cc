// MeanVarianceNormalization over other axes than ONNX's cases use, and LRN with odd and even sizes and
// non-default attributes, against numpy transcriptions of the spec's formulas (the values below were printed
// by /usr/bin/python3 with numpy: mvn = (x - mean) / (std + 1e-9) over the axes; lrn sums x^2 over channels
// [c - (size - 1) // 2, c + ceil((size - 1) / 2)]), and the errors.
#include <gtest/gtest.h>

#include "graph/float16.h"
#include "tests/support/single_op.h"

namespace tandem {
namespace {

using namespace tandem::test;

// (7 i % 11) - 4 over [2, 3, 2].
Tensor mvn_input() { return f32({2, 3, 2}, {-4, 3, -1, 6, 2, -2, 5, 1, -3, 4, 0, -4}); }

TEST(MeanVarianceNormalization, OtherAxes) {
  expect_near(SingleOp(13, "MeanVarianceNormalization").in(mvn_input()).attr("axes", I64{1}).out(), {2, 3, 2},
              {-1.22474487, 0.202030509, 0, 1.1111678, 1.22474487, -1.31319831, 1.31319831, 0.202030509,
               -1.1111678, 1.1111678, -0.202030509, -1.31319831});
  expect_near(SingleOp(13, "MeanVarianceNormalization").in(mvn_input()).attr("axes", I64{-1, 0}).out(), {2, 3, 2},
              {-1.56961369, 0.523204565, -0.68680282, 1.23624508, 1.34164079, -0.447213595, 1.12115264,
               -0.0747435093, -1.23624508, 0.68680282, 0.447213595, -1.34164079});
  // A constant group has no spread: 0 / (0 + 1e-9) is 0, not NaN.
  expect_near(SingleOp(13, "MeanVarianceNormalization").in(f32({1, 3}, {2, 2, 2})).attr("axes", I64{1}).out(),
              {1, 3}, {0, 0, 0});
}

// ONNX gives the op float64, float16 and bfloat16 too. libonnx 1.12 has no inference of its own for it and
// inferred it through its function body, whose float32 epsilon such an X failed at import ("(op_type:Add):
// B has inconsistent type tensor(float)"); the kernel computes every float type.
TEST(MeanVarianceNormalization, OtherFloatTypes) {
  const std::vector<double> want = {-1.22474487, 0.202030509, 0,          1.1111678,   1.22474487,  -1.31319831,
                                    1.31319831,  0.202030509, -1.1111678, 1.1111678,   -0.202030509, -1.31319831};
  const std::vector<double> x = {-4, 3, -1, 6, 2, -2, 5, 1, -3, 4, 0, -4};
  const Tensor f64 = SingleOp(13, "MeanVarianceNormalization").in(make_tensor<double>({2, 3, 2}, x)).attr("axes", I64{1}).out();
  EXPECT_EQ(f64.dtype(), DType::kFloat64);
  expect_near(f64, {2, 3, 2}, want, 1e-8, 1e-8);
  for (DType t : {DType::kFloat16, DType::kBFloat16}) {
    Tensor narrow = Tensor::empty(t, {2, 3, 2});
    for (std::size_t i = 0; i < x.size(); ++i)  // small integers: exact in both
      narrow.data<uint16_t>()[i] = t == DType::kFloat16 ? round_to_narrow_float<5, 10>(x[i]) : round_to_narrow_float<8, 7>(x[i]);
    const Tensor y = SingleOp(18, "MeanVarianceNormalization").in(narrow).attr("axes", I64{1}).out();
    EXPECT_EQ(y.dtype(), t);
    expect_near(y, {2, 3, 2}, want, t == DType::kFloat16 ? 1e-3 : 8e-3, 1e-3);
  }
}

TEST(MeanVarianceNormalization, Errors) {
  // The default axes [0, 2, 3] need rank 4.
  auto r = SingleOp(13, "MeanVarianceNormalization").unranked(mvn_input()).run();
  expect_error(r, "axes [0,2,3]: axis 3 is out of range for rank 3");
  expect_error(r, "node 'n'");
  expect_error(SingleOp(13, "MeanVarianceNormalization").unranked(mvn_input()).attr("axes", I64{1, -2}).run(),
               "axes [1,-2] name axis 1 twice");
}

// (5 i % 7) - 3 over [1, 4, 2].
Tensor lrn_input() { return f32({1, 4, 2}, {-3, 2, 0, -2, 3, 1, -1, -3}); }

TEST(Lrn, OddAndEvenSizes) {
  expect_near(SingleOp(13, "LRN")
                  .in(lrn_input())
                  .attr("size", int64_t{3})
                  .attr("alpha", 0.5f)
                  .attr("beta", 0.6f)
                  .attr("bias", 2.0f)
                  .out(),
              {1, 4, 2},
              {-1.41475236, 0.97118675, 0, -0.943168242, 1.37580979, 0.414864947, -0.458603264, -1.37580979});
  // An even size reaches one channel further up than down: [c, c + 1] for size 2.
  expect_near(SingleOp(13, "LRN").in(lrn_input()).attr("size", int64_t{2}).attr("alpha", 0.3f).out(), {1, 4, 2},
              {-1.58059411, 1.10716662, 0, -1.31447236, 1.50892012, 0.502973372, -0.900485284, -1.58059411});
}

TEST(Lrn, Errors) {
  auto r = SingleOp(13, "LRN").unranked(f32({3}, {1, 2, 3})).attr("size", int64_t{3}).run();
  expect_error(r, "X must be [N, C, ...] with rank 2 or more");
  expect_error(r, "node 'n'");
  expect_error(SingleOp(13, "LRN").in(lrn_input()).attr("size", int64_t{0}).run(), "size must be 1 or more");
}

}  // namespace
}  // namespace tandem
