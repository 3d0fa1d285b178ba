// tandem's schema registry: opset-18 schemas for ops libonnx 1.12 does not know at 18, checked through
// libonnx's own shape inference. Expected shapes come from the ONNX operator spec (and its backend tests).
#include "onnx_import/schema_registry.h"

#include <gtest/gtest.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

namespace tandem::onnx_import {
namespace {

using Dim = std::variant<int64_t, std::string>;
// Shapes as strings: "3" for a size, a name for a symbolic dim, "?" for a dim inference could not know.
using Shape = std::vector<std::string>;

constexpr int32_t kFloat = onnx::TensorProto::FLOAT;
constexpr int32_t kInt64 = onnx::TensorProto::INT64;

class ModelBuilder {
 public:
  explicit ModelBuilder(int opset = 18, int64_t ir_version = 8) {
    model_.set_ir_version(ir_version);
    auto* imp = model_.add_opset_import();
    imp->set_domain("");
    imp->set_version(opset);
    model_.mutable_graph()->set_name("g");
  }

  ModelBuilder& input(const std::string& name, int32_t elem_type, const std::vector<Dim>& dims) {
    auto* vi = model_.mutable_graph()->add_input();
    vi->set_name(name);
    auto* t = vi->mutable_type()->mutable_tensor_type();
    t->set_elem_type(elem_type);
    auto* shape = t->mutable_shape();
    for (const auto& d : dims) {
      auto* dim = shape->add_dim();
      if (const auto* v = std::get_if<int64_t>(&d)) {
        dim->set_dim_value(*v);
      } else {
        dim->set_dim_param(std::get<std::string>(d));
      }
    }
    return *this;
  }

  ModelBuilder& input_without_shape(const std::string& name, int32_t elem_type) {
    auto* vi = model_.mutable_graph()->add_input();
    vi->set_name(name);
    vi->mutable_type()->mutable_tensor_type()->set_elem_type(elem_type);
    return *this;
  }

  ModelBuilder& ints(const std::string& name, const std::vector<int64_t>& values) {
    auto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(kInt64);
    t->add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values) t->add_int64_data(v);
    return *this;
  }

  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs) {
    auto* n = model_.mutable_graph()->add_node();
    n->set_op_type(op);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return *n;
  }

  ModelBuilder& output(const std::string& name) {
    model_.mutable_graph()->add_output()->set_name(name);
    return *this;
  }

  onnx::ModelProto& model() { return model_; }

 private:
  onnx::ModelProto model_;
};

void set_int(onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

void set_ints(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

void set_string(onnx::NodeProto& n, const std::string& name, const std::string& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}

void infer(onnx::ModelProto& m) {
  // check types, throw on node errors, data propagation on: as the importer runs it.
  onnx::shape_inference::InferShapes(m, &schema_registry(), onnx::ShapeInferenceOptions(true, 1, true));
}

const onnx::TypeProto* find_type(const onnx::ModelProto& m, const std::string& name) {
  for (const auto& vi : m.graph().value_info()) {
    if (vi.name() == name) return &vi.type();
  }
  for (const auto& vi : m.graph().output()) {
    if (vi.name() == name && vi.has_type()) return &vi.type();
  }
  return nullptr;
}

int32_t elem_type_of(const onnx::ModelProto& m, const std::string& name) {
  const auto* t = find_type(m, name);
  return t == nullptr ? -1 : t->tensor_type().elem_type();
}

bool has_shape(const onnx::ModelProto& m, const std::string& name) {
  const auto* t = find_type(m, name);
  return t != nullptr && t->tensor_type().has_shape();
}

Shape shape_of(const onnx::ModelProto& m, const std::string& name) {
  Shape out;
  const auto* t = find_type(m, name);
  if (t == nullptr || !t->tensor_type().has_shape()) return {"<no shape>"};
  for (const auto& d : t->tensor_type().shape().dim()) {
    if (d.has_dim_value()) {
      out.push_back(std::to_string(d.dim_value()));
    } else if (d.has_dim_param() && d.dim_param().rfind("unk__", 0) != 0) {
      out.push_back(d.dim_param());
    } else {
      out.push_back("?");  // unknown, or a name InferShapes made up for an unknown dim
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Reduce*-18

TEST(SchemaRegistryReduce, ConstantAxesKeepdimsDefault) {
  ModelBuilder b;
  b.input("x", kFloat, {2, 3, 4}).ints("axes", {1});
  b.node("ReduceMean", {"x", "axes"}, {"y"});
  b.output("y");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "y"), (Shape{"2", "1", "4"}));
  EXPECT_EQ(elem_type_of(b.model(), "y"), kFloat);
}

TEST(SchemaRegistryReduce, ConstantNegativeAxisKeepdims0) {
  ModelBuilder b;
  b.input("x", kFloat, {2, 3, 4}).ints("axes", {-1});
  set_int(b.node("ReduceMean", {"x", "axes"}, {"y"}), "keepdims", 0);
  b.output("y");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "y"), (Shape{"2", "3"}));
}

TEST(SchemaRegistryReduce, SeveralAxesKeepdims0) {
  ModelBuilder b;
  b.input("x", kFloat, {2, 3, 4, 5}).ints("axes", {0, -2});
  set_int(b.node("ReduceSumSquare", {"x", "axes"}, {"y"}), "keepdims", 0);
  b.output("y");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "y"), (Shape{"3", "5"}));
}

