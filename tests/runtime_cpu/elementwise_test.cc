// Tests of the elementwise kernels through the real importer and executor: hand-checked values from the
// ONNX spec, broadcasting against a naive double-precision reference on random data, errors, Clip in both
// opset forms, Cast rounding, and the ONNX node test cases of these ops.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "onnx_import/tensor_import.h"
#include "runtime_cpu/kernel_registry.h"
#include "tests/support/model_builder.h"
#include "tests/support/op_runner.h"

namespace tandem {
namespace {

using namespace tandem::test;
using onnx::TensorProto;

// --- building and running one-node models ---------------------------------------------------------------

// A tensor of any dtype from values of its storage type (uint16_t bit patterns for float16/bfloat16,
// uint8_t for bool).
template <typename S>
Tensor raw_tensor(DType dtype, std::vector<int64_t> shape, const std::vector<S>& values) {
  Tensor t = Tensor::empty(dtype, std::move(shape));
  EXPECT_EQ(static_cast<std::size_t>(t.numel()), values.size());
  EXPECT_EQ(dtype_size(dtype), sizeof(S));
  if (!values.empty()) std::memcpy(t.raw(), values.data(), values.size() * sizeof(S));
  return t;
}
Tensor floats(std::vector<int64_t> shape, const std::vector<float>& v) {
  return make_tensor<float>(shape, v);
}
Tensor scalar(float v) { return make_tensor<float>({}, {v}); }
Tensor bools(std::vector<int64_t> shape, const std::vector<uint8_t>& v) {
  return raw_tensor(DType::kBool, shape, v);
}

struct NodeSpec {
  int64_t opset = 17;
  std::string op = {};
  std::vector<Tensor> inputs = {};  // an undefined Tensor is an omitted optional input
  std::vector<DType> outputs = {DType::kFloat32};
  std::function<void(onnx::NodeProto*)> attrs = {};
  bool symbolic_dims = false;  // hide shapes from the importer so only the kernel can check them
};

Result<std::vector<Tensor>> run(const NodeSpec& s) {
  auto m = make_model(s.opset);
  auto& g = *m.mutable_graph();
  std::vector<std::string> in_names, out_names;
  std::vector<Tensor> feeds;
  for (std::size_t i = 0; i < s.inputs.size(); ++i) {
    const Tensor& t = s.inputs[i];
    if (!t.defined()) {
      in_names.push_back("");
      continue;
    }
    in_names.push_back("x" + std::to_string(i));
    std::vector<DimSpec> dims;
    for (std::size_t d = 0; d < t.rank(); ++d) {
      const std::string symbol = "x" + std::to_string(i) + "_d" + std::to_string(d);
      if (s.symbolic_dims)
        dims.emplace_back(std::in_place_type<std::string>, symbol);
      else
        dims.emplace_back(std::in_place_type<int64_t>, t.dim(d));
    }
    add_input(g, in_names.back(), static_cast<int32_t>(t.dtype()), dims);
    feeds.push_back(t);
  }
  for (std::size_t k = 0; k < s.outputs.size(); ++k) out_names.push_back("y" + std::to_string(k));
  auto* n = add_node(g, s.op, in_names, out_names, "n");
  if (s.attrs) s.attrs(n);
  for (std::size_t k = 0; k < s.outputs.size(); ++k)
    add_output(g, out_names[k], static_cast<int32_t>(s.outputs[k]));
  return run_on_cpu(m, feeds);
}

// Runs a one-output node and returns the output; a failure to run fails the test.
Tensor run1(const NodeSpec& s) {
  auto r = run(s);
  EXPECT_TRUE(r) << s.op << ": " << r.status().message();
  if (!r) return Tensor();
  EXPECT_EQ(r->size(), 1u);
  return (*r)[0];
}

// The error message of a node that must fail.
std::string run_error(const NodeSpec& s) {
  auto r = run(s);
  EXPECT_FALSE(r) << s.op << " was expected to fail";
  return r ? std::string() : r.status().message();
}

// An independent float16 decoder (not the kernels' code), for expected values.
double half_value(uint16_t h) {
  const int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  const double sign = (h & 0x8000) ? -1.0 : 1.0;
  if (exp == 0x1f) return mant ? std::nan("") : sign * INFINITY;
  if (exp == 0) return sign * std::ldexp(mant, -24);
  return sign * std::ldexp(1024 + mant, exp - 25);
}
double bf16_value(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

double element(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kFloat32:
      return t.data<float>()[i];
    case DType::kFloat64:
      return t.data<double>()[i];
    case DType::kFloat16:
      return half_value(t.data<uint16_t>()[i]);
    case DType::kBFloat16:
      return bf16_value(t.data<uint16_t>()[i]);
    case DType::kInt8:
      return t.data<int8_t>()[i];
    case DType::kInt16:
      return t.data<int16_t>()[i];
    case DType::kInt32:
      return t.data<int32_t>()[i];
    case DType::kInt64:
      return static_cast<double>(t.data<int64_t>()[i]);
    case DType::kUInt8:
      return t.data<uint8_t>()[i];
    case DType::kUInt16:
      return t.data<uint16_t>()[i];
    case DType::kUInt32:
      return t.data<uint32_t>()[i];
    case DType::kUInt64:
      return static_cast<double>(t.data<uint64_t>()[i]);
    case DType::kBool:
      return t.data<uint8_t>()[i] ? 1 : 0;
    default:
      ADD_FAILURE() << "no reader for " << t.describe();
      return 0;
  }
}

std::vector<double> elements(const Tensor& t) {
  std::vector<double> v;
  for (int64_t i = 0; i < t.numel(); ++i) v.push_back(element(t, i));
  return v;
}

// |got - want| <= atol + rtol * |want| elementwise; NaN matches NaN, infinities must be equal.
void expect_near(const Tensor& got, const std::vector<double>& want, double rtol = 1e-6, double atol = 1e-6,
                 const std::string& what = "") {
  ASSERT_TRUE(got.defined()) << what;
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size())) << what << ": got " << got.describe();
  int misses = 0;
  for (std::size_t i = 0; i < want.size() && misses < 5; ++i) {
    const double g = element(got, static_cast<int64_t>(i)), w = want[i];
    const bool ok =
        (std::isnan(g) && std::isnan(w)) || g == w || std::abs(g - w) <= atol + rtol * std::abs(w);
    if (!ok) {
      ADD_FAILURE() << what << " element " << i << ": got " << g << ", want " << w;
      ++misses;
    }
  }
}

// Runs a kernel straight from the registry on a hand-built graph, bypassing the importer's type and shape
// checks, to reach the kernels' own checks (the importer stops most bad models first). Returns the
// factory's or the kernel's message, or "" on success.
std::string direct_kernel_error(const std::string& op, const std::vector<Tensor>& inputs, int opset = 17,
                                std::map<std::string, Attribute> attrs = {}) {
  Graph g;
  Node n;
  n.name = "n";
  n.op_type = op;
  n.opset = opset;
  n.attributes = std::move(attrs);
  std::vector<const Tensor*> ptrs;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const ValueId v = g.add_value("x" + std::to_string(i), ValueKind::kGraphInput);
    g.add_input(v);
    n.inputs.push_back(inputs[i].defined() ? v : kNoValue);
    ptrs.push_back(inputs[i].defined() ? &inputs[i] : nullptr);
  }
  n.outputs.push_back(g.add_value("y", ValueKind::kNodeOutput));
  const NodeId id = g.add_node(std::move(n));
  const cpu::KernelFactory* f = cpu::cpu_kernels().find("", op);
  if (!f) return "no kernel";
  KernelInit init{g, id, {}};
  auto k = (*f)(init);
  if (!k) return k.status().message();
  std::vector<Tensor> outs(1);
  KernelContext ctx(g, id, ptrs, {}, outs);
  const Status st = (*k)->run(ctx);
  return st ? std::string() : st.message();
}

void expect_mentions(const std::string& message, const std::vector<std::string>& parts) {
  EXPECT_FALSE(message.empty()) << "expected an error";
  for (const auto& p : parts)
    EXPECT_NE(message.find(p), std::string::npos) << "'" << p << "' not in: " << message;
}

TEST(KernelChecks, ClearErrorsForBadInputs) {
  const Tensor f2 = floats({2}, {1, 2}), i2 = make_tensor<int32_t>({2}, {1, 2});
  expect_mentions(direct_kernel_error("Sqrt", {i2}), {"node 'n' (Sqrt)", "input 0", "int32", "float32"});
  expect_mentions(direct_kernel_error("Not", {f2}), {"float32", "bool"});
  expect_mentions(direct_kernel_error("And", {f2, f2}), {"float32", "bool"});
  expect_mentions(direct_kernel_error("Add", {f2, i2}), {"input 1", "int32", "float32"});
  expect_mentions(direct_kernel_error("Add", {f2}), {"input 1 is missing"});
  expect_mentions(direct_kernel_error("Add", {f2, floats({3}, {1, 2, 3})}),
                  {"[2]", "[3]", "cannot be broadcast"});
  expect_mentions(direct_kernel_error("Mean", {i2, i2}), {"int32"});
  expect_mentions(direct_kernel_error("Max", {}), {"at least one input"});
  expect_mentions(direct_kernel_error("Max", {f2, i2}), {"input 1", "int32"});
  expect_mentions(direct_kernel_error("Pow", {make_tensor<int8_t>({1}, {2}), f2}), {"base", "int8"});
  expect_mentions(direct_kernel_error("Pow", {f2, bools({1}, {1})}), {"exponent", "bool"});
  expect_mentions(direct_kernel_error("Where", {f2, f2, f2}), {"condition", "bool"});
  expect_mentions(direct_kernel_error("Where", {bools({1}, {1}), f2, i2}), {"input 2", "int32"});
  expect_mentions(direct_kernel_error("Clip", {f2, i2}, 13), {"min", "int32"});
  expect_mentions(direct_kernel_error("Clip", {f2, Tensor(), f2}, 13), {"max", "scalar"});
  expect_mentions(direct_kernel_error("Clip", {f2, scalar(0)}, 6), {"opset 11"});
  expect_mentions(direct_kernel_error("Cast", {f2}), {"'to'"});
  expect_mentions(direct_kernel_error("Cast", {f2}, 17, {{"to", Attribute::of_int(14)}}), {"complex64"});
  expect_mentions(direct_kernel_error("Cast", {f2}, 17, {{"to", Attribute::of_int(99)}}), {"99"});
  expect_mentions(direct_kernel_error("Cast", {f2}, 12, {{"to", Attribute::of_int(16)}}),
                  {"bfloat16", "opset 13"});
  expect_mentions(direct_kernel_error("CastLike", {f2}, 15), {"2 inputs"});
  // The happy path of the same helper, so the checks above are not vacuous.
  EXPECT_EQ(direct_kernel_error("Add", {f2, scalar(1)}), "");
  EXPECT_EQ(direct_kernel_error("Cast", {f2}, 17, {{"to", Attribute::of_int(7)}}), "");
}

