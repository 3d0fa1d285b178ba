// The shape, index and layout kernels through the real pipeline (import, compile, execute): hand-checked
// cases from the ONNX spec in every opset form, negative axes, zero-size dimensions and error cases; random
// data against simple reference loops.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <random>

#include "tests/support/model_builder.h"
#include "tests/support/op_runner.h"
#include "tests/support/single_op.h"

namespace tandem {
namespace {

using namespace tandem::test;
using onnx::TensorProto;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

// --- building and running one-node models ----------------------------------------------------------------

using Op = SingleOp;  // tests/support/single_op.h

Tensor i16(I64 shape, const std::vector<int16_t>& v) {
  Tensor t = Tensor::empty(DType::kInt16, std::move(shape));
  std::memcpy(t.raw(), v.data(), v.size() * sizeof(int16_t));
  return t;
}

// --- references -------------------------------------------------------------------------------------------

std::mt19937& rng() {
  static std::mt19937 r(20240517);
  return r;
}

int64_t uniform(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng()); }

// Random bytes of `dtype` (bool kept to 0/1); the kernels only move them.
Tensor random_tensor(DType dtype, I64 shape) {
  Tensor t = Tensor::empty(dtype, std::move(shape));
  auto* p = static_cast<uint8_t*>(t.raw());
  for (std::size_t i = 0; i < t.nbytes(); ++i)
    p[i] = static_cast<uint8_t>(uniform(0, dtype == DType::kBool ? 1 : 255));
  return t;
}

I64 unravel(int64_t flat, const I64& shape) {
  I64 idx(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return idx;
}

int64_t ravel(const I64& idx, const I64& shape) {
  int64_t flat = 0;
  for (std::size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + idx[d];
  return flat;
}

// Where an output element comes from: a tensor and a flat index into it, or nullptr for the fill value.
using Source = std::pair<const Tensor*, int64_t>;

// The tensor of `shape` whose element at each index is copied from where `src` says (or zero bytes / `fill`).
Tensor reference(DType dtype, const I64& shape, const std::function<Source(const I64&)>& src,
                 const std::vector<uint8_t>& fill = {}) {
  Tensor out = Tensor::zeros(dtype, shape);
  const std::size_t es = dtype_size(dtype);
  for (int64_t i = 0; i < out.numel(); ++i) {
    auto [t, at] = src(unravel(i, shape));
    auto* dst = static_cast<uint8_t*>(out.raw()) + i * static_cast<int64_t>(es);
    if (t)
      std::memcpy(dst, static_cast<const uint8_t*>(t->raw()) + at * static_cast<int64_t>(es), es);
    else if (!fill.empty())
      std::memcpy(dst, fill.data(), es);
  }
  return out;
}

void expect_same(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_TRUE(got.defined()) << what;
  EXPECT_EQ(got.dtype(), want.dtype()) << what;
  ASSERT_EQ(got.shape(), want.shape()) << what;
  if (want.nbytes() == 0) return;
  EXPECT_EQ(std::memcmp(got.raw(), want.raw(), want.nbytes()), 0) << what << ": elements differ";
}

// Element sizes 1, 2, 4, 8 and 16 bytes, and bool.
const std::vector<DType> kTypes = {DType::kFloat32, DType::kBool,    DType::kInt8,   DType::kFloat16,
                                   DType::kInt64,   DType::kFloat64, DType::kUInt16, DType::kComplex128};

// =============================== Shape and Size ===========================================================

TEST(Shape, WholeShapeBeforeOpset15) {
  for (int64_t opset : {7, 13}) {
    Tensor y = Op(opset, "Shape").in(iota({2, 3, 4})).out({DType::kInt64});
    EXPECT_EQ(y.shape(), I64{3});
    EXPECT_EQ(values_of<int64_t>(y), (I64{2, 3, 4})) << "opset " << opset;
  }
  Tensor scalar = Op(13, "Shape").in(f32({}, {1})).out({DType::kInt64});
  EXPECT_EQ(scalar.shape(), I64{0});
}

TEST(Shape, StartAndEndFromOpset15) {
  // The spec's examples on [2, 3, 4], and clamping of out-of-range start/end.
  struct Case {
    std::optional<int64_t> start, end;
    I64 want;
  };
  const std::vector<Case> cases = {{{}, {}, {2, 3, 4}}, {-1, {}, {4}}, {{}, -1, {2, 3}},
                                   {1, 2, {3}},         {1, -1, {3}},  {-10, {}, {2, 3, 4}},
                                   {{}, 10, {2, 3, 4}}, {2, 1, {}},    {3, {}, {}}};
  for (const Case& c : cases) {
    Op op(15, "Shape");
    op.in(iota({2, 3, 4}));
    if (c.start) op.attr("start", *c.start);
    if (c.end) op.attr("end", *c.end);
    Tensor y = op.out({DType::kInt64});
    EXPECT_EQ(values_of<int64_t>(y), c.want)
        << "start " << c.start.value_or(0) << " end " << c.end.value_or(99);
  }
}

TEST(Size, CountsElements) {
  for (int64_t opset : {7, 13}) {
    Tensor y = Op(opset, "Size").in(iota({2, 3, 4})).out({DType::kInt64});
    EXPECT_TRUE(y.shape().empty());
    EXPECT_EQ(values_of<int64_t>(y), I64{24});
  }
  EXPECT_EQ(values_of<int64_t>(Op(13, "Size").in(iota({3, 0})).out({DType::kInt64})), I64{0});
  EXPECT_EQ(values_of<int64_t>(Op(13, "Size").in(f32({}, {5})).out({DType::kInt64})), I64{1});
}

// =============================== Reshape and Flatten ======================================================

TEST(Reshape, SpecCasesAndSharedStorage) {
  const Tensor x = iota({2, 3, 4});
  struct Case {
    I64 shape, want;
  };
  const std::vector<Case> cases = {
      {{4, 2, 3}, {4, 2, 3}},        {{2, 12}, {2, 12}},      {{24}, {24}}, {{2, 3, 2, 2}, {2, 3, 2, 2}},
      {{-1, 2, 3, 4}, {1, 2, 3, 4}}, {{2, -1, 2}, {2, 6, 2}}, {{-1}, {24}}, {{2, 0, 4, 1}, {2, 3, 4, 1}},
      {{2, 0, 1, -1}, {2, 3, 1, 4}}, {{0, 0, 0}, {2, 3, 4}}};
  for (int64_t opset : {7, 13, 14}) {
    for (const Case& c : cases) {
      auto r = Op(opset, "Reshape").in(x).ints_in(c.shape).run();
      ASSERT_TRUE(r) << r.status().message();
      EXPECT_EQ((*r)[0].shape(), c.want) << shape_string(c.shape);
      EXPECT_EQ((*r)[0].raw(), x.raw()) << "Reshape must share the input's storage";
    }
  }
  // A constant shape (an initializer) works the same.
  Tensor y = Op(14, "Reshape").in(x).constant({3, 8}).out();
  EXPECT_EQ(y.shape(), (I64{3, 8}));
  EXPECT_EQ(y.raw(), x.raw());
}

TEST(Reshape, AllowZero) {
  // allowzero=1 makes 0 a real dimension (test_reshape_allowzero_reordered); without it 0 copies.
  const Tensor x = f32({0, 3, 4}, {});
  EXPECT_EQ(Op(14, "Reshape").in(x).ints_in({3, 4, 0}).attr("allowzero", int64_t{1}).out().shape(),
            (I64{3, 4, 0}));
  EXPECT_EQ(Op(14, "Reshape").in(x).ints_in({0, 12}).out().shape(), (I64{0, 12}));
  EXPECT_EQ(Op(14, "Reshape").in(iota({2, 3})).ints_in({}).run().status().is_ok(), false);
  EXPECT_EQ(Op(14, "Reshape").in(f32({1, 1}, {7})).ints_in({}).out().shape(), I64{});
  expect_error(Op(14, "Reshape").in(x).ints_in({0, -1}).attr("allowzero", int64_t{1}).run(),
               "both a 0 and a -1");
}

TEST(Reshape, Errors) {
  const Tensor x = iota({2, 3, 4});
  expect_error(Op(13, "Reshape").in(x).ints_in({5, 5}).run(),
               "cannot reshape [2,3,4] (24 elements) to [5,5]");
  expect_error(Op(13, "Reshape").in(x).ints_in({-1, -1}).run(), "more than one -1");
  expect_error(Op(13, "Reshape").in(x).ints_in({-1, 5}).run(), "do not divide");
  expect_error(Op(13, "Reshape").in(x).ints_in({-2, 12}).run(), "negative dimension -2");
  expect_error(Op(13, "Reshape").in(iota({24})).ints_in({0, 0}).run(), "does not have");
  expect_error(Op(13, "Reshape").in(f32({0, 4}, {})).ints_in({0, -1}).run(), "ambiguous");
  expect_error(Op(13, "Reshape").in(x).ints_in({kMax, kMax}).run(), "too many");
}

TEST(Flatten, AxesIncludingNegativeAndZeroSize) {
  const Tensor x = iota({2, 3, 4, 5});
  const std::map<int64_t, I64> want = {{0, {1, 120}}, {1, {2, 60}},  {2, {6, 20}},   {3, {24, 5}},
                                       {4, {120, 1}}, {-1, {24, 5}}, {-4, {1, 120}}, {-2, {6, 20}}};
  for (int64_t opset : {9, 11, 13}) {
    for (const auto& [axis, shape] : want) {
      if (axis < 0 && opset < 11) continue;
      Tensor y = Op(opset, "Flatten").in(x).attr("axis", axis).out();
      EXPECT_EQ(y.shape(), shape) << "axis " << axis;
      EXPECT_EQ(y.raw(), x.raw());
    }
  }
  EXPECT_EQ(Op(13, "Flatten").in(x).out().shape(), (I64{2, 60}));  // default axis 1
  EXPECT_EQ(Op(13, "Flatten").in(f32({3, 0, 2}, {})).attr("axis", int64_t{2}).out().shape(), (I64{0, 2}));
  expect_error(Op(13, "Flatten").unranked(x).attr("axis", int64_t{5}).run(),
               "axis 5 is out of range for rank 4");
  expect_error(Op(13, "Flatten").unranked(x).attr("axis", int64_t{-5}).run(),
               "axis -5 is out of range for rank 4");
}

// =============================== Squeeze and Unsqueeze ====================================================

TEST(Squeeze, AttributeBefore13InputFrom13) {
  const Tensor x = iota({1, 3, 1, 5});
  for (int64_t opset : {7, 11}) {
    Tensor y = Op(opset, "Squeeze").in(x).attr("axes", I64{0}).out();
    EXPECT_EQ(y.shape(), (I64{3, 1, 5}));
    EXPECT_EQ(y.raw(), x.raw());
    if (opset >= 11) {
      EXPECT_EQ(Op(opset, "Squeeze").in(x).attr("axes", I64{-2}).out().shape(), (I64{1, 3, 5}));
    }
    EXPECT_EQ(Op(opset, "Squeeze").in(x).out().shape(), (I64{3, 5}));
  }
  EXPECT_EQ(Op(13, "Squeeze").in(x).ints_in({2, 0}).out().shape(), (I64{3, 5}));
  EXPECT_EQ(Op(13, "Squeeze").in(x).ints_in({-2}).out().shape(), (I64{1, 3, 5}));
  EXPECT_EQ(Op(13, "Squeeze").in(x).out().shape(), (I64{3, 5}));  // no axes: every 1
  EXPECT_EQ(Op(13, "Squeeze").in(x).ints_in({}).out().shape(), (I64{3, 5}));
  EXPECT_EQ(Op(13, "Squeeze").in(x).constant({0}).out().shape(), (I64{3, 1, 5}));
  EXPECT_EQ(Op(13, "Squeeze").in(f32({1, 0, 1}, {})).out().shape(), (I64{0}));
  EXPECT_EQ(Op(13, "Squeeze").in(f32({1}, {4})).out().shape(), I64{});
}

TEST(Squeeze, Errors) {
  const Tensor x = iota({1, 3, 1, 5});
  expect_error(Op(13, "Squeeze").in(x).ints_in({1}).run(),
               "cannot squeeze axis 1 of [1,3,1,5]: its size is 3");
  expect_error(Op(11, "Squeeze").in(x).attr("axes", I64{3}).run(), "its size is 5");
  expect_error(Op(13, "Squeeze").in(x).ints_in({4}).run(), "axis 4 is out of range for rank 4");
  expect_error(Op(13, "Squeeze").in(x).ints_in({0, -4}).run(), "twice");
}

TEST(Unsqueeze, EveryFormAndAxisOrder) {
  const Tensor x = iota({3, 4, 5});
  struct Case {
    I64 axes, want;
  };
  const std::vector<Case> cases = {{{0}, {1, 3, 4, 5}},       {{1}, {3, 1, 4, 5}},
                                   {{3}, {3, 4, 5, 1}},       {{-1}, {3, 4, 5, 1}},
                                   {{-4}, {1, 3, 4, 5}},      {{1, 4}, {3, 1, 4, 5, 1}},
                                   {{2, 0}, {1, 3, 1, 4, 5}}, {{5, 4, 2}, {3, 4, 1, 5, 1, 1}},
                                   {{0, -1}, {1, 3, 4, 5, 1}}};
  for (const Case& c : cases) {
    for (int64_t opset : {7, 11, 13}) {
      if (opset == 7 && std::any_of(c.axes.begin(), c.axes.end(), [](int64_t a) { return a < 0; })) continue;
      Op op(opset, "Unsqueeze");
      op.in(x);
      if (opset < 13)
        op.attr("axes", c.axes);
      else
        op.ints_in(c.axes);
      Tensor y = op.out();
      EXPECT_EQ(y.shape(), c.want) << "axes " << shape_string(c.axes) << " opset " << opset;
      EXPECT_EQ(y.raw(), x.raw());
    }
  }
  EXPECT_EQ(Op(13, "Unsqueeze").in(f32({}, {2})).ints_in({0}).out().shape(), I64{1});
  EXPECT_EQ(Op(13, "Unsqueeze").in(f32({0}, {})).constant({0, 2}).out().shape(), (I64{1, 0, 1}));
  expect_error(Op(13, "Unsqueeze").in(x).ints_in({3, -2}).run(), "name axis 3 twice");
  expect_error(Op(13, "Unsqueeze").in(x).ints_in({4}).run(), "axis 4 is out of range for rank 4");
  expect_error(Op(11, "Unsqueeze").unranked(x).attr("axes", I64{-6}).run(),
               "axis -6 is out of range for rank 4");
}

// =============================== Transpose ================================================================

TEST(Transpose, DefaultReversesAndPerm) {
  const Tensor x = iota({2, 3});
  for (int64_t opset : {7, 13}) {
    expect_f32(Op(opset, "Transpose").in(x).out(), {3, 2}, {0, 3, 1, 4, 2, 5});
    expect_f32(Op(opset, "Transpose").in(x).attr("perm", I64{1, 0}).out(), {3, 2}, {0, 3, 1, 4, 2, 5});
    expect_f32(Op(opset, "Transpose").in(x).attr("perm", I64{0, 1}).out(), {2, 3}, {0, 1, 2, 3, 4, 5});
  }
  // [2, 1, 2] -> perm [2, 0, 1] -> [2, 2, 1]: y[k, i, j] = x[i, j, k].
  expect_f32(Op(13, "Transpose").in(iota({2, 1, 2})).attr("perm", I64{2, 0, 1}).out(), {2, 2, 1},
             {0, 2, 1, 3});
  expect_f32(Op(13, "Transpose").in(f32({}, {9})).out(), {}, {9});
  EXPECT_EQ(Op(13, "Transpose").in(f32({0, 3}, {})).out().shape(), (I64{3, 0}));
}

TEST(Transpose, Errors) {
  // With a known rank import-time shape inference already refuses these; unranked, the kernel does.
  EXPECT_FALSE(Op(13, "Transpose").in(iota({2, 3})).attr("perm", I64{0, 0}).run());
  expect_error(Op(13, "Transpose").unranked(iota({2, 3})).attr("perm", I64{0, 0}).run(),
               "perm [0,0] is not a permutation of 0..1");
  expect_error(Op(13, "Transpose").unranked(iota({2, 3})).attr("perm", I64{0, 2}).run(),
               "is not a permutation");
  expect_error(Op(13, "Transpose").unranked(iota({2, 3})).attr("perm", I64{-1, 0}).run(),
               "is not a permutation");
  expect_error(Op(13, "Transpose").unranked(iota({2, 3})).attr("perm", I64{2, 0, 1}).run(),
               "perm [2,0,1] has 3 entries for an input of rank 2");
}

TEST(Transpose, RandomAgainstReference) {
  const std::vector<std::pair<I64, I64>> cases = {{{5, 7}, {1, 0}},
                                                  {{2, 3, 4}, {0, 2, 1}},
                                                  {{2, 3, 4}, {2, 1, 0}},
                                                  {{2, 3, 4}, {1, 0, 2}},
                                                  {{4, 1, 6}, {2, 0, 1}},
                                                  {{3, 4, 5, 6}, {0, 2, 1, 3}},
                                                  {{3, 4, 5, 6}, {3, 1, 2, 0}},
                                                  {{2, 2, 3, 1, 4}, {4, 0, 3, 2, 1}},
                                                  {{64, 33}, {1, 0}},
                                                  {{1, 1, 7}, {2, 1, 0}}};
  for (DType dt : kTypes) {
    for (const auto& c : cases) {
      const I64& shape = c.first;  // named references, not a structured binding: the lambda below
      const I64& perm = c.second;  // captures them (clang 14 cannot capture bindings)
      const Tensor x = random_tensor(dt, shape);
      I64 out(shape.size());
      for (std::size_t d = 0; d < perm.size(); ++d) out[d] = shape[static_cast<std::size_t>(perm[d])];
      const Tensor want = reference(dt, out, [&](const I64& o) {
        I64 in(shape.size());
        for (std::size_t d = 0; d < perm.size(); ++d) in[static_cast<std::size_t>(perm[d])] = o[d];
        return Source{&x, ravel(in, shape)};
      });
      expect_same(Op(13, "Transpose").in(x).attr("perm", perm).out(), want,
                  std::string(dtype_name(dt)) + " " + shape_string(shape) + " perm " + shape_string(perm));
    }
  }
}

// =============================== Expand and Tile ==========================================================

TEST(Expand, SpecExamplesBothDirections) {
  const Tensor x = f32({3, 1}, {1, 2, 3});
  for (int64_t opset : {8, 13}) {
    expect_f32(Op(opset, "Expand").in(x).ints_in({3, 4}).out(), {3, 4}, {1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3});
    // test_expand_dim_changed: [3,1] with [2,1,6] -> [2,3,6].
    Tensor y = Op(opset, "Expand").in(x).ints_in({2, 1, 6}).out();
    EXPECT_EQ(y.shape(), (I64{2, 3, 6}));
    EXPECT_EQ(values_of<float>(y)[6], 2.0f);
    EXPECT_EQ(values_of<float>(y)[18 + 17], 3.0f);
  }
  // The shape may be smaller than the input's: [3,1] with [1] stays [3,1]; [3,1] with [1,4] -> [3,4].
  EXPECT_EQ(Op(13, "Expand").in(x).ints_in({1}).out().shape(), (I64{3, 1}));
  EXPECT_EQ(Op(13, "Expand").in(x).ints_in({1, 4}).out().shape(), (I64{3, 4}));
  EXPECT_EQ(Op(13, "Expand").in(x).ints_in({2, 0, 1}).run().status().is_ok(), false);
  EXPECT_EQ(Op(13, "Expand").in(f32({1, 2}, {1, 2})).ints_in({0, 2}).out().shape(), (I64{0, 2}));
  expect_f32(Op(13, "Expand").in(f32({}, {7})).ints_in({2}).out(), {2}, {7, 7});
  // Nothing to repeat: the output is the input.
  const Tensor same = iota({2, 3});
  EXPECT_EQ(Op(13, "Expand").in(same).ints_in({1, 3}).out().raw(), same.raw());
  expect_error(Op(13, "Expand").in(iota({2, 3})).ints_in({4, 3}).run(), "cannot be broadcast");
  expect_error(Op(13, "Expand").in(iota({2, 3})).ints_in({-1, 3}).run(), "negative dimension");
}

TEST(Expand, RandomAgainstReference) {
  const std::vector<std::pair<I64, I64>> cases = {
      {{3, 1}, {2, 3, 5}},    {{1}, {4, 4}},    {{2, 1, 3}, {2, 4, 3}},      {{4, 1}, {1, 1, 6}},
      {{1, 5, 1}, {3, 1, 2}}, {{6}, {2, 1, 6}}, {{2, 1, 1, 3}, {1, 4, 5, 1}}};
  for (DType dt : kTypes) {
    for (const auto& c : cases) {
      const I64& shape = c.first;  // named references, not a structured binding: the lambda below
      const I64& target = c.second;  // captures them (clang 14 cannot capture bindings)
      const Tensor x = random_tensor(dt, shape);
      const std::size_t rank = std::max(shape.size(), target.size());
      I64 out(rank);
      for (std::size_t d = 0; d < rank; ++d) {
        const int64_t a = d + shape.size() >= rank ? shape[d + shape.size() - rank] : 1;
        const int64_t b = d + target.size() >= rank ? target[d + target.size() - rank] : 1;
        out[d] = a == 1 ? b : a;
      }
      const Tensor want = reference(dt, out, [&](const I64& o) {
        I64 in(shape.size());
        for (std::size_t d = 0; d < shape.size(); ++d) in[d] = shape[d] == 1 ? 0 : o[d + rank - shape.size()];
        return Source{&x, ravel(in, shape)};
      });
      expect_same(Op(13, "Expand").in(x).ints_in(target).out(), want,
                  std::string(dtype_name(dt)) + " " + shape_string(shape) + " to " + shape_string(target));
    }
  }
}

TEST(Tile, SpecExampleAndErrors) {
  // test_tile_precomputed: [[0,1],[2,3]] with repeats [2,2].
  for (int64_t opset : {7, 13}) {
    expect_f32(Op(opset, "Tile").in(iota({2, 2})).ints_in({2, 2}).out(), {4, 4},
               {0, 1, 0, 1, 2, 3, 2, 3, 0, 1, 0, 1, 2, 3, 2, 3});
  }
  expect_f32(Op(13, "Tile").in(iota({3})).constant({2}).out(), {6}, {0, 1, 2, 0, 1, 2});
  EXPECT_EQ(Op(13, "Tile").in(iota({2, 3})).ints_in({0, 2}).out().shape(), (I64{0, 6}));
  EXPECT_EQ(Op(13, "Tile").in(f32({2, 0}, {})).ints_in({3, 4}).out().shape(), (I64{6, 0}));
  expect_error(Op(13, "Tile").in(iota({2, 3})).ints_in({2}).run(), "has 1 entries for an input of rank 2");
  expect_error(Op(13, "Tile").in(iota({2, 3})).ints_in({1, -1}).run(), "negative entry");
}

// Found by the fuzzer under UBSan: an empty input repeated a huge number of times along its empty axis is
// an empty output, but the strided copy merged the view's dimensions before seeing the 0 and overflowed
// int64 (36 * 3314649325744685057). Without UBSan the output was right; the overflow shows in a
// TANDEM_SANITIZE=undefined build.
TEST(Tile, AnEmptyInputRepeatedHugelyIsEmpty) {
  const int64_t huge = 3314649325744685057;
  EXPECT_EQ(Op(13, "Tile").in(f32({4, 3, 0}, {})).ints_in({3, 1, huge}).out().shape(), (I64{12, 3, 0}));
  EXPECT_EQ(Op(13, "Tile").in(f32({0, 3}, {})).ints_in({huge, 1}).out().shape(), (I64{0, 3}));
}

TEST(Tile, RandomAgainstReference) {
  const std::vector<std::pair<I64, I64>> cases = {{{3}, {4}},
                                                  {{2, 3}, {3, 2}},
                                                  {{2, 3}, {1, 1}},
                                                  {{1, 4, 2}, {3, 1, 2}},
                                                  {{2, 2, 2, 3}, {2, 1, 3, 1}},
                                                  {{5, 1}, {1, 7}}};
  for (DType dt : kTypes) {
    for (const auto& c : cases) {
      const I64& shape = c.first;  // named references, not a structured binding: the lambda below
      const I64& reps = c.second;  // captures them (clang 14 cannot capture bindings)
      const Tensor x = random_tensor(dt, shape);
      I64 out(shape.size());
      for (std::size_t d = 0; d < shape.size(); ++d) out[d] = shape[d] * reps[d];
      const Tensor want = reference(dt, out, [&](const I64& o) {
        I64 in(shape.size());
        for (std::size_t d = 0; d < shape.size(); ++d) in[d] = o[d] % shape[d];
        return Source{&x, ravel(in, shape)};
      });
      expect_same(Op(13, "Tile").in(x).ints_in(reps).out(), want,
                  std::string(dtype_name(dt)) + " " + shape_string(shape) + " x " + shape_string(reps));
    }
  }
}

// =============================== Gather ===================================================================

TEST(Gather, SpecExamples) {
  // data [[1,1.2],[2.3,3.4],[4.5,5.7]], indices [[0,1],[1,2]], axis 0 -> [2,2,2].
  const Tensor data = f32({3, 2}, {1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f});
  for (int64_t opset : {7, 11, 13}) {
    expect_f32(Op(opset, "Gather").in(data).in(i64({2, 2}, {0, 1, 1, 2})).out(), {2, 2, 2},
               {1.0f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f, 5.7f});
  }
  // data [[1,1.2,1.9],[2.3,3.4,3.9],[4.5,5.7,5.9]], indices [[0,2]], axis 1 -> [3,1,2].
  const Tensor data2 = f32({3, 3}, {1.0f, 1.2f, 1.9f, 2.3f, 3.4f, 3.9f, 4.5f, 5.7f, 5.9f});
  expect_f32(Op(13, "Gather").in(data2).in(i64({1, 2}, {0, 2})).attr("axis", int64_t{1}).out(), {3, 1, 2},
             {1.0f, 1.9f, 2.3f, 3.9f, 4.5f, 5.9f});
  // Negative indices and axis, int32 indices, a scalar index (the axis disappears).
  expect_f32(Op(13, "Gather").in(iota({10})).in(i64({3}, {0, -9, -10})).out(), {3}, {0, 1, 0});
  expect_f32(Op(13, "Gather")
                 .in(iota({2, 3}))
                 .in(make_tensor<int32_t>({2}, {-1, 0}))
                 .attr("axis", int64_t{-1})
                 .out(),
             {2, 2}, {2, 0, 5, 3});
  expect_f32(Op(13, "Gather").in(iota({2, 3})).in(i64({}, {1})).out(), {3}, {3, 4, 5});
  expect_f32(Op(13, "Gather").in(iota({2, 3})).in(i64({}, {-1})).attr("axis", int64_t{1}).out(), {2}, {2, 5});
  // Zero-size: no indices, or an empty data axis other than the gathered one.
  EXPECT_EQ(Op(13, "Gather").in(iota({2, 3})).in(i64({0}, {})).out().shape(), (I64{0, 3}));
  EXPECT_EQ(Op(13, "Gather").in(f32({2, 0}, {})).in(i64({3}, {1, 0, 1})).out().shape(), (I64{3, 0}));
}

TEST(Gather, OutOfRangeIndexIsNamed) {
  expect_error(Op(13, "Gather").in(iota({3, 2})).in(i64({3}, {0, 3, 1})).run(),
               "index 3 (element 1 of indices) is out of range for axis 0 of size 3");
  expect_error(Op(13, "Gather").in(iota({3, 2})).in(i64({1}, {-3})).attr("axis", int64_t{1}).run(),
               "index -3 (element 0 of indices) is out of range for axis 1 of size 2");
  expect_error(Op(13, "Gather").unranked(iota({3, 2})).in(i64({1}, {0})).attr("axis", int64_t{2}).run(),
               "axis 2 is out of range for rank 2");
  expect_error(Op(13, "Gather").unranked(f32({}, {1})).in(i64({1}, {0})).run(), "rank >= 1");
  expect_error(Op(13, "Gather").in(f32({0}, {})).in(i64({1}, {0})).run(),
               "out of range for axis 0 of size 0");
}

TEST(Gather, RandomAgainstReference) {
  struct Case {
    I64 shape;
    int64_t axis;
    I64 index_shape;
  };
  const std::vector<Case> cases = {{{7}, 0, {5}},           {{4, 5}, 0, {2, 3}},    {{4, 5}, 1, {6}},
                                   {{4, 5}, -1, {}},        {{3, 4, 5}, 1, {2, 2}}, {{3, 4, 5}, 2, {3, 1, 2}},
                                   {{2, 3, 4, 5}, -3, {4}}, {{6, 2}, 0, {1, 1, 1}}};
  for (DType dt : kTypes) {
    for (const Case& c : cases) {
      for (DType it : {DType::kInt64, DType::kInt32}) {
        const Tensor x = random_tensor(dt, c.shape);
        const auto a =
            static_cast<std::size_t>(c.axis < 0 ? c.axis + static_cast<int64_t>(c.shape.size()) : c.axis);
        const int64_t dim = c.shape[a];
        Tensor idx = Tensor::empty(it, c.index_shape);
        I64 picks;
        for (int64_t i = 0; i < idx.numel(); ++i) {
          picks.push_back(uniform(-dim, dim - 1));
          if (it == DType::kInt64)
            idx.data<int64_t>()[i] = picks.back();
          else
            idx.data<int32_t>()[i] = static_cast<int32_t>(picks.back());
        }
        I64 out(c.shape.begin(), c.shape.begin() + static_cast<std::ptrdiff_t>(a));
        out.insert(out.end(), c.index_shape.begin(), c.index_shape.end());
        out.insert(out.end(), c.shape.begin() + static_cast<std::ptrdiff_t>(a) + 1, c.shape.end());
        const std::size_t q = c.index_shape.size();
        const Tensor want = reference(dt, out, [&](const I64& o) {
          I64 in(o.begin(), o.begin() + static_cast<std::ptrdiff_t>(a));
          const I64 iidx(o.begin() + static_cast<std::ptrdiff_t>(a),
                         o.begin() + static_cast<std::ptrdiff_t>(a + q));
          const int64_t v = picks[static_cast<std::size_t>(ravel(iidx, c.index_shape))];
          in.push_back(v < 0 ? v + dim : v);
          in.insert(in.end(), o.begin() + static_cast<std::ptrdiff_t>(a + q), o.end());
          return Source{&x, ravel(in, c.shape)};
        });
        expect_same(
            Op(13, "Gather").in(x).in(idx).attr("axis", c.axis).out(), want,
            std::string(dtype_name(dt)) + " " + shape_string(c.shape) + " axis " + std::to_string(c.axis));
      }
    }
  }
}

// =============================== Concat ===================================================================

TEST(Concat, SpecExamplesNegativeAxisAndEmptyInputs) {
  const Tensor a = f32({2, 2}, {1, 2, 3, 4}), b = f32({2, 2}, {5, 6, 7, 8});
  for (int64_t opset : {7, 11, 13}) {
    expect_f32(Op(opset, "Concat").in(a).in(b).attr("axis", int64_t{0}).out(), {4, 2},
               {1, 2, 3, 4, 5, 6, 7, 8});
    expect_f32(Op(opset, "Concat").in(a).in(b).attr("axis", int64_t{1}).out(), {2, 4},
               {1, 2, 5, 6, 3, 4, 7, 8});
  }
  expect_f32(Op(13, "Concat").in(a).in(b).attr("axis", int64_t{-1}).out(), {2, 4}, {1, 2, 5, 6, 3, 4, 7, 8});
  expect_f32(Op(13, "Concat").in(a).in(b).attr("axis", int64_t{-2}).out(), {4, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  // Inputs empty along the axis add nothing; an empty 1-D input of another rank is skipped.
  expect_f32(Op(13, "Concat").in(f32({2, 0}, {})).in(a).in(f32({2, 0}, {})).attr("axis", int64_t{1}).out(),
             {2, 2}, {1, 2, 3, 4});
  expect_f32(Op(13, "Concat").unranked(f32({0}, {})).unranked(a).in(b).attr("axis", int64_t{0}).out(), {4, 2},
             {1, 2, 3, 4, 5, 6, 7, 8});
  EXPECT_EQ(Op(13, "Concat").in(f32({0, 3}, {})).in(f32({0, 2}, {})).attr("axis", int64_t{1}).out().shape(),
            (I64{0, 5}));
  expect_f32(Op(13, "Concat").in(a).attr("axis", int64_t{0}).out(), {2, 2}, {1, 2, 3, 4});
}

TEST(Concat, Errors) {
  expect_error(Op(13, "Concat").in(iota({2, 2})).in(iota({3, 3})).attr("axis", int64_t{0}).run(),
               "input 1 [3,3] does not match input 0 [2,2] outside axis 0");
  expect_error(
      Op(13, "Concat").unranked(iota({2, 2})).unranked(iota({2, 2, 1})).attr("axis", int64_t{0}).run(),
      "input 1 [2,2,1] does not match");
  expect_error(Op(13, "Concat").unranked(iota({2, 2})).unranked(iota({2, 2})).attr("axis", int64_t{2}).run(),
               "axis 2 is out of range for rank 2");
  expect_error(Op(13, "Concat").unranked(iota({2})).unranked(i64({1}, {1})).attr("axis", int64_t{0}).run(),
               "input 1 is int64 [1] but input 0 is float32 [2]");
}

TEST(Concat, RandomAgainstReference) {
  struct Case {
    std::vector<I64> shapes;
    int64_t axis;
  };
  const std::vector<Case> cases = {{{{3}, {5}, {1}}, 0},
                                   {{{2, 3}, {4, 3}}, 0},
                                   {{{2, 3}, {2, 1}, {2, 4}}, 1},
                                   {{{2, 3, 4}, {2, 5, 4}}, -2},
                                   {{{2, 3, 4}, {2, 3, 1}, {2, 3, 0}, {2, 3, 6}}, 2},
                                   {{{1, 2, 3, 4}, {3, 2, 3, 4}}, 0},
                                   {{{2, 2, 3, 4}, {2, 2, 3, 4}, {2, 2, 3, 4}}, -3}};
  for (DType dt : kTypes) {
    for (const Case& c : cases) {
      std::vector<Tensor> xs;
      for (const I64& s : c.shapes) xs.push_back(random_tensor(dt, s));
      const auto a =
          static_cast<std::size_t>(c.axis < 0 ? c.axis + static_cast<int64_t>(c.shapes[0].size()) : c.axis);
      I64 out = c.shapes[0];
      out[a] = 0;
      for (const I64& s : c.shapes) out[a] += s[a];
      const Tensor want = reference(dt, out, [&](const I64& o) {
        I64 in = o;
        std::size_t k = 0;
        while (in[a] >= c.shapes[k][a]) in[a] -= c.shapes[k++][a];
        return Source{&xs[k], ravel(in, c.shapes[k])};
      });
      Op op(13, "Concat");
      for (const Tensor& x : xs) op.in(x);
      expect_same(op.attr("axis", c.axis).out(), want,
                  std::string(dtype_name(dt)) + " axis " + std::to_string(c.axis));
    }
  }
}

// =============================== Split ====================================================================

std::vector<Tensor> run_all(Op& op, std::size_t outputs) {
  auto r = op.run();
  EXPECT_TRUE(r) << r.status().message();
  if (!r) return std::vector<Tensor>(outputs);
  return *r;
}

TEST(Split, EveryOpsetForm) {
  const Tensor x = f32({6}, {1, 2, 3, 4, 5, 6});
  // Equal parts by the number of outputs, in every opset.
  for (int64_t opset : {7, 11, 13, 18}) {
    Op op(opset, "Split", 3);
    op.in(x);
    auto y = run_all(op, 3);
    expect_f32(y[0], {2}, {1, 2});
    expect_f32(y[1], {2}, {3, 4});
    expect_f32(y[2], {2}, {5, 6});
  }
  // The 'split' attribute before opset 13.
  for (int64_t opset : {7, 11}) {
    Op op(opset, "Split", 2);
    op.in(x).attr("split", I64{2, 4});
    auto y = run_all(op, 2);
    expect_f32(y[0], {2}, {1, 2});
    expect_f32(y[1], {4}, {3, 4, 5, 6});
  }
  // The 'split' input from opset 13.
  for (int64_t opset : {13, 18}) {
    Op op(opset, "Split", 2);
    op.in(x).ints_in({2, 4});
    auto y = run_all(op, 2);
    expect_f32(y[0], {2}, {1, 2});
    expect_f32(y[1], {4}, {3, 4, 5, 6});
  }
  // 2-D on axis 1, and a negative axis.
  const Tensor m = f32({2, 6}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  for (int64_t axis : {1, -1}) {
    Op op(13, "Split", 2);
    op.in(m).constant({2, 4}).attr("axis", axis);
    auto y = run_all(op, 2);
    expect_f32(y[0], {2, 2}, {1, 2, 7, 8});
    expect_f32(y[1], {2, 4}, {3, 4, 5, 6, 9, 10, 11, 12});
  }
}

TEST(Split, NumOutputsFromOpset18) {
  // 10 into 3: chunks of ceil(10/3) = 4, the last one smaller.
  Op op(18, "Split", 3);
  op.in(iota({10})).attr("num_outputs", int64_t{3});
  auto y = run_all(op, 3);
  expect_f32(y[0], {4}, {0, 1, 2, 3});
  expect_f32(y[1], {4}, {4, 5, 6, 7});
  expect_f32(y[2], {2}, {8, 9});
  Op even(18, "Split", 2);
  even.in(iota({2, 4})).attr("num_outputs", int64_t{2}).attr("axis", int64_t{1});
  auto z = run_all(even, 2);
  expect_f32(z[0], {2, 2}, {0, 1, 4, 5});
  expect_f32(z[1], {2, 2}, {2, 3, 6, 7});
  Op bad(18, "Split", 2);
  bad.in(iota({4})).attr("num_outputs", int64_t{3});
  expect_error(bad.run(), "num_outputs is 3 but the node has 2 outputs");
}

TEST(Split, ZeroSizePartsAndErrors) {
  {  // test_split_zero_size_splits: [0] split [0,0,0].
    Op op(13, "Split", 3);
    op.in(f32({0}, {})).ints_in({0, 0, 0});
    for (const Tensor& t : run_all(op, 3)) EXPECT_EQ(t.shape(), I64{0});
  }
  {
    Op op(13, "Split", 3);
    op.in(iota({2, 3})).ints_in({1, 0, 2}).attr("axis", int64_t{1});
    auto y = run_all(op, 3);
    expect_f32(y[0], {2, 1}, {0, 3});
    EXPECT_EQ(y[1].shape(), (I64{2, 0}));
    expect_f32(y[2], {2, 2}, {1, 2, 4, 5});
  }
  Op sum(13, "Split", 2);
  sum.in(iota({6})).ints_in({2, 3});
  expect_error(sum.run(), "split [2,3] adds up to 5, but axis 0 has size 6");
  Op count(13, "Split", 2);
  count.in(iota({6})).ints_in({2, 2, 2});
  expect_error(count.run(), "has 3 sizes for 2 outputs");
  Op uneven(13, "Split", 4);
  uneven.in(iota({6}));
  expect_error(uneven.run(), "does not split into 4 equal parts");
  Op negative(11, "Split", 2);
  negative.in(iota({6})).attr("split", I64{-1, 7});
  expect_error(negative.run(), "negative size");
}

// =============================== Slice ====================================================================

// Slice through the opset-10+ inputs (axes and steps optional).
Result<std::vector<Tensor>> slice(int64_t opset, const Tensor& x, const I64& starts, const I64& ends,
                                  std::optional<I64> axes = {}, std::optional<I64> steps = {}) {
  Op op(opset, "Slice");
  op.in(x).ints_in(starts).ints_in(ends);
  if (axes)
    op.ints_in(*axes);
  else if (steps)
    op.skip();
  if (steps) op.ints_in(*steps);
  return op.run();
}

TEST(Slice, SpecExamples) {
  const Tensor x = iota({2, 4});  // [[0,1,2,3],[4,5,6,7]]
  for (int64_t opset : {10, 11, 13}) {
    // starts [1,0], ends [2,3], axes [0,1], steps [1,2] -> [[4,6]].
    auto r = slice(opset, x, {1, 0}, {2, 3}, I64{0, 1}, I64{1, 2});
    ASSERT_TRUE(r) << r.status().message();
    expect_f32((*r)[0], {1, 2}, {4, 6});
    // starts [0,1], ends [-1,1000] -> [[1,2,3]].
    r = slice(opset, x, {0, 1}, {-1, 1000});
    ASSERT_TRUE(r) << r.status().message();
    expect_f32((*r)[0], {1, 3}, {1, 2, 3});
  }
  // Before opset 10: attributes, no steps.
  for (int64_t opset : {7, 9}) {
    expect_f32(Op(opset, "Slice")
                   .in(x)
                   .attr("starts", I64{1, 0})
                   .attr("ends", I64{2, 3})
                   .attr("axes", I64{0, 1})
                   .out(),
               {1, 3}, {4, 5, 6});
    expect_f32(Op(opset, "Slice").in(x).attr("starts", I64{0, 1}).attr("ends", I64{-1, 1000}).out(), {1, 3},
               {1, 2, 3});
    expect_f32(
        Op(opset, "Slice").in(x).attr("starts", I64{2}).attr("ends", I64{kMax}).attr("axes", I64{1}).out(),
        {2, 2}, {2, 3, 6, 7});
  }
}

TEST(Slice, NegativeStepsClampingAndAxes) {
  const Tensor x = iota({2, 4});
  auto check = [&](const Result<std::vector<Tensor>>& r, const I64& shape, const F32& values) {
    ASSERT_TRUE(r) << r.status().message();
    expect_f32((*r)[0], shape, values);
  };
  // Reverse a row: start -1 (or anything past the end), end INT64_MIN, step -1.
  check(slice(13, x, {-1}, {kMin}, I64{1}, I64{-1}), {2, 4}, {3, 2, 1, 0, 7, 6, 5, 4});
  check(slice(13, x, {1000}, {-1000}, I64{1}, I64{-1}), {2, 4}, {3, 2, 1, 0, 7, 6, 5, 4});
  check(slice(13, x, {3}, {0}, I64{-1}, I64{-2}), {2, 2}, {3, 1, 7, 5});
  check(slice(13, x, {10, 4}, {0, 1}, I64{0, 1}, I64{-1, -3}), {1, 1}, {7});
  // test_slice_neg_steps-like: several axes, negative axes, out-of-bounds starts give empty.
  check(slice(13, x, {0}, {kMax}, I64{-1}, I64{3}), {2, 2}, {0, 3, 4, 7});
  check(slice(13, x, {5}, {10}, I64{1}), {2, 0}, {});
  check(slice(13, x, {1}, {1}, I64{0}), {0, 4}, {});
  check(slice(13, x, {0}, {1}, I64{0}, I64{kMax}), {1, 4}, {0, 1, 2, 3});
  check(slice(13, x, {1}, {kMin}, I64{0}, I64{kMin}), {1, 4}, {4, 5, 6, 7});
  check(slice(13, f32({0, 3}, {}), {0}, {kMax}, I64{0}, I64{-1}), {0, 3}, {});
  // A start below -dim stepping backward clamps to 0 (the spec's rule, where numpy would take nothing).
  check(slice(13, x, {-9}, {kMin}, I64{1}, I64{-1}), {2, 1}, {0, 4});
  // axes in any order, int32 starts/ends.
  Op op(13, "Slice");
  op.in(x)
      .in(make_tensor<int32_t>({2}, {1, 0}))
      .in(make_tensor<int32_t>({2}, {3, 2}))
      .in(make_tensor<int32_t>({2}, {1, 0}));
  expect_f32(op.out(), {2, 2}, {1, 2, 5, 6});
}

TEST(Slice, Errors) {
  const Tensor x = iota({2, 4});
  expect_error(slice(13, x, {0}, {1}, I64{0}, I64{0}), "has a 0");
  expect_error(slice(13, x, {0, 0}, {1, 1}, I64{1, -1}), "name axis 1 twice");
  expect_error(slice(13, x, {0, 0}, {1}), "differ in length");
  expect_error(slice(13, x, {0}, {1}, I64{2}), "axis 2 is out of range for rank 2");
  expect_error(slice(13, x, {0, 0, 0}, {1, 1, 1}), "more entries than the input's rank");
}

// The indices Slice picks along a dimension of size n, walked one step at a time after the spec's clamping
// (start into [0, n] stepping forward, [0, n-1] backward; end into [0, n] or [-1, n-1]). This differs from
// numpy only for a start below -n with a negative step: numpy takes nothing, the spec (and onnxruntime)
// start at 0.
I64 spec_slice(int64_t start, int64_t end, int64_t step, int64_t n) {
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = step > 0 ? std::clamp<int64_t>(start, 0, n) : std::clamp<int64_t>(start, 0, n - 1);
  end = step > 0 ? std::clamp<int64_t>(end, 0, n) : std::clamp<int64_t>(end, -1, n - 1);
  I64 picks;
  for (int64_t i = start; step > 0 ? i < end : i > end; i += step) picks.push_back(i);
  return picks;
}

TEST(Slice, RandomWithStepsAgainstReference) {
  const std::vector<I64> shapes = {{9}, {5, 6}, {4, 3, 5}, {2, 3, 4, 5}, {7, 1, 6}};
  for (DType dt : kTypes) {
    for (const I64& shape : shapes) {
      for (int round = 0; round < 6; ++round) {
        const Tensor x = random_tensor(dt, shape);
        const auto rank = static_cast<int64_t>(shape.size());
        I64 axes(shape.size());
        for (std::size_t d = 0; d < axes.size(); ++d) axes[d] = static_cast<int64_t>(d);
        std::shuffle(axes.begin(), axes.end(), rng());
        axes.resize(static_cast<std::size_t>(uniform(1, rank)));
        I64 starts, ends, steps, given_axes;
        std::vector<I64> picks(shape.size());
        for (std::size_t d = 0; d < shape.size(); ++d)
          for (int64_t i = 0; i < shape[d]; ++i) picks[d].push_back(i);
        for (int64_t a : axes) {
          const int64_t n = shape[static_cast<std::size_t>(a)];
          int64_t step = uniform(-3, 3);
          if (step == 0) step = 1;
          starts.push_back(uniform(-n - 2, n + 2));
          ends.push_back(uniform(-n - 2, n + 2));
          steps.push_back(step);
          given_axes.push_back(uniform(0, 1) ? a : a - rank);
          picks[static_cast<std::size_t>(a)] = spec_slice(starts.back(), ends.back(), step, n);
        }
        I64 out;
        for (const I64& p : picks) out.push_back(static_cast<int64_t>(p.size()));
        const Tensor want = reference(dt, out, [&](const I64& o) {
          I64 in(o.size());
          for (std::size_t d = 0; d < o.size(); ++d) in[d] = picks[d][static_cast<std::size_t>(o[d])];
          return Source{&x, ravel(in, shape)};
        });
        auto r = slice(13, x, starts, ends, given_axes, steps);
        ASSERT_TRUE(r) << r.status().message();
        expect_same((*r)[0], want,
                    std::string(dtype_name(dt)) + " " + shape_string(shape) + " starts " +
                        shape_string(starts) + " ends " + shape_string(ends) + " axes " +
                        shape_string(given_axes) + " steps " + shape_string(steps));
      }
    }
  }
}

// =============================== Pad ======================================================================

TEST(Pad, SpecExamplesEveryMode) {
  const Tensor x = f32({3, 2}, {1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f});
  const F32 constant = {0, 0, 1.0f, 1.2f, 0, 0, 2.3f, 3.4f, 0, 0, 4.5f, 5.7f};
  const F32 reflect = {1.0f, 1.2f, 1.0f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f, 5.7f, 4.5f, 5.7f};
  const F32 edge = {1.0f, 1.0f, 1.0f, 1.2f, 2.3f, 2.3f, 2.3f, 3.4f, 4.5f, 4.5f, 4.5f, 5.7f};
  for (int64_t opset : {11, 13, 18}) {
    expect_f32(Op(opset, "Pad").in(x).ints_in({0, 2, 0, 0}).out(), {3, 4}, constant);
    expect_f32(Op(opset, "Pad").in(x).ints_in({0, 2, 0, 0}).attr("mode", std::string("reflect")).out(),
               {3, 4}, reflect);
    expect_f32(Op(opset, "Pad").in(x).ints_in({0, 2, 0, 0}).attr("mode", std::string("edge")).out(), {3, 4},
               edge);
    expect_f32(Op(opset, "Pad").in(x).constant({0, 2, 0, 0}).in(f32({}, {9})).out(), {3, 4},
               {9, 9, 1.0f, 1.2f, 9, 9, 2.3f, 3.4f, 9, 9, 4.5f, 5.7f});
    // The constant value is ignored by the other modes.
    expect_f32(
        Op(opset, "Pad").in(x).ints_in({0, 2, 0, 0}).in(f32({}, {9})).attr("mode", std::string("edge")).out(),
        {3, 4}, edge);
  }
  // Before opset 11: pads and value are attributes.
  for (int64_t opset : {7, 10}) {
    expect_f32(Op(opset, "Pad").in(x).attr("pads", I64{0, 2, 0, 0}).out(), {3, 4}, constant);
    expect_f32(Op(opset, "Pad").in(x).attr("pads", I64{0, 2, 0, 0}).attr("value", 9.0f).out(), {3, 4},
               {9, 9, 1.0f, 1.2f, 9, 9, 2.3f, 3.4f, 9, 9, 4.5f, 5.7f});
    expect_f32(
        Op(opset, "Pad").in(x).attr("pads", I64{0, 2, 0, 0}).attr("mode", std::string("reflect")).out(),
        {3, 4}, reflect);
    expect_f32(Op(opset, "Pad").in(x).attr("pads", I64{0, 2, 0, 0}).attr("mode", std::string("edge")).out(),
               {3, 4}, edge);
  }
  // Pad-2's float value converted to the data type: 1.5 in float16 is 0x3e00, in float64 exact.
  Tensor h = Tensor::zeros(DType::kFloat16, {1});
  Tensor hy = Op(7, "Pad").in(h).attr("pads", I64{1, 0}).attr("value", 1.5f).out();
  ASSERT_EQ(hy.shape(), I64{2});
  EXPECT_EQ(hy.data<uint16_t>()[0], 0x3e00);
  EXPECT_EQ(hy.data<uint16_t>()[1], 0);
  Tensor dy =
      Op(7, "Pad").in(make_tensor<double>({1}, {2.0})).attr("pads", I64{0, 1}).attr("value", 0.1f).out();
  EXPECT_EQ(values_of<double>(dy), (std::vector<double>{2.0, static_cast<double>(0.1f)}));
}

TEST(Pad, AxesInputFromOpset18) {
  const Tensor x = iota({2, 3});
  // Pad only axis 1 (also as -1): pads [begin, end] = [1, 2].
  for (int64_t axis : {1, -1}) {
    expect_f32(Op(18, "Pad").in(x).ints_in({1, 2}).skip().ints_in({axis}).out(), {2, 6},
               {0, 0, 1, 2, 0, 0, 0, 3, 4, 5, 0, 0});
  }
  expect_f32(Op(18, "Pad").in(x).ints_in({1, 0, 0, 1}).in(f32({}, {-1})).ints_in({1, 0}).out(), {3, 4},
             {-1, 0, 1, 2, -1, 3, 4, 5, -1, -1, -1, -1});
  expect_error(Op(18, "Pad").in(x).ints_in({1, 2, 3, 4}).skip().ints_in({1}).run(), "expected 2");
}

TEST(Pad, NegativePadsCrop) {
  const Tensor x = f32({5}, {1, 2, 3, 4, 5});
  expect_f32(Op(13, "Pad").in(x).ints_in({-1, -2}).out(), {2}, {2, 3});
  expect_f32(Op(13, "Pad").in(x).ints_in({-2, 1}).out(), {4}, {3, 4, 5, 0});
  // Cropping first, then reflecting/extending what is left.
  expect_f32(Op(13, "Pad").in(x).ints_in({2, -1}).attr("mode", std::string("reflect")).out(), {6},
             {3, 2, 1, 2, 3, 4});
  expect_f32(Op(13, "Pad").in(x).ints_in({-3, 2}).attr("mode", std::string("edge")).out(), {4}, {4, 5, 5, 5});
  expect_f32(Op(13, "Pad").in(iota({2, 3})).ints_in({-1, 1, 0, -1}).out(), {1, 3}, {0, 3, 4});
  expect_error(Op(13, "Pad").in(x).ints_in({-3, -3}).run(),
               "pads [-3,-3] on axis 0 of float32 [5] crop more than the size 5");
}

TEST(Pad, ZeroSizeAndErrors) {
  EXPECT_EQ(Op(13, "Pad").in(f32({0, 2}, {})).ints_in({1, 0, 1, 1}).out().shape(), (I64{2, 3}));
  expect_f32(Op(13, "Pad").in(f32({0, 2}, {})).ints_in({1, 0, 0, 0}).out(), {1, 2}, {0, 0});
  expect_f32(Op(13, "Pad").in(f32({}, {4})).ints_in({}).out(), {}, {4});
  // Reflecting a single element repeats it (as numpy does).
  expect_f32(Op(13, "Pad").in(f32({1}, {4})).ints_in({2, 1}).attr("mode", std::string("reflect")).out(), {4},
             {4, 4, 4, 4});
  expect_error(
      Op(13, "Pad").in(f32({0, 2}, {})).ints_in({1, 0, 0, 0}).attr("mode", std::string("edge")).run(),
      "leave nothing to pad from (size 0)");
  expect_error(Op(13, "Pad").in(iota({2, 3})).ints_in({1, 1}).run(), "expected 4");
  expect_error(Op(13, "Pad").in(iota({2, 3})).ints_in({1, 1, 1, 1}).attr("mode", std::string("wrap")).run(),
               "mode 'wrap'");
  expect_error(Op(13, "Pad").unranked(iota({2})).ints_in({1, 1}).unranked(i64({}, {1})).run(),
               "constant_value");
  expect_error(Op(13, "Pad").in(iota({2})).ints_in({1, 1}).in(f32({2}, {1, 2})).run(),
               "constant_value must be one float32, got float32 [2]");
}

// Pad's reference: reflect folds the index back and forth until it lands inside (an iteration, where the
// kernel uses a closed form), edge clamps, constant fills.
int64_t pad_source(int64_t j, int64_t n, const std::string& mode) {
  if (j >= 0 && j < n) return j;
  if (mode == "constant") return -1;
  if (mode == "edge") return std::clamp<int64_t>(j, 0, n - 1);
  if (n == 1) return 0;
  while (j < 0 || j >= n) j = j < 0 ? -j : 2 * (n - 1) - j;
  return j;
}

// Shapes made from run-time numbers are checked before anything is allocated.
TEST(TensorOps, HugeShapesAreErrorsNotCrashes) {
  const Tensor x = iota({2});
  expect_error(Op(13, "Expand").in(f32({1, 1}, {1})).ints_in({kMax / 2, 4}).run(), "is too large");
  expect_error(Op(13, "Tile").in(x).ints_in({kMax / 2}).run(), "too large");
  expect_error(Op(13, "Tile").in(iota({2, 2})).ints_in({int64_t{1} << 31, int64_t{1} << 31}).run(),
               "too large");
  expect_error(Op(9, "ConstantOfShape").in(i64({3}, {1 << 30, 1 << 30, 1 << 30})).run({DType::kFloat32}),
               "is too large");
  expect_error(Op(13, "Pad").in(x).ints_in({kMax, 0}).run(), "are too large");
  expect_error(Op(13, "Pad").in(x).ints_in({kMin, 0}).run(), "are too large");
  expect_error(Op(11, "Range").in(i64({}, {kMin})).in(i64({}, {kMax})).in(i64({}, {1})).run(), "too many");
  expect_error(Op(11, "Range").in(i64({}, {0})).in(i64({}, {int64_t{1} << 50})).in(i64({}, {1})).run(),
               "too many");
  expect_error(Op(11, "Range").in(f32({}, {0})).in(f32({}, {1e15f})).in(f32({}, {1})).run(), "too large");
}

// Found by the fuzzer: the per-axis maps of input positions were built before the output was seen to be
// empty, so pads of 2^38 on an input [0, 1] asked for a 2 TiB map ("std::bad_alloc"; an abort under ASan)
// for an output with no elements.
TEST(Pad, AHugePadOfAnEmptyInputMakesNoMap) {
  const int64_t huge = int64_t{1} << 38;
  for (const char* mode : {"constant", "edge"}) {
    SCOPED_TRACE(mode);
    EXPECT_EQ(Op(13, "Pad").in(f32({0, 1}, {})).ints_in({0, 0, 0, huge}).attr("mode", mode).out().shape(),
              (I64{0, huge + 1}));
  }
}

TEST(Pad, RandomReflectEdgeConstantAgainstReference) {
  const std::vector<I64> shapes = {{7}, {3, 4}, {2, 3, 4}, {1, 5, 2}, {2, 2, 3, 3}};
  for (DType dt : kTypes) {
    for (const I64& shape : shapes) {
      for (const std::string mode : {"constant", "reflect", "edge"}) {
        const Tensor x = random_tensor(dt, shape);
        const std::size_t rank = shape.size();
        I64 pads(2 * rank), out(rank);
        for (std::size_t d = 0; d < rank; ++d) {
          // Reflect pads beyond size-1 fold more than once, which numpy (the reference) also does.
          pads[d] = uniform(0, 2 * shape[d] + 1);
          pads[d + rank] = uniform(0, 2 * shape[d] + 1);
          out[d] = shape[d] + pads[d] + pads[d + rank];
        }
        const Tensor value = random_tensor(dt, {});
        std::vector<uint8_t> fill(dtype_size(dt));
        std::memcpy(fill.data(), value.raw(), fill.size());
        const Tensor want = reference(
            dt, out,
            [&](const I64& o) {
              I64 in(rank);
              for (std::size_t d = 0; d < rank; ++d) {
                in[d] = pad_source(o[d] - pads[d], shape[d], mode);
                if (in[d] < 0) return Source{nullptr, 0};
              }
              return Source{&x, ravel(in, shape)};
            },
            fill);
        expect_same(Op(13, "Pad").in(x).ints_in(pads).in(value).attr("mode", mode).out(), want,
                    std::string(dtype_name(dt)) + " " + shape_string(shape) + " " + mode + " pads " +
                        shape_string(pads));
      }
    }
  }
}

// =============================== ConstantOfShape, Range, Dropout ==========================================

void set_value(Op& op, int32_t type, const std::string& bytes) {
  auto* a = op.node()->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  a->mutable_t()->set_data_type(type);
  a->mutable_t()->add_dims(1);
  a->mutable_t()->set_raw_data(bytes);
}

TEST(ConstantOfShape, ValueDefaultAndScalar) {
  expect_f32(Op(9, "ConstantOfShape").in(i64({2}, {2, 3})).out({DType::kFloat32}), {2, 3}, F32(6, 0.0f));
  {
    Op op(9, "ConstantOfShape");
    op.in(i64({3}, {4, 3, 2}));
    const float one = 1.0f;
    set_value(op, TensorProto::FLOAT, std::string(reinterpret_cast<const char*>(&one), sizeof one));
    expect_f32(op.out({DType::kFloat32}), {4, 3, 2}, F32(24, 1.0f));
  }
  {
    Op op(18, "ConstantOfShape");
    op.in(i64({2}, {1, 2}));
    const int64_t seven = -7;
    set_value(op, TensorProto::INT64, std::string(reinterpret_cast<const char*>(&seven), sizeof seven));
    EXPECT_EQ(values_of<int64_t>(op.out({DType::kInt64})), (I64{-7, -7}));
  }
  {  // test_constantofshape_int_shape_zero: a zero dimension; a 0-element shape gives a scalar.
    Op zero(9, "ConstantOfShape");
    zero.in(i64({1}, {0}));
    const int32_t v = 5;
    set_value(zero, TensorProto::INT32, std::string(reinterpret_cast<const char*>(&v), sizeof v));
    EXPECT_EQ(zero.out({DType::kInt32}).shape(), I64{0});
    Op scalar(9, "ConstantOfShape");
    scalar.in(i64({0}, {}));
    set_value(scalar, TensorProto::INT32, std::string(reinterpret_cast<const char*>(&v), sizeof v));
    Tensor y = scalar.out({DType::kInt32});
    EXPECT_TRUE(y.shape().empty());
    EXPECT_EQ(values_of<int32_t>(y), std::vector<int32_t>{5});
  }
  expect_error(Op(9, "ConstantOfShape").in(i64({2}, {2, -1})).run({DType::kFloat32}), "negative dimension");
}

TEST(Range, EveryTypeAndEmpty) {
  auto run = [](const Tensor& s, const Tensor& l, const Tensor& d) {
    return Op(11, "Range").in(s).in(l).in(d).run();
  };
  auto r = run(f32({}, {1}), f32({}, {5}), f32({}, {2}));  // test_range_float_type_positive_delta
  ASSERT_TRUE(r) << r.status().message();
  expect_f32((*r)[0], {2}, {1, 3});
  r = run(make_tensor<int32_t>({}, {10}), make_tensor<int32_t>({}, {6}), make_tensor<int32_t>({}, {-3}));
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(values_of<int32_t>((*r)[0]), (std::vector<int32_t>{10, 7}));
  r = run(i64({}, {-5}), i64({}, {5}), i64({}, {4}));
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(values_of<int64_t>((*r)[0]), (I64{-5, -1, 3}));
  r = run(i64({}, {kMin}), i64({}, {kMax}), i64({}, {kMax}));  // differences beyond int64, no overflow
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(values_of<int64_t>((*r)[0]), (I64{kMin, -1, kMax - 1}));
  r = run(i16({}, {3}), i16({}, {-3}), i16({}, {-2}));
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(values_of<int16_t>((*r)[0]), (std::vector<int16_t>{3, 1, -1}));
  // Empty when the delta points away from the limit.
  r = run(f32({}, {5}), f32({}, {1}), f32({}, {1}));
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ((*r)[0].shape(), I64{0});
  expect_error(run(f32({}, {0}), f32({}, {1}), f32({}, {0})), "delta is 0");
  expect_error(run(f32({}, {0}), f32({}, {INFINITY}), f32({}, {1})), "no finite element count");
  expect_error(run(f32({2}, {0, 1}), f32({}, {1}), f32({}, {1})), "must be scalars");
}

TEST(Range, FloatsAgainstReference) {
  const std::vector<std::array<double, 3>> cases = {{0, 1, 0.1},        {-3.5, 2.25, 0.75}, {10, -10, -0.3},
                                                    {1e-3, 2e-3, 1e-4}, {0.5, 100, 7.7},    {2, 2, 1}};
  for (const auto& [s, l, d] : cases) {
    // The count is computed in the element type, as the spec's formula is (numpy does the same).
    const auto n = static_cast<std::size_t>(std::max(std::ceil((l - s) / d), 0.0));
    const float fs = static_cast<float>(s), fl = static_cast<float>(l), fd = static_cast<float>(d);
    const auto nf = static_cast<std::size_t>(std::max(std::ceil((fl - fs) / fd), 0.0f));
    auto rf = Op(11, "Range").in(f32({}, {float(s)})).in(f32({}, {float(l)})).in(f32({}, {float(d)})).run();
    auto rd = Op(11, "Range")
                  .in(make_tensor<double>({}, {s}))
                  .in(make_tensor<double>({}, {l}))
                  .in(make_tensor<double>({}, {d}))
                  .run();
    ASSERT_TRUE(rf && rd);
    const auto yf = values_of<float>((*rf)[0]);
    const auto yd = values_of<double>((*rd)[0]);
    ASSERT_EQ(yd.size(), n) << s << " " << l << " " << d;
    ASSERT_EQ(yf.size(), nf) << s << " " << l << " " << d;
    for (std::size_t i = 0; i < n; ++i) {
      const double want = s + static_cast<double>(i) * d;
      EXPECT_NEAR(yd[i], want, 1e-12 * std::max(1.0, std::abs(want)));
    }
    for (std::size_t i = 0; i < nf; ++i) {
      const double want = static_cast<double>(fs) + static_cast<double>(i) * static_cast<double>(fd);
      EXPECT_NEAR(yf[i], want, 1e-6 * std::max(1.0, std::abs(want)));
    }
  }
}

// =============================== OneHot and Trilu =========================================================

TEST(OneHot, NegativeIndicesWrapOutOfRangeIsOff) {
  // depth 4 (a float, truncated), values int32 [off 2, on 5]. -1 wraps to 3; -7 and 10 are outside
  // [-4, 3], so their rows are all off.
  Tensor y = Op(11, "OneHot")
                 .in(i64({5}, {0, -1, -7, 3, 10}))
                 .in(f32({}, {4.0f}))
                 .in(make_tensor<int32_t>({2}, {2, 5}))
                 .out({DType::kInt32});
  EXPECT_EQ(y.shape(), (I64{5, 4}));
  EXPECT_EQ(values_of<int32_t>(y),
            (std::vector<int32_t>{5, 2, 2, 2, 2, 2, 2, 5, 2, 2, 2, 2, 2, 2, 2, 5, 2, 2, 2, 2}));
  // Axis 0 on 2-D indices [[1, 0], [2, -1]], depth 3: out[d, i, j] = (index[i, j] == d), -1 meaning 2.
  Tensor z = Op(11, "OneHot")
                 .in(i64({2, 2}, {1, 0, 2, -1}))
                 .in(i64({1}, {3}))
                 .in(f32({2}, {0, 1}))
                 .attr("axis", int64_t{0})
                 .out({DType::kFloat32});
  expect_f32(z, {3, 2, 2}, {0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1});
  // Float indices truncate toward zero, as Cast does: 1.7 -> 1, -1.5 -> -1 -> 2.
  Tensor w = Op(11, "OneHot").in(f32({2}, {1.7f, -1.5f})).in(i64({}, {3})).in(f32({2}, {0, 1})).out();
  expect_f32(w, {2, 3}, {0, 1, 0, 0, 0, 1});
  // Before opset 11 negative indices did not wrap: all off.
  Tensor old =
      Op(9, "OneHot").in(i64({2}, {-1, 1})).in(i64({1}, {3})).in(f32({2}, {0, 1})).out({DType::kFloat32});
  expect_f32(old, {2, 3}, {0, 0, 0, 0, 1, 0});
}

TEST(OneHot, Errors) {
  const std::vector<DType> out = {DType::kFloat32};
  expect_error(Op(11, "OneHot").in(i64({1}, {0})).in(i64({}, {3})).in(f32({3}, {0, 1, 2})).run(out),
               "two elements");
  expect_error(Op(11, "OneHot").in(i64({1}, {0})).in(i64({}, {-2})).in(f32({2}, {0, 1})).run(out),
               "depth must not be negative");
  expect_error(Op(11, "OneHot").in(i64({1}, {0})).in(i64({2}, {3, 4})).in(f32({2}, {0, 1})).run(out),
               "depth must be a scalar");
  expect_error(Op(11, "OneHot")
                   .unranked(i64({2}, {0, 1}))
                   .in(i64({}, {3}))
                   .in(f32({2}, {0, 1}))
                   .attr("axis", int64_t{2})
                   .run(out),
               "axis 2 is out of range for rank 2");
}

// Trilu's rule: element (i, j) of each matrix survives when j - i >= k (upper) or j - i <= k (lower).
Tensor trilu_reference(const Tensor& x, int64_t k, bool upper) {
  const I64& shape = x.shape();
  const std::size_t r = shape.size();
  return reference(x.dtype(), shape, [&](const I64& idx) -> Source {
    const int64_t diff = idx[r - 1] - idx[r - 2];
    const bool keep = upper ? diff >= k : diff <= k;
    return keep ? Source{&x, ravel(idx, shape)} : Source{nullptr, 0};
  });
}

TEST(Trilu, SpecExampleAndDefaults) {
  // The spec's 4x5 example, k = 0 (no k input), upper and lower.
  const Tensor x = f32({4, 5}, {4, 7, 3, 7, 9, 1, 2, 8, 6, 9, 9, 4, 0, 8, 7, 4, 1, 8, 5, 2});
  expect_f32(Op(14, "Trilu").in(x).out(), {4, 5},
             {4, 7, 3, 7, 9, 0, 2, 8, 6, 9, 0, 0, 0, 8, 7, 0, 0, 0, 5, 2});
  expect_f32(Op(14, "Trilu").in(x).attr("upper", int64_t{0}).out(), {4, 5},
             {4, 0, 0, 0, 0, 1, 2, 0, 0, 0, 9, 4, 0, 0, 0, 4, 1, 8, 5, 0});
  // k = -1 lower: the diagonal is dropped, only below it stays.
  expect_f32(Op(14, "Trilu").in(x).in(i64({}, {-1})).attr("upper", int64_t{0}).out(), {4, 5},
             {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 9, 4, 0, 0, 0, 4, 1, 8, 0, 0});
}

TEST(Trilu, RandomBatchedEveryTypeAgainstReference) {
  for (DType t : kTypes)
    for (int trial = 0; trial < 6; ++trial) {
      const I64 shape = {uniform(0, 2), uniform(1, 3), uniform(1, 5), uniform(1, 5)};
      const Tensor x = random_tensor(t, shape);
      const int64_t k = uniform(-6, 6);
      const bool upper = trial % 2 == 0;
      Tensor y = Op(14, "Trilu").in(x).in(i64({}, {k})).attr("upper", int64_t{upper}).out();
      expect_same(y, trilu_reference(x, k, upper),
                  std::string(dtype_name(t)) + " " + shape_string(shape) + " k " + std::to_string(k));
    }
  // k at the ends of int64 keeps everything or nothing without overflowing.
  const Tensor x = iota({2, 3});
  expect_f32(Op(14, "Trilu").in(x).in(i64({}, {kMin})).out(), {2, 3}, {0, 1, 2, 3, 4, 5});
  expect_f32(Op(14, "Trilu").in(x).in(i64({}, {kMax})).out(), {2, 3}, {0, 0, 0, 0, 0, 0});
  expect_f32(Op(14, "Trilu").in(x).in(i64({}, {kMax})).attr("upper", int64_t{0}).out(), {2, 3},
             {0, 1, 2, 3, 4, 5});
  expect_f32(Op(14, "Trilu").in(x).in(i64({}, {kMin})).attr("upper", int64_t{0}).out(), {2, 3},
             {0, 0, 0, 0, 0, 0});
}

TEST(Trilu, Errors) {
  expect_error(Op(14, "Trilu").unranked(f32({3}, {1, 2, 3})).run(), "rank 2 or more");
  expect_error(Op(14, "Trilu").in(iota({2, 2})).in(i64({2}, {0, 1})).run(), "k (input 1) must be one int64");
}

TEST(Dropout, InferenceIsIdentityWithTrueMask) {
  const Tensor x = f32({2, 3}, {1, -2, 3, -4, 5, -6});
  for (int64_t opset : {7, 10, 12, 13}) {
    Op op(opset, "Dropout", 2);
    op.in(x);
    if (opset < 12) op.attr("ratio", 0.3f);
    auto r = op.run({DType::kFloat32, opset < 10 ? DType::kFloat32 : DType::kBool});
    ASSERT_TRUE(r) << "opset " << opset << ": " << r.status().message();
    EXPECT_EQ((*r)[0].raw(), x.raw());
    EXPECT_EQ((*r)[1].shape(), x.shape());
    if (opset < 10) {
      EXPECT_EQ(values_of<float>((*r)[1]), F32(6, 1.0f));  // the mask has the data's type
    } else {
      EXPECT_EQ(values_of<uint8_t>((*r)[1]), std::vector<uint8_t>(6, 1));
    }
  }
  // Ratio and training_mode=false inputs (opset 12+) change nothing (random_ops_test covers training mode).
  Tensor y = Op(13, "Dropout").in(x).in(f32({}, {0.5f})).in(make_bool_tensor({}, {false})).out();
  EXPECT_EQ(y.raw(), x.raw());
  // A float16 mask of ones before opset 10.
  Op half(7, "Dropout", 2);
  half.in(Tensor::zeros(DType::kFloat16, {2}));
  auto h = half.run();
  ASSERT_TRUE(h) << h.status().message();
  EXPECT_EQ((*h)[1].data<uint16_t>()[0], 0x3c00);
}

// The ONNX node test cases for these ops (test_reshape_*, test_slice*, test_*pad, ... 97 of them) run in
// tests/conformance/onnx_node_test.cc with every other family's; the cases sharing these prefixes that are
// not these kernels' (test_gather_elements_*, test_gathernd_*, test_range_*_expanded) are other ops' concern.

}  // namespace
}  // namespace tandem