TEST(SchemaRegistryReduce, AxesFromConstantNode) {
  ModelBuilder b;
  b.input("x", kFloat, {2, 3, 4});
  auto& c = b.node("Constant", {}, {"axes"});
  auto* value = c.add_attribute();
  value->set_name("value");
  value->set_type(onnx::AttributeProto::TENSOR);
  value->mutable_t()->set_data_type(kInt64);
  value->mutable_t()->add_dims(1);
  value->mutable_t()->add_int64_data(0);
  set_int(b.node("ReduceMax", {"x", "axes"}, {"y"}), "keepdims", 0);
  b.output("y");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "y"), (Shape{"3", "4"}));
}

TEST(SchemaRegistryReduce, NoAxesReducesAll) {
  ModelBuilder b;
  b.input("x", kFloat, {2, 3, 4});
  b.node("ReduceMean", {"x"}, {"kept"});
  set_int(b.node("ReduceMean", {"x"}, {"dropped"}), "keepdims", 0);
  b.output("kept").output("dropped");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "kept"), (Shape{"1", "1", "1"}));
  EXPECT_EQ(shape_of(b.model(), "dropped"), Shape{});  // a scalar: a shape with no dims
}

TEST(SchemaRegistryReduce, NoAxesNoKeepdimsIsScalarEvenForUnknownInputShape) {
  ModelBuilder b;
  b.input_without_shape("x", kFloat);
  set_int(b.node("ReduceLogSumExp", {"x"}, {"dropped"}), "keepdims", 0);
  b.node("ReduceLogSumExp", {"x"}, {"kept"});
  b.output("dropped").output("kept");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "dropped"), Shape{});
  EXPECT_FALSE(has_shape(b.model(), "kept"));  // rank unknown
  EXPECT_EQ(elem_type_of(b.model(), "kept"), kFloat);
}

TEST(SchemaRegistryReduce, NoAxesWithNoopIsIdentity) {
  ModelBuilder b;
  b.input("x", kFloat, {"batch", 3, 4}).ints("empty", {});
  set_int(b.node("ReduceL2", {"x"}, {"y"}), "noop_with_empty_axes", 1);
  auto& with_empty = b.node("ReduceL2", {"x", "empty"}, {"z"});
  set_int(with_empty, "noop_with_empty_axes", 1);
  set_int(with_empty, "keepdims", 0);
  b.output("y").output("z");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "y"), (Shape{"batch", "3", "4"}));
  EXPECT_EQ(shape_of(b.model(), "z"), (Shape{"batch", "3", "4"}));
}

TEST(SchemaRegistryReduce, RuntimeAxesKeepRankOnlyWithKeepdims) {
  ModelBuilder b;
  b.input("x", kFloat, {2, 1, 4}).input("axes", kInt64, {1});
  b.node("ReduceProd", {"x", "axes"}, {"kept"});
  set_int(b.node("ReduceProd", {"x", "axes"}, {"dropped"}), "keepdims", 0);
  b.output("kept").output("dropped");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "kept"), (Shape{"?", "1", "?"}));
  EXPECT_FALSE(has_shape(b.model(), "dropped"));
  EXPECT_EQ(elem_type_of(b.model(), "dropped"), kFloat);
}

TEST(SchemaRegistryReduce, SymbolicDimPassesThrough) {
  ModelBuilder b;
  b.input("x", kFloat, {"batch", "seq", 768}).ints("axes", {-1});
  b.node("ReduceMean", {"x", "axes"}, {"y"});
  b.output("y");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "y"), (Shape{"batch", "seq", "1"}));
}

TEST(SchemaRegistryReduce, AxisOutOfRangeFails) {
  ModelBuilder b;
  b.input("x", kFloat, {2, 3}).ints("axes", {2});
  b.node("ReduceMin", {"x", "axes"}, {"y"});
  b.output("y");
  EXPECT_THROW(infer(b.model()), onnx::InferenceError);
}

TEST(SchemaRegistryReduce, Verify18RejectsAxesAttribute) {
  const onnx::OpSchema* s = schema_registry().GetSchema("ReduceMean", 18, "");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->SinceVersion(), 18);
  onnx::NodeProto n;
  n.set_op_type("ReduceMean");
  n.add_input("x");
  n.add_input("axes");
  n.add_output("y");
  EXPECT_NO_THROW(s->Verify(n));
  set_ints(n, "axes", {1});  // the opset-13 way, gone in 18
  EXPECT_ANY_THROW(s->Verify(n));
}

// ---------------------------------------------------------------------------------------------------------
// Split-18

TEST(SchemaRegistrySplit, NumOutputsDivisible) {
  ModelBuilder b;
  b.input("x", kFloat, {4, 6});
  auto& n = b.node("Split", {"x"}, {"a", "b"});
  set_int(n, "axis", 1);
  set_int(n, "num_outputs", 2);
  b.output("a").output("b");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "a"), (Shape{"4", "3"}));
  EXPECT_EQ(shape_of(b.model(), "b"), (Shape{"4", "3"}));
}

TEST(SchemaRegistrySplit, NumOutputsUnevenLastChunkSmaller) {
  // ONNX backend tests test_split_2d_uneven_split_opset18 and test_split_1d_uneven_split_opset18.
  ModelBuilder b;
  b.input("x", kFloat, {2, 8}).input("v", kFloat, {7});
  auto& n = b.node("Split", {"x"}, {"a", "b", "c"});
  set_int(n, "axis", 1);
  set_int(n, "num_outputs", 3);
  set_int(b.node("Split", {"v"}, {"p", "q", "r", "s"}), "num_outputs", 4);
  for (const char* o : {"a", "b", "c", "p", "q", "r", "s"}) b.output(o);
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "a"), (Shape{"2", "3"}));
  EXPECT_EQ(shape_of(b.model(), "b"), (Shape{"2", "3"}));
  EXPECT_EQ(shape_of(b.model(), "c"), (Shape{"2", "2"}));
  EXPECT_EQ(shape_of(b.model(), "p"), Shape{"2"});
  EXPECT_EQ(shape_of(b.model(), "r"), Shape{"2"});
  EXPECT_EQ(shape_of(b.model(), "s"), Shape{"1"});
}