// --- unary ops: spec examples -----------------------------------------------------------------------------

struct UnaryCase {
  std::string op;
  std::vector<float> x;
  std::vector<double> y;
  std::function<void(onnx::NodeProto*)> attrs = {};
};

TEST(Unary, SpecExamples) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<UnaryCase> cases = {
      {"Neg", {-4, 2, 0}, {4, -2, 0}},
      {"Abs", {-4, 2, -0.5f}, {4, 2, 0.5}},
      {"Sqrt", {1, 4, 9, -1}, {1, 2, 3, std::nan("")}},
      {"Exp", {-1, 0, 1}, {0.36787944117144233, 1, 2.718281828459045}},
      {"Log", {1, 10, 0}, {0, 2.302585092994046, -INFINITY}},
      {"Relu", {-1, 0, 1, nan}, {0, 0, 1, std::nan("")}},
      {"LeakyRelu", {-1, 0, 1}, {-0.1, 0, 1}, [](auto* n) { set_float(n, "alpha", 0.1f); }},
      {"LeakyRelu", {-1, 0, 1}, {-0.01, 0, 1}},  // default alpha 0.01
      {"Tanh", {-1, 0, 1}, {-0.7615941559557649, 0, 0.7615941559557649}},
      {"Sigmoid",
       {-1, 0, 1, -100, 100},
       {0.2689414213699951, 0.5, 0.7310585786300049, 3.720075976020836e-44, 1}},
      {"Erf", {-1, 0, 0.5f, 3}, {-0.8427007929497149, 0, 0.5204998778130465, 0.9999779095030014}},
      {"Reciprocal", {-4, 2, 0}, {-0.25, 0.5, INFINITY}},
      {"Floor", {-1.5f, 1.2f, 2}, {-2, 1, 2}},
      {"Ceil", {-1.5f, 1.2f, 2}, {-1, 2, 2}},
      {"Sign", {-3, 0, 2, nan}, {-1, 0, 1, std::nan("")}},
      {"Softplus",
       {-1, 0, 1, 100, -100},
       {0.31326168751822286, 0.6931471805599453, 1.3132616875182228, 100, 3.720075976020836e-44}},
      {"HardSigmoid",
       {-1, 0, 1},
       {0.1, 0.6, 1},
       [](auto* n) { set_float(n, "alpha", 0.5f), set_float(n, "beta", 0.6f); }},
      {"HardSigmoid", {-3, 0, 3}, {0, 0.5, 1}},  // defaults alpha 0.2, beta 0.5
      {"Elu", {-1, 0, 1}, {-1.2642411176571153, 0, 1}, [](auto* n) { set_float(n, "alpha", 2.0f); }},
      {"Elu", {-1, 0, 1}, {-0.6321205588285577, 0, 1}},  // default alpha 1
      {"Selu",
       {-1, 0, 1},
       {-3.792723181889149, 0, 3},
       [](auto* n) { set_float(n, "alpha", 2.0f), set_float(n, "gamma", 3.0f); }},
      {"Selu", {-1, 0, 1}, {-1.1113307378125625, 0, 1.0507009873554805}},  // default alpha, gamma
  };
  for (const auto& c : cases) {
    NodeSpec s{.op = c.op, .inputs = {floats({static_cast<int64_t>(c.x.size())}, c.x)}, .attrs = c.attrs};
    expect_near(run1(s), c.y, 3e-7, 1e-44, c.op);
  }
}

TEST(Unary, NotOnBool) {
  const Tensor y = run1({.op = "Not", .inputs = {bools({2, 2}, {1, 0, 0, 1})}, .outputs = {DType::kBool}});
  EXPECT_EQ(elements(y), (std::vector<double>{0, 1, 1, 0}));
  EXPECT_EQ(y.shape(), (std::vector<int64_t>{2, 2}));
}

// Each float op on random data of several shapes against the same formula in double precision, in
// float32 and float64; and in float16, where the result must be the rounded double result.
TEST(Unary, RandomDataAgainstDoubleReference) {
  const std::map<std::string, std::function<double(double)>> refs = {
      {"Neg", [](double x) { return -x; }},
      {"Abs", [](double x) { return std::abs(x); }},
      {"Sqrt", [](double x) { return std::sqrt(std::abs(x)); }},
      {"Exp", [](double x) { return std::exp(x); }},
      {"Log", [](double x) { return std::log(std::abs(x)); }},
      {"Relu", [](double x) { return std::max(x, 0.0); }},
      {"Tanh", [](double x) { return std::tanh(x); }},
      {"Sigmoid", [](double x) { return 1 / (1 + std::exp(-x)); }},
      {"Erf", [](double x) { return std::erf(x); }},
      {"Reciprocal", [](double x) { return 1 / x; }},
      {"Floor", [](double x) { return std::floor(x); }},
      {"Ceil", [](double x) { return std::ceil(x); }},
      {"Sign", [](double x) { return x > 0   ? 1.0
                                     : x < 0 ? -1.0
                                             : 0.0; }},
      {"Softplus", [](double x) { return std::log(std::exp(x) + 1); }},
      // Attributes are float32, so the defaults enter as their float32 values.
      {"LeakyRelu", [](double x) { return x < 0 ? double(0.01f) * x : x; }},
      {"HardSigmoid", [](double x) { return std::clamp(double(0.2f) * x + 0.5, 0.0, 1.0); }},
      {"Elu", [](double x) { return x < 0 ? std::exp(x) - 1 : x; }},
      {"Selu",
       [](double x) { return double(1.05070102f) * (x <= 0 ? double(1.67326319f) * (std::exp(x) - 1) : x); }},
  };
  const std::vector<std::vector<int64_t>> shapes = {{}, {7}, {3, 5}, {2, 3, 17}, {0, 4}};
  std::mt19937 gen(7);
  std::uniform_real_distribution<double> dist(-4, 4);
  for (const auto& [op, ref] : refs) {
    const bool positive = op == "Sqrt" || op == "Log";  // keep inputs in the domain
    for (const auto& shape : shapes) {
      std::vector<double> x(static_cast<std::size_t>(shape_numel(shape)));
      for (double& v : x) v = positive ? std::abs(dist(gen)) + 0.01 : dist(gen);
      std::vector<float> xf(x.begin(), x.end());
      std::vector<double> want, want_f;
      for (float v : xf) want_f.push_back(ref(v));
      for (double v : x) want.push_back(ref(v));
      expect_near(run1({.op = op, .inputs = {make_tensor<float>(shape, xf)}}), want_f, 1e-6, 1e-7,
                  op + " float32");
      expect_near(run1({.op = op, .inputs = {make_tensor<double>(shape, x)}, .outputs = {DType::kFloat64}}),
                  want, 1e-14, 1e-15, op + " float64");
    }
  }
  // float16: inputs exactly representable, the output rounded from (nearly) the exact result.
  std::vector<uint16_t> h = {0x3c00, 0xbc00, 0x3555, 0x4500, 0xc0a0, 0x0000, 0x2e66};
  Tensor x = raw_tensor(DType::kFloat16, {7}, h);
  for (const char* op : {"Exp", "Tanh", "Neg", "Abs", "Relu"}) {
    std::vector<double> want;
    for (uint16_t b : h) want.push_back(refs.at(op)(half_value(b)));
    const Tensor y = run1({.op = op, .inputs = {x}, .outputs = {DType::kFloat16}});
    ASSERT_EQ(y.dtype(), DType::kFloat16);
    expect_near(y, want, 1.0 / 1024, 0, std::string(op) + " float16");  // an ulp of float16
  }
}

TEST(Unary, IntegerNegAbsSignRelu) {
  const Tensor x32 = make_tensor<int32_t>({5}, {-3, 0, 7, std::numeric_limits<int32_t>::min(), 1});
  EXPECT_EQ(values_of<int32_t>(run1({.op = "Neg", .inputs = {x32}, .outputs = {DType::kInt32}})),
            (std::vector<int32_t>{3, 0, -7, std::numeric_limits<int32_t>::min(), -1}));  // lowest wraps
  EXPECT_EQ(values_of<int32_t>(run1({.op = "Abs", .inputs = {x32}, .outputs = {DType::kInt32}})),
            (std::vector<int32_t>{3, 0, 7, std::numeric_limits<int32_t>::min(), 1}));
  const Tensor x64 = make_tensor<int64_t>({3}, {-5, 0, 9});
  EXPECT_EQ(values_of<int64_t>(run1({.op = "Neg", .inputs = {x64}, .outputs = {DType::kInt64}})),
            (std::vector<int64_t>{5, 0, -9}));
  EXPECT_EQ(values_of<int64_t>(run1({.op = "Sign", .inputs = {x64}, .outputs = {DType::kInt64}})),
            (std::vector<int64_t>{-1, 0, 1}));
  EXPECT_EQ(values_of<int64_t>(run1({.op = "Relu", .inputs = {x64}, .outputs = {DType::kInt64}})),
            (std::vector<int64_t>{0, 0, 9}));
  const Tensor x8 = make_tensor<int8_t>({3}, {-128, -1, 5});
  EXPECT_EQ(values_of<int8_t>(run1({.op = "Abs", .inputs = {x8}, .outputs = {DType::kInt8}})),
            (std::vector<int8_t>{-128, 1, 5}));
}

