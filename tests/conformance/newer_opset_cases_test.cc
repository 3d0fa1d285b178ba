// Opsets 19 to 25: every op they added or changed, as ONNX test cases (tests/data/newer_opsets, made by its
// make_cases.py with ONNX Runtime 1.30's outputs, or ONNX's reference where ONNX Runtime is wrong) run
// through check_case; plus what those cases cannot show: `saturate` ignored where it does not apply, the
// additions refused at the opset before, and the ops tandem refuses by name.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <tuple>
#include <utility>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "session/case_check.h"
#include "tests/support/model_builder.h"
#include "tests/support/op_runner.h"

namespace tandem {
namespace {

using namespace tandem::test;
namespace fs = std::filesystem;
using onnx::TensorProto;

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(source_path("tests/data/newer_opsets")))
    if (e.is_directory()) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

class NewerOpsetCase : public testing::TestWithParam<std::string> {};

TEST_P(NewerOpsetCase, MatchesTheExpectedOutputs) {
  auto r = check_case(source_path("tests/data/newer_opsets/" + GetParam()), {1e-5, 1e-6});
  ASSERT_TRUE(r) << r.status().message();
  for (const auto& set : r->data_sets)
    for (const auto& out : set.outputs)
      EXPECT_TRUE(out.pass) << set.name << " " << out.name << ": " << out.problem << " max abs error "
                            << out.max_abs_error;
  EXPECT_TRUE(r->pass());
}

INSTANTIATE_TEST_SUITE_P(Cases, NewerOpsetCase, testing::ValuesIn(case_names()),
                         [](const testing::TestParamInfo<std::string>& i) { return i.param; });

// The cases are all there (a folder lost would otherwise drop its test silently).
TEST(NewerOpsetCases, EveryCaseIsPresent) {
  const std::vector<std::string> names = case_names();
  const auto count = [&](const std::string& prefix) {
    return std::count_if(names.begin(), names.end(), [&](const std::string& n) { return n.rfind(prefix, 0) == 0; });
  };
  EXPECT_EQ(count("opset18_"), 10);  // GroupNormalization-18, beside -21; LpPool, GlobalLpPool, LpNormalization; MaxRoiPool
  EXPECT_EQ(count("opset19_"), 18);
  EXPECT_EQ(count("opset20_"), 27);
  EXPECT_EQ(count("opset21_"), 6);
  EXPECT_EQ(count("opset22_"), 5);  // 4, MaxRoiPool in bfloat16
  EXPECT_EQ(count("opset23_"), 40);  // 4, Attention 20, RMSNormalization 8, RotaryEmbedding 8
  EXPECT_EQ(count("opset24_"), 16);  // 2, Attention and TensorScatter 11, Swish 3
  EXPECT_EQ(count("opset25_"), 1);
  EXPECT_EQ(count("opset26_"), 5);
}

onnx::ModelProto cast_model(int64_t opset, bool with_saturate) {
  onnx::ModelProto m = make_model(opset, 9);
  auto& g = *m.mutable_graph();
  add_input(g, "x", TensorProto::FLOAT, {4});
  auto* cast = add_node(g, "Cast", {"x"}, {"i"}, "cast");
  set_int(cast, "to", TensorProto::INT32);
  auto* quantize = add_node(g, "QuantizeLinear", {"x", "scale"}, {"q"}, "quantize");
  add_float_initializer(g, "scale", {}, {0.5f});
  if (with_saturate) {
    set_int(cast, "saturate", 0);
    set_int(quantize, "saturate", 0);
  }
  add_output(g, "i", TensorProto::INT32);
  add_output(g, "q", TensorProto::UINT8);
  return m;
}

// `saturate` (19) only governs float8 targets, which tandem refuses at import, so on any other it changes
// nothing (ONNX Runtime refuses it there; the spec does not). Values past uint8's range saturate in
// QuantizeLinear either way, as they always have.
TEST(Opset19Saturate, IsAcceptedAndChangesNothingForOtherTargets) {
  const std::vector<Tensor> in = {make_tensor<float>({4}, {-3.7f, 0.25f, 99.5f, 400.0f})};
  auto plain = run_on_cpu(cast_model(19, false), in);
  auto saturate = run_on_cpu(cast_model(19, true), in);
  ASSERT_TRUE(plain) << plain.status().message();
  ASSERT_TRUE(saturate) << saturate.status().message();
  EXPECT_EQ((*saturate)[0].data<int32_t>()[0], -3);
  EXPECT_EQ((*saturate)[1].data<uint8_t>()[3], 255);
  for (std::size_t k = 0; k < 2; ++k) EXPECT_EQ(std::memcmp((*plain)[k].raw(), (*saturate)[k].raw(), (*plain)[k].nbytes()), 0);
  auto at18 = import_proto(cast_model(18, true));
  ASSERT_FALSE(at18);
  EXPECT_NE(at18.status().message().find("saturate"), std::string::npos) << at18.status().message();
}

// What opset 19 added is refused at 18, naming the node and what is wrong.
TEST(Opset19Additions, AreRefusedAtOpset18) {
  {
    onnx::ModelProto m = make_model(18, 8);
    auto& g = *m.mutable_graph();
    add_input(g, "x", TensorProto::FLOAT, {3, 4});
    add_int64_initializer(g, "pads", {4}, {1, 1, 1, 1});
    set_string(add_node(g, "Pad", {"x", "pads"}, {"y"}, "pad"), "mode", "wrap");
    add_output(g, "y", TensorProto::FLOAT);
    auto ir = import_proto(m);
    ASSERT_FALSE(ir);
    EXPECT_NE(ir.status().message().find("mode 'wrap'"), std::string::npos) << ir.status().message();
  }
  {
    onnx::ModelProto m = make_model(18, 8);
    auto& g = *m.mutable_graph();
    add_input(g, "x", TensorProto::FLOAT, {1, 1, 2, 2});
    add_float_initializer(g, "scales", {4}, {1, 1, 2, 2});
    set_string(add_node(g, "Resize", {"x", "", "scales"}, {"y"}, "resize"), "coordinate_transformation_mode",
               "half_pixel_symmetric");
    add_output(g, "y", TensorProto::FLOAT);
    auto r = run_on_cpu(m, {make_tensor<float>({1, 1, 2, 2}, {1, 2, 3, 4})});
    ASSERT_FALSE(r);
    EXPECT_NE(r.status().message().find("'resize'"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("half_pixel_symmetric' is not supported"), std::string::npos)
        << r.status().message();
  }
  {
    onnx::ModelProto m = make_model(18, 8);
    auto& g = *m.mutable_graph();
    add_input(g, "a", TensorProto::STRING, {2});
    add_input(g, "b", TensorProto::STRING, {2});
    add_node(g, "Equal", {"a", "b"}, {"c"}, "equal");
    add_output(g, "c", TensorProto::BOOL);
    auto ir = import_proto(m);
    ASSERT_FALSE(ir);
    EXPECT_NE(ir.status().message().find("'equal'"), std::string::npos) << ir.status().message();
    EXPECT_NE(ir.status().message().find("string"), std::string::npos) << ir.status().message();
  }
}

// DeformConv (new in 19) and the float8 types are named as what tandem does not support.
TEST(Opset19Additions, DeformConvAndFloat8AreRefusedByName) {
  {
    onnx::ModelProto m = make_model(19, 9);
    auto& g = *m.mutable_graph();
    for (const char* in : {"x", "w", "offset"}) add_input(g, in, TensorProto::FLOAT, {1, 1, 2, 2});
    add_node(g, "DeformConv", {"x", "w", "offset"}, {"y"}, "deform");
    add_output(g, "y", TensorProto::FLOAT);
    auto ir = import_proto(m);
    ASSERT_FALSE(ir);
    EXPECT_NE(ir.status().message().find("'DeformConv'"), std::string::npos) << ir.status().message();
    EXPECT_NE(ir.status().message().find("tandem does not support"), std::string::npos) << ir.status().message();
  }
  {
    onnx::ModelProto m = make_model(19, 9);
    auto& g = *m.mutable_graph();
    add_input(g, "x", TensorProto::FLOAT, {2});
    set_int(add_node(g, "Cast", {"x"}, {"y"}, "cast"), "to", 17);
    add_output(g, "y", 17);
    auto ir = import_proto(m);
    ASSERT_FALSE(ir);
    EXPECT_NE(ir.status().message().find("float8e4m3fn (17)"), std::string::npos) << ir.status().message();
  }
}

// GroupNormalization's scale and bias hold one value per group at 18 and one per channel at 21: each
// opset refuses the other's shape, naming it.
TEST(GroupNormalization, ScaleAndBiasShapesFollowTheOpset) {
  for (const int opset : {18, 21}) {
    const int64_t wrong = opset == 18 ? 6 : 3;  // per channel at 18, per group at 21
    onnx::ModelProto m = make_model(opset, 9);
    auto& g = *m.mutable_graph();
    add_input(g, "x", TensorProto::FLOAT, {2, 6, 4});
    add_input(g, "s", TensorProto::FLOAT, {wrong});
    add_input(g, "b", TensorProto::FLOAT, {wrong});
    set_int(add_node(g, "GroupNormalization", {"x", "s", "b"}, {"y"}, "norm"), "num_groups", 3);
    add_output(g, "y", TensorProto::FLOAT);
    auto ir = import_proto(m);
    ASSERT_FALSE(ir) << opset;
    EXPECT_NE(ir.status().message().find(opset == 18 ? "(num_groups) = (3)" : "shape (C)"), std::string::npos)
        << ir.status().message();
  }
}

// An empty X normalises at once, however many (n, group) pairs its shape names: num_groups = 2^62 divides
// C = 0 (opset 21, scale and bias [0]), and a batch of 2^40 has no channels (opset 18). The kernel walked
// every pair before (hours: the test did not finish).
TEST(GroupNormalization, AnEmptyXIsNormalisedAtOnce) {
  constexpr int64_t kHuge = int64_t{1} << 40;
  for (const int opset : {18, 21}) {
    SCOPED_TRACE(opset);
    const std::vector<int64_t> x_shape = {opset == 21 ? 1 : kHuge, 0, 3};
    const int64_t groups = opset == 21 ? int64_t{1} << 62 : 1, params = opset == 21 ? 0 : 1;
    onnx::ModelProto m = make_model(opset, opset == 21 ? 10 : 9);
    auto& g = *m.mutable_graph();
    add_input(g, "x", TensorProto::FLOAT, {"n", "c", "d"});
    add_input(g, "s", TensorProto::FLOAT, {params});
    add_input(g, "b", TensorProto::FLOAT, {params});
    set_int(add_node(g, "GroupNormalization", {"x", "s", "b"}, {"y"}, "norm"), "num_groups", groups);
    add_output(g, "y", TensorProto::FLOAT);
    const std::vector<float> ones(static_cast<std::size_t>(params), 1.0f);
    auto r = run_on_cpu(m, {Tensor::empty(DType::kFloat32, x_shape), make_tensor<float>({params}, ones),
                            make_tensor<float>({params}, ones)});
    ASSERT_TRUE(r) << r.status().message();
    EXPECT_EQ((*r)[0].shape(), x_shape);
  }
}

// GroupNormalization-21's stash_type must name a floating-point type.
TEST(GroupNormalization, StashTypeMustBeAFloatType) {
  onnx::ModelProto m = make_model(21, 10);
  auto& g = *m.mutable_graph();
  add_input(g, "x", TensorProto::FLOAT, {1, 2, 3});
  add_input(g, "s", TensorProto::FLOAT, {2});
  add_input(g, "b", TensorProto::FLOAT, {2});
  auto* n = add_node(g, "GroupNormalization", {"x", "s", "b"}, {"y"}, "norm");
  set_int(n, "num_groups", 1);
  set_int(n, "stash_type", TensorProto::INT32);
  add_output(g, "y", TensorProto::FLOAT);
  auto r = run_on_cpu(m, {make_tensor<float>({1, 2, 3}, {1, 2, 3, 4, 5, 6}), make_tensor<float>({2}, {1, 1}),
                          make_tensor<float>({2}, {0, 0})});
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("stash_type must be a floating-point type"), std::string::npos)
      << r.status().message();
}

// Opset 21's blocked quantization refuses a scale of the wrong shape, naming the shape it needs; an
// output_dtype that differs from the zero point's type (at import) and a negative block_size are refused by
// name.
TEST(Opset21Quantization, BadBlocksAndTypesAreRefusedByName) {
  const auto run = [](const std::vector<int64_t>& scale_shape, int64_t block_size, int64_t output_dtype,
                      bool zero_point) {
    onnx::ModelProto m = make_model(21, 10);
    auto& g = *m.mutable_graph();
    add_input(g, "x", TensorProto::FLOAT, {2, 6});
    const std::vector<DimSpec> dims(scale_shape.begin(), scale_shape.end());
    add_input(g, "s", TensorProto::FLOAT, dims);
    std::vector<std::string> ins = {"x", "s"};
    if (zero_point) {
      add_input(g, "z", TensorProto::INT8, dims);
      ins.push_back("z");
    }
    auto* q = add_node(g, "QuantizeLinear", ins, {"q"}, "quantize");
    set_int(q, "axis", 1);
    set_int(q, "block_size", block_size);
    if (output_dtype) set_int(q, "output_dtype", output_dtype);
    add_output(g, "q");
    std::vector<Tensor> feeds = {make_tensor<float>({2, 6}, std::vector<float>(12, 1.0f)),
                                 make_tensor<float>(scale_shape, std::vector<float>(static_cast<std::size_t>(
                                                                      shape_numel(scale_shape)), 0.5f))};
    if (zero_point)
      feeds.push_back(make_tensor<int8_t>(scale_shape, std::vector<int8_t>(static_cast<std::size_t>(
                                                          shape_numel(scale_shape)), 0)));
    return run_on_cpu(m, feeds);
  };
  auto wrong_blocks = run({2, 3}, 4, 0, false);  // 6 in blocks of 4: 2 blocks, not 3
  ASSERT_FALSE(wrong_blocks);
  EXPECT_NE(wrong_blocks.status().message().find("y_scale must be [2,2] (x float32 [2,6] in blocks of 4 along axis 1)"),
            std::string::npos)
      << wrong_blocks.status().message();
  auto right_blocks = run({2, 2}, 4, 0, false);
  ASSERT_TRUE(right_blocks) << right_blocks.status().message();
  EXPECT_EQ((*right_blocks)[0].data<uint8_t>()[0], 2);  // 1 / 0.5, uint8 without a zero point
  auto mismatch = run({2, 2}, 4, TensorProto::UINT16, true);
  ASSERT_FALSE(mismatch);
  // Refused at import, by shape inference, as ONNX's own inference of QuantizeLinear-21 refuses it.
  EXPECT_NE(mismatch.status().message().find(
                "shape inference: QuantizeLinear-21: output_dtype UINT16 does not match y_zero_point's type INT8"),
            std::string::npos)
      << mismatch.status().message();
  auto negative = run({2, 2}, -1, 0, false);
  ASSERT_FALSE(negative);
  EXPECT_NE(negative.status().message().find("block_size must be 0 or more, got -1"), std::string::npos)
      << negative.status().message();
}

// A block_size past the axis makes one block, however large: ceil(5 / (2^63 - 1)) = 1 scale along the axis.
// The count was n + block_size - 1 over block_size, which overflowed to 0 blocks: the right scale [1] was
// refused, and a scale [0] accepted and read past its end (a crash).
TEST(Opset21Quantization, ABlockSizeNearInt64sEndIsOneBlock) {
  constexpr int64_t kHugeBlock = std::numeric_limits<int64_t>::max();
  const auto run = [](const std::vector<int64_t>& scale_shape, const std::string& op) {
    onnx::ModelProto m = make_model(21, 10);
    auto& g = *m.mutable_graph();
    const bool quantize = op == "QuantizeLinear";
    add_input(g, "x", quantize ? TensorProto::FLOAT : TensorProto::INT8, {5});
    const std::vector<DimSpec> dims(scale_shape.begin(), scale_shape.end());
    add_input(g, "s", TensorProto::FLOAT, dims);
    auto* q = add_node(g, op, {"x", "s"}, {"y"}, "node");
    set_int(q, "axis", 0);
    set_int(q, "block_size", kHugeBlock);
    if (quantize) set_int(q, "output_dtype", TensorProto::INT8);
    add_output(g, "y");
    const auto scales = static_cast<std::size_t>(shape_numel(scale_shape));
    std::vector<Tensor> feeds = {quantize ? make_tensor<float>({5}, {0.5f, 1.5f, 2.5f, -3.0f, 7.2f})
                                          : make_tensor<int8_t>({5}, {1, 3, 5, -6, 14}),
                                 make_tensor<float>(scale_shape, std::vector<float>(scales, 0.5f))};
    return run_on_cpu(m, feeds);
  };
  for (const std::string op : {"QuantizeLinear", "DequantizeLinear"}) {
    SCOPED_TRACE(op);
    auto none = run({0}, op);
    ASSERT_FALSE(none);
    EXPECT_NE(none.status().message().find("_scale must be [1]"), std::string::npos) << none.status().message();
    auto one = run({1}, op);
    ASSERT_TRUE(one) << one.status().message();
    ASSERT_EQ((*one)[0].numel(), 5);
    if (op == "QuantizeLinear") {  // round(x / 0.5), half to even: 1, 3, 5, -6, 14.4 -> 14
      const std::vector<int8_t> want = {1, 3, 5, -6, 14};
      for (int64_t i = 0; i < 5; ++i) EXPECT_EQ((*one)[0].data<int8_t>()[i], want[static_cast<std::size_t>(i)]) << i;
    } else {  // x * 0.5
      const std::vector<float> want = {0.5f, 1.5f, 2.5f, -3.0f, 7.0f};
      for (int64_t i = 0; i < 5; ++i) EXPECT_EQ((*one)[0].data<float>()[i], want[static_cast<std::size_t>(i)]) << i;
    }
  }
}

// An empty batch asks for no grid, however long its axes: AffineGrid no longer tables coordinates per axis
// (2^40 of them here, 8 TiB per axis, which it allocated before the output; found by the fuzzer).
TEST(Opset20AffineGrid, AnEmptyBatchWithHugeAxesTakesNoMemory) {
  constexpr int64_t kHuge = int64_t{1} << 40;
  onnx::ModelProto m = make_model(20, 9);
  auto& g = *m.mutable_graph();
  add_input(g, "theta", TensorProto::FLOAT, {0, 2, 3});
  add_int64_initializer(g, "size", {4}, {0, 1, kHuge, kHuge});
  add_node(g, "AffineGrid", {"theta", "size"}, {"grid"}, "affine");
  add_output(g, "grid", TensorProto::FLOAT);
  auto r = run_on_cpu(m, {make_tensor<float>({0, 2, 3}, {})});
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ((*r)[0].shape(), (std::vector<int64_t>{0, kHuge, kHuge, 2}));
}

// GridSample-20's cubic mode over three spatial axes has no ONNX Runtime kernel to compare with; it must
// agree with the 4-D (bicubic, checked against ONNX's own cases) one where depth does not matter: a volume
// whose depth slices are all one image, sampled with border padding (every depth tap inside, and the
// cubic weights sum to 1), gives that image's 2-D sample at (x, y), whatever z.
TEST(Opset20GridSample, CubicOverThreeAxesAgreesWithTwoWhereDepthIsConstant) {
  const std::vector<float> image = random_floats(4 * 5, 2100);
  std::vector<float> volume;
  for (int d = 0; d < 3; ++d) volume.insert(volume.end(), image.begin(), image.end());
  const std::vector<float> xy = {-0.9f, 0.35f, 0.2f, -0.6f, 1.1f, 0.05f};  // three points (x, y)
  const std::vector<float> z = {-0.7f, 0.4f, 0.95f};
  std::vector<float> xyz;
  for (int p = 0; p < 3; ++p) xyz.insert(xyz.end(), {xy[2 * p], xy[2 * p + 1], z[p]});
  const auto sample = [](int rank, const std::vector<Tensor>& feeds) {
    onnx::ModelProto m = make_model(20, 9);
    auto& g = *m.mutable_graph();
    add_input(g, "x", TensorProto::FLOAT, feeds[0].shape().size() == 4 ? std::vector<DimSpec>{1, 1, 4, 5}
                                                                      : std::vector<DimSpec>{1, 1, 3, 4, 5});
    add_input(g, "grid", TensorProto::FLOAT, rank == 4 ? std::vector<DimSpec>{1, 1, 3, 2}
                                                       : std::vector<DimSpec>{1, 1, 1, 3, 3});
    auto* n = add_node(g, "GridSample", {"x", "grid"}, {"y"}, "sample");
    set_string(n, "mode", "cubic");
    set_string(n, "padding_mode", "border");
    add_output(g, "y", TensorProto::FLOAT);
    return run_on_cpu(m, feeds);
  };
  auto flat = sample(4, {make_tensor<float>({1, 1, 4, 5}, image), make_tensor<float>({1, 1, 3, 2}, xy)});
  auto deep = sample(5, {make_tensor<float>({1, 1, 3, 4, 5}, volume), make_tensor<float>({1, 1, 1, 3, 3}, xyz)});
  ASSERT_TRUE(flat) << flat.status().message();
  ASSERT_TRUE(deep) << deep.status().message();
  ASSERT_EQ((*deep)[0].numel(), 3);
  for (int p = 0; p < 3; ++p) EXPECT_NEAR((*deep)[0].data<float>()[p], (*flat)[0].data<float>()[p], 1e-5) << p;
}

// What opset 20 added is refused at 19; ImageDecoder and RegexFullMatch (new in 20) are named as not
// supported; a onesided DFT-20 of a complex signal is refused as ONNX's own inference refuses it.
TEST(Opset20Additions, AreRefusedWhereTheyDoNotApply) {
  {
    onnx::ModelProto m = make_model(19, 9);
    auto& g = *m.mutable_graph();
    add_input(g, "x", TensorProto::FLOAT, {3});
    add_node(g, "Gelu", {"x"}, {"y"}, "gelu");
    add_output(g, "y", TensorProto::FLOAT);
    auto ir = import_proto(m);
    ASSERT_FALSE(ir);
    EXPECT_NE(ir.status().message().find("'Gelu'"), std::string::npos) << ir.status().message();
  }
  for (const char* op : {"ImageDecoder", "RegexFullMatch"}) {
    onnx::ModelProto m = make_model(20, 9);
    auto& g = *m.mutable_graph();
    add_input(g, "x", op[0] == 'I' ? TensorProto::UINT8 : TensorProto::STRING, {3});
    add_node(g, op, {"x"}, {"y"}, "n");
    add_output(g, "y");
    auto ir = import_proto(m);
    ASSERT_FALSE(ir) << op;
    EXPECT_NE(ir.status().message().find("which tandem does not support: the op was added after opset 17"),
              std::string::npos)
        << ir.status().message();
  }
  {
    onnx::ModelProto m = make_model(20, 9);
    auto& g = *m.mutable_graph();
    add_input(g, "x", TensorProto::FLOAT, {2, 8, 2});
    set_int(add_node(g, "DFT", {"x"}, {"y"}, "dft"), "onesided", 1);
    add_output(g, "y", TensorProto::FLOAT);
    auto ir = import_proto(m);
    ASSERT_FALSE(ir);
    EXPECT_NE(ir.status().message().find("onesided needs a real input"), std::string::npos) << ir.status().message();
  }
  {  // GridSample-20 names its modes linear and cubic; bilinear is opset 16's name
    onnx::ModelProto m = make_model(20, 9);
    auto& g = *m.mutable_graph();
    add_input(g, "x", TensorProto::FLOAT, {1, 1, 2, 2});
    add_input(g, "grid", TensorProto::FLOAT, {1, 1, 1, 2});
    set_string(add_node(g, "GridSample", {"x", "grid"}, {"y"}, "sample"), "mode", "bilinear");
    add_output(g, "y", TensorProto::FLOAT);
    auto r = run_on_cpu(m, {make_tensor<float>({1, 1, 2, 2}, {1, 2, 3, 4}), make_tensor<float>({1, 1, 1, 2}, {0, 0})});
    ASSERT_FALSE(r);
    EXPECT_NE(r.status().message().find("linear, nearest, cubic (opset 20)"), std::string::npos)
        << r.status().message();
  }
}

// IsInf-20 takes float16 and bfloat16 (IsInf-10 only float and double; the spec's type constraints), here
// cast from float32 in the graph; at opset 19 they are still refused.
onnx::ModelProto is_inf_model(int64_t opset, int32_t via) {
  onnx::ModelProto m = make_model(opset, 9);
  auto& g = *m.mutable_graph();
  add_input(g, "x", TensorProto::FLOAT, {4});
  set_int(add_node(g, "Cast", {"x"}, {"h"}, "cast"), "to", via);
  add_node(g, "IsInf", {"h"}, {"y"}, "isinf");
  add_output(g, "y", TensorProto::BOOL);
  return m;
}

TEST(Opset20Types, IsInfTakesFloat16AndBFloat16) {
  const float inf = std::numeric_limits<float>::infinity();
  for (int32_t via : {TensorProto::FLOAT16, TensorProto::BFLOAT16}) {
    auto r = run_on_cpu(is_inf_model(20, via), {make_tensor<float>({4}, {1.0f, inf, -inf, std::nanf("")})});
    ASSERT_TRUE(r) << via << ": " << r.status().message();
    EXPECT_EQ(values_of<uint8_t>((*r)[0]), (std::vector<uint8_t>{0, 1, 1, 0})) << via;
    auto at19 = import_proto(is_inf_model(19, via));
    ASSERT_FALSE(at19) << via;
    EXPECT_NE(at19.status().message().find("'isinf'"), std::string::npos) << at19.status().message();
  }
}

// ConstantOfShape-20's value may be bfloat16 (ConstantOfShape-9's may not).
TEST(Opset20Types, ConstantOfShapeTakesABFloat16Value) {
  for (int64_t opset : {19, 20}) {
    onnx::ModelProto m = make_model(opset, 9);
    auto& g = *m.mutable_graph();
    add_input(g, "shape", TensorProto::INT64, {2});
    auto* fill = add_node(g, "ConstantOfShape", {"shape"}, {"c"}, "fill");
    auto* a = fill->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(TensorProto::BFLOAT16);
    a->mutable_t()->add_dims(1);
    a->mutable_t()->add_int32_data(0x3FC0);  // 1.5 in bfloat16
    set_int(add_node(g, "Cast", {"c"}, {"y"}, "cast"), "to", TensorProto::FLOAT);
    add_output(g, "y", TensorProto::FLOAT);
    auto r = run_on_cpu(m, {make_tensor<int64_t>({2}, {2, 3})});
    if (opset == 19) {
      ASSERT_FALSE(r);
      EXPECT_NE(r.status().message().find("'fill'"), std::string::npos) << r.status().message();
      continue;
    }
    ASSERT_TRUE(r) << r.status().message();
    EXPECT_EQ((*r)[0].shape(), (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(values_of<float>((*r)[0]), std::vector<float>(6, 1.5f));
  }
}

// DFT-20: an inverse transform has no one-sided form (DFT-17's inference refuses the pair too; the kernel
// gave the first half of the inverse transform), and a dft_length below 1 is named as such at import.
TEST(Opset20Dft, InverseOnesidedAndNonPositiveLengthAreRefused) {
  {
    onnx::ModelProto m = make_model(20, 9);
    auto& g = *m.mutable_graph();
    add_input(g, "x", TensorProto::FLOAT, {2, 5, 1});
    auto* dft = add_node(g, "DFT", {"x"}, {"y"}, "dft");
    set_int(dft, "onesided", 1);
    set_int(dft, "inverse", 1);
    add_output(g, "y", TensorProto::FLOAT);
    auto ir = import_proto(m);
    ASSERT_FALSE(ir);
    EXPECT_NE(ir.status().message().find("onesided and inverse cannot both be 1"), std::string::npos)
        << ir.status().message();
  }
  for (int64_t length : {0, -3}) {
    onnx::ModelProto m = make_model(20, 9);
    auto& g = *m.mutable_graph();
    add_input(g, "x", TensorProto::FLOAT, {2, 5, 1});
    add_int64_initializer(g, "len", {}, {length});
    add_node(g, "DFT", {"x", "len"}, {"y"}, "dft");
    add_output(g, "y", TensorProto::FLOAT);
    auto ir = import_proto(m);
    ASSERT_FALSE(ir) << length;
    EXPECT_NE(ir.status().message().find("dft_length must be >= 1, got " + std::to_string(length)),
              std::string::npos)
        << ir.status().message();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Opsets 22 to 25

onnx::ModelProto unary_model(int64_t opset, const char* op, int32_t type) {
  onnx::ModelProto m = make_model(opset, 10);
  auto& g = *m.mutable_graph();
  add_input(g, "x", type, {3});
  add_node(g, op, {"x"}, {"y"}, "unary");
  add_output(g, "y", type);
  return m;
}

// 22 added bfloat16 to the recurrent, convolution, pooling and activation ops; at 21 it is refused by name.
TEST(Opset22BFloat16, IsRefusedAt21AndRunsAt22) {
  auto at21 = import_proto(unary_model(21, "Elu", TensorProto::BFLOAT16));
  ASSERT_FALSE(at21);
  EXPECT_NE(at21.status().message().find("'unary'"), std::string::npos) << at21.status().message();
  EXPECT_NE(at21.status().message().find("bfloat16"), std::string::npos) << at21.status().message();
  // -1 and 2 are exact in bfloat16; elu(-1) = e^-1 - 1 = -0.63212..., which rounds to -0.6328125.
  std::vector<Tensor> in = {Tensor::empty(DType::kBFloat16, {3})};
  const float values[] = {-1.0f, 2.0f, 0.0f};
  for (int i = 0; i < 3; ++i) in[0].data<uint16_t>()[i] = static_cast<uint16_t>(std::bit_cast<uint32_t>(values[i]) >> 16);
  auto at22 = run_on_cpu(unary_model(22, "Elu", TensorProto::BFLOAT16), in);
  ASSERT_TRUE(at22) << at22.status().message();
  ASSERT_EQ((*at22)[0].dtype(), DType::kBFloat16);
  const auto widened = [&](int i) { return std::bit_cast<float>(uint32_t{(*at22)[0].data<uint16_t>()[i]} << 16); };
  EXPECT_EQ(widened(0), -0.6328125f);
  EXPECT_EQ(widened(1), 2.0f);
  EXPECT_EQ(widened(2), 0.0f);
  // An op 22 did not change keeps its types, served as before: MatMul (bfloat16 since 13) through its
  // float32 twin (runtime_cpu/float32_twin.h): [[1, 2], [3, 4]] squared.
  onnx::ModelProto mm = make_model(22, 10);
  auto& g = *mm.mutable_graph();
  add_input(g, "a", TensorProto::BFLOAT16, {2, 2});
  add_node(g, "MatMul", {"a", "a"}, {"c"}, "product");
  add_output(g, "c", TensorProto::BFLOAT16);
  Tensor a = Tensor::empty(DType::kBFloat16, {2, 2});
  for (int i = 0; i < 4; ++i) a.data<uint16_t>()[i] = static_cast<uint16_t>(std::bit_cast<uint32_t>(float(i + 1)) >> 16);
  auto matmul = run_on_cpu(mm, {a});
  ASSERT_TRUE(matmul) << matmul.status().message();
  ASSERT_EQ((*matmul)[0].dtype(), DType::kBFloat16);
  const float want[] = {7, 10, 15, 22};
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(std::bit_cast<float>(uint32_t{(*matmul)[0].data<uint16_t>()[i]} << 16), want[i]) << i;
}

onnx::ModelProto quantize23_model(int64_t precision, int64_t dq_output_dtype) {
  onnx::ModelProto m = make_model(23, 11);
  auto& g = *m.mutable_graph();
  add_input(g, "x", TensorProto::FLOAT, {4});
  add_float_initializer(g, "s", {}, {0.5f});
  auto* q = add_node(g, "QuantizeLinear", {"x", "s"}, {"q"}, "quantize");
  if (precision) set_int(q, "precision", precision);
  auto* dq = add_node(g, "DequantizeLinear", {"q", "s"}, {"y"}, "dequantize");
  if (dq_output_dtype) set_int(dq, "output_dtype", dq_output_dtype);
  add_output(g, "y");
  return m;
}

// QuantizeLinear-23's precision and DequantizeLinear-23's output_dtype name float types; others are refused,
// naming the node and the value. Before 23 neither attribute exists.
TEST(Opset23Quantization, PrecisionAndOutputDtypeMustBeFloatTypes) {
  const std::vector<Tensor> in = {make_tensor<float>({4}, {1.0f, -2.0f, 3.3f, 700.0f})};
  auto fine = run_on_cpu(quantize23_model(TensorProto::BFLOAT16, TensorProto::FLOAT16), in);
  ASSERT_TRUE(fine) << fine.status().message();
  EXPECT_EQ((*fine)[0].dtype(), DType::kFloat16);
  for (auto [precision, output_dtype, want] :
       {std::tuple<int64_t, int64_t, const char*>{TensorProto::INT8, 0, "'quantize'"},
        {TensorProto::DOUBLE, 0, "precision 11 is not float, float16 or bfloat16"},
        {0, TensorProto::INT32, "'dequantize'"},
        {0, 99, "attribute 'output_dtype' is 99, which is not an ONNX tensor data type"}}) {
    auto r = run_on_cpu(quantize23_model(precision, output_dtype), in);
    ASSERT_FALSE(r) << want;
    EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status().message();
  }
  onnx::ModelProto at21 = quantize23_model(TensorProto::FLOAT16, 0);
  at21.mutable_opset_import(0)->set_version(21);
  auto r = import_proto(at21);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("precision"), std::string::npos) << r.status().message();
}

onnx::ModelProto cast24_model(int64_t opset, const char* round_mode) {
  onnx::ModelProto m = make_model(opset, 12);
  auto& g = *m.mutable_graph();
  add_input(g, "x", TensorProto::FLOAT, {4});
  auto* cast = add_node(g, "Cast", {"x"}, {"y"}, "cast");
  set_int(cast, "to", TensorProto::INT32);
  if (round_mode) set_string(cast, "round_mode", round_mode);
  add_output(g, "y", TensorProto::INT32);
  return m;
}

// Cast-24's round_mode governs float8e8m0 targets only (refused at import), so elsewhere it changes nothing;
// a value the spec does not name is refused, and before 24 the attribute does not exist.
TEST(Opset24Cast, RoundModeChangesNothingForOtherTargets) {
  const std::vector<Tensor> in = {make_tensor<float>({4}, {-3.7f, 0.5f, 2.5f, 99.9f})};
  auto plain = run_on_cpu(cast24_model(24, nullptr), in);
  ASSERT_TRUE(plain) << plain.status().message();
  for (const char* mode : {"up", "down", "nearest"}) {
    auto r = run_on_cpu(cast24_model(24, mode), in);
    ASSERT_TRUE(r) << r.status().message();
    EXPECT_EQ(std::memcmp((*r)[0].raw(), (*plain)[0].raw(), (*plain)[0].nbytes()), 0) << mode;
  }
  EXPECT_EQ((*plain)[0].data<int32_t>()[0], -3);
  auto bad = run_on_cpu(cast24_model(24, "sideways"), in);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find("round_mode 'sideways' is not one of up, down, nearest"), std::string::npos)
      << bad.status().message();
  auto at23 = import_proto(cast24_model(23, "up"));
  ASSERT_FALSE(at23);
  EXPECT_NE(at23.status().message().find("round_mode"), std::string::npos) << at23.status().message();
}

// The types 23 to 25 added (float4e2m1, float8e8m0, uint2, int2) are refused by name, as tensors and as
// Cast targets.
TEST(Opset23To25Types, AreRefusedByName) {
  for (auto [type, name] : {std::pair<int32_t, const char*>{23, "float4e2m1 (23)"}, {24, "float8e8m0 (24)"},
                            {25, "uint2 (25)"}, {26, "int2 (26)"}}) {
    auto r = import_proto(cast24_model(25, nullptr));
    ASSERT_TRUE(r) << r.status().message();
    onnx::ModelProto m = cast24_model(25, nullptr);
    m.mutable_graph()->mutable_node(0)->mutable_attribute(0)->set_i(type);
    m.mutable_graph()->mutable_output(0)->mutable_type()->mutable_tensor_type()->set_elem_type(type);
    auto cast = import_proto(m);
    ASSERT_FALSE(cast) << name;
    EXPECT_NE(cast.status().message().find(name), std::string::npos) << cast.status().message();
  }
}

// The kernels that took float16 before 22 take bfloat16 at 22 the same way (widened, computed as float16's
// are, rounded once): their bfloat16 outputs are the float32 kernel's on the same (bfloat16-exact) inputs,
// rounded, within one bfloat16 step for the kernels that compute float16 in float rather than in double.
TEST(Opset22BFloat16, KernelsThatTookFloat16AgreeWithFloat32) {
  struct Op {
    const char* name;
    std::vector<std::vector<int64_t>> float_inputs;  // shapes of the float inputs, in order
    std::function<void(onnx::GraphProto&, int32_t)> build;
  };
  const std::vector<Op> ops = {
      {"Det", {{2, 3, 3}}, [](onnx::GraphProto& g, int32_t) { add_node(g, "Det", {"in0"}, {"y"}, "op"); }},
      {"GridSample", {{1, 2, 4, 5}, {1, 3, 2, 2}},
       [](onnx::GraphProto& g, int32_t) { add_node(g, "GridSample", {"in0", "in1"}, {"y"}, "op"); }},
      {"RoiAlign", {{1, 2, 6, 6}, {2, 4}},
       [](onnx::GraphProto& g, int32_t) {
         add_int64_initializer(g, "batch", {2}, {0, 0});
         auto* n = add_node(g, "RoiAlign", {"in0", "in1", "batch"}, {"y"}, "op");
         set_int(n, "output_height", 2);
         set_int(n, "output_width", 3);
       }},
      {"MaxUnpool", {{1, 2, 2, 2}},
       [](onnx::GraphProto& g, int32_t) {
         add_int64_initializer(g, "where", {1, 2, 2, 2}, {0, 3, 9, 15, 16, 22, 25, 31});
         auto* n = add_node(g, "MaxUnpool", {"in0", "where"}, {"y"}, "op");
         set_ints(n, "kernel_shape", {2, 2});
         set_ints(n, "strides", {2, 2});
       }},
  };
  for (const Op& op : ops) {
    SCOPED_TRACE(op.name);
    std::vector<Tensor> f32, bf16;
    uint32_t seed = 7;
    for (const auto& shape : op.float_inputs) {
      std::vector<float> v = random_floats(shape_numel(shape), seed++, op.name == std::string("RoiAlign") ? 0.0f : -1.0f,
                                           op.name == std::string("RoiAlign") ? 5.0f : 1.0f);
      Tensor b = Tensor::empty(DType::kBFloat16, shape);
      for (std::size_t i = 0; i < v.size(); ++i) {  // bfloat16-exact values, the same in both runs
        b.data<uint16_t>()[i] = static_cast<uint16_t>(std::bit_cast<uint32_t>(v[i]) >> 16);
        v[i] = std::bit_cast<float>(uint32_t{b.data<uint16_t>()[i]} << 16);
      }
      f32.push_back(make_tensor<float>(shape, v));
      bf16.push_back(std::move(b));
    }
    std::vector<std::vector<Tensor>> outs;
    for (int k = 0; k < 2; ++k) {
      const int32_t type = k == 0 ? TensorProto::FLOAT : TensorProto::BFLOAT16;
      onnx::ModelProto m = make_model(22, 10);
      auto& g = *m.mutable_graph();
      for (std::size_t i = 0; i < op.float_inputs.size(); ++i)
        add_input(g, "in" + std::to_string(i), type, {op.float_inputs[i].begin(), op.float_inputs[i].end()});
      op.build(g, type);
      add_output(g, "y", type);
      auto r = run_on_cpu(m, k == 0 ? f32 : bf16);
      ASSERT_TRUE(r) << r.status().message();
      outs.push_back(std::move(*r));
    }
    const Tensor &want = outs[0][0], &got = outs[1][0];
    ASSERT_EQ(got.dtype(), DType::kBFloat16);
    ASSERT_EQ(got.shape(), want.shape());
    ASSERT_GT(want.numel(), 0);
    for (int64_t i = 0; i < want.numel(); ++i) {
      const float w = want.data<float>()[i];
      const float g = std::bit_cast<float>(uint32_t{got.data<uint16_t>()[i]} << 16);
      EXPECT_LE(std::fabs(g - w), std::ldexp(std::fabs(w), -7) + 1e-6f) << i << ": " << g << " against " << w;
    }
  }
  // The random generators make bfloat16 at 22: values of the type, in the range asked for.
  onnx::ModelProto m = make_model(22, 10);
  auto& g = *m.mutable_graph();
  auto* n = add_node(g, "RandomUniform", {}, {"y"}, "op");
  set_int(n, "dtype", TensorProto::BFLOAT16);
  set_ints(n, "shape", {64});
  set_float(n, "low", 2.0f);
  set_float(n, "high", 3.0f);
  add_output(g, "y", TensorProto::BFLOAT16);
  auto r = run_on_cpu(m, {});
  ASSERT_TRUE(r) << r.status().message();
  ASSERT_EQ((*r)[0].dtype(), DType::kBFloat16);
  for (int64_t i = 0; i < 64; ++i) {
    const float v = std::bit_cast<float>(uint32_t{(*r)[0].data<uint16_t>()[i]} << 16);
    EXPECT_GE(v, 2.0f);
    EXPECT_LT(v, 3.0f);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Attention-23/24 and TensorScatter-24: refusals, with the node and the reason named, at import where shape
// inference sees them and at run time where only the values tell (symbolic dimensions leave them to the
// kernel); and the float path's sgemm products against their reference twin, the plain loops.

struct AttentionSpec {
  int64_t opset = 23;
  std::vector<DimSpec> q, k, v, mask;  // mask empty: none
  int32_t mask_type = TensorProto::FLOAT;
  std::vector<DimSpec> past;           // past_key and past_value (one shape, head sizes equal): empty: none
  bool nonpad = false;
  std::vector<std::pair<std::string, int64_t>> ints;
  std::vector<std::pair<std::string, float>> floats;
  bool qk_output = false;
};

AttentionSpec spec(std::vector<DimSpec> q, std::vector<DimSpec> k, std::vector<DimSpec> v, int64_t opset = 23) {
  AttentionSpec a;
  a.opset = opset;
  a.q = std::move(q);
  a.k = std::move(k);
  a.v = std::move(v);
  return a;
}

onnx::ModelProto attention_model(const AttentionSpec& a) {
  onnx::ModelProto m = make_model(a.opset, 10);
  auto& g = *m.mutable_graph();
  add_input(g, "Q", TensorProto::FLOAT, a.q);
  add_input(g, "K", TensorProto::FLOAT, a.k);
  add_input(g, "V", TensorProto::FLOAT, a.v);
  std::vector<std::string> ins = {"Q", "K", "V", "", "", "", ""};
  if (!a.mask.empty()) add_input(g, ins[3] = "mask", a.mask_type, a.mask);
  if (!a.past.empty()) {
    add_input(g, ins[4] = "past_key", TensorProto::FLOAT, a.past);
    add_input(g, ins[5] = "past_value", TensorProto::FLOAT, a.past);
  }
  if (a.nonpad) add_input(g, ins[6] = "nonpad", TensorProto::INT64, {"b"});
  while (!ins.empty() && ins.back().empty()) ins.pop_back();
  std::vector<std::string> outs = {"Y"};
  if (a.qk_output) outs = {"Y", "", "", "qk"};
  auto* n = add_node(g, "Attention", ins, outs, "attention");
  for (const auto& [name, v] : a.ints) set_int(n, name, v);
  for (const auto& [name, v] : a.floats) set_float(n, name, v);
  for (const auto& o : outs)
    if (!o.empty()) add_output(g, o, TensorProto::FLOAT);
  return m;
}

Tensor random_tensor(const std::vector<int64_t>& shape, uint32_t seed) {
  return make_tensor<float>(shape, random_floats(shape_numel(shape), seed));
}

void expect_refused(const Result<ModelIR>& r, const std::string& reason) {
  ASSERT_FALSE(r) << "expected a refusal with: " << reason;
  EXPECT_NE(r.status().message().find("'attention'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(reason), std::string::npos) << r.status().message();
}
void expect_refused(const Result<std::vector<Tensor>>& r, const std::string& node, const std::string& reason) {
  ASSERT_FALSE(r) << "expected a refusal with: " << reason;
  EXPECT_NE(r.status().message().find("'" + node + "'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(reason), std::string::npos) << r.status().message();
}

// Shapes and attributes shape inference can judge are refused at import, naming the node and the reason.
TEST(Opset23Attention, BadShapesAndAttributesAreRefusedAtImport) {
  AttentionSpec batch = spec({2, 2, 3, 4}, {3, 2, 5, 4}, {3, 2, 5, 4});
  expect_refused(import_proto(attention_model(batch)), "the batch size of Q and K differs: 2 and 3");
  AttentionSpec heads = spec({1, 3, 3, 4}, {1, 2, 5, 4}, {1, 2, 5, 4});
  expect_refused(import_proto(attention_model(heads)),
                 "the 3 query heads are not a whole multiple of the 2 key/value heads");
  AttentionSpec hidden = spec({1, 3, 10}, {1, 5, 8}, {1, 5, 8});
  hidden.ints = {{"q_num_heads", 4}, {"kv_num_heads", 2}};
  expect_refused(import_proto(attention_model(hidden)), "Q's hidden size 10 is not a multiple of 4");
  AttentionSpec no_heads = spec({1, 3, 8}, {1, 5, 8}, {1, 5, 8});
  expect_refused(import_proto(attention_model(no_heads)), "3-D Q, K and V need q_num_heads and kv_num_heads");
  // At 23 a mask's key axis is the keys' length or 1; 3 of 5 keys is opset 24's shorter mask.
  AttentionSpec mask = spec({1, 2, 3, 4}, {1, 2, 5, 4}, {1, 2, 5, 4});
  mask.mask = {3, 3};
  expect_refused(import_proto(attention_model(mask)), "attn_mask's dimension 1 (3) does not broadcast to 5");
  AttentionSpec long_mask = mask;
  long_mask.opset = 24;
  long_mask.mask = {1, 3, 6};
  expect_refused(import_proto(attention_model(long_mask)), "(the keys' axis may be shorter, not longer)");
  AttentionSpec mask_q = spec({1, 2, 3, 4}, {1, 2, 5, 4}, {1, 2, 5, 4});
  mask_q.mask = {2, 5};
  expect_refused(import_proto(attention_model(mask_q)), "attn_mask's dimension 0 (2) does not broadcast to 3");
  for (const int64_t mode : {-1, 4}) {
    AttentionSpec bad = spec({1, 2, 3, 4}, {1, 2, 5, 4}, {1, 2, 5, 4});
    bad.ints = {{"qk_matmul_output_mode", mode}};
    expect_refused(import_proto(attention_model(bad)),
                   "qk_matmul_output_mode must be 0, 1, 2 or 3, got " + std::to_string(mode));
  }
  AttentionSpec scale = spec({1, 2, 3, 4}, {1, 2, 5, 4}, {1, 2, 5, 4});
  scale.floats = {{"scale", 0.0f}};
  expect_refused(import_proto(attention_model(scale)), "scale must be a finite number above 0");
  AttentionSpec past = spec({1, 2, 3, 4}, {1, 2, 5, 4}, {1, 2, 5, 4});
  past.past = {1, 3, 2, 4};
  expect_refused(import_proto(attention_model(past)), "the key/value heads and past_key's differs: 2 and 3");
}

// With symbolic dimensions the same faults reach the kernel, which refuses them by name at run time.
TEST(Opset23Attention, BadShapesAreRefusedAtRunTime) {
  const auto run = [](AttentionSpec a, const std::vector<std::vector<int64_t>>& shapes) {
    const std::vector<std::vector<DimSpec>*> specs = {&a.q, &a.k, &a.v, &a.mask};
    for (std::size_t i = 0; i < specs.size() && i < shapes.size(); ++i) {
      specs[i]->clear();
      for (std::size_t d = 0; d < shapes[i].size(); ++d)
        specs[i]->push_back("d" + std::to_string(i) + "_" + std::to_string(d));
    }
    std::vector<Tensor> feeds;
    for (std::size_t i = 0; i < shapes.size(); ++i)
      feeds.push_back(a.mask_type == TensorProto::INT32 && i == 3
                          ? make_tensor<int32_t>(shapes[i], std::vector<int32_t>(
                                                                static_cast<std::size_t>(shape_numel(shapes[i])), 0))
                          : random_tensor(shapes[i], static_cast<uint32_t>(i + 1)));
    return run_on_cpu(attention_model(a), feeds);
  };
  AttentionSpec base = spec({0}, {0}, {0});
  expect_refused(run(base, {{2, 2, 3, 4}, {3, 2, 5, 4}, {3, 2, 5, 4}}), "attention", "must have one batch size");
  expect_refused(run(base, {{1, 3, 3, 4}, {1, 2, 5, 4}, {1, 2, 5, 4}}), "attention",
                 "the 3 query heads must be a whole multiple of the 2 key/value heads");
  expect_refused(run(base, {{1, 2, 3, 4}, {1, 2, 5, 4}, {1, 2, 6, 4}}), "attention",
                 "must have K's heads and sequence length");
  AttentionSpec masked = spec({0}, {0}, {0});
  masked.mask = {0};
  expect_refused(run(masked, {{1, 2, 3, 4}, {1, 2, 5, 4}, {1, 2, 5, 4}, {1, 3, 3}}), "attention",
                 "attn_mask float32 [1,3,3] does not broadcast to [batch, q_heads, q_seq, keys] = [1, 2, 3, 5]");
  AttentionSpec int_mask = masked;
  int_mask.mask_type = TensorProto::INT32;
  expect_refused(run(int_mask, {{1, 2, 3, 4}, {1, 2, 5, 4}, {1, 2, 5, 4}, {3, 5}}), "attention",
                 "attn_mask must be bool or Q's type float32, got int32 [3,5]");
  // nonpad_kv_seqlen counts keys: 7 of 5 is no count.
  AttentionSpec nonpad = spec({1, 2, 3, 4}, {1, 2, 5, 4}, {1, 2, 5, 4}, 24);
  nonpad.nonpad = true;
  auto r = run_on_cpu(attention_model(nonpad), {random_tensor({1, 2, 3, 4}, 1), random_tensor({1, 2, 5, 4}, 2),
                                                random_tensor({1, 2, 5, 4}, 3), make_tensor<int64_t>({1}, {7})});
  expect_refused(r, "attention", "nonpad_kv_seqlen[0] = 7 is not a key count in [0, 5]");
}

// The float path's sgemm products agree with the plain loops (TANDEM_ATTENTION_KERNEL=reference) on a
// 3-D grouped-query node with a past, a float mask, causal masking, softcap and the softmax as output 3;
// 1100 queries over 2100 keys take three blocks of 499 query rows, so the causal offset and the mask rows
// must carry over from one block to the next.
TEST(Opset23Attention, SgemmMatchesThePlainLoops) {
  AttentionSpec a = spec({1, 1100, 2 * 8}, {1, 2089, 1 * 8}, {1, 2089, 1 * 8});
  a.mask = {1100, 2100};
  a.past = {1, 1, 11, 8};
  a.ints = {{"q_num_heads", 2}, {"kv_num_heads", 1}, {"is_causal", 1}, {"qk_matmul_output_mode", 3}};
  a.floats = {{"softcap", 3.0f}};
  a.qk_output = true;
  const std::vector<Tensor> feeds = {random_tensor({1, 1100, 16}, 11), random_tensor({1, 2089, 8}, 12),
                                     random_tensor({1, 2089, 8}, 13), random_tensor({1100, 2100}, 14),
                                     random_tensor({1, 1, 11, 8}, 15), random_tensor({1, 1, 11, 8}, 16)};
  auto fast = run_on_cpu(attention_model(a), feeds);
  ASSERT_TRUE(fast) << fast.status().message();
  ::setenv("TANDEM_ATTENTION_KERNEL", "reference", 1);
  auto plain = run_on_cpu(attention_model(a), feeds);
  ::unsetenv("TANDEM_ATTENTION_KERNEL");
  ASSERT_TRUE(plain) << plain.status().message();
  for (std::size_t o = 0; o < 2; ++o) {
    const Tensor &f = (*fast)[o], &p = (*plain)[o];
    ASSERT_EQ(f.shape(), p.shape());
    double worst = 0;
    for (int64_t i = 0; i < f.numel(); ++i)
      worst = std::max(worst, static_cast<double>(std::fabs(f.data<float>()[i] - p.data<float>()[i])));
    EXPECT_LT(worst, 1e-5) << "output " << o;
  }
  // Causal: query row 600 (in the second block) sees keys 0..11 + 600 and no later one.
  const float* probs = (*fast)[1].data<float>() + 600 * 2100;
  EXPECT_GT(probs[11 + 600], 0.0f);
  EXPECT_EQ(probs[11 + 601], 0.0f);
}

// TensorScatter refuses the batch axis and, in linear mode, an update that would run past the cache's end.
TEST(Opset24TensorScatter, BadAxisAndWriteIndexAreRefused) {
  const auto model = [](int64_t axis, const std::string& mode) {
    onnx::ModelProto m = make_model(24, 10);
    auto& g = *m.mutable_graph();
    add_input(g, "cache", TensorProto::FLOAT, {2, 6, 3});
    add_input(g, "update", TensorProto::FLOAT, {2, 2, 3});
    add_input(g, "write", TensorProto::INT64, {2});
    auto* n = add_node(g, "TensorScatter", {"cache", "update", "write"}, {"out"}, "scatter");
    set_int(n, "axis", axis);
    set_string(n, "mode", mode);
    add_output(g, "out", TensorProto::FLOAT);
    return m;
  };
  auto batch_axis = import_proto(model(0, "linear"));
  ASSERT_FALSE(batch_axis);
  EXPECT_NE(batch_axis.status().message().find("axis must not be the batch axis 0"), std::string::npos)
      << batch_axis.status().message();
  auto bad_mode = import_proto(model(1, "wrap"));
  ASSERT_FALSE(bad_mode);
  EXPECT_NE(bad_mode.status().message().find("mode must be linear or circular, got wrap"), std::string::npos)
      << bad_mode.status().message();
  const std::vector<Tensor> feeds = {random_tensor({2, 6, 3}, 1), random_tensor({2, 2, 3}, 2),
                                     make_tensor<int64_t>({2}, {4, 5})};
  expect_refused(run_on_cpu(model(1, "linear"), feeds), "scatter",
                 "write_indices[1] = 5 does not leave room for 2 positions in 6 (linear mode needs 0 <= index <= 4)");
  // Circular mode wraps the same index round: rows 5 and 0 of batch row 1.
  auto wrapped = run_on_cpu(model(1, "circular"), feeds);
  ASSERT_TRUE(wrapped) << wrapped.status().message();
  const float* out = (*wrapped)[0].data<float>();
  const float* update = feeds[1].data<float>();
  for (int j = 0; j < 3; ++j) {
    EXPECT_EQ(out[(6 + 5) * 3 + j], update[(2 + 0) * 3 + j]);
    EXPECT_EQ(out[(6 + 0) * 3 + j], update[(2 + 1) * 3 + j]);
    EXPECT_EQ(out[(6 + 1) * 3 + j], feeds[0].data<float>()[(6 + 1) * 3 + j]);
  }
}

onnx::ModelProto bit_cast_model(int32_t from, int64_t to) {
  onnx::ModelProto m = make_model(26, 13);
  auto& g = *m.mutable_graph();
  add_input(g, "x", from, {2});
  set_int(add_node(g, "BitCast", {"x"}, {"y"}, "reinterpret"), "to", to);
  add_output(g, "y");
  return m;
}

// BitCast-26 keeps the bits and needs the same width: a different width is refused at import (the kernel
// checks it again for inputs whose type import could not know); strings and types tandem lacks are refused
// by name.
TEST(Opset26BitCast, WidthsMustAgree) {
  auto r = run_on_cpu(bit_cast_model(TensorProto::INT16, TensorProto::FLOAT16),
                      {make_tensor<int16_t>({2}, {0x3c00, -0x4000})});  // 1.0 and -2.0 as float16 bits
  ASSERT_TRUE(r) << r.status().message();
  ASSERT_EQ((*r)[0].dtype(), DType::kFloat16);
  EXPECT_EQ((*r)[0].data<uint16_t>()[0], 0x3c00);
  EXPECT_EQ((*r)[0].data<uint16_t>()[1], 0xc000);
  auto at_import = import_proto(bit_cast_model(TensorProto::INT32, TensorProto::INT64));
  ASSERT_FALSE(at_import);
  EXPECT_NE(at_import.status().message().find("'reinterpret'"), std::string::npos) << at_import.status().message();
  EXPECT_NE(at_import.status().message().find("32 bits wide, 'to' names a type of 64"), std::string::npos)
      << at_import.status().message();
  for (auto [to, want] : {std::pair<int64_t, const char*>{TensorProto::STRING, "'to' 8 is not a fixed-width type"},
                          {24, "float8e8m0 (24)"}}) {
    auto refused = import_proto(bit_cast_model(TensorProto::UINT8, to));
    ASSERT_FALSE(refused) << want;
    EXPECT_NE(refused.status().message().find(want), std::string::npos) << refused.status().message();
  }
  auto at25 = bit_cast_model(TensorProto::INT16, TensorProto::FLOAT16);
  at25.mutable_opset_import(0)->set_version(25);
  auto before = import_proto(at25);
  ASSERT_FALSE(before);
  EXPECT_NE(before.status().message().find("BitCast"), std::string::npos) << before.status().message();
}

// --- opset 23: RMSNormalization and RotaryEmbedding; opset 24: Swish -----------------------------------

// A failed import or run whose message names node `node` and holds `want`.
template <typename R>
void expect_refused(const R& r, const std::string& node, const std::string& want) {
  ASSERT_FALSE(r) << want;
  EXPECT_NE(r.status().message().find("'" + node + "'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status().message();
}

onnx::ModelProto rms_model(const std::vector<DimSpec>& x, const std::vector<DimSpec>& scale,
                           int32_t x_type = TensorProto::FLOAT, int32_t scale_type = TensorProto::FLOAT) {
  onnx::ModelProto m = make_model(23, 10);
  auto& g = *m.mutable_graph();
  add_input(g, "x", x_type, x);
  add_input(g, "scale", scale_type, scale);
  add_node(g, "RMSNormalization", {"x", "scale"}, {"y"}, "norm");
  add_output(g, "y", scale_type);
  return m;
}

// What RMSNormalization's shapes and attributes show to be wrong is refused at import, naming the node: a
// scale that does not broadcast to X (or has the higher rank), an axis out of range, a scale of another
// type than X's (the spec's function body multiplies the two), a stash_type that is no float type.
TEST(Opset23RmsNormalization, BadScaleAxisTypeAndStashAreRefusedAtImport) {
  expect_refused(import_proto(rms_model({2, 3, 4}, {5})), "norm", "scale's dimension 0 is 5 where X has 4");
  expect_refused(import_proto(rms_model({2, 3, 4}, {2, 1})), "norm", "scale's dimension 0 is 2 where X has 3");
  expect_refused(import_proto(rms_model({3, 4}, {1, 3, 4})), "norm", "scale has rank 3, more than X's 2");
  for (const int64_t axis : {3, -4}) {
    onnx::ModelProto m = rms_model({2, 3, 4}, {4});
    set_int(m.mutable_graph()->mutable_node(0), "axis", axis);
    expect_refused(import_proto(m), "norm", "axis " + std::to_string(axis) + " is out of range for X of rank 3");
  }
  expect_refused(import_proto(rms_model({2, 4}, {4}, TensorProto::FLOAT16, TensorProto::FLOAT)), "norm",
                 "scale has type FLOAT and X FLOAT16; they must be one type");
  onnx::ModelProto m = rms_model({2, 4}, {4});
  set_int(m.mutable_graph()->mutable_node(0), "stash_type", TensorProto::INT32);
  expect_refused(import_proto(m), "norm", "stash_type must be a floating-point type (1, 10, 11 or 16), got 6");
}

// Where X's or scale's shape is only known at run time, the kernel refuses what does not broadcast; a
// scale that varies along a leading axis of X is taken (as ONNX Runtime takes it) and read per row.
TEST(Opset23RmsNormalization, ScaleIsCheckedAtRunTimeAndMayVaryAlongLeadingAxes) {
  const onnx::ModelProto m = rms_model({"a", "b"}, {"c", "d"});
  auto bad = run_on_cpu(m, {make_tensor<float>({2, 4}, std::vector<float>(8, 1.0f)),
                            make_tensor<float>({1, 3}, {1, 2, 3})});
  expect_refused(bad, "norm", "scale float32 [1,3] does not broadcast (unidirectionally) to X float32 [2,4]");
  // Rows [3, 4] and [1, -1] have root mean squares 5 / sqrt(2) and 1 (epsilon aside); scale [2, 1] per row.
  auto r = run_on_cpu(m, {make_tensor<float>({2, 2}, {3, 4, 1, -1}), make_tensor<float>({2, 1}, {2, -1})});
  ASSERT_TRUE(r) << r.status().message();
  const std::vector<float> y = values_of<float>((*r)[0]);
  const double rms0 = std::sqrt(12.5 + 1e-5), rms1 = std::sqrt(1 + 1e-5);
  const std::vector<double> want = {2 * 3 / rms0, 2 * 4 / rms0, -1 / rms1, 1 / rms1};
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(y[i], want[i], 1e-6) << i;
}

// An empty X is normalised at once, however many rows its leading axes name (2^40 here), and a row of no
// elements (a normalised axis of 0) gives an empty Y, as the spec's formula does (ONNX Runtime refuses it).
TEST(Opset23RmsNormalization, EmptyXAndEmptyRowsAreNormalisedAtOnce) {
  constexpr int64_t kHuge = int64_t{1} << 40;
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{kHuge, 0, 3}, std::vector<int64_t>{2, 3, 0}}) {
    onnx::ModelProto m = rms_model({"a", "b", "c"}, {"d"});
    set_int(m.mutable_graph()->mutable_node(0), "axis", -2);
    const int64_t last = shape[2];
    auto r = run_on_cpu(m, {Tensor::empty(DType::kFloat32, shape),
                            make_tensor<float>({last}, std::vector<float>(static_cast<std::size_t>(last), 1.0f))});
    ASSERT_TRUE(r) << r.status().message();
    EXPECT_EQ((*r)[0].shape(), shape);
  }
}

onnx::ModelProto rope_model(const std::vector<DimSpec>& x, const std::vector<DimSpec>& cache,
                            const std::vector<DimSpec>* positions = nullptr) {
  onnx::ModelProto m = make_model(23, 10);
  auto& g = *m.mutable_graph();
  add_input(g, "x", TensorProto::FLOAT, x);
  add_input(g, "cos", TensorProto::FLOAT, cache);
  add_input(g, "sin", TensorProto::FLOAT, cache);
  std::vector<std::string> inputs = {"x", "cos", "sin"};
  if (positions) {
    add_input(g, "pos", TensorProto::INT64, *positions);
    inputs.push_back("pos");
  }
  add_node(g, "RotaryEmbedding", inputs, {"y"}, "rope");
  add_output(g, "y", TensorProto::FLOAT);
  return m;
}

onnx::NodeProto* rope_node(onnx::ModelProto& m) { return m.mutable_graph()->mutable_node(0); }

// RotaryEmbedding's attributes and the shapes known at import: an odd rotary_embedding_dim or one past
// the head size, an odd head size to rotate whole, num_heads missing or not dividing a 3-D X's hidden
// size, X of another rank, caches of the wrong rank or row length or not per token, position_ids not
// [batch, seq], interleaved other than 0 or 1.
TEST(Opset23RotaryEmbedding, BadAttributesAndShapesAreRefusedAtImport) {
  const std::vector<DimSpec> pos_2x3 = {2, 3}, pos_3 = {3};
  {
    onnx::ModelProto m = rope_model({2, 2, 3, 8}, {2, 3, 2});
    set_int(rope_node(m), "rotary_embedding_dim", 3);
    expect_refused(import_proto(m), "rope",
                   "rotary_embedding_dim must be 0 (the whole head) or a positive even number, got 3");
  }
  {
    onnx::ModelProto m = rope_model({2, 2, 3, 8}, {2, 3, 5});
    set_int(rope_node(m), "rotary_embedding_dim", 10);
    expect_refused(import_proto(m), "rope", "rotary_embedding_dim 10 is larger than the head size 8");
  }
  expect_refused(import_proto(rope_model({2, 2, 3, 7}, {2, 3, 3})), "rope", "the head size 7 is odd");
  {
    onnx::ModelProto m = rope_model({2, 3, 10}, {2, 3, 2});
    set_int(rope_node(m), "num_heads", 3);
    expect_refused(import_proto(m), "rope", "hidden size 10 does not split into num_heads 3 heads");
  }
  expect_refused(import_proto(rope_model({2, 3, 12}, {2, 3, 2})), "rope", "a 3-D X needs the num_heads attribute");
  expect_refused(import_proto(rope_model({1, 2, 2, 3, 8}, {2, 3, 4})), "rope", "X must be 4-D");
  expect_refused(import_proto(rope_model({2, 2, 3, 8}, {2, 3, 4}, &pos_2x3)), "rope",
                 "cos_cache must be 2-D [max_position, rotary_dim / 2] with position_ids, got rank 3");
  expect_refused(import_proto(rope_model({2, 2, 3, 8}, {6, 4})), "rope",
                 "cos_cache must be 3-D [batch, seq, rotary_dim / 2] without position_ids, got rank 2");
  expect_refused(import_proto(rope_model({2, 2, 3, 8}, {6, 3}, &pos_2x3)), "rope",
                 "cos_cache's last dimension is 3 where rotary_dim / 2 is 4");
  expect_refused(import_proto(rope_model({2, 2, 3, 8}, {1, 3, 4})), "rope",
                 "cos_cache must be [batch, seq, rotary_dim / 2] without position_ids");
  expect_refused(import_proto(rope_model({2, 2, 3, 8}, {6, 4}, &pos_3)), "rope", "position_ids must be [batch, seq]");
  {
    onnx::ModelProto m = rope_model({2, 2, 3, 8}, {2, 3, 4});
    set_int(rope_node(m), "interleaved", 2);
    expect_refused(import_proto(m), "rope", "interleaved must be 0 or 1, got 2");
  }
}

// What only the run shows: a position id outside the caches' rows (past the end or negative: ONNX Runtime
// refuses both, where Gather in the spec's function body would wrap a negative one), caches or position_ids
// of the wrong shape, num_heads not dividing the hidden size, a rotary_embedding_dim past the head size.
TEST(Opset23RotaryEmbedding, BadPositionsAndShapesAreRefusedAtRunTime) {
  const std::vector<DimSpec> pos = {"pb", "ps"};
  const onnx::ModelProto with_positions = rope_model({"b", "h", "s", "d"}, {"m", "r"}, &pos);
  const Tensor x = make_tensor<float>({1, 1, 3, 4}, random_floats(12, 1));
  const Tensor cache = make_tensor<float>({4, 2}, random_floats(8, 2));
  for (const int64_t bad : {4, -1}) {
    auto r = run_on_cpu(with_positions, {x, cache, cache, make_tensor<int64_t>({1, 3}, {0, bad, 2})});
    expect_refused(r, "rope", "position_ids[0, 1] = " + std::to_string(bad) + " is outside the caches' 4 rows [0, 4)");
  }
  auto short_ids = run_on_cpu(with_positions, {x, cache, cache, make_tensor<int64_t>({1, 2}, {0, 1})});
  expect_refused(short_ids, "rope", "position_ids must be int64 [1,3] (X's batch and sequence), got int64 [1,2]");
  auto wide_cache = run_on_cpu(with_positions, {x, make_tensor<float>({4, 3}, random_floats(12, 3)),
                                                make_tensor<float>({4, 3}, random_floats(12, 4)),
                                                make_tensor<int64_t>({1, 3}, {0, 1, 2})});
  expect_refused(wide_cache, "rope",
                 "cos_cache and sin_cache must be [max_position,2] (one row per position id, rotary_dim / 2 = 2 "
                 "per row), got float32 [4,3]");
  auto per_token = run_on_cpu(rope_model({"b", "h", "s", "d"}, {"b2", "s2", "r"}),
                              {x, make_tensor<float>({1, 2, 2}, random_floats(4, 8)),
                               make_tensor<float>({1, 2, 2}, random_floats(4, 9))});
  expect_refused(per_token, "rope", "must be [1,3,2] (one row per token of X: no position_ids");
  onnx::ModelProto three_d = rope_model({"b", "s", "hidden"}, {"b2", "s2", "r"});
  set_int(rope_node(three_d), "num_heads", 3);
  auto not_split = run_on_cpu(three_d, {make_tensor<float>({1, 2, 8}, random_floats(16, 5)),
                                        make_tensor<float>({1, 2, 1}, {1, 1}), make_tensor<float>({1, 2, 1}, {0, 0})});
  expect_refused(not_split, "rope", "hidden size 8 does not split into num_heads 3 heads");
  onnx::ModelProto partial = rope_model({"b", "h", "s", "d"}, {"b2", "s2", "r"});
  set_int(rope_node(partial), "rotary_embedding_dim", 6);
  auto past_head = run_on_cpu(partial, {x, make_tensor<float>({1, 3, 3}, random_floats(9, 6)),
                                        make_tensor<float>({1, 3, 3}, random_floats(9, 7))});
  expect_refused(past_head, "rope", "rotary_embedding_dim 6 is larger than the head size 4");
}

// An empty X is rotated at once, however many tokens its other axes name (2^40 heads over no positions).
TEST(Opset23RotaryEmbedding, AnEmptyXIsRotatedAtOnce) {
  constexpr int64_t kHuge = int64_t{1} << 40;
  const std::vector<int64_t> shape = {2, kHuge, 0, 8};
  auto r = run_on_cpu(rope_model({"b", "h", "s", "d"}, {"b2", "s2", "r"}),
                      {Tensor::empty(DType::kFloat32, shape), Tensor::empty(DType::kFloat32, {2, 0, 4}),
                       Tensor::empty(DType::kFloat32, {2, 0, 4})});
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ((*r)[0].shape(), shape);
}

// The opset-23 ops are not there at 22, nor Swish at 23.
TEST(Opset23And24Additions, AreRefusedBeforeTheirOpset) {
  {
    onnx::ModelProto m = rms_model({2, 4}, {4});
    m.mutable_opset_import(0)->set_version(22);
    auto ir = import_proto(m);
    ASSERT_FALSE(ir);
    EXPECT_NE(ir.status().message().find("RMSNormalization"), std::string::npos) << ir.status().message();
  }
  {
    onnx::ModelProto m = rope_model({1, 1, 2, 4}, {1, 2, 2});
    m.mutable_opset_import(0)->set_version(22);
    auto ir = import_proto(m);
    ASSERT_FALSE(ir);
    EXPECT_NE(ir.status().message().find("RotaryEmbedding"), std::string::npos) << ir.status().message();
  }
  onnx::ModelProto m = make_model(23, 10);
  auto& g = *m.mutable_graph();
  add_input(g, "x", TensorProto::FLOAT, {3});
  add_node(g, "Swish", {"x"}, {"y"}, "swish");
  add_output(g, "y", TensorProto::FLOAT);
  auto ir = import_proto(m);
  ASSERT_FALSE(ir);
  EXPECT_NE(ir.status().message().find("Swish"), std::string::npos) << ir.status().message();
}

// LpPool's and GlobalLpPool's p is 1 or more, LpNormalization's 1 or 2: others are refused, naming the node.
TEST(LpOps, BadPIsRefusedByName) {
  for (auto [op, p, want] : {std::tuple<const char*, int64_t, const char*>{"LpPool", 0, "p must be 1 or more, got 0"},
                             {"GlobalLpPool", -2, "p must be 1 or more, got -2"},
                             {"LpNormalization", 3, "p must be 1 or 2, got 3"}}) {
    onnx::ModelProto m = make_model(18, 8);
    auto& g = *m.mutable_graph();
    add_input(g, "x", TensorProto::FLOAT, {1, 2, 4, 4});
    auto* n = add_node(g, op, {"x"}, {"y"}, "lp");
    set_int(n, "p", p);
    if (std::string(op) == "LpPool") set_ints(n, "kernel_shape", {2, 2});
    add_output(g, "y", TensorProto::FLOAT);
    auto r = run_on_cpu(m, {Tensor::zeros(DType::kFloat32, {1, 2, 4, 4})});
    ASSERT_FALSE(r) << op;
    EXPECT_NE(r.status().message().find("'lp'"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace tandem