TEST(SchemaRegistrySplit, ConstantSplitInputNegativeAxis) {
  // ONNX backend test test_split_variable_parts_2d_opset18: [2, 6] split [2, 4] on axis 1.
  ModelBuilder b;
  b.input("x", kFloat, {"n", 6}).ints("split", {2, 4});
  set_int(b.node("Split", {"x", "split"}, {"a", "b"}), "axis", -1);
  b.output("a").output("b");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "a"), (Shape{"n", "2"}));
  EXPECT_EQ(shape_of(b.model(), "b"), (Shape{"n", "4"}));
}

TEST(SchemaRegistrySplit, SymbolicSplitAxisBecomesUnknown) {
  ModelBuilder b;
  b.input("x", kFloat, {"len", 5});
  set_int(b.node("Split", {"x"}, {"a", "b"}), "num_outputs", 2);
  b.output("a").output("b");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "a"), (Shape{"?", "5"}));
  EXPECT_EQ(shape_of(b.model(), "b"), (Shape{"?", "5"}));
}

TEST(SchemaRegistrySplit, NumOutputsMustMatchOutputCount) {
  ModelBuilder b;
  b.input("x", kFloat, {6});
  set_int(b.node("Split", {"x"}, {"a", "b"}), "num_outputs", 3);
  b.output("a").output("b");
  EXPECT_THROW(infer(b.model()), onnx::InferenceError);
}

TEST(SchemaRegistrySplit, SplitAndNumOutputsExcludeEachOther) {
  ModelBuilder b;
  b.input("x", kFloat, {6}).ints("split", {3, 3});
  set_int(b.node("Split", {"x", "split"}, {"a", "b"}), "num_outputs", 2);
  b.output("a").output("b");
  EXPECT_THROW(infer(b.model()), onnx::InferenceError);
}

TEST(SchemaRegistrySplit, SplitMustSumToAxisSize) {
  ModelBuilder b;
  b.input("x", kFloat, {6}).ints("split", {2, 3});
  b.node("Split", {"x", "split"}, {"a", "b"});
  b.output("a").output("b");
  EXPECT_THROW(infer(b.model()), onnx::InferenceError);
}

TEST(SchemaRegistrySplit, Verify18AcceptsNumOutputs) {
  const onnx::OpSchema* s = schema_registry().GetSchema("Split", 18, "");
  ASSERT_NE(s, nullptr);
  onnx::NodeProto n;
  n.set_op_type("Split");
  n.add_input("x");
  n.add_output("a");
  n.add_output("b");
  set_int(n, "num_outputs", 2);
  EXPECT_NO_THROW(s->Verify(n));
}

// ---------------------------------------------------------------------------------------------------------
// Pad-18

TEST(SchemaRegistryPad, AllAxes) {
  // Spec example 1: data [3, 2], pads [0, 2, 0, 0] -> [3, 4].
  ModelBuilder b;
  b.input("x", kFloat, {3, 2}).ints("pads", {0, 2, 0, 0});
  b.node("Pad", {"x", "pads"}, {"y"});
  b.output("y");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "y"), (Shape{"3", "4"}));
}

TEST(SchemaRegistryPad, NegativePadsCrop) {
  ModelBuilder b;
  b.input("x", kFloat, {3, 5}).ints("pads", {0, -1, 0, -1});
  b.node("Pad", {"x", "pads"}, {"y"});
  b.output("y");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "y"), (Shape{"3", "3"}));
}

TEST(SchemaRegistryPad, AxesInputPadsOnlyThoseAxes) {
  ModelBuilder b;
  b.input("x", kFloat, {"n", 3, 4}).ints("pads", {1, 2}).ints("axes", {2}).ints("neg_axes", {-1});
  set_string(b.node("Pad", {"x", "pads", "", "axes"}, {"y"}), "mode", "edge");
  b.node("Pad", {"x", "pads", "", "neg_axes"}, {"z"});
  b.output("y").output("z");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "y"), (Shape{"n", "3", "7"}));
  EXPECT_EQ(shape_of(b.model(), "z"), (Shape{"n", "3", "7"}));
}

TEST(SchemaRegistryPad, TwoAxesPadsLayout) {
  // pads = [begin(axis 0), begin(axis 2), end(axis 0), end(axis 2)].
  ModelBuilder b;
  b.input("x", kFloat, {1, 2, 3}).ints("pads", {1, 0, 2, 5}).ints("axes", {0, 2});
  b.node("Pad", {"x", "pads", "", "axes"}, {"y"});
  b.output("y");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "y"), (Shape{"4", "2", "8"}));
}

// Found by the fuzzer under UBSan: size + begin + end overflowed int64 unchecked, and the wrapped sum
// could come out as a plausible size.
TEST(SchemaRegistryPad, PadsBeyondInt64AreAnInferenceError) {
  const int64_t big = int64_t{1} << 62;
  for (const std::vector<int64_t>& pads : std::vector<std::vector<int64_t>>{{big, big}, {-big, -big - 5}}) {
    ModelBuilder b;
    b.input("x", kFloat, {3}).ints("pads", pads);
    b.node("Pad", {"x", "pads"}, {"y"});
    b.output("y");
    try {
      infer(b.model());
      ADD_FAILURE() << "no inference error";
    } catch (const onnx::InferenceError& e) {
      EXPECT_NE(std::string(e.what()).find("would get a size beyond int64"), std::string::npos) << e.what();
    }
  }
}