// --- binary ops: spec examples ----------------------------------------------------------------------------

TEST(Binary, SpecExamples) {
  const Tensor x = floats({3}, {1, 2, 3}), y = floats({3}, {3, 2, 1});
  expect_near(run1({.op = "Add", .inputs = {x, y}}), {4, 4, 4});
  expect_near(run1({.op = "Sub", .inputs = {x, y}}), {-2, 0, 2});
  expect_near(run1({.op = "Mul", .inputs = {x, y}}), {3, 4, 3});
  expect_near(run1({.op = "Div", .inputs = {floats({2}, {3, 4}), floats({2}, {1, 2})}}), {3, 2});
  expect_near(run1({.op = "Div", .inputs = {floats({3}, {1, -1, 0}), floats({3}, {0, 0, 0})}}),
              {INFINITY, -INFINITY, std::nan("")});
  expect_near(run1({.op = "Pow", .inputs = {x, floats({3}, {4, 5, 6})}}), {1, 32, 729});
  expect_near(run1({.op = "Pow", .inputs = {x, scalar(2)}}), {1, 4, 9});
  expect_near(run1({.op = "Pow", .inputs = {floats({2, 3}, {1, 2, 3, 4, 5, 6}), x}}), {1, 4, 27, 4, 25, 216});
  const std::vector<DType> b = {DType::kBool};
  EXPECT_EQ(elements(run1({.op = "Equal", .inputs = {x, y}, .outputs = b})), (std::vector<double>{0, 1, 0}));
  EXPECT_EQ(elements(run1({.op = "Less", .inputs = {x, y}, .outputs = b})), (std::vector<double>{1, 0, 0}));
  EXPECT_EQ(elements(run1({.op = "Greater", .inputs = {x, y}, .outputs = b})),
            (std::vector<double>{0, 0, 1}));
  EXPECT_EQ(elements(run1({.op = "LessOrEqual", .inputs = {x, y}, .outputs = b})),
            (std::vector<double>{1, 1, 0}));
  EXPECT_EQ(elements(run1({.op = "GreaterOrEqual", .inputs = {x, y}, .outputs = b})),
            (std::vector<double>{0, 1, 1}));
  const Tensor nan = scalar(std::nanf(""));
  EXPECT_EQ(elements(run1({.op = "Equal", .inputs = {nan, nan}, .outputs = b})), (std::vector<double>{0}));
  EXPECT_EQ(elements(run1({.op = "Equal",
                           .inputs = {make_tensor<int64_t>({2}, {5, 6}), make_tensor<int64_t>({}, {6})},
                           .outputs = b})),
            (std::vector<double>{0, 1}));
}

TEST(Binary, LogicTruthTables) {
  const Tensor a = bools({4}, {0, 0, 1, 1}), c = bools({4}, {0, 1, 0, 1});
  const std::vector<DType> b = {DType::kBool};
  EXPECT_EQ(elements(run1({.op = "And", .inputs = {a, c}, .outputs = b})), (std::vector<double>{0, 0, 0, 1}));
  EXPECT_EQ(elements(run1({.op = "Or", .inputs = {a, c}, .outputs = b})), (std::vector<double>{0, 1, 1, 1}));
  EXPECT_EQ(elements(run1({.op = "Xor", .inputs = {a, c}, .outputs = b})), (std::vector<double>{0, 1, 1, 0}));
  EXPECT_EQ(elements(run1({.op = "Equal", .inputs = {a, c}, .outputs = b})),
            (std::vector<double>{1, 0, 0, 1}));
  // [2,1,4] with [3,1]: broadcast logic.
  const Tensor l = bools({2, 1, 2}, {1, 0, 0, 1}), r = bools({3, 1}, {1, 0, 1});
  const Tensor y = run1({.op = "And", .inputs = {l, r}, .outputs = b});
  EXPECT_EQ(y.shape(), (std::vector<int64_t>{2, 3, 2}));
  EXPECT_EQ(elements(y), (std::vector<double>{1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1}));
}

TEST(Binary, IntegerDivisionTruncatesTowardZero) {
  const std::vector<DType> i64 = {DType::kInt64}, i32 = {DType::kInt32};
  EXPECT_EQ(values_of<int64_t>(run1({.op = "Div",
                                     .inputs = {make_tensor<int64_t>({4}, {7, -7, 7, -7}),
                                                make_tensor<int64_t>({4}, {2, 2, -2, -2})},
                                     .outputs = i64})),
            (std::vector<int64_t>{3, -3, -3, 3}));
  EXPECT_EQ(values_of<int32_t>(
                run1({.op = "Div",
                      .inputs = {make_tensor<int32_t>({3}, {std::numeric_limits<int32_t>::min(), 9, -1}),
                                 make_tensor<int32_t>({}, {-1})},
                      .outputs = i32})),
            (std::vector<int32_t>{std::numeric_limits<int32_t>::min(), -9, 1}));  // lowest / -1 wraps
  EXPECT_EQ(values_of<uint8_t>(
                run1({.op = "Div",
                      .inputs = {make_tensor<uint8_t>({2}, {255, 7}), make_tensor<uint8_t>({2}, {2, 7})},
                      .outputs = {DType::kUInt8}})),
            (std::vector<uint8_t>{127, 1}));
  const std::string e =
      run_error({.op = "Div",
                 .inputs = {make_tensor<int32_t>({2}, {1, 2}), make_tensor<int32_t>({2}, {1, 0})},
                 .outputs = i32});
  EXPECT_NE(e.find("division by zero"), std::string::npos) << e;
}

TEST(Binary, IntegerArithmeticWraps) {
  const int32_t big = std::numeric_limits<int32_t>::max();
  const std::vector<DType> i32 = {DType::kInt32};
  EXPECT_EQ(
      values_of<int32_t>(run1({.op = "Add",
                               .inputs = {make_tensor<int32_t>({1}, {big}), make_tensor<int32_t>({1}, {1})},
                               .outputs = i32})),
      (std::vector<int32_t>{std::numeric_limits<int32_t>::min()}));
  EXPECT_EQ(values_of<int32_t>(run1(
                {.op = "Mul",
                 .inputs = {make_tensor<int32_t>({2}, {65536, -3}), make_tensor<int32_t>({2}, {65536, 4})},
                 .outputs = i32})),
            (std::vector<int32_t>{0, -12}));
  EXPECT_EQ(
      values_of<uint8_t>(run1({.op = "Sub",
                               .inputs = {make_tensor<uint8_t>({1}, {1}), make_tensor<uint8_t>({1}, {2})},
                               .outputs = {DType::kUInt8}})),
      (std::vector<uint8_t>{255}));
}

// A single exponent of 2 takes the square path (x * x); every other exponent, and a 2 that broadcasts x to
// a larger shape, takes pow. Against the definition on random bases, signed zeros, infinities and NaN.
TEST(Binary, PowSquaresExactly) {
  std::vector<float> base = random_floats(257, 31, -40.0f, 40.0f);
  base.insert(base.end(), {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e20f, -1e-30f});
  const auto n = static_cast<int64_t>(base.size());
  for (const Tensor& two : {scalar(2), floats({1, 1}, {2})}) {
    const Tensor y = run1({.op = "Pow", .inputs = {floats({n}, base), two}});
    ASSERT_EQ(y.numel(), n) << y.describe();
    for (int64_t i = 0; i < n; ++i) {
      const float b = base[static_cast<std::size_t>(i)], want = b * b, got = y.data<float>()[i];
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(got)) << i;
      } else if (two.rank() == 0 || std::isinf(want)) {
        EXPECT_EQ(got, want) << "base " << b;
      } else {  // pow, which may be an ulp from the exact square ([1, 1] broadcasts x to [1, n])
        EXPECT_NEAR(got, want, std::abs(want) * 2e-7f) << "base " << b;
      }
    }
  }
  // Exponents near 2 are not squares.
  const Tensor y = run1({.op = "Pow", .inputs = {floats({2}, {3, 10}), scalar(2.5f)}});
  EXPECT_NEAR(y.data<float>()[0], std::pow(3.0f, 2.5f), 1e-5f);
  EXPECT_NEAR(y.data<float>()[1], std::pow(10.0f, 2.5f), 1e-3f);
}

TEST(Binary, PowWithMixedTypes) {
  // float base, int exponent (the output has the base's type).
  expect_near(
      run1({.op = "Pow", .inputs = {floats({4}, {1, 2, 3, 2}), make_tensor<int64_t>({4}, {4, 5, 6, -2})}}),
      {1, 32, 729, 0.25});
  expect_near(run1({.op = "Pow", .inputs = {floats({3}, {1, 2, -3}), make_tensor<int32_t>({}, {3})}}),
              {1, 8, -27});
  // int base, int exponent: exact integer powers, also where float would round.
  EXPECT_EQ(values_of<int64_t>(run1({.op = "Pow",
                                     .inputs = {make_tensor<int64_t>({4}, {3, -2, 2, 7}),
                                                make_tensor<int64_t>({4}, {39, 3, -1, 0})},
                                     .outputs = {DType::kInt64}})),
            (std::vector<int64_t>{4052555153018976267, -8, 0, 1}));
  EXPECT_EQ(values_of<int32_t>(run1(
                {.op = "Pow",
                 .inputs = {make_tensor<int32_t>({3}, {1, -1, 5}), make_tensor<int32_t>({3}, {-3, -3, 2})},
                 .outputs = {DType::kInt32}})),
            (std::vector<int32_t>{1, -1, 25}));
  // int base, float exponent: computed in floating point, truncated.
  EXPECT_EQ(
      values_of<int32_t>(run1({.op = "Pow",
                               .inputs = {make_tensor<int32_t>({3}, {1, 2, 9}), floats({3}, {4, 0.5f, 0.5f})},
                               .outputs = {DType::kInt32}})),
      (std::vector<int32_t>{1, 1, 3}));
  // float64 base with float32 exponent.
  expect_near(run1({.op = "Pow",
                    .inputs = {make_tensor<double>({2}, {2, 9}), floats({2}, {10, 0.5f})},
                    .outputs = {DType::kFloat64}}),
              {1024, 3});
}

