// Malformed models, one per way a file can be broken: each must be refused by the importer with a message
// that starts with the model's name and names the problem (the node, the op, the value, the tensor, the
// sizes), and `tandem info` must print that same message as one line on stderr and exit 1.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <tandem/tandem.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <ostream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "onnx_import/onnx_import.h"
#include "tests/support/model_builder.h"
#include "tests/support/run_cli.h"

namespace tandem::test {
namespace {

using onnx::ModelProto;
using onnx::TensorProto;

constexpr int32_t kFloat = TensorProto::FLOAT;
constexpr int32_t kInt64 = TensorProto::INT64;
constexpr int32_t kBool = TensorProto::BOOL;
constexpr int64_t k2Pow40 = int64_t{1} << 40;
constexpr int64_t k2Pow41 = int64_t{1} << 41;

// Lays out the case's files in the folder and returns the path of the model file.
using Layout = std::function<std::string(const TempDir&)>;

struct Case {
  Case(std::string case_name, Layout case_layout, std::vector<std::string> case_words,
       std::map<std::string, int64_t> case_dims = {}, bool also_api = false)
      : name(std::move(case_name)), layout(std::move(case_layout)), words(std::move(case_words)),
        dims(std::move(case_dims)), check_api(also_api) {}

  std::string name;  // also the gtest parameter name: letters, digits and '_'
  Layout layout;
  std::vector<std::string> words;       // each must appear in the message
  std::map<std::string, int64_t> dims;  // ImportOptions::dims, and `--dim NAME=VALUE` for the CLI
  bool check_api = false;               // also load it through tandem::Model::load, expecting the same message
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

// ---------------------------------------------------------------------------------------------------------
// Layouts

Layout model(std::function<ModelProto()> make) {
  return [make](const TempDir& d) { return d.write_model("model.onnx", make()); };
}

Layout bytes(std::function<std::string()> make) {
  return [make](const TempDir& d) { return d.write("model.onnx", make()); };
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---------------------------------------------------------------------------------------------------------
// Models

// y = Relu(x), x: float [batch, 3]. Valid; cases break one thing in it.
ModelProto relu_model(int64_t opset = 17, int64_t ir_version = 8) {
  ModelProto m = make_model(opset, ir_version);
  auto& g = *m.mutable_graph();
  add_input(g, "x", kFloat, {std::string("batch"), int64_t{3}});
  add_node(g, "Relu", {"x"}, {"y"}, "relu");
  add_output(g, "y");
  return m;
}

// relu_model with its node calling MyRelu of domain com.example, a model-local function: b = Relu(a). Valid.
ModelProto function_model() {
  ModelProto m = relu_model();
  auto* n = m.mutable_graph()->mutable_node(0);
  n->set_op_type("MyRelu");
  n->set_domain("com.example");
  auto* imp = m.add_opset_import();
  imp->set_domain("com.example");
  imp->set_version(1);
  auto* f = m.add_functions();
  f->set_name("MyRelu");
  f->set_domain("com.example");
  f->add_input("a");
  f->add_output("b");
  auto* body = f->add_node();
  body->set_op_type("Relu");
  body->add_input("a");
  body->add_output("b");
  auto* fimp = f->add_opset_import();
  fimp->set_domain("");
  fimp->set_version(17);
  return m;
}

// y = Add(x, w): w is a float initializer of dims [2, 3] whose data `fill` provides (or breaks).
ModelProto add_weight_model(const std::function<void(TensorProto&)>& fill) {
  ModelProto m = make_model();
  auto& g = *m.mutable_graph();
  add_input(g, "x", kFloat, {int64_t{2}, int64_t{3}});
  auto* w = g.add_initializer();
  w->set_name("w");
  w->set_data_type(kFloat);
  w->add_dims(2);
  w->add_dims(3);
  fill(*w);
  add_node(g, "Add", {"x", "w"}, {"y"}, "add");
  add_output(g, "y");
  return m;
}

// The weight `w` of add_weight_model, stored in an external file.
ModelProto external_weight_model(const std::string& location, const std::string& offset = "",
                                 const std::string& length = "") {
  return add_weight_model([&](TensorProto& w) {
    w.set_data_location(TensorProto::EXTERNAL);
    auto add = [&](const std::string& key, const std::string& value) {
      auto* kv = w.add_external_data();
      kv->set_key(key);
      kv->set_value(value);
    };
    add("location", location);
    if (!offset.empty()) add("offset", offset);
    if (!length.empty()) add("length", length);
  });
}

const std::string kWeightBytes(24, '\x01');  // 6 float32 values

// A graph attribute of node `n`, named after the attribute (ONNX requires every graph to have a name).
onnx::GraphProto* body(onnx::NodeProto* n, const std::string& attr) {
  onnx::GraphProto* g = set_graph(n, attr);
  g->set_name(n->name() + "_" + attr);
  return g;
}

// A model whose node 'branch' is If(cond) -> y, with inputs cond and x [3] (and any `more_inputs` adds);
// `then_fill` and `else_fill` write the bodies, an empty one leaving that branch out.
ModelProto if_model(const std::function<void(onnx::GraphProto&)>& then_fill,
                    const std::function<void(onnx::GraphProto&)>& else_fill,
                    const std::function<void(onnx::GraphProto&)>& more_inputs = {}) {
  ModelProto m = make_model();
  auto& g = *m.mutable_graph();
  add_input(g, "cond", kBool, {});
  add_input(g, "x", kFloat, {int64_t{3}});
  if (more_inputs) more_inputs(g);
  auto* n = add_node(g, "If", {"cond"}, {"y"}, "branch");
  if (then_fill) then_fill(*body(n, "then_branch"));
  if (else_fill) else_fill(*body(n, "else_branch"));
  add_output(g, "y");
  return m;
}

// Fills `g` (at nesting `level`) with If(cond) whose then_branch is filled the same way one level down, until
// `levels` Ifs are nested; each else_branch is a flat Identity(x), and so is the innermost then_branch.
void nest_ifs(onnx::GraphProto& g, int level, int levels) {
  const std::string out = "y" + std::to_string(level);
  if (level == levels) {
    add_node(g, "Identity", {"x"}, {out}, "leaf");
    add_output(g, out);
    return;
  }
  auto* n = add_node(g, "If", {"cond"}, {out}, "if" + std::to_string(level));
  nest_ifs(*body(n, "then_branch"), level + 1, levels);
  auto* other = body(n, "else_branch");
  add_node(*other, "Identity", {"x"}, {"e" + std::to_string(level)}, "else" + std::to_string(level));
  add_output(*other, "e" + std::to_string(level));
  add_output(g, out);
}

// ---------------------------------------------------------------------------------------------------------
// The cases

std::vector<Case> cases() {
  std::vector<Case> c;

  // --- The file itself
  c.push_back({"RandomBytes", bytes([] {
                 std::mt19937 rng(1234);
                 std::string s(4096, '\0');
                 for (char& ch : s) ch = static_cast<char>(rng() & 0xff);
                 return s;
               }),
               {"not a valid ONNX model", "protobuf parsing failed"}, {}, true});
  c.push_back({"TextFile", bytes([] { return std::string("This is a README, not a model.\nSecond line.\n"); }),
               {"not a valid ONNX model", "protobuf parsing failed"}});
  c.push_back({"TruncatedRealModel", bytes([] {
                 std::string s = read_file(source_path("models/silero_vad/silero_vad_16k_op15/model.onnx"));
                 return s.substr(0, s.size() / 2);
               }),
               {"protobuf parsing failed", "truncated"}, {}, true});
  c.push_back({"EmptyFile", bytes([] { return std::string(); }), {"the file is empty"}});
  c.push_back({"FileNotFound", [](const TempDir& d) { return (d.path() / "nosuch.onnx").string(); },
               {"nosuch.onnx", "file not found"}});
  c.push_back({"FolderInsteadOfFile",
               [](const TempDir& d) {
                 std::filesystem::create_directories(d.path() / "folder.onnx");
                 return (d.path() / "folder.onnx").string();
               },
               {"folder.onnx", "not a regular file"}});

  // --- The model record
  c.push_back({"NoGraph", model([] {
                 ModelProto m = relu_model();
                 m.clear_graph();
                 return m;
               }),
               {"not an ONNX model", "has no graph"}});
  c.push_back({"MissingIrVersion", model([] {
                 ModelProto m = relu_model();
                 m.clear_ir_version();
                 return m;
               }),
               {"ir_version is missing"}});
  c.push_back({"IrVersionTooNew", model([] { return relu_model(17, 99); }),
               {"IR version 99", "newer than tandem supports", "up to 13"}, {}, true});
  c.push_back({"NoOutputs", model([] {
                 ModelProto m = relu_model();
                 m.mutable_graph()->clear_output();
                 return m;
               }),
               {"graph 'test_graph' has no outputs"}});
  c.push_back({"NoOpsetImport", model([] {
                 ModelProto m = relu_model();
                 m.clear_opset_import();
                 return m;
               }),
               {"opset_import is empty"}});
  c.push_back({"DuplicateOpsetImport", model([] {
                 ModelProto m = relu_model();
                 auto* imp = m.add_opset_import();
                 imp->set_domain("ai.onnx");
                 imp->set_version(17);
                 return m;
               }),
               {"imports domain 'ai.onnx' twice"}});
  c.push_back({"Opset27", model([] { return relu_model(27); }),
               {"opset 27 of domain 'ai.onnx'", "newer than tandem supports (up to 26)"}, {}, true});
  c.push_back({"Opset99", model([] { return relu_model(99); }),
               {"opset 99 of domain 'ai.onnx'", "newer than tandem supports (up to 26)"}});

  // --- Names and structure
  c.push_back({"DuplicateNodeOutputs", model([] {
                 ModelProto m = relu_model();
                 add_node(*m.mutable_graph(), "Sigmoid", {"x"}, {"y"}, "sigmoid");
                 return m;
               }),
               {"value 'y' is defined twice", "node 'relu' (Relu)", "node 'sigmoid' (Sigmoid)"}});
  c.push_back({"InputRedefinedByNode", model([] {
                 ModelProto m = relu_model();
                 add_node(*m.mutable_graph(), "Sigmoid", {"y"}, {"x"}, "sigmoid");
                 return m;
               }),
               {"value 'x' is defined twice", "graph input 'x'", "node 'sigmoid' (Sigmoid)"}});
  c.push_back({"DuplicateInitializers", model([] {
                 ModelProto m = relu_model();
                 add_float_initializer(*m.mutable_graph(), "w", {1}, {1.0f});
                 add_float_initializer(*m.mutable_graph(), "w", {1}, {2.0f});
                 return m;
               }),
               {"value 'w' is defined twice", "initializer 'w'"}});
  c.push_back({"InputNeverProduced", model([] {
                 ModelProto m = relu_model();
                 auto& g = *m.mutable_graph();
                 add_node(g, "Add", {"y", "nowhere"}, {"z"}, "n1");
                 add_output(g, "z");
                 return m;
               }),
               {"node 'n1' (Add)", "input 1 'nowhere' is not produced by any node, graph input or initializer"},
               {}, true});
  c.push_back({"ControlCharactersInNames", model([] {
                 ModelProto m = relu_model();
                 auto& g = *m.mutable_graph();
                 add_node(g, "Add", {"y", "ghost\x1b[31m"}, {"z"}, "two\nlines");
                 add_output(g, "z");
                 return m;
               }),
               {"node 'two\\nlines' (Add)", "input 1 'ghost\\x1b[31m' is not produced"}});
  c.push_back({"OutputNeverProduced", model([] {
                 ModelProto m = relu_model();
                 add_output(*m.mutable_graph(), "ghost");
                 return m;
               }),
               {"graph output 'ghost' is not produced by any node, graph input or initializer"}});
  c.push_back({"CycleOfThreeNodes", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "x", kFloat, {int64_t{3}});
                 add_node(g, "Add", {"x", "c"}, {"a"}, "na");
                 add_node(g, "Relu", {"a"}, {"b"}, "nb");
                 add_node(g, "Relu", {"b"}, {"c"}, "nc");
                 add_output(g, "c");
                 return m;
               }),
               {"has a cycle", "'na' (Add)", "'nb' (Relu)", "'nc' (Relu)"}});