TEST(SchemaRegistryPad, RuntimePadsOnlyListedAxesUnknown) {
  ModelBuilder b;
  b.input("x", kFloat, {"n", 3, 4}).input("pads", kInt64, {2}).ints("axes", {1});
  b.input("pads_all", kInt64, {6});
  b.node("Pad", {"x", "pads", "", "axes"}, {"y"});
  b.node("Pad", {"x", "pads_all"}, {"z"});
  b.output("y").output("z");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "y"), (Shape{"n", "?", "4"}));
  EXPECT_EQ(shape_of(b.model(), "z"), (Shape{"?", "?", "?"}));
}

TEST(SchemaRegistryPad, Verify18AcceptsAxesInput) {
  const onnx::OpSchema* s = schema_registry().GetSchema("Pad", 18, "");
  ASSERT_NE(s, nullptr);
  onnx::NodeProto n;
  n.set_op_type("Pad");
  for (const char* i : {"x", "pads", "", "axes"}) n.add_input(i);
  n.add_output("y");
  EXPECT_NO_THROW(s->Verify(n));
  n.add_input("extra");  // Pad-18 takes at most 4 inputs
  EXPECT_ANY_THROW(s->Verify(n));
}

TEST(SchemaRegistryPad, PadsLengthMustMatchAxes) {
  ModelBuilder b;
  b.input("x", kFloat, {3, 4}).ints("pads", {1, 1, 1, 1}).ints("axes", {1});
  b.node("Pad", {"x", "pads", "", "axes"}, {"y"});
  b.output("y");
  EXPECT_THROW(infer(b.model()), onnx::InferenceError);
}

TEST(SchemaRegistryPad, WrapModeIsNotOpset18) {
  ModelBuilder b;
  b.input("x", kFloat, {3, 4}).ints("pads", {1, 1, 1, 1});
  set_string(b.node("Pad", {"x", "pads"}, {"y"}), "mode", "wrap");  // added in opset 19
  b.output("y");
  EXPECT_THROW(infer(b.model()), onnx::InferenceError);
}

// ---------------------------------------------------------------------------------------------------------
// Other ops of opset 18

TEST(SchemaRegistryOther, LpPoolCeilModeAndDilations) {
  ModelBuilder b(18, 10);  // IR version 10 works the same
  b.input("x", kFloat, {"n", 3, 5, 5});
  auto& floor_pool = b.node("LpPool", {"x"}, {"floor"});
  set_ints(floor_pool, "kernel_shape", {2, 2});
  set_ints(floor_pool, "strides", {2, 2});
  auto& ceil_pool = b.node("LpPool", {"x"}, {"ceil"});
  set_ints(ceil_pool, "kernel_shape", {2, 2});
  set_ints(ceil_pool, "strides", {2, 2});
  set_int(ceil_pool, "ceil_mode", 1);
  auto& dilated = b.node("LpPool", {"x"}, {"dilated"});
  set_ints(dilated, "kernel_shape", {2, 2});
  set_ints(dilated, "dilations", {2, 2});
  b.output("floor").output("ceil").output("dilated");
  infer(b.model());
  // floor((5 - 2) / 2 + 1) = 2; ceil((5 - 2) / 2 + 1) = 3; dilated kernel 3: 5 - 3 + 1 = 3.
  EXPECT_EQ(shape_of(b.model(), "floor"), (Shape{"n", "3", "2", "2"}));
  EXPECT_EQ(shape_of(b.model(), "ceil"), (Shape{"n", "3", "3", "3"}));
  EXPECT_EQ(shape_of(b.model(), "dilated"), (Shape{"n", "3", "3", "3"}));
}

TEST(SchemaRegistryOther, BitwiseBroadcastAndNot) {
  ModelBuilder b;
  b.input("a", onnx::TensorProto::INT32, {2, 1, 4}).input("b", onnx::TensorProto::INT32, {3, 1});
  b.node("BitwiseXor", {"a", "b"}, {"c"});
  b.node("BitwiseNot", {"a"}, {"d"});
  b.output("c").output("d");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "c"), (Shape{"2", "3", "4"}));
  EXPECT_EQ(elem_type_of(b.model(), "c"), onnx::TensorProto::INT32);
  EXPECT_EQ(shape_of(b.model(), "d"), (Shape{"2", "1", "4"}));
}

TEST(SchemaRegistryOther, BitwiseRejectsFloat) {
  ModelBuilder b;
  b.input("a", kFloat, {2}).input("b", kFloat, {2});
  b.node("BitwiseAnd", {"a", "b"}, {"c"});
  b.output("c");
  EXPECT_ANY_THROW(infer(b.model()));
}

TEST(SchemaRegistryOther, MishAndGroupNormalizationKeepShape) {
  ModelBuilder b;
  b.input("x", kFloat, {"n", 6, 4, 4}).input("scale", kFloat, {3}).input("bias", kFloat, {3});
  b.node("Mish", {"x"}, {"m"});
  set_int(b.node("GroupNormalization", {"x", "scale", "bias"}, {"g"}), "num_groups", 3);
  b.output("m").output("g");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "m"), (Shape{"n", "6", "4", "4"}));
  EXPECT_EQ(shape_of(b.model(), "g"), (Shape{"n", "6", "4", "4"}));
}

TEST(SchemaRegistryOther, GroupNormalizationGroupsMustDivideChannels) {
  ModelBuilder b;
  b.input("x", kFloat, {1, 6, 4}).input("scale", kFloat, {4}).input("bias", kFloat, {4});
  set_int(b.node("GroupNormalization", {"x", "scale", "bias"}, {"g"}), "num_groups", 4);
  b.output("g");
  EXPECT_THROW(infer(b.model()), onnx::InferenceError);
}

