// MaxUnpool against torch.nn.functional.max_pool*d / max_unpool*d (torch 1.13; its per-plane indices made
// flat over [N, C, ...] as ONNX's are) and, with output_shape too, against a direct loop over the output's
// coordinates on random 1-D to 3-D cases; and its errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "tests/support/single_op.h"

namespace tandem {
namespace {

using namespace tandem::test;

TEST(MaxUnpool, MatchesTorch) {
  // max_pool2d(kernel 3, stride 1, padding 1) of a [1, 3, 4, 4] input: overlapping windows name some
  // places more than once (with the same value).
  const F32 pooled = {9, 9, 9, 6, 9, 9, 9, 8, 9, 9, 9, 9, 9, 9, 9, 9, 6, 8, 8, 8, 6, 8, 8, 8,
                      7, 9, 9, 9, 7, 9, 9, 9, 4, 9, 9, 9, 6, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
  const I64 indices = {5,  5,  5,  7,  5,  5,  5,  11, 5,  5,  5,  14, 12, 12, 14, 14, 20, 18, 18, 18, 20, 18, 18, 18,
                       29, 30, 30, 30, 29, 30, 30, 30, 36, 38, 38, 38, 41, 38, 38, 38, 44, 38, 38, 38, 44, 42, 42, 42};
  expect_f32(SingleOp(11, "MaxUnpool").in(f32({1, 3, 4, 4}, pooled)).in(i64({1, 3, 4, 4}, indices))
                 .attr("kernel_shape", I64{3, 3}).attr("pads", I64{1, 1, 1, 1}).out(),
             {1, 3, 4, 4}, {0, 0, 0, 0, 0, 9, 0, 6, 0, 0, 0, 8, 9, 0, 9, 0, 0, 0, 8, 0, 6, 0, 0, 0,
                            0, 0, 0, 0, 0, 7, 9, 0, 0, 0, 0, 0, 4, 0, 9, 0, 0, 6, 9, 0, 9, 0, 0, 0});
  expect_f32(SingleOp(9, "MaxUnpool").in(f32({1, 1, 3}, {0.5f, 7, 4})).in(i64({1, 1, 3}, {0, 3, 5}))
                 .attr("kernel_shape", I64{2}).attr("strides", I64{2}).out(),
             {1, 1, 6}, {0.5f, 0, 0, 7, 0, 4});
}

// Direct reference: for every output coordinate, the flat index it has in the inferred shape (when it lies
// inside it), looked up among the indices; the last element naming it wins.
std::vector<double> unpool_reference(const F32& x, const I64& idx, const I64& inferred, const I64& shape) {
  std::map<int64_t, float> placed;
  for (std::size_t e = 0; e < x.size(); ++e) placed[idx[e]] = x[e];
  std::vector<double> y(static_cast<std::size_t>(shape_numel(shape)));
  I64 coord(shape.size(), 0);
  for (std::size_t o = 0; o < y.size(); ++o) {
    bool inside = true;
    int64_t flat = 0;
    for (std::size_t d = 0; d < shape.size(); ++d) {
      inside = inside && coord[d] < inferred[d];
      flat = flat * inferred[d] + coord[d];
    }
    const auto it = inside ? placed.find(flat) : placed.end();
    y[o] = it == placed.end() ? 0.0 : it->second;
    for (std::size_t d = shape.size(); d-- > 0;) {  // next coordinate, last dimension fastest
      if (++coord[d] < shape[d]) break;
      coord[d] = 0;
    }
  }
  return y;
}

TEST(MaxUnpool, RandomAgainstDirectLoop) {
  std::mt19937 gen(5);
  std::uniform_real_distribution<float> val(-5, 5);
  struct Geometry {
    I64 x_shape, kernel, strides, pads;
  };
  const std::vector<Geometry> cases = {
      {{2, 3, 5}, {2}, {2}, {0, 0}},
      {{1, 2, 3, 4}, {3, 2}, {2, 1}, {1, 0, 0, 1}},
      {{2, 1, 2, 3, 2}, {2, 2, 2}, {2, 2, 2}, {0, 0, 0, 0, 0, 0}},
      {{1, 4, 4, 4}, {2, 2}, {}, {}},
  };
  for (const Geometry& g : cases)
    for (bool with_shape : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "rank " << g.x_shape.size() << (with_shape ? " output_shape" : ""));
      const std::size_t k = g.kernel.size();
      I64 inferred = {g.x_shape[0], g.x_shape[1]};
      for (std::size_t i = 0; i < k; ++i)
        inferred.push_back((g.x_shape[i + 2] - 1) * (g.strides.empty() ? 1 : g.strides[i]) -
                           (g.pads.empty() ? 0 : g.pads[i] + g.pads[i + k]) + g.kernel[i]);
      I64 shape = inferred;
      if (with_shape)
        for (std::size_t i = 2; i < shape.size(); ++i) shape[i] += static_cast<int64_t>(i);
      const int64_t n = shape_numel(g.x_shape), total = shape_numel(inferred);
      F32 x(static_cast<std::size_t>(n));
      for (auto& v : x) v = val(gen);
      // Distinct places, plus one repeated (the later element must win).
      I64 all(static_cast<std::size_t>(total));
      for (int64_t i = 0; i < total; ++i) all[static_cast<std::size_t>(i)] = i;
      std::shuffle(all.begin(), all.end(), gen);
      I64 idx(all.begin(), all.begin() + n);
      idx.back() = idx.front();
      SingleOp op(11, "MaxUnpool");
      op.in(f32(g.x_shape, x)).in(i64(g.x_shape, idx)).attr("kernel_shape", g.kernel);
      if (!g.strides.empty()) op.attr("strides", g.strides);
      if (!g.pads.empty()) op.attr("pads", g.pads);
      if (with_shape) op.ints_in(shape);
      expect_near(op.out(), shape, unpool_reference(x, idx, inferred, shape), 0, 0);
    }
}

// libonnx's MaxUnpool inference read I's dimension 1 unchecked: an I declared without a shape beside an X
// with one crashed the import (SIGSEGV; found by the fuzzer). Such an I is now left to the kernel, which
// checks it against X; an I declared with rank below 2 is refused at import, naming the node.
TEST(MaxUnpool, IndicesOfUnknownOrLowRank) {
  const auto op = [](const Tensor& indices, bool declare_shape) {
    SingleOp s(11, "MaxUnpool");
    s.in(f32({1, 1, 3}, {0.5f, 7, 4}));
    if (declare_shape)
      s.in(indices);
    else
      s.unranked(indices);
    return s.attr("kernel_shape", I64{2}).attr("strides", I64{2});
  };
  expect_f32(op(i64({1, 1, 3}, {0, 3, 5}), false).out(), {1, 1, 6}, {0.5f, 0, 0, 7, 0, 4});
  auto r = op(i64({1, 1, 1, 3}, {0, 3, 5}), false).run();
  expect_error(r, "node 'n' (MaxUnpool)");
  expect_error(r, "I must be int64 of X's shape [1,1,3], got int64 [1,1,1,3]");
  r = op(i64({3}, {0, 3, 5}), true).run();
  expect_error(r, "node 'n' (MaxUnpool)");
  expect_error(r, "I must have rank 2 or more, got rank 1");
}

TEST(MaxUnpool, Errors) {
  const auto base = [] {
    SingleOp s(11, "MaxUnpool");
    s.in(f32({1, 1, 2}, {1, 2})).in(i64({1, 1, 2}, {0, 9})).attr("kernel_shape", I64{2}).attr("strides", I64{2});
    return s;
  };
  expect_error(base().run(), "index 9 (element 1 of I) is out of range for the unpooled [1,1,4] (4 elements)");
  expect_error(SingleOp(11, "MaxUnpool").in(f32({1, 1, 2}, {1, 2})).in(i64({1, 1, 2}, {0, -1}))
                   .attr("kernel_shape", I64{2}).run(),
               "index -1 (element 1 of I)");
  expect_error(SingleOp(11, "MaxUnpool").in(f32({1, 1, 2}, {1, 2})).in(i64({1, 1, 2}, {0, 1}))
                   .attr("kernel_shape", I64{2}).attr("strides", I64{2}).ints_in({1, 1, 3}).run(),
               "output_shape [1,1,3] must have X's N and C and spatial sizes at least the inferred [1,1,4]");
  expect_error(SingleOp(11, "MaxUnpool").in(f32({1, 1, 2}, {1, 2})).in(i64({1, 1, 2}, {0, 1}))
                   .attr("kernel_shape", I64{2}).ints_in({1, 1, int64_t{1} << 62}).run(),
               "is too large");
  expect_error(SingleOp(11, "MaxUnpool").in(f32({1, 1, 2}, {1, 2})).in(i64({1, 1, 3}, {0, 1, 2}))
                   .attr("kernel_shape", I64{2}).run(),
               "I must be int64 of X's shape [1,1,2]");
  expect_error(SingleOp(11, "MaxUnpool").unranked(f32({1, 1, 2, 2}, {1, 2, 3, 4})).in(i64({1, 1, 2, 2}, {0, 1, 2, 3}))
                   .attr("kernel_shape", I64{2}).run(),
               "must be [N, C] and 1 spatial dimensions");
  expect_error(SingleOp(11, "MaxUnpool").in(f32({1, 1, 2}, {1, 2})).in(i64({1, 1, 2}, {0, 1}))
                   .attr("kernel_shape", I64{1}).attr("pads", I64{1, 1}).run(),
               "leave spatial dimension 0 of the output empty");
}

}  // namespace
}  // namespace tandem
