// ConvTranspose against its direct reference twin on random data: the scatter loop the definition states
// (every input element times the kernel, added at input * stride - pad_begin + kernel offset * dilation),
// written here independently of the kernel's GEMM + col2im, over 1-D, 2-D and 3-D shapes with strides,
// dilations, groups, pads, output_padding, output_shape and auto_pad; then the errors.
#include <gtest/gtest.h>

#include <random>

#include "tests/support/single_op.h"
#include "tests/support/model_builder.h"

namespace tandem {
namespace {

using namespace tandem::test;

struct Case {
  I64 x_shape;  // [N, C, spatial...]
  int64_t maps_per_group, group;
  I64 kernel, strides, dilations, pads, output_padding;  // empty lists: attribute left out
  I64 output_shape;
  std::string auto_pad;
  bool bias;
};

F32 random_values(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  F32 v(n);
  for (float& f : v) f = d(rng);
  return v;
}

// The reference: output size and begin padding per axis from the spec's formulas, then the scatter.
std::vector<double> reference(const Case& c, const F32& x, const F32& w, const F32& b, I64& y_shape) {
  const std::size_t r = c.kernel.size();
  auto at = [](const I64& v, std::size_t i, int64_t dflt) { return v.empty() ? dflt : v[i]; };
  I64 out(r), begin(r);
  for (std::size_t i = 0; i < r; ++i) {
    const int64_t in = c.x_shape[2 + i], s = at(c.strides, i, 1), d = at(c.dilations, i, 1);
    const int64_t full = s * (in - 1) + at(c.output_padding, i, 0) + (c.kernel[i] - 1) * d + 1;
    if (!c.output_shape.empty() || c.auto_pad == "SAME_UPPER" || c.auto_pad == "SAME_LOWER") {
      out[i] = c.output_shape.empty() ? in * s : c.output_shape[i];
      const int64_t total = full - out[i];
      const int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);  // Python's total // 2
      begin[i] = c.auto_pad == "SAME_UPPER" ? half : total - half;
    } else {
      begin[i] = c.pads.empty() ? 0 : c.pads[i];
      out[i] = full - begin[i] - (c.pads.empty() ? 0 : c.pads[i + r]);
    }
  }
  const int64_t n_batch = c.x_shape[0], channels = c.x_shape[1], cg = channels / c.group;
  const int64_t maps = c.maps_per_group * c.group;
  y_shape = {n_batch, maps};
  y_shape.insert(y_shape.end(), out.begin(), out.end());
  const int64_t out_size = shape_numel(out);
  const I64 in(c.x_shape.begin() + 2, c.x_shape.end());
  const int64_t in_size = shape_numel(in), k_size = shape_numel(c.kernel);
  std::vector<double> y(static_cast<std::size_t>(n_batch * maps * out_size), 0.0);
  for (int64_t n = 0; n < n_batch; ++n)
    for (int64_t ch = 0; ch < channels; ++ch)
      for (int64_t m = 0; m < c.maps_per_group; ++m) {
        const int64_t g = ch / cg, map = g * c.maps_per_group + m;
        for (int64_t ip = 0; ip < in_size; ++ip)
          for (int64_t kp = 0; kp < k_size; ++kp) {
            int64_t op = 0, irest = ip, krest = kp, ok = 1;
            I64 icoord(r), kcoord(r);
            for (std::size_t i = r; i-- > 0;) {
              icoord[i] = irest % in[i];
              irest /= in[i];
              kcoord[i] = krest % c.kernel[i];
              krest /= c.kernel[i];
            }
            for (std::size_t i = 0; i < r; ++i) {
              const int64_t o = icoord[i] * at(c.strides, i, 1) - begin[i] + kcoord[i] * at(c.dilations, i, 1);
              if (o < 0 || o >= out[i]) ok = 0;
              op = op * out[i] + o;
            }
            if (!ok) continue;
            y[static_cast<std::size_t>((n * maps + map) * out_size + op)] +=
                double(x[static_cast<std::size_t>((n * channels + ch) * in_size + ip)]) *
                w[static_cast<std::size_t>((ch * c.maps_per_group + m) * k_size + kp)];
          }
      }
  if (!b.empty())
    for (int64_t n = 0; n < n_batch; ++n)
      for (int64_t m = 0; m < maps; ++m)
        for (int64_t i = 0; i < out_size; ++i) y[static_cast<std::size_t>((n * maps + m) * out_size + i)] += b[m];
  return y;
}

void check(const Case& c, unsigned seed) {
  SCOPED_TRACE("case " + std::to_string(seed));
  I64 w_shape{c.x_shape[1], c.maps_per_group};
  w_shape.insert(w_shape.end(), c.kernel.begin(), c.kernel.end());
  const F32 x = random_values(static_cast<std::size_t>(shape_numel(c.x_shape)), seed);
  const F32 w = random_values(static_cast<std::size_t>(shape_numel(w_shape)), seed + 100);
  const F32 b = c.bias ? random_values(static_cast<std::size_t>(c.maps_per_group * c.group), seed + 200) : F32{};
  SingleOp op(11, "ConvTranspose");
  op.in(f32(c.x_shape, x)).in(f32(w_shape, w));
  if (c.bias) op.in(f32({c.maps_per_group * c.group}, b));
  if (c.group != 1) op.attr("group", c.group);
  if (!c.strides.empty()) op.attr("strides", c.strides);
  if (!c.dilations.empty()) op.attr("dilations", c.dilations);
  if (!c.pads.empty()) op.attr("pads", c.pads);
  if (!c.output_padding.empty()) op.attr("output_padding", c.output_padding);
  if (!c.output_shape.empty()) op.attr("output_shape", c.output_shape);
  if (!c.auto_pad.empty()) op.attr("auto_pad", c.auto_pad);
  I64 y_shape;
  const std::vector<double> want = reference(c, x, w, b, y_shape);
  expect_near(op.out(), y_shape, want, 1e-4, 1e-5);
}

TEST(ConvTranspose, MatchesDirectScatter1D) {
  check({{2, 3, 7}, 2, 1, {3}, {}, {}, {}, {}, {}, "", false}, 1);
  check({{1, 4, 9}, 3, 2, {4}, {3}, {2}, {1, 2}, {1}, {}, "", true}, 2);
  check({{2, 6, 5}, 1, 3, {5}, {2}, {1}, {0, 0}, {}, {}, "", true}, 3);
  check({{1, 2, 6}, 2, 1, {3}, {2}, {}, {}, {}, {}, "SAME_LOWER", false}, 4);
  check({{1, 2, 6}, 2, 1, {3}, {2}, {}, {}, {}, {}, "SAME_UPPER", true}, 5);
  check({{1, 2, 6}, 2, 2, {2}, {3}, {2}, {}, {}, {}, "VALID", false}, 6);
}

TEST(ConvTranspose, MatchesDirectScatter2D) {
  check({{2, 4, 5, 6}, 3, 2, {3, 2}, {2, 3}, {1, 2}, {1, 0, 2, 1}, {1, 2}, {}, "", true}, 10);
  check({{1, 3, 4, 4}, 2, 1, {3, 3}, {2, 2}, {2, 1}, {}, {}, {}, "", false}, 11);
  check({{1, 4, 3, 5}, 1, 4, {2, 3}, {1, 2}, {}, {}, {}, {}, "", true}, 12);  // depthwise
  // output_shape larger and smaller than the input reaches, with and without SAME_UPPER.
  check({{1, 2, 3, 3}, 2, 1, {3, 3}, {3, 2}, {}, {}, {}, {11, 9}, "", true}, 13);
  check({{1, 2, 3, 3}, 2, 1, {3, 3}, {3, 2}, {}, {}, {}, {6, 5}, "", false}, 14);
  check({{1, 2, 3, 3}, 2, 1, {3, 3}, {3, 2}, {}, {}, {}, {8, 6}, "SAME_UPPER", false}, 15);
  check({{1, 2, 4, 3}, 2, 1, {3, 2}, {2, 2}, {}, {}, {}, {}, "SAME_LOWER", true}, 16);
  // A large image: the column matrix is built in several bands.
  check({{1, 8, 40, 40}, 16, 1, {3, 3}, {2, 2}, {}, {1, 1, 1, 1}, {1, 1}, {}, "", true}, 17);
}

TEST(ConvTranspose, MatchesDirectScatter3D) {
  check({{1, 2, 3, 4, 3}, 2, 1, {2, 3, 2}, {2, 1, 3}, {1, 2, 1}, {0, 1, 0, 1, 0, 2}, {1, 0, 2}, {}, "", true},
        20);
  check({{2, 4, 2, 3, 3}, 1, 2, {3, 2, 2}, {1, 2, 2}, {}, {}, {}, {4, 7, 6}, "SAME_LOWER", false}, 21);
}

// W and B as initializers: the kernel checks W once when it is built and reads it from there.
TEST(ConvTranspose, ConstantWeights) {
  const Case c{{2, 4, 5, 3}, 3, 2, {3, 2}, {2, 1}, {1, 2}, {1, 0, 0, 1}, {1, 0}, {}, "", true};
  const F32 x = random_values(2 * 4 * 5 * 3, 30), w = random_values(4 * 3 * 3 * 2, 31), b = random_values(6, 32);
  onnx::ModelProto m = make_model(11);
  auto& g = *m.mutable_graph();
  add_input(g, "x", 1, {2, 4, 5, 3});
  add_float_initializer(g, "w", {4, 3, 3, 2}, w);
  add_float_initializer(g, "b", {6}, b);
  onnx::NodeProto* n = add_node(g, "ConvTranspose", {"x", "w", "b"}, {"y"}, "n");
  set_int(n, "group", 2);
  set_ints(n, "strides", c.strides);
  set_ints(n, "dilations", c.dilations);
  set_ints(n, "pads", c.pads);
  set_ints(n, "output_padding", c.output_padding);
  add_output(g, "y", 1);
  auto r = run_on_cpu(m, {f32({2, 4, 5, 3}, x)});
  ASSERT_TRUE(r) << r.status().message();
  I64 y_shape;
  const std::vector<double> want = reference(c, x, w, b, y_shape);
  expect_near((*r)[0], y_shape, want, 1e-4, 1e-5);

  // A constant W that does not split into the groups is refused when the kernel is built.
  for (auto& a : *n->mutable_attribute())
    if (a.name() == "group") a.set_i(3);
  expect_error(run_on_cpu(m, {f32({2, 4, 5, 3}, x)}), "not a multiple of group 3");
}

TEST(ConvTranspose, Errors) {
  expect_error(SingleOp(11, "ConvTranspose").in(iota({1, 3, 4})).in(iota({2, 2, 3})).run(),
               "X has 3 channels but W [2,2,3] expects 2");
  expect_error(SingleOp(11, "ConvTranspose").in(iota({1, 4, 4})).in(iota({4, 2, 3})).attr("group", int64_t{3}).run(),
               "not a multiple of group 3");
  expect_error(SingleOp(11, "ConvTranspose").in(iota({1, 2, 4})).in(iota({2, 2, 3})).attr("strides", I64{1, 1}).run(),
               "strides [1,1] needs 1 entries");
  expect_error(
      SingleOp(11, "ConvTranspose").in(iota({1, 2, 4})).in(iota({2, 2, 3})).attr("output_padding", I64{-1}).run(),
      "output_padding [-1] has a negative entry");
  expect_error(SingleOp(11, "ConvTranspose")
                   .in(iota({1, 2, 2}))
                   .in(iota({2, 2, 3}))
                   .attr("output_shape", I64{int64_t{1} << 50})
                   .run(),
               "is too large");
  expect_error(SingleOp(11, "ConvTranspose")
                   .in(iota({1, 2, 2}))
                   .in(iota({2, 2, 3}))
                   .attr("output_shape", I64{int64_t{1} << 50})
                   .run(),
               "is too large");
  expect_error(SingleOp(11, "ConvTranspose").in(iota({1, 2, 2})).in(iota({2, 2, 3})).attr("pads", I64{3, 3}).run(),
               "the output would have -2 elements");
  auto r = SingleOp(11, "ConvTranspose").in(iota({1, 2, 4})).in(iota({2, 2, 3})).in(iota({3})).run();
  expect_error(r, "B must be float32 [2]");
  expect_error(r, "node 'n'");
}

// Found by the fuzzer: the output size was worked out unchecked, so output_padding 2^63 - 1, or a stride of
// 2^62, wrapped it round (undefined behaviour; "the output would have -9223372036854775805 elements").
TEST(ConvTranspose, HugeAttributesAreRefusedWithoutOverflow) {
  auto r = SingleOp(11, "ConvTranspose").in(iota({1, 1, 3})).in(iota({1, 1, 2})).attr("output_padding", I64{INT64_MAX}).run();
  expect_error(r, "node 'n' (ConvTranspose)");
  expect_error(r, "the output size along spatial axis 0 overflows int64");
  expect_error(SingleOp(11, "ConvTranspose").in(iota({1, 1, 3})).in(iota({1, 1, 2})).attr("strides", I64{int64_t{1} << 62}).run(),
               "strides, dilations and pads must be at most 2^32, got 4611686018427387904");
  // Within the bound, a zero-size X with a spatial dimension of 2^40 still overflows stride * (in - 1).
  expect_error(SingleOp(11, "ConvTranspose")
                   .in(Tensor::empty(DType::kFloat32, {0, 1, int64_t{1} << 40}))
                   .in(iota({1, 1, 2}))
                   .attr("strides", I64{int64_t{1} << 32})
                   .run(),
               "the output size along spatial axis 0 overflows int64");
}

// X [2^40, 0, 5] with W [0, 0, 1] walked 2^40 images for an empty output (hours; found by the fuzzer).
TEST(ConvTranspose, EmptyOutputOfAHugeZeroSizeBatchComesAtOnce) {
  Tensor y = SingleOp(11, "ConvTranspose")
                 .in(Tensor::empty(DType::kFloat32, {int64_t{1} << 40, 0, 5}))
                 .in(Tensor::empty(DType::kFloat32, {0, 0, 1}))
                 .out();
  EXPECT_EQ(y.shape(), (I64{int64_t{1} << 40, 0, 5}));
}

}  // namespace
}  // namespace tandem