TEST(SchemaRegistryOther, ScatterAcceptsMaxMinReductions) {
  ModelBuilder b;
  b.input("data", kFloat, {3, 3}).input("idx", kInt64, {2, 3}).input("upd", kFloat, {2, 3});
  b.input("nd_idx", kInt64, {2, 1}).input("nd_upd", kFloat, {2, 3});
  set_string(b.node("ScatterElements", {"data", "idx", "upd"}, {"e"}), "reduction", "max");
  set_string(b.node("ScatterND", {"data", "nd_idx", "nd_upd"}, {"n"}), "reduction", "min");
  b.output("e").output("n");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "e"), (Shape{"3", "3"}));
  EXPECT_EQ(shape_of(b.model(), "n"), (Shape{"3", "3"}));
}

TEST(SchemaRegistryOther, ScatterRejectsUnknownReduction) {
  ModelBuilder b;
  b.input("data", kFloat, {3}).input("idx", kInt64, {1, 1}).input("upd", kFloat, {1});
  set_string(b.node("ScatterND", {"data", "idx", "upd"}, {"n"}), "reduction", "average");
  b.output("n");
  EXPECT_THROW(infer(b.model()), onnx::InferenceError);
}

// ---------------------------------------------------------------------------------------------------------
// The registry itself

TEST(SchemaRegistry, Opset17UsesLibrarySchemas) {
  ModelBuilder b(17);
  b.input("x", kFloat, {2, 3, 4});
  auto& n = b.node("ReduceMean", {"x"}, {"y"});
  set_ints(n, "axes", {1});  // ReduceMean-13 takes axes as an attribute
  set_int(n, "keepdims", 0);
  b.output("y");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "y"), (Shape{"2", "4"}));
  EXPECT_EQ(schema_registry().GetSchema("ReduceMean", 17, "")->SinceVersion(), 13);
  EXPECT_EQ(schema_registry().GetSchema("Split", 17, "")->SinceVersion(), 13);
}

TEST(SchemaRegistry, UnchangedOpsAtOpset18ComeFromLibrary) {
  const onnx::OpSchema* relu = schema_registry().GetSchema("Relu", 18, "");
  ASSERT_NE(relu, nullptr);
  EXPECT_EQ(relu->SinceVersion(), 14);
  EXPECT_EQ(schema_registry().GetSchema("Relu", 18, "ai.onnx"), relu);
  EXPECT_EQ(schema_registry().GetSchema("NoSuchOp", 18, ""), nullptr);
  EXPECT_EQ(schema_registry().GetSchema("ReduceSum", 18, "")->SinceVersion(), 13);  // not changed in 18
}

TEST(SchemaRegistry, EveryOpset18ChangeIsCoveredOrUnknown) {
  // Changelog, "Version 18 of the default ONNX operator set".
  // clang-format off
  const char* const covered[] = {
      "BitwiseAnd", "BitwiseNot", "BitwiseOr", "BitwiseXor", "GroupNormalization", "LpPool", "Mish",
      "OptionalGetElement", "OptionalHasElement", "Pad", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin",
      "ReduceProd", "ReduceSumSquare", "Resize", "ScatterElements", "ScatterND", "Split"};
  // clang-format on
  for (const char* op : covered) {
    const onnx::OpSchema* s = schema_registry().GetSchema(op, 18, "ai.onnx");
    ASSERT_NE(s, nullptr) << op;
    EXPECT_EQ(s->SinceVersion(), 18) << op;
    EXPECT_EQ(s->Name(), op);
    EXPECT_FALSE(is_unknown_newer_version(op, 18)) << op;
  }
  for (const char* op : {"CenterCropPad", "Col2Im"}) {
    EXPECT_EQ(schema_registry().GetSchema(op, 18, ""), nullptr) << op;
    EXPECT_TRUE(is_unknown_newer_version(op, 18)) << op;
  }
}

// Changelog, "Version 19 of the default ONNX operator set". Every op there has a schema of its own at 19
// but DeformConv (new, which tandem does not run); the opset-18 schemas still answer at 18.
TEST(SchemaRegistry, EveryOpset19ChangeIsCoveredOrUnknown) {
  // clang-format off
  const char* const covered[] = {
      "AveragePool", "Cast", "CastLike", "Constant", "DequantizeLinear", "Equal", "Identity", "If", "Loop", "Pad",
      "QuantizeLinear", "Reshape", "Resize", "Scan", "Shape", "Size"};
  // clang-format on
  for (const char* op : covered) {
    const onnx::OpSchema* s = schema_registry().GetSchema(op, 19, "ai.onnx");
    ASSERT_NE(s, nullptr) << op;
    EXPECT_EQ(s->SinceVersion(), 19) << op;
    EXPECT_EQ(s->Name(), op);
    EXPECT_FALSE(is_unknown_newer_version(op, 19)) << op;
    const onnx::OpSchema* before = schema_registry().GetSchema(op, 18, "");
    ASSERT_NE(before, nullptr) << op;
    EXPECT_LT(before->SinceVersion(), 19) << op;
  }
  EXPECT_EQ(schema_registry().GetSchema("DeformConv", 19, ""), nullptr);
  EXPECT_TRUE(is_unknown_newer_version("DeformConv", 19));
  // Unchanged in 19: the newest older schema, libonnx's or tandem's opset-18 one.
  EXPECT_EQ(schema_registry().GetSchema("Relu", 19, "")->SinceVersion(), 14);
  EXPECT_EQ(schema_registry().GetSchema("ReduceMean", 19, "")->SinceVersion(), 18);
  EXPECT_EQ(schema_registry().GetSchema("Split", 19, "")->SinceVersion(), 18);
  EXPECT_EQ(schema_registry().GetSchema("Col2Im", 19, ""), nullptr);  // changed in 18, not written here
  EXPECT_TRUE(is_unknown_newer_version("Col2Im", 19));
}