// --- broadcasting against a naive reference ---------------------------------------------------------------

// The element of `shape` that output element `flat` of `out` reads under numpy broadcasting, computed the
// obvious way (full index, then each dimension of size 1 pinned to 0).
int64_t source_index(const std::vector<int64_t>& out, const std::vector<int64_t>& shape, int64_t flat) {
  std::vector<int64_t> idx(out.size());
  for (std::size_t d = out.size(); d-- > 0;) idx[d] = flat % out[d], flat /= out[d];
  int64_t offset = 0;
  const std::size_t lead = out.size() - shape.size();
  for (std::size_t d = 0; d < shape.size(); ++d)
    offset = offset * shape[d] + (shape[d] == 1 ? 0 : idx[lead + d]);
  return offset;
}

std::vector<int64_t> reference_shape(const std::vector<std::vector<int64_t>>& shapes) {
  std::size_t rank = 0;
  for (const auto& s : shapes) rank = std::max(rank, s.size());
  std::vector<int64_t> out(rank, 1);
  for (const auto& s : shapes)
    for (std::size_t d = 0; d < s.size(); ++d) {
      int64_t& o = out[rank - s.size() + d];
      if (o == 1) o = s[d];
    }
  return out;
}

std::vector<double> reference(const std::vector<Tensor>& ins,
                              const std::function<double(const std::vector<double>&)>& f) {
  std::vector<std::vector<int64_t>> shapes;
  for (const Tensor& t : ins) shapes.push_back(t.shape());
  const std::vector<int64_t> out = reference_shape(shapes);
  std::vector<double> result;
  for (int64_t i = 0; i < shape_numel(out); ++i) {
    std::vector<double> args;
    for (const Tensor& t : ins) args.push_back(element(t, source_index(out, t.shape(), i)));
    result.push_back(f(args));
  }
  return result;
}

template <typename T>
Tensor random_tensor(std::vector<int64_t> shape, std::mt19937& gen, double lo, double hi) {
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<T> v(static_cast<std::size_t>(shape_numel(shape)));
  for (T& x : v) {
    const double d = dist(gen);
    if constexpr (std::is_integral_v<T>)
      x = static_cast<T>(std::floor(d));
    else
      x = static_cast<T>(d);
  }
  return make_tensor<T>(std::move(shape), v);
}

const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> kShapePairs = {
    {{}, {2, 3}},
    {{2, 3}, {}},
    {{3, 1}, {1, 4}},
    {{2, 3, 4}, {4}},
    {{4}, {2, 3, 4}},
    {{}, {2, 3, 4}},
    {{2, 3, 4}, {2, 3, 4}},
    {{2, 0, 3}, {3}},
    {{0}, {}},
    {{5, 1, 3}, {1, 4, 1}},
    {{4, 1, 1, 6}, {3, 6}},
    {{1}, {7}},
    {{2, 1, 3, 1}, {2, 5, 3, 4}},
    {{33}, {2, 33}},
    {{}, {}},
    {{1, 1}, {1}},
    {{1000, 1}, {1000, 3}},
};

struct BinaryRef {
  std::string op;
  std::function<double(double, double)> f;
  bool bool_out = false;
};

TEST(Broadcast, BinaryOpsAgainstNaiveReference) {
  const std::vector<BinaryRef> refs = {
      {"Add", [](double a, double b) { return a + b; }},
      {"Sub", [](double a, double b) { return a - b; }},
      {"Mul", [](double a, double b) { return a * b; }},
      {"Div", [](double a, double b) { return a / b; }},
      {"Pow", [](double a, double b) { return std::pow(a, b); }},
      {"Equal", [](double a, double b) { return double(a == b); }, true},
      {"Less", [](double a, double b) { return double(a < b); }, true},
      {"Greater", [](double a, double b) { return double(a > b); }, true},
      {"LessOrEqual", [](double a, double b) { return double(a <= b); }, true},
      {"GreaterOrEqual", [](double a, double b) { return double(a >= b); }, true},
  };
  std::mt19937 gen(2024);
  for (const auto& r : refs) {
    for (const auto& [sa, sb] : kShapePairs) {
      const std::string what = r.op + " " + shape_string(sa) + " x " + shape_string(sb);
      // Positive operands keep Pow real and Div away from 0; comparisons get ties from a small range.
      const bool small = r.bool_out;
      const Tensor a = random_tensor<float>(sa, gen, small ? 0 : 0.5, small ? 3 : 4);
      Tensor b = random_tensor<float>(sb, gen, small ? 0 : 0.5, small ? 3 : 4);
      if (small) {  // whole numbers, so that Equal and the *OrEqual ops meet equal pairs
        const Tensor ai = random_tensor<int32_t>(sa, gen, 0, 3), bi = random_tensor<int32_t>(sb, gen, 0, 3);
        Tensor af = Tensor::empty(DType::kFloat32, sa), bf = Tensor::empty(DType::kFloat32, sb);
        for (int64_t i = 0; i < af.numel(); ++i)
          af.data<float>()[i] = static_cast<float>(ai.data<int32_t>()[i]);
        for (int64_t i = 0; i < bf.numel(); ++i)
          bf.data<float>()[i] = static_cast<float>(bi.data<int32_t>()[i]);
        const std::vector<DType> out = {DType::kBool};
        const Tensor y = run1({.op = r.op, .inputs = {af, bf}, .outputs = out, .symbolic_dims = true});
        EXPECT_EQ(y.shape(), reference_shape({sa, sb})) << what;
        expect_near(y, reference({af, bf}, [&](const auto& v) { return r.f(v[0], v[1]); }), 0, 0, what);
        // The same on int32 inputs.
        const Tensor yi = run1({.op = r.op, .inputs = {ai, bi}, .outputs = out, .symbolic_dims = true});
        expect_near(yi, reference({ai, bi}, [&](const auto& v) { return r.f(v[0], v[1]); }), 0, 0,
                    what + " int32");
        continue;
      }
      const Tensor y = run1({.op = r.op, .inputs = {a, b}, .symbolic_dims = true});
      EXPECT_EQ(y.shape(), reference_shape({sa, sb})) << what;
      expect_near(y, reference({a, b}, [&](const auto& v) { return r.f(v[0], v[1]); }), 2e-6, 1e-6, what);
      if (r.op == "Pow") continue;
      // float64, int64 and int32 (integer Div truncates; its divisor stays >= 1).
      const Tensor a64 = random_tensor<double>(sa, gen, -4, 4), b64 = random_tensor<double>(sb, gen, 0.5, 4);
      expect_near(
          run1({.op = r.op, .inputs = {a64, b64}, .outputs = {DType::kFloat64}, .symbolic_dims = true}),
          reference({a64, b64}, [&](const auto& v) { return r.f(v[0], v[1]); }), 1e-15, 0, what + " float64");
      const Tensor l64 = random_tensor<int64_t>(sa, gen, -50, 50),
                   r64 = random_tensor<int64_t>(sb, gen, 1, 9);
      auto int_ref = [&](const auto& v) { return r.op == "Div" ? std::trunc(v[0] / v[1]) : r.f(v[0], v[1]); };
      expect_near(run1({.op = r.op, .inputs = {l64, r64}, .outputs = {DType::kInt64}, .symbolic_dims = true}),
                  reference({l64, r64}, int_ref), 0, 0, what + " int64");
      const Tensor l32 = random_tensor<int32_t>(sa, gen, -50, 50),
                   r32 = random_tensor<int32_t>(sb, gen, -9, -1);
      expect_near(run1({.op = r.op, .inputs = {l32, r32}, .outputs = {DType::kInt32}, .symbolic_dims = true}),
                  reference({l32, r32}, int_ref), 0, 0, what + " int32");
    }
  }
}