  // --- Ops and domains
  c.push_back({"UnknownOp", model([] {
                 ModelProto m = relu_model();
                 m.mutable_graph()->mutable_node(0)->set_op_type("FrobnicateAll");
                 return m;
               }),
               {"node 'relu' (FrobnicateAll)", "op 'FrobnicateAll' of domain 'ai.onnx' at opset 17",
                "which ONNX does not define"},
               {}, true});
  c.push_back({"CustomDomainNotImported", model([] {
                 ModelProto m = relu_model();
                 auto* n = m.mutable_graph()->mutable_node(0);
                 n->set_op_type("MyOp");
                 n->set_domain("com.example");
                 return m;
               }),
               {"node 'relu' (MyOp)", "domain 'com.example'", "does not import in opset_import"}});
  c.push_back({"CustomDomainImported", model([] {
                 ModelProto m = relu_model();
                 auto* n = m.mutable_graph()->mutable_node(0);
                 n->set_op_type("MyOp");
                 n->set_domain("com.example");
                 auto* imp = m.add_opset_import();
                 imp->set_domain("com.example");
                 imp->set_version(1);
                 return m;
               }),
               {"node 'relu' (MyOp)", "op 'MyOp' of domain 'com.example' at opset 1",
                "tandem does not know domain 'com.example'"}});
  // ai.onnx.preview.training is known for its optimizers only: Gradient needs automatic differentiation.
  auto training_op = [](const std::string& op, int64_t version) {
    ModelProto m = relu_model();
    auto* n = m.mutable_graph()->mutable_node(0);
    n->set_op_type(op);
    n->set_domain("ai.onnx.preview.training");
    auto* imp = m.add_opset_import();
    imp->set_domain("ai.onnx.preview.training");
    imp->set_version(version);
    return m;
  };
  c.push_back({"TrainingGradient", model([=] { return training_op("Gradient", 1); }),
               {"node 'relu' (Gradient)", "op 'Gradient' of domain 'ai.onnx.preview.training' at opset 1",
                "Gradient needs automatic differentiation, which tandem does not do",
                "tandem runs only Adagrad, Adam and Momentum"}});
  c.push_back({"TrainingUnknownOp", model([=] { return training_op("Lion", 1); }),
               {"node 'relu' (Lion)", "of domain 'ai.onnx.preview.training' tandem runs only Adagrad, Adam and Momentum"}});
  c.push_back({"TrainingDomainVersion2", model([=] { return training_op("Adam", 2); }),
               {"node 'relu' (Adam)", "op 'Adam' of domain 'ai.onnx.preview.training' at opset 2",
                "domain 'ai.onnx.preview.training' has only version 1"}});
  c.push_back({"CenterCropPadAtOpset18", model([] {
                 ModelProto m = make_model(18);
                 auto& g = *m.mutable_graph();
                 add_input(g, "x", kFloat, {int64_t{1}, int64_t{1}, int64_t{4}, int64_t{4}});
                 add_int64_initializer(g, "shape", {4}, {1, 1, 2, 2});
                 add_node(g, "CenterCropPad", {"x", "shape"}, {"y"}, "crop");
                 add_output(g, "y");
                 return m;
               }),
               {"node 'crop' (CenterCropPad)", "op 'CenterCropPad' of domain 'ai.onnx' at opset 18",
                "which tandem does not support: the op was added after opset 17"}});
  c.push_back({"DeprecatedUpsample", model([] {
                 ModelProto m = make_model(10);
                 auto& g = *m.mutable_graph();
                 add_input(g, "x", kFloat, {int64_t{1}, int64_t{1}, int64_t{4}, int64_t{4}});
                 add_float_initializer(g, "scales", {4}, {1, 1, 2, 2});
                 add_node(g, "Upsample", {"x", "scales"}, {"y"}, "up");
                 add_output(g, "y");
                 return m;
               }),
               {"node 'up' (Upsample)", "op 'Upsample' of domain 'ai.onnx' at opset 10", "deprecated"}});
  c.push_back({"DeprecatedScatter", model([] {
                 ModelProto m = make_model(11);
                 auto& g = *m.mutable_graph();
                 add_input(g, "x", kFloat, {int64_t{3}, int64_t{3}});
                 add_int64_initializer(g, "idx", {1, 3}, {0, 1, 2});
                 add_float_initializer(g, "upd", {1, 3}, {1, 2, 3});
                 add_node(g, "Scatter", {"x", "idx", "upd"}, {"y"}, "scatter");
                 add_output(g, "y");
                 return m;
               }),
               {"node 'scatter' (Scatter)", "op 'Scatter' of domain 'ai.onnx' at opset 11", "deprecated"}});
  c.push_back({"ReluWithTwoInputs", model([] {
                 ModelProto m = relu_model();
                 m.mutable_graph()->mutable_node(0)->add_input("x");
                 return m;
               }),
               {"node 'relu' (Relu)", "not a valid op 'Relu'", "input size 2", "max=1"}});
  c.push_back({"AttributeOfWrongType", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "x", kFloat, {int64_t{2}, int64_t{3}});
                 auto* n = add_node(g, "Concat", {"x", "x"}, {"y"}, "concat");
                 set_float(n, "axis", 1.0f);
                 add_output(g, "y");
                 return m;
               }),
               {"node 'concat' (Concat)", "attribute 'axis' has type FLOAT",
                "op 'Concat' of domain 'ai.onnx' at opset 17 expects INT"}});
  c.push_back({"UnknownAttribute", model([] {
                 ModelProto m = relu_model();
                 set_int(m.mutable_graph()->mutable_node(0), "frobnication", 3);
                 return m;
               }),
               {"node 'relu' (Relu)", "Unrecognized attribute: frobnication"}});
  c.push_back({"AttributeRefOutsideFunction", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "x", kFloat, {int64_t{3}});
                 auto* n = add_node(g, "LeakyRelu", {"x"}, {"y"}, "leaky");
                 auto* a = n->add_attribute();
                 a->set_name("alpha");
                 a->set_type(onnx::AttributeProto::FLOAT);
                 a->set_ref_attr_name("slope");
                 add_output(g, "y");
                 return m;
               }),
               {"node 'leaky' (LeakyRelu)", "attribute 'alpha'", "outside any function"}});
  // Model-local functions: relu_model's node calls MyRelu(a) -> b = Relu(a) (function_model), broken one way
  // at a time.
  c.push_back({"FunctionCallWithTooManyInputs", model([] {
                 ModelProto m = function_model();
                 auto* n = m.mutable_graph()->mutable_node(0);
                 n->add_input("x");
                 n->add_input("x");
                 return m;
               }),
               {"node 'relu' (MyRelu)", "gives 3 inputs", "function 'MyRelu' of domain 'com.example' declares 1 ('a')"}});
  c.push_back({"FunctionCallWithTooManyOutputs", model([] {
                 ModelProto m = function_model();
                 m.mutable_graph()->mutable_node(0)->add_output("y2");
                 return m;
               }),
               {"node 'relu' (MyRelu)", "asks for 2 outputs", "declares 1 ('b')"}});
  c.push_back({"FunctionRequiredAttributeNotGiven", model([] {
                 ModelProto m = function_model();
                 auto* f = m.mutable_functions(0);
                 f->add_attribute("to");
                 auto* cast = f->mutable_node(0);
                 cast->set_op_type("Cast");
                 auto* a = cast->add_attribute();
                 a->set_name("to");
                 a->set_type(onnx::AttributeProto::INT);
                 a->set_ref_attr_name("to");
                 return m;
               }),
               {"node 'relu' (MyRelu)", "in function 'MyRelu'", "node #0 (Cast)", "attribute 'to' refers to 'to'",
                "the call does not give", "Cast requires it"}});
  c.push_back({"FunctionAttributeReferenceUndeclared", model([] {
                 ModelProto m = function_model();
                 auto* relu = m.mutable_functions(0)->mutable_node(0);
                 relu->set_op_type("LeakyRelu");
                 auto* a = relu->add_attribute();
                 a->set_name("alpha");
                 a->set_type(onnx::AttributeProto::FLOAT);
                 a->set_ref_attr_name("slope");
                 return m;
               }),
               {"node 'relu' (MyRelu)", "node #0 (LeakyRelu)", "refers to 'slope'", "does not declare"}});
  c.push_back({"FunctionCallGivesUndeclaredAttribute", model([] {
                 ModelProto m = function_model();
                 set_float(m.mutable_graph()->mutable_node(0), "alpha", 0.5f);
                 return m;
               }),
               {"node 'relu' (MyRelu)", "attribute 'alpha'", "is not declared by function 'MyRelu'", "(it declares none)"}});
  c.push_back({"FunctionCallsUnknownFunction", model([] {
                 ModelProto m = function_model();
                 auto* n = m.mutable_functions(0)->mutable_node(0);
                 n->set_op_type("Missing");
                 n->set_domain("com.example");
                 return m;
               }),
               {"node 'relu' (MyRelu)", "node #0 (Missing)", "calls 'Missing' of domain 'com.example'",
                "neither a model-local function"}});
  c.push_back({"FunctionDefinedTwice", model([] {
                 ModelProto m = function_model();
                 *m.add_functions() = m.functions(0);
                 return m;
               }),
               {"defines function 'MyRelu' of domain 'com.example' twice"}});
  c.push_back({"FunctionRecursion", model([] {
                 ModelProto m = function_model();
                 auto* other = m.add_functions();
                 *other = m.functions(0);
                 other->set_name("Other");
                 auto* n = m.mutable_functions(0)->mutable_node(0);  // MyRelu calls Other calls MyRelu
                 n->set_op_type("Other");
                 n->set_domain("com.example");
                 auto* back = other->mutable_node(0);
                 back->set_op_type("MyRelu");
                 back->set_domain("com.example");
                 return m;
               }),
               {"node 'relu' (MyRelu)", "calls function 'MyRelu' of domain 'com.example' recursively",
                "(MyRelu -> Other -> MyRelu)"}});
  c.push_back({"FunctionOpsetDisagreesWithModel", model([] {
                 ModelProto m = function_model();
                 auto* f = m.mutable_functions(0);
                 f->mutable_opset_import(0)->set_version(13);  // Mul changed in 14
                 auto* mul = f->mutable_node(0);
                 mul->set_op_type("Mul");
                 mul->add_input("a");
                 return m;
               }),
               {"node 'relu' (MyRelu)", "node #0 (Mul)", "uses 'Mul' at opset 13", "definition from opset 13",
                "the model imports opset 17 (the definition from opset 14)", "same definition"}});
  c.push_back({"FunctionBodyReadsUndefinedName", model([] {
                 ModelProto m = function_model();
                 m.mutable_functions(0)->mutable_node(0)->set_input(0, "x");  // the model's name, not the function's
                 return m;
               }),
               {"node 'relu' (MyRelu)", "node #0 (Relu)", "input 0 'x' is neither an input of the function nor "
                "defined in it"}});
  c.push_back({"NoOpType", model([] {
                 ModelProto m = relu_model();
                 m.mutable_graph()->mutable_node(0)->clear_op_type();
                 return m;
               }),
               {"node 'relu' ()", "has no op_type"}});
  c.push_back({"EmptyInputName", model([] {
                 ModelProto m = relu_model();
                 m.mutable_graph()->mutable_node(0)->set_input(0, "");
                 return m;
               }),
               {"node 'relu' (Relu)", "input 0", "empty string"}});
  c.push_back({"IfMissingBranch", model([] {
                 return if_model(
                     [](onnx::GraphProto& t) {
                       add_node(t, "Identity", {"x"}, {"t"}, "id");
                       add_output(t, "t");
                     },
                     {});
               }),
               {"node 'branch' (If)", "Required attribute 'else_branch' is missing"}});
  c.push_back({"AttributeWithoutType", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "x", kFloat, {int64_t{3}});
                 auto* n = add_node(g, "LeakyRelu", {"x"}, {"y"}, "leaky");
                 n->add_attribute()->set_name("alpha");
                 add_output(g, "y");
                 return m;
               }),
               {"node 'leaky' (LeakyRelu)", "attribute 'alpha' has no type", "expects FLOAT"}});
  c.push_back({"AttributeValueFieldMismatch", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "x", kFloat, {int64_t{2}, int64_t{3}});
                 auto* n = add_node(g, "Concat", {"x", "x"}, {"y"}, "concat");
                 auto* a = n->add_attribute();
                 a->set_name("axis");
                 a->set_type(onnx::AttributeProto::INT);
                 a->set_f(1.0f);
                 add_output(g, "y");
                 return m;
               }),
               {"node 'concat' (Concat)", "ONNX checker", "mismatch in attribute axis"}});

  // --- Tensors
  c.push_back({"RawDataSizeMismatch", model([] {
                 return add_weight_model([](TensorProto& w) { w.set_raw_data(std::string(20, '\0')); });
               }),
               {"initializer 'w'", "20 bytes of raw_data", "need 24"}, {}, true});
  c.push_back({"TypedDataCountMismatch", model([] {
                 return add_weight_model([](TensorProto& w) {
                   for (int i = 0; i < 4; ++i) w.add_float_data(1.0f);
                 });
               }),
               {"initializer 'w'", "holds 4 values", "needs 6"}});
  c.push_back({"DimsOverflowInt64", model([] {
                 ModelProto m = relu_model();
                 auto* t = m.mutable_graph()->add_initializer();
                 t->set_name("huge");
                 t->set_data_type(kFloat);
                 t->add_dims(k2Pow40);
                 t->add_dims(k2Pow40);
                 return m;
               }),
               {"initializer 'huge'", "dimensions [1099511627776,1099511627776]", "overflows int64"}});
  c.push_back({"InputShapeOverflowsInt64", model([] {
                 ModelProto m = relu_model();
                 add_input(*m.mutable_graph(), "big", kFloat, {k2Pow40, k2Pow40});
                 return m;
               }),
               {"graph input 'big'", "shape [1099511627776,1099511627776]", "overflows int64"}});
  c.push_back({"NegativeInitializerDim", model([] {
                 return add_weight_model([](TensorProto& w) { w.set_dims(1, -3); });
               }),
               {"initializer 'w'", "negative dimension -3"}});
  c.push_back({"NegativeInputDim", model([] {
                 ModelProto m = relu_model();
                 m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()
                     ->mutable_dim(1)->set_dim_value(-1);
                 return m;
               }),
               {"graph input 'x'", "negative dimension -1"}});
  c.push_back({"AbsurdInputDim", model([] {
                 ModelProto m = relu_model();
                 m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()
                     ->mutable_dim(1)->set_dim_value(k2Pow41);
                 return m;
               }),
               {"graph input 'x'", "absurd dimension 2199023255552"}});
  c.push_back({"AbsurdInitializerDim", model([] {
                 ModelProto m = relu_model();
                 auto* t = m.mutable_graph()->add_initializer();
                 t->set_name("big");
                 t->set_data_type(kFloat);
                 t->add_dims(k2Pow41);
                 return m;
               }),
               {"initializer 'big'", "absurd dimension 2199023255552"}});
  // One stored value of a sparse tensor whose dense form would take 4 TiB (found by the ASan fuzzer: the
  // importer allocated it).
  c.push_back({"SparseInitializerDenseTooBig", model([] {
                 ModelProto m = relu_model();
                 auto* sp = m.mutable_graph()->add_sparse_initializer();
                 sp->add_dims(int64_t{1} << 40);
                 auto* v = sp->mutable_values();
                 v->set_name("sp");
                 v->set_data_type(kFloat);
                 v->add_dims(1);
                 v->add_float_data(1.0f);
                 auto* i = sp->mutable_indices();
                 i->set_data_type(TensorProto::INT64);
                 i->add_dims(1);
                 i->add_int64_data(0);
                 return m;
               }),
               {"sparse initializer 'sp'", "dense shape [1099511627776]", "2147483647 bytes"}});
  c.push_back({"Float8Initializer", model([] {
                 ModelProto m = relu_model();
                 auto* t = m.mutable_graph()->add_initializer();
                 t->set_name("f8");
                 t->set_data_type(17);
                 t->add_dims(2);
                 t->set_raw_data(std::string(2, '\0'));
                 return m;
               }),
               {"initializer 'f8'", "float8e4m3fn (17)", "tandem does not support"}});
  c.push_back({"ElementType999Input", model([] {
                 ModelProto m = relu_model();
                 m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(999);
                 return m;
               }),
               {"graph input 'x'", "999", "tandem does not support"}});
  c.push_back({"MapInput", model([] {
                 ModelProto m = relu_model();
                 auto* in = m.mutable_graph()->add_input();
                 in->set_name("map");
                 auto* mt = in->mutable_type()->mutable_map_type();
                 mt->set_key_type(TensorProto::INT64);
                 mt->mutable_value_type()->mutable_tensor_type()->set_elem_type(kFloat);
                 return m;
               }),
               {"graph input 'map'", "has map type", "tensors, sequences of tensors and optionals"}});
  c.push_back({"SequenceOfSequencesInput", model([] {
                 ModelProto m = relu_model();
                 auto* in = m.mutable_graph()->add_input();
                 in->set_name("seqs");
                 in->mutable_type()->mutable_sequence_type()->mutable_elem_type()->mutable_sequence_type()
                     ->mutable_elem_type()->mutable_tensor_type()->set_elem_type(kFloat);
                 return m;
               }),
               {"graph input 'seqs'", "sequence type whose elements are sequences"}});
  c.push_back({"SequenceInputWithoutElementType", model([] {
                 ModelProto m = relu_model();
                 auto* in = m.mutable_graph()->add_input();
                 in->set_name("seq");
                 in->mutable_type()->mutable_sequence_type()->mutable_elem_type()->mutable_tensor_type();
                 return m;
               }),
               {"graph input 'seq'", "no element type"}});
  c.push_back({"StringInitializerCount", model([] {
                 ModelProto m = relu_model();
                 auto* t = m.mutable_graph()->add_initializer();
                 t->set_name("s");
                 t->set_data_type(TensorProto::STRING);
                 t->add_dims(1);
                 t->add_string_data("a");
                 t->add_string_data("b");
                 return m;
               }),
               {"initializer 's'", "holds 2 values", "needs 1"}});

  // --- External data
  c.push_back({"ExternalAbsolutePath", model([] { return external_weight_model("/etc/passwd"); }),
               {"initializer 'w'", "'/etc/passwd' is an absolute path"}});
  c.push_back({"ExternalDotDot",
               [](const TempDir& d) {
                 d.write("weights.bin", kWeightBytes);
                 return d.write_model("sub/model.onnx", external_weight_model("../weights.bin"));
               },
               {"initializer 'w'", "'../weights.bin' contains '..'"}});
  c.push_back({"ExternalSymlinkOutside",
               [](const TempDir& d) {
                 static TempDir outside;  // lives to the end of the program, so the link's target exists
                 const std::string target = outside.write("secret.bin", kWeightBytes);
                 std::filesystem::create_symlink(target, d.path() / "weights.bin");
                 return d.write_model("model.onnx", external_weight_model("weights.bin"));
               },
               {"initializer 'w'", "'weights.bin' resolves to", "secret.bin", "outside the model's folder"}});
  c.push_back({"ExternalFileMissing", model([] { return external_weight_model("missing.bin"); }),
               {"initializer 'w'", "'missing.bin' not found"}, {}, true});
  c.push_back({"ExternalPastEndOfFile",
               [](const TempDir& d) {
                 d.write("weights.bin", kWeightBytes);
                 return d.write_model("model.onnx", external_weight_model("weights.bin", "16", "24"));
               },
               {"initializer 'w'", "'weights.bin' has 24 bytes", "24 bytes at offset 16", "past its end"}});
  c.push_back({"ExternalLengthDisagrees",
               [](const TempDir& d) {
                 d.write("weights.bin", kWeightBytes);
                 return d.write_model("model.onnx", external_weight_model("weights.bin", "0", "12"));
               },
               {"initializer 'w'", "length 12", "need 24 bytes"}});
  c.push_back({"ExternalOffsetNotANumber",
               [](const TempDir& d) {
                 d.write("weights.bin", kWeightBytes);
                 return d.write_model("model.onnx", external_weight_model("weights.bin", "twelve"));
               },
               {"initializer 'w'", "'offset' is 'twelve', not a non-negative integer"}});

  // --- Subgraphs
  c.push_back({"IfNested40Deep", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "cond", kBool, {});
                 add_input(g, "x", kFloat, {int64_t{3}});
                 nest_ifs(g, 0, 40);
                 return m;
               }),
               {"node 'if32' (If)", "nests subgraphs more than 32 levels deep"}});
  c.push_back({"IfBranchUsesUnknownValue", model([] {
                 return if_model(
                     [](onnx::GraphProto& t) {
                       add_node(t, "Add", {"x", "phantom"}, {"t"}, "use_phantom");
                       add_output(t, "t");
                     },
                     [](onnx::GraphProto& e) {
                       add_node(e, "Identity", {"x"}, {"e"}, "id");
                       add_output(e, "e");
                     });
               }),
               {"node 'branch' (If)", "then_branch", "node 'use_phantom' (Add)", "input 1 'phantom'",
                "not produced"}});
  c.push_back({"IfBranchOutputCount", model([] {
                 return if_model(
                     [](onnx::GraphProto& t) {
                       add_node(t, "Identity", {"x"}, {"t"}, "id");
                       add_node(t, "Identity", {"x"}, {"t2"}, "id2");
                       add_output(t, "t");
                       add_output(t, "t2");
                     },
                     [](onnx::GraphProto& e) {
                       add_node(e, "Identity", {"x"}, {"e"}, "ide");
                       add_output(e, "e");
                     });
               }),
               {"node 'branch' (If)", "then_branch and else_branch produce different number of outputs. 2 != 1"}});
  c.push_back({"IfBranchShapeError", model([] {
                 return if_model(
                     [](onnx::GraphProto& t) {
                       add_node(t, "Add", {"x", "z"}, {"t"}, "inner_add");
                       add_output(t, "t");
                     },
                     [](onnx::GraphProto& e) {
                       add_node(e, "Identity", {"x"}, {"e"}, "ide");
                       add_output(e, "e");
                     },
                     [](onnx::GraphProto& g) { add_input(g, "z", kFloat, {int64_t{4}}); });
               }),
               {"node 'branch' (If): in then_branch: node 'inner_add' (Add)", "Incompatible dimensions",
                "'x' float32 [3], 'z' float32 [4]"}});
  c.push_back({"LoopBodyWrongInputs", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "x", kFloat, {int64_t{3}});
                 add_int64_initializer(g, "trip", {}, {2});
                 auto* n = add_node(g, "Loop", {"trip", "", "x"}, {"y"}, "loop");
                 auto* loop_body = body(n, "body");
                 add_input(*loop_body, "i", TensorProto::INT64, {});
                 add_node(*loop_body, "Relu", {"x"}, {"r"}, "inner");
                 add_output(*loop_body, "r");
                 add_output(g, "y");
                 return m;
               }),
               {"node 'loop' (Loop)", "Graph has 1 inputs but 3 were provided"}});
  // Two inputs, five of them said to be scanned: libonnx's Scan inference sized a vector by the difference
  // (found by the ASan fuzzer; the message was "shape inference: vector::_M_fill_insert").
  c.push_back({"ScanMoreScanInputsThanInputs", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "s0", kFloat, {int64_t{2}});
                 add_input(g, "xs", kFloat, {int64_t{4}, int64_t{2}});
                 auto* n = add_node(g, "Scan", {"s0", "xs"}, {"sf", "ys"}, "scan");
                 set_int(n, "num_scan_inputs", 5);
                 auto* scan_body = body(n, "body");
                 add_input(*scan_body, "s", kFloat, {int64_t{2}});
                 add_input(*scan_body, "xi", kFloat, {int64_t{2}});
                 add_node(*scan_body, "Add", {"s", "xi"}, {"s2"}, "acc");
                 add_node(*scan_body, "Identity", {"s2"}, {"yo"}, "out");
                 add_output(*scan_body, "s2");
                 add_output(*scan_body, "yo");
                 add_output(g, "sf");
                 add_output(g, "ys");
                 return m;
               }),
               {"node 'scan' (Scan)", "'num_scan_inputs' is 5", "outside [1, 2]"}});
  // A node whose inference fails leaves its outputs untyped and libonnx goes on; Shape's data propagation
  // then read the untyped input (SIGSEGV; found by fuzzing constant subgraphs). The first failure is named.
  c.push_back({"ShapeOfAnOutputWhoseInferenceFailed", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "x", kFloat, {int64_t{1}});
                 add_float_initializer(g, "c", {2}, {1.0f, 2.0f});
                 set_int(add_node(g, "DepthToSpace", {"c"}, {"d"}, "d2s"), "blocksize", 2);
                 add_node(g, "Range", {"d", "d", "d"}, {"r"}, "range");
                 add_node(g, "Shape", {"r"}, {"s"}, "shape");
                 add_node(g, "Identity", {"s"}, {"y"}, "out");
                 add_output(g, "y");
                 return m;
               }),
               {"node 'd2s' (DepthToSpace)", "must be 4-dimensional"}});
  // Stride 0: libonnx's Conv inference divided by it (SIGFPE; found by the ASan fuzzer).
  c.push_back({"ConvStrideZero", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "x", kFloat, {int64_t{1}, int64_t{1}, int64_t{5}});
                 add_float_initializer(g, "w", {1, 1, 2}, {1.0f, 1.0f});
                 auto* n = add_node(g, "Conv", {"x", "w"}, {"y"}, "conv");
                 set_ints(n, "strides", {0});
                 add_output(g, "y");
                 return m;
               }),
               {"node 'conv' (Conv)", "attribute 'strides' has an entry 0", "1 or more"}});
  c.push_back({"MaxPoolNegativeDilation", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "x", kFloat, {int64_t{1}, int64_t{1}, int64_t{5}});
                 auto* n = add_node(g, "MaxPool", {"x"}, {"y"}, "pool");
                 set_ints(n, "kernel_shape", {2});
                 set_ints(n, "dilations", {-1});
                 add_output(g, "y");
                 return m;
               }),
               {"node 'pool' (MaxPool)", "attribute 'dilations' has an entry -1"}});
  // A type attribute of 0 (or, for SequenceEmpty and the windows, any invalid value) passed libonnx's
  // inference and failed after it as a bare "shape inference: Invalid tensor data type 0." (found by the
  // fuzzer).
  c.push_back({"SequenceEmptyInvalidDtype", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 set_int(add_node(g, "SequenceEmpty", {}, {"s"}, "empty"), "dtype", 1001);
                 add_node(g, "SequenceLength", {"s"}, {"n"}, "length");
                 add_output(g, "n", kInt64);
                 return m;
               }),
               {"node 'empty' (SequenceEmpty)", "attribute 'dtype' is 1001, which is not an ONNX tensor data type"}});
  c.push_back({"CastToUndefined", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "x", kFloat, {int64_t{2}});
                 set_int(add_node(g, "Cast", {"x"}, {"y"}, "cast"), "to", 0);
                 add_output(g, "y");
                 return m;
               }),
               {"node 'cast' (Cast)", "attribute 'to' is 0, which is not an ONNX tensor data type"}});
  c.push_back({"HannWindowInvalidOutputDatatype", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "size", kInt64, {});
                 set_int(add_node(g, "HannWindow", {"size"}, {"y"}, "window"), "output_datatype", -3);
                 add_output(g, "y");
                 return m;
               }),
               {"node 'window' (HannWindow)", "attribute 'output_datatype' is -3"}});
  // libonnx's inferences of these ops index with W's (or the signal's) rank unchecked: each crashed the
  // import with SIGSEGV (found by the fuzzer). tandem's schema registry guards them.
  c.push_back({"ConvWeightOfHigherRankThanX", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "x", kFloat, {int64_t{1}, int64_t{1}});
                 add_input(g, "w", kFloat, {int64_t{1}, int64_t{1}, int64_t{2}});
                 add_node(g, "Conv", {"x", "w"}, {"y"}, "conv");
                 add_output(g, "y");
                 return m;
               }),
               {"node 'conv' (Conv)", "X has rank 2 but W has rank 3; they must be equal"}});
  c.push_back({"ConvTransposeWeightOfRank1", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "x", kFloat, {int64_t{1}, int64_t{1}, int64_t{5}});
                 add_input(g, "w", kFloat, {int64_t{2}});
                 add_node(g, "ConvTranspose", {"x", "w"}, {"y"}, "deconv");
                 add_output(g, "y");
                 return m;
               }),
               {"node 'deconv' (ConvTranspose)", "X has rank 3 but W has rank 1"}});
  c.push_back({"QLinearConvWeightOfHigherRankThanX", model([] {
                 ModelProto m = make_model(10);
                 auto& g = *m.mutable_graph();
                 constexpr int32_t kU8 = TensorProto::UINT8;
                 add_input(g, "x", kU8, {int64_t{1}, int64_t{1}});
                 add_input(g, "w", kU8, {int64_t{1}, int64_t{1}, int64_t{2}, int64_t{2}});
                 for (const char* name : {"xs", "ws", "ys"}) add_input(g, name, kFloat, {});
                 for (const char* name : {"xz", "wz", "yz"}) add_input(g, name, kU8, {});
                 add_node(g, "QLinearConv", {"x", "xs", "xz", "w", "ws", "wz", "ys", "yz"}, {"y"}, "qconv");
                 add_output(g, "y");
                 return m;
               }),
               {"node 'qconv' (QLinearConv)", "X has rank 2 but W has rank 4"}});
  c.push_back({"StftSignalOfRank1", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "signal", kFloat, {int64_t{16}});
                 add_input(g, "step", kInt64, {});
                 add_input(g, "window", kFloat, {int64_t{4}});
                 add_node(g, "STFT", {"signal", "step", "window"}, {"y"}, "stft");
                 add_output(g, "y");
                 return m;
               }),
               {"node 'stft' (STFT)", "signal must be [batch, length, 1 or 2], got rank 1"}});
  // An inferred type the importer refuses names the node that makes the value (found by the fuzzer: it
  // named only 'y').
  c.push_back({"InferredNegativeDimensionNamesItsNode", model([] {
                 ModelProto m = make_model(16);
                 auto& g = *m.mutable_graph();
                 add_input(g, "x", kFloat, {int64_t{1}, int64_t{1}, int64_t{4}, int64_t{4}});
                 add_input(g, "rois", kFloat, {int64_t{1}, int64_t{4}});
                 add_input(g, "batch", kInt64, {int64_t{1}});
                 set_int(add_node(g, "RoiAlign", {"x", "rois", "batch"}, {"y"}, "roi"), "output_height", -7);
                 add_output(g, "y");
                 return m;
               }),
               {"node 'roi' (RoiAlign): inferred type of its output 'y' has negative dimension -7"}});
  c.push_back({"NestedCheckerError", model([] {
                 return if_model(
                     [](onnx::GraphProto& t) {
                       auto* cat = add_node(t, "Concat", {"x", "x"}, {"t"}, "inner_concat");
                       auto* a = cat->add_attribute();  // declared INT, holding a float
                       a->set_name("axis");
                       a->set_type(onnx::AttributeProto::INT);
                       a->set_f(1.0f);
                       add_output(t, "t");
                     },
                     [](onnx::GraphProto& e) {
                       set_int(add_node(e, "Concat", {"x", "x"}, {"e"}, "ide"), "axis", 0);
                       add_output(e, "e");
                     });
               }),
               {"node 'branch' (If)", "node 'inner_concat' (Concat)", "mismatch in attribute axis"}});

  // --- Shape inference
  c.push_back({"AddIncompatibleShapes", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "a", kFloat, {int64_t{2}, int64_t{3}});
                 add_input(g, "b", kFloat, {int64_t{4}, int64_t{5}});
                 add_node(g, "Add", {"a", "b"}, {"c"}, "sum");
                 add_output(g, "c");
                 return m;
               }),
               {"node 'sum' (Add)", "shape inference", "Incompatible dimensions", "'a' float32 [2,3]",
                "'b' float32 [4,5]"},
               {}, true});
  c.push_back({"MatMulInnerDims", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "a", kFloat, {int64_t{2}, int64_t{3}});
                 add_input(g, "b", kFloat, {int64_t{4}, int64_t{5}});
                 add_node(g, "MatMul", {"a", "b"}, {"c"}, "mm");
                 add_output(g, "c");
                 return m;
               }),
               {"node 'mm' (MatMul)", "shape inference", "Incompatible dimensions for matrix multiplication",
                "'a' float32 [2,3]", "'b' float32 [4,5]"}});
  c.push_back({"TwoShapeInferenceErrors", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "a", kFloat, {int64_t{2}, int64_t{3}});
                 add_input(g, "b", kFloat, {int64_t{4}, int64_t{5}});
                 add_node(g, "Add", {"a", "b"}, {"c"}, "sum");
                 add_node(g, "MatMul", {"a", "b"}, {"d"}, "mm");
                 add_output(g, "c");
                 add_output(g, "d");
                 return m;
               }),
               {"node 'sum' (Add): shape inference: Incompatible dimensions", "'a' float32 [2,3], 'b' float32 [4,5]",
                "node 'mm' (MatMul)", "Incompatible dimensions for matrix multiplication"}});
  c.push_back({"InputTypesDisagree", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "a", kFloat, {int64_t{2}});
                 add_input(g, "b", TensorProto::INT64, {int64_t{2}});
                 add_node(g, "Add", {"a", "b"}, {"c"}, "sum");
                 add_output(g, "c");
                 return m;
               }),
               {"node 'sum' (Add)", "inconsistent type", "'a' float32 [2]", "'b' int64 [2]"}});
  c.push_back({"DeclaredOutputShapeDisagrees", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "x", kFloat, {int64_t{2}, int64_t{3}});
                 add_node(g, "Relu", {"x"}, {"y"}, "relu");
                 std::vector<DimSpec> d{int64_t{4}};
                 add_output(g, "y", kFloat, &d);
                 return m;
               }),
               {"node 'relu' (Relu)", "differ in rank", "'x' float32 [2,3]", "'y' float32 [4]"}});
  c.push_back({"ValueInfoTypeDisagrees", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "x", kFloat, {int64_t{3}});
                 add_node(g, "Relu", {"x"}, {"y"}, "relu");
                 auto* vi = g.add_value_info();
                 vi->set_name("y");
                 vi->mutable_type()->mutable_tensor_type()->set_elem_type(TensorProto::INT64);
                 add_output(g, "y");
                 return m;
               }),
               {"node 'relu' (Relu)", "(FLOAT) vs (INT64)", "'y' int64"}});
  c.push_back({"GatherAxisOutOfRange", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_input(g, "x", kFloat, {int64_t{2}, int64_t{3}});
                 add_int64_initializer(g, "idx", {1}, {1});
                 auto* n = add_node(g, "Gather", {"x", "idx"}, {"y"}, "gather");
                 set_int(n, "axis", 5);
                 add_output(g, "y");
                 return m;
               }),
               {"node 'gather' (Gather)", "axis must be in [-r, r-1]", "'x' float32 [2,3]"}});
  c.push_back({"ConstantNoValue", model([] {
                 ModelProto m = make_model();
                 auto& g = *m.mutable_graph();
                 add_node(g, "Constant", {}, {"y"}, "const");
                 add_output(g, "y");
                 return m;
               }),
               {"node 'const' (Constant)", "One and only one of the attributes 'value'"}});

  // --- Options
  c.push_back({"DimForUnknownSymbol", model([] { return relu_model(); }), {"no input has a dimension named 'nosuch'"},
               {{"nosuch", 3}}, true});
  return c;
}