// Changelog, "Version 20 of the default ONNX operator set": all covered but ImageDecoder and RegexFullMatch.
TEST(SchemaRegistry, EveryOpset20ChangeIsCoveredOrUnknown) {
  // clang-format off
  const char* const covered[] = {
      "AffineGrid", "ConstantOfShape", "DFT", "Gelu", "GridSample", "IsInf", "IsNaN", "ReduceMax", "ReduceMin",
      "StringConcat", "StringSplit"};
  // clang-format on
  for (const char* op : covered) {
    const onnx::OpSchema* s = schema_registry().GetSchema(op, 20, "ai.onnx");
    ASSERT_NE(s, nullptr) << op;
    EXPECT_EQ(s->SinceVersion(), 20) << op;
    EXPECT_EQ(s->Name(), op);
    EXPECT_FALSE(is_unknown_newer_version(op, 20)) << op;
  }
  for (const char* op : {"ImageDecoder", "RegexFullMatch"}) {
    EXPECT_EQ(schema_registry().GetSchema(op, 20, ""), nullptr) << op;
    EXPECT_TRUE(is_unknown_newer_version(op, 20)) << op;
  }
  // At 19 the older versions still answer (new ops: none).
  EXPECT_EQ(schema_registry().GetSchema("DFT", 19, "")->SinceVersion(), 17);
  EXPECT_EQ(schema_registry().GetSchema("ReduceMax", 19, "")->SinceVersion(), 18);
  EXPECT_EQ(schema_registry().GetSchema("Gelu", 19, ""), nullptr);
  EXPECT_EQ(schema_registry().GetSchema("Pad", 20, "")->SinceVersion(), 19);  // unchanged in 20
}

// DFT-20's output shape follows its axis input (default -2) and dft_length.
TEST(SchemaRegistryOther, Dft20ShapeFromAxisInputAndLength) {
  ModelBuilder b(20, 9);
  b.input("x", kFloat, {2, 5, 6, 1}).ints("len", {8});
  set_int(b.node("DFT", {"x", "len"}, {"y"}), "onesided", 1);  // axis -2: the 6
  b.output("y");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "y"), (Shape{"2", "5", "5", "2"}));
}

// The casts' `saturate` (19) is an attribute they accept from 19 on only.
TEST(SchemaRegistry, Opset19CastTakesSaturate) {
  onnx::NodeProto n;
  n.set_op_type("Cast");
  n.add_input("x");
  n.add_output("y");
  set_int(n, "to", kFloat);
  set_int(n, "saturate", 0);
  EXPECT_NO_THROW(schema_registry().GetSchema("Cast", 19, "")->Verify(n));
  EXPECT_ANY_THROW(schema_registry().GetSchema("Cast", 18, "")->Verify(n));
}

TEST(SchemaRegistryPad, WrapModeAtOpset19) {
  ModelBuilder b(19, 9);
  b.input("x", kFloat, {3, 4}).ints("pads", {1, 2, 1, 3});
  set_string(b.node("Pad", {"x", "pads"}, {"y"}), "mode", "wrap");
  b.output("y");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "y"), (Shape{"5", "9"}));
}

// AveragePool-19's output size counts its dilations (libonnx's older AveragePool inference has none).
TEST(SchemaRegistryOther, AveragePoolDilationsAtOpset19) {
  ModelBuilder b(19, 9);
  b.input("x", kFloat, {1, 1, 10, 9});
  auto& n = b.node("AveragePool", {"x"}, {"y"});
  set_ints(n, "kernel_shape", {3, 2});
  set_ints(n, "dilations", {2, 3});
  set_ints(n, "strides", {1, 2});
  b.output("y");
  infer(b.model());
  // Effective kernel (3-1)*2+1 = 5 and (2-1)*3+1 = 4: (10-5)/1+1 = 6 and (9-4)/2+1 = 3.
  EXPECT_EQ(shape_of(b.model(), "y"), (Shape{"1", "1", "6", "3"}));
}

TEST(SchemaRegistryOther, EqualOfStringsAtOpset19) {
  ModelBuilder b(19, 9);
  b.input("a", onnx::TensorProto::STRING, {2, 3}).input("b", onnx::TensorProto::STRING, {3});
  b.node("Equal", {"a", "b"}, {"c"});
  b.output("c");
  infer(b.model());
  EXPECT_EQ(shape_of(b.model(), "c"), (Shape{"2", "3"}));
}

// Resize-18/19 with constant scales: a scale that is not positive and finite, or one that makes a size past
// int64, is refused by inference, naming the scale and axis (a huge scale converted to int64 was undefined
// behaviour; found by the fuzzer under UBSan).
TEST(SchemaRegistryOther, ResizeRefusesScalesThatGiveNoSize) {
  for (float bad : {-2.0f, 0.0f, 1.7e38f}) {
    ModelBuilder b(19, 9);
    b.input("x", kFloat, {1, 2, 4, 5});
    auto* t = b.model().mutable_graph()->add_initializer();
    t->set_name("scales");
    t->set_data_type(kFloat);
    t->add_dims(4);
    for (float v : {1.0f, bad, 1.0f, 1.0f}) t->add_float_data(v);
    b.node("Resize", {"x", "", "scales"}, {"y"});
    b.output("y");
    try {
      infer(b.model());
      ADD_FAILURE() << "scale " << bad << " was accepted";
    } catch (const onnx::InferenceError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(bad > 1 ? "beyond int64" : "scales must be positive and finite"), std::string::npos) << what;
    }
  }
}