TEST(Broadcast, VariadicAndWhereAgainstNaiveReference) {
  const std::vector<std::vector<std::vector<int64_t>>> triples = {
      {{}, {2, 3}, {3}},    {{3, 1}, {1, 4}, {3, 4}}, {{2, 3, 4}, {4}, {3, 1}},          {{}, {}, {2, 3, 4}},
      {{2, 0, 3}, {3}, {}}, {{5}, {5}, {5}},          {{1, 2, 1}, {3, 1, 1}, {1, 1, 4}},
  };
  std::mt19937 gen(99);
  for (const auto& shapes : triples) {
    const std::string what =
        shape_string(shapes[0]) + ", " + shape_string(shapes[1]) + ", " + shape_string(shapes[2]);
    std::vector<Tensor> in;
    for (const auto& s : shapes) in.push_back(random_tensor<float>(s, gen, -3, 3));
    const NodeSpec base{.inputs = in, .symbolic_dims = true};
    auto with_op = [&](const std::string& op) {
      NodeSpec s = base;
      s.op = op;
      return run1(s);
    };
    expect_near(with_op("Sum"), reference(in, [](const auto& v) { return v[0] + v[1] + v[2]; }), 1e-6, 2e-6,
                "Sum " + what);
    expect_near(with_op("Mean"), reference(in, [](const auto& v) { return (v[0] + v[1] + v[2]) / 3; }), 1e-6,
                1e-6, "Mean " + what);
    expect_near(with_op("Min"),
                reference(in,
                          [](const auto& v) {
                            return std::min({v[0], v[1], v[2]});
                          }),
                0, 0, "Min " + what);
    expect_near(with_op("Max"),
                reference(in,
                          [](const auto& v) {
                            return std::max({v[0], v[1], v[2]});
                          }),
                0, 0, "Max " + what);
    // Where(cond of shapes[0], x of shapes[1], y of shapes[2]), in float32 and int64.
    std::vector<uint8_t> c(static_cast<std::size_t>(shape_numel(shapes[0])));
    for (auto& v : c) v = static_cast<uint8_t>(gen() & 1);
    const Tensor cond = bools(shapes[0], c);
    const auto pick = [](const auto& v) { return v[0] != 0 ? v[1] : v[2]; };
    expect_near(run1({.op = "Where", .inputs = {cond, in[1], in[2]}, .symbolic_dims = true}),
                reference({cond, in[1], in[2]}, pick), 0, 0, "Where " + what);
    const Tensor i1 = random_tensor<int64_t>(shapes[1], gen, -1e12, 1e12),
                 i2 = random_tensor<int64_t>(shapes[2], gen, -9, 9);
    expect_near(
        run1({.op = "Where", .inputs = {cond, i1, i2}, .outputs = {DType::kInt64}, .symbolic_dims = true}),
        reference({cond, i1, i2}, pick), 0, 0, "Where int64 " + what);
    const Tensor s1 = random_tensor<int32_t>(shapes[1], gen, -99, 99),
                 s2 = random_tensor<int32_t>(shapes[2], gen, -9, 9);
    auto max3 =
        run1({.op = "Max", .inputs = {s2, s1, s2}, .outputs = {DType::kInt32}, .symbolic_dims = true});
    expect_near(max3,
                reference({s2, s1, s2},
                          [](const auto& v) {
                            return std::max({v[0], v[1], v[2]});
                          }),
                0, 0, "Max int32 " + what);
    const Tensor f1 = random_tensor<double>(shapes[1], gen, -9, 9),
                 f2 = random_tensor<double>(shapes[0], gen, -9, 9);
    auto sum3 =
        run1({.op = "Sum", .inputs = {f1, f2, f1}, .outputs = {DType::kFloat64}, .symbolic_dims = true});
    expect_near(sum3, reference({f1, f2, f1}, [](const auto& v) { return v[0] + v[1] + v[2]; }), 1e-15, 1e-14,
                "Sum float64 " + what);
  }
}

TEST(Broadcast, IncompatibleShapesNameBothShapes) {
  const std::string e =
      run_error({.op = "Add",
                 .inputs = {floats({2, 3}, std::vector<float>(6)), floats({4}, std::vector<float>(4))},
                 .symbolic_dims = true});
  EXPECT_NE(e.find("[2,3]"), std::string::npos) << e;
  EXPECT_NE(e.find("[4]"), std::string::npos) << e;
  const std::string e2 =
      run_error({.op = "Max",
                 .inputs = {floats({3}, {1, 2, 3}), floats({1}, {1}), floats({2, 2}, {1, 2, 3, 4})},
                 .symbolic_dims = true});
  EXPECT_NE(e2.find("[3]"), std::string::npos) << e2;
  EXPECT_NE(e2.find("[2,2]"), std::string::npos) << e2;
  const std::string e3 = run_error({.op = "Where",
                                    .inputs = {bools({2}, {1, 0}), floats({3}, {1, 2, 3}), floats({1}, {0})},
                                    .symbolic_dims = true});
  EXPECT_NE(e3.find("[2]"), std::string::npos) << e3;
  EXPECT_NE(e3.find("[3]"), std::string::npos) << e3;
}

// --- variadic ops -----------------------------------------------------------------------------------------

TEST(Variadic, SpecExamplesWithOneAndThreeInputs) {
  const Tensor d0 = floats({3}, {3, 2, 1}), d1 = floats({3}, {1, 4, 4}), d2 = floats({3}, {2, 5, 3});
  expect_near(run1({.op = "Max", .inputs = {d0, d1, d2}}), {3, 5, 4});
  expect_near(run1({.op = "Min", .inputs = {d0, d1, d2}}), {1, 2, 1});
  expect_near(run1({.op = "Max", .inputs = {d0}}), {3, 2, 1});
  expect_near(run1({.op = "Min", .inputs = {d0}}), {3, 2, 1});
  expect_near(run1({.op = "Max", .inputs = {d0, d1}}), {3, 4, 4});
  const Tensor s0 = floats({3}, {3, 0, 2}), s1 = floats({3}, {1, 3, 4}), s2 = floats({3}, {2, 6, 6});
  expect_near(run1({.op = "Sum", .inputs = {s0, s1, s2}}), {6, 9, 12});
  expect_near(run1({.op = "Sum", .inputs = {s0}}), {3, 0, 2});
  expect_near(run1({.op = "Mean", .inputs = {s0, s1, s2}}), {2, 3, 4});
  expect_near(run1({.op = "Mean", .inputs = {s0}}), {3, 0, 2});
  // NaN wins in Min and Max, from any position.
  const float nan = std::nanf("");
  expect_near(run1({.op = "Max", .inputs = {floats({2}, {nan, 1}), floats({2}, {1, nan})}}),
              {std::nan(""), std::nan("")});
  expect_near(run1({.op = "Min", .inputs = {floats({2}, {nan, 1}), floats({2}, {1, nan})}}),
              {std::nan(""), std::nan("")});
  // Integers, unsigned included.
  EXPECT_EQ(
      values_of<int64_t>(run1({.op = "Min",
                               .inputs = {make_tensor<int64_t>({2}, {5, -7}),
                                          make_tensor<int64_t>({2}, {2, 0}), make_tensor<int64_t>({}, {3})},
                               .outputs = {DType::kInt64}})),
      (std::vector<int64_t>{2, -7}));
  EXPECT_EQ(values_of<uint8_t>(
                run1({.op = "Max",
                      .inputs = {make_tensor<uint8_t>({2}, {200, 1}), make_tensor<uint8_t>({2}, {3, 250})},
                      .outputs = {DType::kUInt8}})),
            (std::vector<uint8_t>{200, 250}));
}

// --- Clip -------------------------------------------------------------------------------------------------

TEST(Clip, Opset6Attributes) {
  const Tensor x = floats({5}, {-2, -1, 0, 1, 2});
  auto bounds = [](auto* n) { set_float(n, "min", -1.0f), set_float(n, "max", 1.0f); };
  expect_near(run1({.opset = 6, .op = "Clip", .inputs = {x}, .attrs = bounds}), {-1, -1, 0, 1, 1});
  expect_near(
      run1({.opset = 10, .op = "Clip", .inputs = {x}, .attrs = [](auto* n) { set_float(n, "min", 0.5f); }}),
      {0.5, 0.5, 0.5, 1, 2});
  // No attributes: float's range, so only infinities move.
  const float inf = std::numeric_limits<float>::infinity();
  expect_near(run1({.opset = 6, .op = "Clip", .inputs = {floats({3}, {-inf, 3, inf})}}),
              {std::numeric_limits<float>::lowest(), 3, std::numeric_limits<float>::max()});
}

TEST(Clip, Opset11Inputs) {
  const Tensor x = floats({5}, {-2, -1, 0, 1, std::nanf("")});
  const Tensor none;
  expect_near(run1({.opset = 11, .op = "Clip", .inputs = {x, scalar(-1), scalar(0.5f)}}),
              {-1, -1, 0, 0.5, std::nan("")});
  expect_near(run1({.opset = 13, .op = "Clip", .inputs = {x, scalar(0)}}), {0, 0, 0, 1, std::nan("")});
  expect_near(run1({.opset = 13, .op = "Clip", .inputs = {x, none, scalar(-1.5f)}}),
              {-2, -1.5, -1.5, -1.5, std::nan("")});
  expect_near(run1({.opset = 12, .op = "Clip", .inputs = {x}}), {-2, -1, 0, 1, std::nan("")});
  expect_near(run1({.opset = 12, .op = "Clip", .inputs = {x, none, none}}), {-2, -1, 0, 1, std::nan("")});
  // min > max: every value becomes max.
  expect_near(run1({.opset = 13, .op = "Clip", .inputs = {floats({3}, {-5, 0, 5}), scalar(2), scalar(1)}}),
              {1, 1, 1});
  // Integer types from opset 12.
  EXPECT_EQ(values_of<int8_t>(run1({.opset = 13,
                                    .op = "Clip",
                                    .inputs = {make_tensor<int8_t>({4}, {-128, -5, 5, 127}),
                                               make_tensor<int8_t>({}, {-6}), make_tensor<int8_t>({}, {6})},
                                    .outputs = {DType::kInt8}})),
            (std::vector<int8_t>{-6, -5, 5, 6}));
  EXPECT_EQ(values_of<int64_t>(run1(
                {.opset = 12,
                 .op = "Clip",
                 .inputs = {make_tensor<int64_t>({3}, {-9, 0, 9}), Tensor(), make_tensor<int64_t>({}, {1})},
                 .outputs = {DType::kInt64}})),
            (std::vector<int64_t>{-9, 0, 1}));
  const std::string e =
      run_error({.opset = 13, .op = "Clip", .inputs = {x, floats({2}, {0, 1})}, .symbolic_dims = true});
  EXPECT_NE(e.find("scalar"), std::string::npos) << e;
}

// --- Cast -------------------------------------------------------------------------------------------------

NodeSpec cast_to(const Tensor& x, DType to, int64_t opset = 17) {
  return {.opset = opset, .op = "Cast", .inputs = {x}, .outputs = {to}, .attrs = [to](auto* n) {
            set_int(n, "to", static_cast<int64_t>(to));
          }};
}