// ---------------------------------------------------------------------------------------------------------

std::size_t count_lines(const std::string& s) {
  std::size_t n = 0;
  for (char ch : s) n += ch == '\n';
  return n;
}

class MalformedModel : public ::testing::TestWithParam<Case> {};

TEST_P(MalformedModel, IsRefusedWithAMessageThatNamesTheProblem) {
  const Case& c = GetParam();
  TempDir dir;
  const std::string path = c.layout(dir);

  onnx_import::ImportOptions options;
  options.dims = c.dims;
  auto imported = onnx_import::import_model(path, options);
  ASSERT_FALSE(imported) << "the model was imported";
  const std::string& msg = imported.status().message();
  RecordProperty("message", msg);  // in --gtest_output=xml, for reading every message at once
  EXPECT_EQ(msg.rfind("model '" + path + "': ", 0), 0u) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "the message spans lines: " << msg;
  for (const std::string& w : c.words) EXPECT_NE(msg.find(w), std::string::npos) << "no '" << w << "' in: " << msg;

  std::string args = "info '" + path + "'";
  for (const auto& [name, value] : c.dims) args += " --dim " + name + "=" + std::to_string(value);
  const CliResult cli = run_cli(args);
  EXPECT_EQ(cli.exit_code, 1) << cli.err;
  EXPECT_EQ(cli.out, "");
  EXPECT_EQ(count_lines(cli.err), 1u) << cli.err;
  EXPECT_EQ(cli.err.rfind("tandem: ", 0), 0u) << cli.err;
  for (const std::string& w : c.words)
    EXPECT_NE(cli.err.find(w), std::string::npos) << "no '" << w << "' in: " << cli.err;
  EXPECT_EQ(cli.err, "tandem: " + msg + "\n");

  if (c.check_api) {
    LoadOptions load_options;
    load_options.dims = c.dims;
    try {
      (void)Model::load(path, load_options);
      ADD_FAILURE() << "Model::load did not throw";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), msg);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, MalformedModel, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

TEST(MalformedModelTable, HasAtLeastThirtyDistinctCases) {
  const auto all = cases();
  EXPECT_GE(all.size(), 30u);
  std::set<std::string> names;
  for (const Case& c : all) {
    EXPECT_TRUE(names.insert(c.name).second) << c.name;
    EXPECT_FALSE(c.words.empty()) << c.name;
  }
}

// External data needs a folder to be looked up in; a model given as bytes has none.
TEST(MalformedModelFromBytes, ExternalDataCannotBeResolved) {
  const std::string b = external_weight_model("weights.bin").SerializeAsString();
  auto imported = onnx_import::import_model_bytes(b, "in-memory.onnx", "");
  ASSERT_FALSE(imported);
  const std::string& msg = imported.status().message();
  EXPECT_EQ(msg.rfind("model 'in-memory.onnx': ", 0), 0u) << msg;
  EXPECT_NE(msg.find("initializer 'w'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'weights.bin' cannot be resolved"), std::string::npos) << msg;
  EXPECT_NE(msg.find("loaded from bytes"), std::string::npos) << msg;
  try {
    (void)Model::load_from_bytes(b.data(), b.size(), "in-memory.onnx");
    ADD_FAILURE() << "Model::load_from_bytes did not throw";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), msg);
  }
}