// RMSNormalization and RotaryEmbedding are new in 23, Swish in 24: tandem's schemas from then on, none before.
TEST(SchemaRegistry, Opset23And24NewOpsAnswerFromTheirOpset) {
  for (const auto& [op, since] : {std::pair{"RMSNormalization", 23}, std::pair{"RotaryEmbedding", 23},
                                  std::pair{"Swish", 24}}) {
    for (int opset = since; opset <= kMaxDefaultOpset; ++opset) {
      const onnx::OpSchema* s = schema_registry().GetSchema(op, opset, "ai.onnx");
      ASSERT_NE(s, nullptr) << op << " " << opset;
      EXPECT_EQ(s->SinceVersion(), since) << op;
      EXPECT_FALSE(is_unknown_newer_version(op, opset)) << op;
    }
    EXPECT_EQ(schema_registry().GetSchema(op, since - 1, ""), nullptr) << op;
  }
}

// Both keep X's shape, symbolic dimensions included; RotaryEmbedding checks its caches against X's batch
// and sequence even where X's other dimensions are unknown.
TEST(SchemaRegistryOther, RmsNormalizationAndRotaryEmbeddingKeepXsShape) {
  {
    ModelBuilder b(23, 10);
    b.input("x", kFloat, {"n", 3, 8}).input("scale", kFloat, {8});
    set_int(b.node("RMSNormalization", {"x", "scale"}, {"y"}), "axis", -1);
    b.output("y");
    infer(b.model());
    EXPECT_EQ(shape_of(b.model(), "y"), (Shape{"n", "3", "8"}));
  }
  {
    ModelBuilder b(23, 10);
    b.input("x", kFloat, {"b", "s", 24}).input("cos", kFloat, {16, 4}).input("sin", kFloat, {16, 4});
    b.input("pos", kInt64, {"b", "s"});
    set_int(b.node("RotaryEmbedding", {"x", "cos", "sin", "pos"}, {"y"}), "num_heads", 3);
    b.output("y");
    infer(b.model());
    EXPECT_EQ(shape_of(b.model(), "y"), (Shape{"b", "s", "24"}));
  }
  {
    ModelBuilder b(23, 10);
    b.input("x", kFloat, {2, "h", 5, "d"}).input("cos", kFloat, {3, 5, "r"}).input("sin", kFloat, {3, 5, "r"});
    b.node("RotaryEmbedding", {"x", "cos", "sin"}, {"y"});
    b.output("y");
    EXPECT_THROW(infer(b.model()), onnx::InferenceError);  // the caches' batch 3 is not X's 2
  }
}

TEST(SchemaRegistry, UnknownNewerVersion) {
  EXPECT_TRUE(is_unknown_newer_version("Col2Im", 18));
  EXPECT_FALSE(is_unknown_newer_version("Relu", 18));
  EXPECT_FALSE(is_unknown_newer_version("Resize", 18));
  EXPECT_FALSE(is_unknown_newer_version("Resize", 17));
  EXPECT_FALSE(is_unknown_newer_version("ReduceMean", 18));
  EXPECT_TRUE(is_unknown_newer_version("Relu", kMaxDefaultOpset + 1));
}

TEST(SchemaRegistry, LibraryMaxOpset) {
  // Debian 12's libonnx 1.12 knows the default domain up to opset 17.
  EXPECT_EQ(library_max_default_opset(), 17);
  EXPECT_GT(kMaxDefaultOpset, library_max_default_opset());
}

// onnx/defs/operator_sets.h, OpSet_Onnx_ver22 (ONNX 1.17, "Update to support bfloat16"): 48 ops whose only
// change is bfloat16, allowed at 22 wherever float16 is, with the attributes and inputs of before.
// DeformConv has no schema in tandem (refused by name).
TEST(SchemaRegistry, EveryOpset22ChangeAddsBFloat16) {
  // clang-format off
  const char* const covered[] = {
      "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "AveragePool", "Bernoulli", "Conv", "ConvTranspose", "Cos",
      "Cosh", "Det", "Dropout", "Elu", "EyeLike", "GRU", "GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool",
      "GridSample", "HardSigmoid", "HardSwish", "InstanceNormalization", "LSTM", "LpNormalization", "LpPool",
      "MaxPool", "MaxRoiPool", "MaxUnpool", "Mish", "Multinomial", "NegativeLogLikelihoodLoss", "RNN",
      "RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "RoiAlign", "Round", "Selu", "Sin",
      "Sinh", "Softplus", "Softsign", "Tan", "ThresholdedRelu"};
  // clang-format on
  const auto allows = [](const onnx::OpSchema::TypeConstraintParam& c, const char* type) {
    return std::find(c.allowed_type_strs.begin(), c.allowed_type_strs.end(), type) != c.allowed_type_strs.end();
  };
  for (const char* op : covered) {
    const onnx::OpSchema* s = schema_registry().GetSchema(op, 22, "ai.onnx");
    const onnx::OpSchema* before = schema_registry().GetSchema(op, 21, "");
    ASSERT_NE(s, nullptr) << op;
    ASSERT_NE(before, nullptr) << op;
    EXPECT_EQ(s->SinceVersion(), 22) << op;
    EXPECT_LT(before->SinceVersion(), 22) << op;
    EXPECT_FALSE(is_unknown_newer_version(op, 22)) << op;
    bool gained = false;
    ASSERT_EQ(s->typeConstraintParams().size(), before->typeConstraintParams().size()) << op;
    for (std::size_t i = 0; i < s->typeConstraintParams().size(); ++i) {
      const auto &now = s->typeConstraintParams()[i], &then = before->typeConstraintParams()[i];
      if (allows(then, "tensor(float16)")) {
        EXPECT_TRUE(allows(now, "tensor(bfloat16)")) << op << " " << now.type_param_str;
      }
      gained = gained || (allows(now, "tensor(bfloat16)") && !allows(then, "tensor(bfloat16)"));
      for (const std::string& t : then.allowed_type_strs) EXPECT_TRUE(allows(now, t.c_str())) << op << " " << t;
    }
    EXPECT_TRUE(gained) << op;
    EXPECT_EQ(s->inputs().size(), before->inputs().size()) << op;
    EXPECT_EQ(s->outputs().size(), before->outputs().size()) << op;
    EXPECT_EQ(s->attributes().size(), before->attributes().size()) << op;
    EXPECT_EQ(s->min_input(), before->min_input()) << op;
    EXPECT_EQ(s->max_output(), before->max_output()) << op;
  }
  EXPECT_EQ(schema_registry().GetSchema("DeformConv", 22, ""), nullptr);
  EXPECT_TRUE(is_unknown_newer_version("DeformConv", 22));
  EXPECT_EQ(schema_registry().GetSchema("Relu", 22, "")->SinceVersion(), 14);  // unchanged in 22
}