std::vector<uint16_t> bits16(const Tensor& t) { return values_of<uint16_t>(t); }

TEST(Cast, Float32ToFloat16RoundsToNearestEven) {
  const float tiny = std::ldexp(1.0f, -24), eps = std::ldexp(1.0f, -11);
  const std::vector<float> x = {65504,
                                65519.99f,
                                65520,
                                70000,
                                -65520,  // largest half, just below the rounding point, on it, above
                                1e-8f,
                                3e-8f,
                                tiny,
                                tiny / 2,
                                tiny * 1.5f,
                                std::ldexp(1.0f, -14),  // subnormals and the smallest normal
                                0.1f,
                                1.0f / 3,
                                -2,
                                1 + eps,
                                1 + 3 * eps,
                                0.0f,
                                -0.0f,
                                std::numeric_limits<float>::infinity(),
                                -std::numeric_limits<float>::infinity()};
  // Hand-derived bit patterns.
  const std::vector<uint16_t> want = {0x7bff, 0x7bff, 0x7c00, 0x7c00, 0xfc00, 0x0000, 0x0001,
                                      0x0001, 0x0000, 0x0002, 0x0400, 0x2e66, 0x3555, 0xc000,
                                      0x3c00, 0x3c02, 0x0000, 0x8000, 0x7c00, 0xfc00};
  const Tensor y = run1(cast_to(floats({static_cast<int64_t>(x.size())}, x), DType::kFloat16));
  ASSERT_EQ(y.dtype(), DType::kFloat16);
  EXPECT_EQ(bits16(y), want);
  const Tensor n = run1(cast_to(floats({1}, {std::nanf("")}), DType::kFloat16));
  EXPECT_EQ(bits16(n)[0] & 0x7c00, 0x7c00);
  EXPECT_NE(bits16(n)[0] & 0x03ff, 0);
}

TEST(Cast, Float64ToFloat16RoundsOnceFromTheDouble) {
  // 1 + 2^-11 + 2^-40 is above the tie between 1 and 1 + 2^-10: it rounds up. Through float32 (which drops
  // the 2^-40) it would land on the tie and round down to 1.
  const Tensor x =
      make_tensor<double>({3}, {1 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40), 65519.999999, 1e300});
  EXPECT_EQ(bits16(run1(cast_to(x, DType::kFloat16))), (std::vector<uint16_t>{0x3c01, 0x7bff, 0x7c00}));
}

TEST(Cast, Float16ToWiderIsExact) {
  const Tensor h =
      raw_tensor<uint16_t>(DType::kFloat16, {6}, {0x0001, 0x7bff, 0x8000, 0x3555, 0xfc00, 0x03ff});
  const Tensor f = run1(cast_to(h, DType::kFloat32));
  EXPECT_EQ(values_of<float>(f),
            (std::vector<float>{std::ldexp(1.0f, -24), 65504, -0.0f, 0.333251953125f,
                                -std::numeric_limits<float>::infinity(), std::ldexp(1023.0f, -24)}));
  EXPECT_TRUE(std::signbit(values_of<float>(f)[2]));
  const Tensor d = run1(cast_to(h, DType::kFloat64));
  EXPECT_EQ(values_of<double>(d)[3], 0.333251953125);
  // Every half value survives float16 -> float32 -> float16.
  std::vector<uint16_t> all;
  for (uint32_t b = 0; b < 65536; ++b)
    if ((b & 0x7c00) != 0x7c00 || (b & 0x3ff) == 0) all.push_back(static_cast<uint16_t>(b));  // NaNs aside
  const Tensor every = raw_tensor<uint16_t>(DType::kFloat16, {static_cast<int64_t>(all.size())}, all);
  EXPECT_EQ(bits16(run1(cast_to(run1(cast_to(every, DType::kFloat32)), DType::kFloat16))), all);
}

TEST(Cast, BFloat16RoundsToNearestEven) {
  const float e = std::ldexp(1.0f, -8);
  const Tensor x = floats({6}, {1 + e, 1 + 3 * e, 1 + e + std::ldexp(1.0f, -20), -2.5f, 3.0e38f,
                                std::numeric_limits<float>::infinity()});
  const Tensor y = run1(cast_to(x, DType::kBFloat16));
  ASSERT_EQ(y.dtype(), DType::kBFloat16);
  EXPECT_EQ(bits16(y), (std::vector<uint16_t>{0x3f80, 0x3f82, 0x3f81, 0xc020, 0x7f62, 0x7f80}));
  EXPECT_EQ(values_of<float>(run1(cast_to(y, DType::kFloat32))),
            (std::vector<float>{1, 1 + 4 * e, 1 + 2 * e, -2.5f, static_cast<float>(bf16_value(0x7f62)),
                                std::numeric_limits<float>::infinity()}));
  // An int64 whose nearest double is the bfloat16 tie: the conversion must still round up.
  const int64_t big = (int64_t{1} << 60) + (int64_t{1} << 52) + 1;
  EXPECT_EQ(bits16(run1(cast_to(make_tensor<int64_t>({1}, {big}), DType::kBFloat16))),
            (std::vector<uint16_t>{0x5d81}));
}

TEST(Cast, FloatToIntegerTruncatesTowardZero) {
  const float nan = std::nanf("");
  const Tensor x = floats({7}, {-2.7f, -0.5f, 0.5f, 2.7f, 3e9f, -3e9f, nan});
  // In range: C++ truncation. Out of range: the nearest end; NaN: 0 (tandem's rule, where C++ is undefined).
  EXPECT_EQ(values_of<int32_t>(run1(cast_to(x, DType::kInt32))),
            (std::vector<int32_t>{-2, 0, 0, 2, std::numeric_limits<int32_t>::max(),
                                  std::numeric_limits<int32_t>::min(), 0}));
  EXPECT_EQ(values_of<int64_t>(run1(cast_to(x, DType::kInt64))),
            (std::vector<int64_t>{-2, 0, 0, 2, 3000000000, -3000000000, 0}));
  EXPECT_EQ(values_of<uint8_t>(run1(cast_to(floats({4}, {255.9f, 300, -1, 7.9f}), DType::kUInt8))),
            (std::vector<uint8_t>{255, 255, 0, 7}));
  EXPECT_EQ(values_of<int8_t>(run1(cast_to(make_tensor<double>({3}, {-128.9, 127.9, 1e20}), DType::kInt8))),
            (std::vector<int8_t>{-128, 127, 127}));
}

