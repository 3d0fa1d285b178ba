// Folding Shape/Size of statically shaped values into constants, and what it buys time chunks: a layer
// whose initial state is computed from Shape(its input) still pipelines chunk by chunk.
#include <gtest/gtest.h>

#include "graph/rnn_time_split.h"
#include "graph/shape_folding.h"
#include "tests/support/model_builder.h"

namespace tandem {
namespace {

using onnx::TensorProto;

std::vector<int64_t> int64s(const Value& v) {
  const auto s = v.data->as<int64_t>();
  return {s.begin(), s.end()};
}

TEST(ShapeFolding, StaticShapesBecomeConstantsAndDynamicOnesStay) {
  auto m2 = test::make_model(17);
  auto& g2 = *m2.mutable_graph();
  test::add_input(g2, "x", TensorProto::FLOAT, {4, 2, 3});
  test::add_input(g2, "d", TensorProto::FLOAT, {std::string("n"), 3});
  test::add_node(g2, "Shape", {"x"}, {"sx"}, "shape_x");
  auto* tail2 = test::add_node(g2, "Shape", {"x"}, {"tail"}, "shape_tail");
  test::set_int(tail2, "start", -2);
  test::add_node(g2, "Size", {"x"}, {"size"}, "size_x");
  test::add_node(g2, "Shape", {"d"}, {"sd"}, "shape_d");
  test::set_int(test::add_node(g2, "Concat", {"sx", "tail", "sd"}, {"all"}, "join"), "axis", 0);
  test::add_node(g2, "Unsqueeze", {"size", "zero"}, {"size1"}, "unsq");
  test::add_int64_initializer(g2, "zero", {1}, {0});
  test::add_output(g2, "all");  // graph outputs themselves would be left as nodes
  test::add_output(g2, "size1");
  auto ir2 = test::import_proto(m2);
  ASSERT_TRUE(ir2.is_ok()) << ir2.status().message();
  Graph h = *ir2->graph;
  EXPECT_EQ(fold_static_shapes(h), 3u);
  int shapes = 0;
  for (const Node& n : h.nodes()) shapes += n.op_type == "Shape" || n.op_type == "Size";
  EXPECT_EQ(shapes, 1);  // Shape(d) has a symbolic dimension
  EXPECT_EQ(int64s(h.value(h.find_value("sx"))), (std::vector<int64_t>{4, 2, 3}));
  EXPECT_EQ(int64s(h.value(h.find_value("tail"))), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(int64s(h.value(h.find_value("size"))), (std::vector<int64_t>{24}));
  EXPECT_TRUE(h.value(h.find_value("size")).data->dims.empty());  // Size is a scalar
  EXPECT_EQ(h.value(h.find_value("sx")).kind, ValueKind::kInitializer);
  EXPECT_EQ(h.value(h.find_value("sx")).producer, kNoNode);
}

}  // namespace
}  // namespace tandem