// Opsets 23 (ONNX 1.18, OpSet_Onnx_ver23), 24 (ONNX 1.19's release notes) and 25 (onnx/onnx#7446): the ops
// changed only by types tandem refuses, and the quantizers, have schemas at each; the ops new in 23 and 24
// have none before.
TEST(SchemaRegistry, EveryOpset23To25ChangeIsCoveredOrNew) {
  // clang-format off
  const std::vector<std::string> types_only = {
      "Cast", "CastLike", "Constant", "ConstantOfShape", "DequantizeLinear", "Flatten", "Identity", "If", "Loop",
      "Pad", "QuantizeLinear", "Reshape", "Scan", "Shape", "Size", "Squeeze", "Transpose", "Unsqueeze"};
  // clang-format on
  for (int opset : {23, 24, 25})
    for (const std::string& op : types_only) {
      const onnx::OpSchema* s = schema_registry().GetSchema(op, opset, "ai.onnx");
      ASSERT_NE(s, nullptr) << op << " " << opset;
      EXPECT_EQ(s->SinceVersion(), opset) << op;
      EXPECT_FALSE(is_unknown_newer_version(op, opset)) << op << " " << opset;
    }
  for (const char* op : {"TopK", "SplitToSequence"}) {
    EXPECT_EQ(schema_registry().GetSchema(op, 24, "")->SinceVersion(), 24) << op;
    EXPECT_LT(schema_registry().GetSchema(op, 23, "")->SinceVersion(), 23) << op;
  }
  for (const char* op : {"Attention", "RMSNormalization", "RotaryEmbedding", "Swish", "TensorScatter"})
    EXPECT_EQ(schema_registry().GetSchema(op, 22, ""), nullptr) << op;
  for (const char* op : {"Swish", "TensorScatter"}) EXPECT_EQ(schema_registry().GetSchema(op, 23, ""), nullptr) << op;
  // Cast takes round_mode from 24 (for float8e8m0), QuantizeLinear precision from 23.
  EXPECT_EQ(schema_registry().GetSchema("Cast", 23, "")->attributes().count("round_mode"), 0u);
  EXPECT_EQ(schema_registry().GetSchema("Cast", 24, "")->attributes().count("round_mode"), 1u);
  EXPECT_EQ(schema_registry().GetSchema("Cast", 25, "")->attributes().count("round_mode"), 1u);
  EXPECT_EQ(schema_registry().GetSchema("QuantizeLinear", 21, "")->attributes().count("precision"), 0u);
  EXPECT_EQ(schema_registry().GetSchema("QuantizeLinear", 23, "")->attributes().count("precision"), 1u);
  EXPECT_EQ(schema_registry().GetSchema("DequantizeLinear", 23, "")->attributes().count("output_dtype"), 1u);
  EXPECT_TRUE(is_unknown_newer_version("Relu", 27));
  // 26 added BitCast and CumProd, and changed nothing else.
  for (const char* op : {"BitCast", "CumProd"}) {
    EXPECT_EQ(schema_registry().GetSchema(op, 25, ""), nullptr) << op;
    ASSERT_NE(schema_registry().GetSchema(op, 26, ""), nullptr) << op;
    EXPECT_EQ(schema_registry().GetSchema(op, 26, "")->SinceVersion(), 26) << op;
  }
  EXPECT_EQ(schema_registry().GetSchema("Cast", 26, "")->SinceVersion(), 25);
  EXPECT_EQ(schema_registry().GetSchema("Div", 26, "")->SinceVersion(), 14);
  // Attention has tandem's schemas from 23 (six inputs) and 24 (nonpad_kv_seqlen), TensorScatter from 24.
  for (const auto& [op, opset, since, inputs] :
       {std::tuple{"Attention", 23, 23, 6u}, std::tuple{"Attention", 24, 24, 7u}, std::tuple{"Attention", 25, 24, 7u},
        std::tuple{"TensorScatter", 24, 24, 3u}, std::tuple{"TensorScatter", 25, 24, 3u}}) {
    const onnx::OpSchema* s = schema_registry().GetSchema(op, opset, "");
    ASSERT_NE(s, nullptr) << op << " " << opset;
    EXPECT_EQ(s->SinceVersion(), since) << op << " " << opset;
    EXPECT_EQ(s->inputs().size(), inputs) << op << " " << opset;
    EXPECT_FALSE(is_unknown_newer_version(op, opset)) << op << " " << opset;
  }
}

}  // namespace
}  // namespace tandem::onnx_import