// A --dim value that is not a number is a usage error (exit 2), found before the model is read.
TEST(MalformedModelCli, DimValueNotANumberIsAUsageError) {
  TempDir dir;
  const std::string path = dir.write_model("model.onnx", relu_model());
  const CliResult cli = run_cli("info '" + path + "' --dim batch=x");
  EXPECT_EQ(cli.exit_code, 2) << cli.err;
  EXPECT_EQ(cli.out, "");
  EXPECT_EQ(count_lines(cli.err), 1u) << cli.err;
  EXPECT_EQ(cli.err.rfind("tandem: ", 0), 0u) << cli.err;
  EXPECT_NE(cli.err.find("batch=x"), std::string::npos) << cli.err;
}

// The valid model every case starts from really is valid, so each case fails for its own reason.
TEST(MalformedModelBase, TheUnbrokenModelsImport) {
  auto relu = import_proto(relu_model());
  EXPECT_TRUE(relu) << relu.status().message();
  auto function = import_proto(function_model());
  EXPECT_TRUE(function) << function.status().message();
  auto add = import_proto(add_weight_model([](TensorProto& w) {
    for (int i = 0; i < 6; ++i) w.add_float_data(1.0f);
  }));
  EXPECT_TRUE(add) << add.status().message();
  TempDir dir;
  dir.write("weights.bin", kWeightBytes);
  const std::string path = dir.write_model("model.onnx", external_weight_model("weights.bin", "0", "24"));
  auto external = onnx_import::import_model(path);
  EXPECT_TRUE(external) << external.status().message();
  auto dims = onnx_import::import_model(dir.write_model("relu.onnx", relu_model()), {{{"batch", 2}}});
  EXPECT_TRUE(dims) << dims.status().message();
}

// IfNested40Deep is refused for its depth alone: 32 levels, the most allowed, import.
TEST(MalformedModelBase, IfsNested32DeepImport) {
  ModelProto m = make_model();
  auto& g = *m.mutable_graph();
  add_input(g, "cond", kBool, {});
  add_input(g, "x", kFloat, {int64_t{3}});
  nest_ifs(g, 0, onnx_import::kMaxSubgraphDepth);
  auto imported = import_proto(m);
  EXPECT_TRUE(imported) << imported.status().message();
}

}  // namespace
}  // namespace tandem::test