TEST(Cast, BoolAndIntegerConversions) {
  const Tensor x = floats({5}, {0, -0.0f, 2, std::nanf(""), -0.1f});
  EXPECT_EQ(elements(run1(cast_to(x, DType::kBool))), (std::vector<double>{0, 0, 1, 1, 1}));
  EXPECT_EQ(values_of<float>(run1(cast_to(bools({3}, {1, 0, 1}), DType::kFloat32))),
            (std::vector<float>{1, 0, 1}));
  EXPECT_EQ(values_of<int64_t>(run1(cast_to(bools({2}, {0, 1}), DType::kInt64))),
            (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(elements(run1(cast_to(make_tensor<int64_t>({3}, {0, -5, 256}), DType::kBool))),
            (std::vector<double>{0, 1, 1}));
  // Integers narrow modulo 2^n.
  EXPECT_EQ(values_of<int8_t>(run1(cast_to(make_tensor<int64_t>({4}, {300, -129, 127, -1}), DType::kInt8))),
            (std::vector<int8_t>{44, 127, 127, -1}));
  EXPECT_EQ(values_of<uint8_t>(run1(cast_to(make_tensor<int32_t>({2}, {-1, 256}), DType::kUInt8))),
            (std::vector<uint8_t>{255, 0}));
  // int64 -> float32 rounds once, as C++ does.
  const int64_t odd = (int64_t{1} << 53) + 1;
  EXPECT_EQ(values_of<float>(run1(cast_to(make_tensor<int64_t>({1}, {odd}), DType::kFloat32)))[0],
            static_cast<float>(odd));
  EXPECT_EQ(values_of<double>(run1(cast_to(make_tensor<int64_t>({1}, {odd}), DType::kFloat64)))[0],
            static_cast<double>(odd));
}

TEST(Cast, RoundTripsAreLossless) {
  std::mt19937 gen(5);
  const Tensor i32 = random_tensor<int32_t>({4, 5}, gen, -2e9, 2e9);
  EXPECT_EQ(values_of<int32_t>(run1(cast_to(run1(cast_to(i32, DType::kFloat64)), DType::kInt32))),
            values_of<int32_t>(i32));
  const Tensor f32 = random_tensor<float>({3, 7}, gen, -1e30, 1e30);
  EXPECT_EQ(values_of<float>(run1(cast_to(run1(cast_to(f32, DType::kFloat64)), DType::kFloat32))),
            values_of<float>(f32));
  const Tensor u8 = random_tensor<uint8_t>({9}, gen, 0, 256);
  for (DType mid : {DType::kInt16, DType::kUInt16, DType::kInt32, DType::kUInt32, DType::kInt64,
                    DType::kUInt64, DType::kFloat32, DType::kFloat16, DType::kBFloat16})
    EXPECT_EQ(values_of<uint8_t>(run1(cast_to(run1(cast_to(u8, mid)), DType::kUInt8))),
              values_of<uint8_t>(u8))
        << dtype_name(mid);
  const Tensor i64 = random_tensor<int64_t>({6}, gen, -9e18, 9e18);
  EXPECT_EQ(values_of<int64_t>(run1(cast_to(run1(cast_to(i64, DType::kUInt64)), DType::kInt64))),
            values_of<int64_t>(i64));
}

TEST(Cast, SameTypeAndCastLike) {
  const Tensor x = floats({2}, {1.5f, -2});
  EXPECT_EQ(values_of<float>(run1(cast_to(x, DType::kFloat32))), (std::vector<float>{1.5f, -2}));
  const Tensor like = raw_tensor<uint16_t>(DType::kFloat16, {0}, {});
  const Tensor y = run1({.opset = 15, .op = "CastLike", .inputs = {x, like}, .outputs = {DType::kFloat16}});
  EXPECT_EQ(y.dtype(), DType::kFloat16);
  EXPECT_EQ(bits16(y), (std::vector<uint16_t>{0x3e00, 0xc000}));
  const Tensor z = run1({.opset = 15,
                         .op = "CastLike",
                         .inputs = {x, make_tensor<int64_t>({}, {0})},
                         .outputs = {DType::kInt64}});
  EXPECT_EQ(values_of<int64_t>(z), (std::vector<int64_t>{1, -2}));
}

TEST(Cast, UnsupportedTargetsAreRefused) {
  const std::string e = run_error(
      {.op = "Cast", .inputs = {floats({1}, {1})}, .outputs = {DType::kComplex64}, .attrs = [](auto* n) {
         set_int(n, "to", TensorProto::COMPLEX64);
       }});
  EXPECT_NE(e.find("complex64"), std::string::npos) << e;
}

// --- math_unary.cc, activation_ops.cc, mod_bitshift.cc
// ------------------------------------------------------

TEST(MathUnary, TrigAndHyperbolicMatchNumpy) {
  // Expected: numpy's float64 functions of these float32 inputs (printed with %.17g).
  const std::vector<float> x = {-0.9f, -0.5f, 0, 0.3f, 0.99f};
  const std::map<std::string, std::vector<double>> want = {
      {"Sin", {-0.78332689480714679, -0.47942553860420295, 0, 0.29552021804983802, 0.83602598383323479}},
      {"Cos", {0.62160998694663316, 0.87758256189037254, 1, 0.95533648560273066, 0.54868985260862246}},
      {"Tan", {-1.2601581558476427, -0.54630248984379048, 0, 0.30933626267125297, 1.5236767726950613}},
      {"Asin", {-1.1197694603016639, -0.52359877559829893, 0, 0.30469266651192661, 1.4292569210746653}},
      {"Acos",
       {2.6905657870965607, 2.0943951023931957, 1.5707963267948966, 1.2661036602829698, 0.14153940572023133}},
      {"Atan", {-0.73281508861420919, -0.46364760900080609, 0, 0.29145680541449914, 0.78037308488292956}},
      {"Sinh", {-1.0265166915407336, -0.52109530549374738, 0, 0.30452030590854884, 1.15982890526823}},
      {"Cosh", {1.4330863609747089, 1.1276259652063807, 1, 1.0453385177590253, 1.5314055927466443}},
      {"Asinh", {-0.80886691793126897, -0.48121182505960347, 0, 0.29567305898160151, 0.87428481896459198}},
      {"Atanh", {-1.4722193640997716, -0.54930614433405489, 0, 0.30951961730303368, 2.6466528915957985}},
  };
  for (const auto& [op, y] : want) {
    expect_near(run1({.op = op, .inputs = {floats({5}, x)}}), y, 1e-6, 1e-7, op);
    // float64 in, float64 out, from the same inputs.
    std::vector<double> xd(x.begin(), x.end());
    expect_near(run1({.op = op, .inputs = {make_tensor<double>({5}, xd)}, .outputs = {DType::kFloat64}}), y,
                1e-14, 1e-15, op + " float64");
  }
  expect_near(run1({.op = "Acosh", .inputs = {floats({4}, {1, 1.5f, 3, 10})}}),
              {0, 0.96242365011920694, 1.7627471740390861, 2.9932228461263808}, 1e-6, 1e-7, "Acosh");
  // Outside the domain: NaN, not an error.
  expect_near(run1({.op = "Asin", .inputs = {floats({1}, {2})}}), {std::nan("")});
  expect_near(run1({.op = "Acosh", .inputs = {floats({1}, {0.5f})}}), {std::nan("")});
  expect_near(run1({.op = "Atanh", .inputs = {floats({2}, {1, -1})}}), {INFINITY, -INFINITY});
}

TEST(MathUnary, RoundHalvesToEven) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // 0.49999997 is the float just below 0.5 (a naive floor(x + 0.5) gives 1); 8388607.5 = 2^23 - 0.5 is the
  // largest float with a fraction, a tie that goes to the even 8388608.
  const Tensor y = run1({.op = "Round",
                         .inputs = {floats({13}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 2.3f, -2.7f,
                                                  0.49999997f, 8388607.5f, INFINITY, -INFINITY, nan})}});
  expect_near(y, {0, 2, 2, -0.0, -2, -2, 2, -3, 0, 8388608, INFINITY, -INFINITY, std::nan("")}, 0, 0);
  EXPECT_TRUE(std::signbit(y.data<float>()[3])) << "round(-0.5) is -0";
  // 2^52 - 0.5: a double tie at the top of the range with fractions; numpy.round gives 2^52.
  const Tensor d = run1({.op = "Round",
                         .inputs = {make_tensor<double>({2}, {4503599627370495.5, -3.5})},
                         .outputs = {DType::kFloat64}});
  EXPECT_EQ(values_of<double>(d), (std::vector<double>{4503599627370496.0, -4.0}));
  // float16: 2.5 (0x4100) -> 2 (0x4000), 3.5 (0x4300) -> 4 (0x4400).
  const Tensor h = run1({.op = "Round",
                         .inputs = {raw_tensor<uint16_t>(DType::kFloat16, {2}, {0x4100, 0x4300})},
                         .outputs = {DType::kFloat16}});
  EXPECT_EQ(values_of<uint16_t>(h), (std::vector<uint16_t>{0x4000, 0x4400}));
}

TEST(MathUnary, IsInfFlagsAndIsNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = floats({5}, {INFINITY, -INFINITY, 1, nan, -0.0f});
  auto is_inf = [&](int64_t pos, int64_t neg) {
    return values_of<uint8_t>(
        run1({.opset = 10, .op = "IsInf", .inputs = {x}, .outputs = {DType::kBool}, .attrs = [=](auto* n) {
                set_int(n, "detect_positive", pos);
                set_int(n, "detect_negative", neg);
              }}));
  };
  EXPECT_EQ(is_inf(1, 1), (std::vector<uint8_t>{1, 1, 0, 0, 0}));
  EXPECT_EQ(is_inf(1, 0), (std::vector<uint8_t>{1, 0, 0, 0, 0}));
  EXPECT_EQ(is_inf(0, 1), (std::vector<uint8_t>{0, 1, 0, 0, 0}));
  EXPECT_EQ(is_inf(0, 0), (std::vector<uint8_t>{0, 0, 0, 0, 0}));
  const Tensor d = make_tensor<double>({3}, {-INFINITY, 1e308, std::nan("")});
  EXPECT_EQ(values_of<uint8_t>(run1({.op = "IsInf", .inputs = {d}, .outputs = {DType::kBool}})),
            (std::vector<uint8_t>{1, 0, 0}));
  EXPECT_EQ(values_of<uint8_t>(run1({.op = "IsNaN", .inputs = {x}, .outputs = {DType::kBool}})),
            (std::vector<uint8_t>{0, 0, 0, 1, 0}));
  // float16 NaN (0x7e00) and infinity (0x7c00).
  EXPECT_EQ(values_of<uint8_t>(run1({.op = "IsNaN",
                                     .inputs = {raw_tensor<uint16_t>(DType::kFloat16, {2}, {0x7e00, 0x7c00})},
                                     .outputs = {DType::kBool}})),
            (std::vector<uint8_t>{1, 0}));
}

TEST(Activations, HandComputedValues) {
  // Softsign x / (1 + |x|).
  expect_near(run1({.op = "Softsign", .inputs = {floats({3}, {-2, 0, 3})}}), {-2.0 / 3, 0, 0.75});
  // ThresholdedRelu: x > alpha keeps x (default alpha 1); x == alpha gives 0.
  expect_near(run1({.op = "ThresholdedRelu", .inputs = {floats({4}, {0.5f, 1, 1.5f, -2})}}), {0, 0, 1.5, 0});
  expect_near(run1({.op = "ThresholdedRelu",
                    .inputs = {floats({3}, {0.1f, 0.3f, -2})},
                    .attrs = [](auto* n) { set_float(n, "alpha", 0.2f); }}),
              {0, 0.3, 0});
  // Shrink with lambd 1.5, bias 0.5: x < -1.5 -> x + 0.5, x > 1.5 -> x - 0.5, else 0.
  auto shrink = [](auto* n) {
    set_float(n, "lambd", 1.5f);
    set_float(n, "bias", 0.5f);
  };
  expect_near(run1({.op = "Shrink", .inputs = {floats({5}, {-2, -1.5f, 0, 1.5f, 2})}, .attrs = shrink}),
              {-1.5, 0, 0, 0, 1.5});
  // Default lambd 0.5, bias 0.
  expect_near(run1({.op = "Shrink", .inputs = {floats({3}, {-0.6f, 0.5f, 0.7f})}}), {-0.6, 0, 0.7});
  // int32: -5 + 0.5 = -4.5 and 5 - 0.5 = 4.5 truncate toward zero to -4 and 4, as Cast would.
  EXPECT_EQ(values_of<int32_t>(run1({.op = "Shrink",
                                     .inputs = {make_tensor<int32_t>({4}, {-5, -1, 1, 5})},
                                     .outputs = {DType::kInt32},
                                     .attrs = shrink})),
            (std::vector<int32_t>{-4, 0, 0, 4}));
  // Celu alpha 2: x > 0 -> x, else 2 * (e^(x/2) - 1); at -1: 2 * (e^-0.5 - 1) = -0.78693868057473315.
  expect_near(run1({.opset = 12,
                    .op = "Celu",
                    .inputs = {floats({3}, {-1, 0, 1})},
                    .attrs = [](auto* n) { set_float(n, "alpha", 2.0f); }}),
              {-0.78693868057473315, 0, 1});
  // HardSwish x * clamp(x / 6 + 1/2, 0, 1): -1 -> -1/3, 1 -> 2/3, beyond +-3 -> 0 or x.
  expect_near(run1({.opset = 14, .op = "HardSwish", .inputs = {floats({5}, {-4, -1, 0, 1, 4})}}),
              {0, -1.0 / 3, 0, 2.0 / 3, 4});
  // Mish x * tanh(log(1 + e^x)), numpy in float64; 20 stays 20 (softplus must not overflow at large x).
  expect_near(run1({.opset = 18, .op = "Mish", .inputs = {floats({4}, {-1, 0, 1, 20})}}),
              {-0.30340146137410895, 0, 0.86509838826731034, 20});
}

TEST(Activations, PReluSlopeBroadcastsToX) {
  const Tensor x = floats({2, 3}, {-1, 2, -3, 4, -5, -6});
  // Slope per column.
  expect_near(run1({.op = "PRelu", .inputs = {x, floats({3}, {0.1f, 0.2f, 0.3f})}}),
              {-0.1, 2, -0.9, 4, -1.0, -1.8});
  // Slope per row ([2, 1]) and a scalar.
  expect_near(run1({.op = "PRelu", .inputs = {x, floats({2, 1}, {0.5f, 2})}}), {-0.5, 2, -1.5, 4, -10, -12});
  expect_near(run1({.op = "PRelu", .inputs = {x, scalar(-1)}}), {1, 2, 3, 4, 5, 6});
  // int64: -3 * 2.
  EXPECT_EQ(
      values_of<int64_t>(run1({.op = "PRelu",
                               .inputs = {make_tensor<int64_t>({2}, {-3, 3}), make_tensor<int64_t>({1}, {2})},
                               .outputs = {DType::kInt64}})),
      (std::vector<int64_t>{-6, 3}));
  // A slope X would have to broadcast to is refused: the output must keep X's shape.
  expect_mentions(direct_kernel_error("PRelu", {floats({3}, {1, 2, 3}), floats({2, 3}, {1, 2, 3, 4, 5, 6})}),
                  {"node 'n' (PRelu)", "slope", "float32 [2,3]", "does not broadcast to X"});
  expect_mentions(
      direct_kernel_error("PRelu", {make_tensor<int8_t>({1}, {1}), make_tensor<int8_t>({1}, {1})}), {"int8"});
}

TEST(Mod, SignRulesForIntegersAndFloats) {
  const Tensor a = make_tensor<int32_t>({6}, {-7, 7, -7, 7, 0, 6});
  const Tensor b = make_tensor<int32_t>({6}, {3, -3, -3, 3, 5, -3});
  auto mod = [](int64_t fmod) { return [=](auto* n) { set_int(n, "fmod", fmod); }; };
  // numpy.mod (the divisor's sign): [2, -2, -1, 1, 0, 0]; numpy.fmod (the dividend's): [-1, 1, -1, 1, 0, 0].
  EXPECT_EQ(values_of<int32_t>(run1({.op = "Mod", .inputs = {a, b}, .outputs = {DType::kInt32}})),
            (std::vector<int32_t>{2, -2, -1, 1, 0, 0}));
  EXPECT_EQ(
      values_of<int32_t>(run1({.op = "Mod", .inputs = {a, b}, .outputs = {DType::kInt32}, .attrs = mod(1)})),
      (std::vector<int32_t>{-1, 1, -1, 1, 0, 0}));
  // int64 near the ends (numpy): mod -> [5e18, -3], fmod -> [-2e18, 7].
  const Tensor a64 = make_tensor<int64_t>({2}, {-9000000000000000000, 9000000000000000007});
  const Tensor b64 = make_tensor<int64_t>({2}, {7000000000000000000, -10});
  EXPECT_EQ(values_of<int64_t>(run1({.op = "Mod", .inputs = {a64, b64}, .outputs = {DType::kInt64}})),
            (std::vector<int64_t>{5000000000000000000, -3}));
  EXPECT_EQ(values_of<int64_t>(
                run1({.op = "Mod", .inputs = {a64, b64}, .outputs = {DType::kInt64}, .attrs = mod(1)})),
            (std::vector<int64_t>{-2000000000000000000, 7}));
  // lowest % -1 overflows in C++; the remainder is 0 either way. Broadcast divisor.
  for (int64_t f : {0, 1})
    EXPECT_EQ(values_of<int8_t>(
                  run1({.op = "Mod",
                        .inputs = {make_tensor<int8_t>({2}, {-128, 127}), make_tensor<int8_t>({}, {-1})},
                        .outputs = {DType::kInt8},
                        .attrs = mod(f)})),
              (std::vector<int8_t>{0, 0}));
  // Unsigned.
  EXPECT_EQ(values_of<uint8_t>(run1(
                {.op = "Mod",
                 .inputs = {make_tensor<uint8_t>({3}, {7, 9, 255}), make_tensor<uint8_t>({3}, {3, 4, 16})},
                 .outputs = {DType::kUInt8}})),
            (std::vector<uint8_t>{1, 1, 15}));
  // Floats with fmod = 1 (numpy.fmod): [-1.5, 1.5, 0.25].
  EXPECT_EQ(values_of<double>(run1({.op = "Mod",
                                    .inputs = {make_tensor<double>({3}, {-7.5, 7.5, 5.25}),
                                               make_tensor<double>({3}, {2, -2, 0.5})},
                                    .outputs = {DType::kFloat64},
                                    .attrs = mod(1)})),
            (std::vector<double>{-1.5, 1.5, 0.25}));
}

TEST(Mod, Errors) {
  const Tensor f = floats({2}, {1, 2});
  // The spec requires fmod = 1 for floats.
  expect_mentions(direct_kernel_error("Mod", {f, f}), {"node 'n' (Mod)", "fmod must be 1", "float32"});
  expect_mentions(direct_kernel_error("Mod", {f, f}, 17, {{"fmod", Attribute::of_int(2)}}), {"fmod", "2"});
  const Tensor i = make_tensor<int32_t>({2}, {5, 6});
  expect_mentions(direct_kernel_error("Mod", {i, make_tensor<int32_t>({2}, {3, 0})}),
                  {"by zero", "holds a 0"});
  expect_mentions(direct_kernel_error("Mod", {i, f}, 17, {{"fmod", Attribute::of_int(1)}}),
                  {"input 1", "int32"});
  EXPECT_EQ(direct_kernel_error("Mod", {f, f}, 17, {{"fmod", Attribute::of_int(1)}}), "");
}

TEST(BitShift, BothDirectionsWidthAndErrors) {
  auto dir = [](const std::string& d) { return [=](auto* n) { set_string(n, "direction", d); }; };
  // uint8 LEFT wraps: 255 << 1 = 254 (mod 256); 3 << 7 = 384 mod 256 = 128; a shift of 8 or more is 0.
  EXPECT_EQ(values_of<uint8_t>(run1({.op = "BitShift",
                                     .inputs = {make_tensor<uint8_t>({4}, {1, 255, 3, 1}),
                                                make_tensor<uint8_t>({4}, {1, 1, 7, 8})},
                                     .outputs = {DType::kUInt8},
                                     .attrs = dir("LEFT")})),
            (std::vector<uint8_t>{2, 254, 128, 0}));
  // uint64 RIGHT, with a broadcast amount: 2^63 >> 63 = 1, and >> 64 = 0.
  const Tensor x = raw_tensor<uint64_t>(DType::kUInt64, {3}, {16, uint64_t{1} << 63, ~uint64_t{0}});
  EXPECT_EQ(values_of<uint64_t>(run1({.op = "BitShift",
                                      .inputs = {x, raw_tensor<uint64_t>(DType::kUInt64, {3}, {4, 63, 64})},
                                      .outputs = {DType::kUInt64},
                                      .attrs = dir("RIGHT")})),
            (std::vector<uint64_t>{1, 1, 0}));
  EXPECT_EQ(values_of<uint64_t>(run1({.op = "BitShift",
                                      .inputs = {x, raw_tensor<uint64_t>(DType::kUInt64, {}, {1})},
                                      .outputs = {DType::kUInt64},
                                      .attrs = dir("RIGHT")})),
            (std::vector<uint64_t>{8, uint64_t{1} << 62, ~uint64_t{0} >> 1}));
  const Tensor u = make_tensor<uint8_t>({1}, {1});
  expect_mentions(direct_kernel_error("BitShift", {u, u}), {"node 'n' (BitShift)", "direction", "required"});
  expect_mentions(direct_kernel_error("BitShift", {u, u}, 11, {{"direction", Attribute::of_string("UP")}}),
                  {"LEFT or RIGHT", "UP"});
  const Tensor i = make_tensor<int32_t>({1}, {1});
  expect_mentions(direct_kernel_error("BitShift", {i, i}, 11, {{"direction", Attribute::of_string("LEFT")}}),
                  {"int32", "uint8"});
}

TEST(KernelChecks, NewUnaryOpsRefuseOtherTypes) {
  const Tensor i2 = make_tensor<int32_t>({2}, {1, 2});
  for (const char* op : {"Sin", "Acosh", "Round", "IsNaN", "IsInf", "Softsign", "Mish", "HardSwish", "Celu"})
    expect_mentions(direct_kernel_error(op, {i2}), {std::string("(") + op + ")", "int32", "float32"});
  expect_mentions(direct_kernel_error("Shrink", {bools({1}, {1})}), {"bool"});
  expect_mentions(
      direct_kernel_error("IsInf", {floats({1}, {1})}, 10, {{"detect_positive", Attribute::of_int(2)}}),
      {"detect_positive", "2"});
}

// The ONNX node test cases for these ops run in tests/conformance/onnx_node_test.cc, with every other
// in-scope case and one skip list.

}  // namespace
}  // namespace tandem
