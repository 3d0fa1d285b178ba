#include "tests/support/model_builder.h"

#include <cstdlib>
#include <fstream>
#include <random>

#include "onnx_import/onnx_import.h"

namespace tandem::test {

onnx::ModelProto make_model(int64_t opset, int64_t ir_version) {
  onnx::ModelProto m;
  m.set_ir_version(ir_version);
  m.set_producer_name("tandem-test");
  auto* imp = m.add_opset_import();
  imp->set_domain("");
  imp->set_version(opset);
  m.mutable_graph()->set_name("test_graph");
  return m;
}

namespace {
void set_type(onnx::ValueInfoProto* v, int32_t elem_type, const std::vector<DimSpec>* dims) {
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(elem_type);
  if (!dims) return;
  auto* shape = t->mutable_shape();
  for (const DimSpec& d : *dims) {
    auto* dim = shape->add_dim();
    if (std::holds_alternative<int64_t>(d)) dim->set_dim_value(std::get<int64_t>(d));
    else dim->set_dim_param(std::get<std::string>(d));
  }
}
onnx::AttributeProto* add_attr(onnx::NodeProto* n, const std::string& name, onnx::AttributeProto::AttributeType t) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(t);
  return a;
}
}  // namespace

onnx::ValueInfoProto* add_input(onnx::GraphProto& g, const std::string& name, int32_t elem_type,
                                const std::vector<DimSpec>& dims) {
  auto* v = g.add_input();
  v->set_name(name);
  set_type(v, elem_type, &dims);
  return v;
}

onnx::ValueInfoProto* add_output(onnx::GraphProto& g, const std::string& name, int32_t elem_type,
                                 const std::vector<DimSpec>* dims) {
  auto* v = g.add_output();
  v->set_name(name);
  if (elem_type != 0) set_type(v, elem_type, dims);
  return v;
}

namespace {
onnx::ValueInfoProto* as_sequence(onnx::ValueInfoProto* v, const std::string& name, int32_t elem_type) {
  v->set_name(name);
  v->mutable_type()->mutable_sequence_type()->mutable_elem_type()->mutable_tensor_type()->set_elem_type(elem_type);
  return v;
}
}  // namespace

onnx::ValueInfoProto* add_sequence_input(onnx::GraphProto& g, const std::string& name, int32_t elem_type) {
  return as_sequence(g.add_input(), name, elem_type);
}

onnx::ValueInfoProto* add_sequence_output(onnx::GraphProto& g, const std::string& name, int32_t elem_type) {
  return as_sequence(g.add_output(), name, elem_type);
}

onnx::NodeProto* add_node(onnx::GraphProto& g, const std::string& op, const std::vector<std::string>& inputs,
                          const std::vector<std::string>& outputs, const std::string& name) {
  auto* n = g.add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  return n;
}

void set_int(onnx::NodeProto* n, const std::string& attr, int64_t v) {
  add_attr(n, attr, onnx::AttributeProto::INT)->set_i(v);
}
void set_ints(onnx::NodeProto* n, const std::string& attr, const std::vector<int64_t>& v) {
  auto* a = add_attr(n, attr, onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}
void set_float(onnx::NodeProto* n, const std::string& attr, float v) {
  add_attr(n, attr, onnx::AttributeProto::FLOAT)->set_f(v);
}
void set_string(onnx::NodeProto* n, const std::string& attr, const std::string& v) {
  add_attr(n, attr, onnx::AttributeProto::STRING)->set_s(v);
}
onnx::GraphProto* set_graph(onnx::NodeProto* n, const std::string& attr) {
  return add_attr(n, attr, onnx::AttributeProto::GRAPH)->mutable_g();
}

onnx::TensorProto* add_float_initializer(onnx::GraphProto& g, const std::string& name,
                                         const std::vector<int64_t>& dims, const std::vector<float>& values) {
  auto* t = g.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  for (float v : values) t->add_float_data(v);
  return t;
}

onnx::TensorProto* add_int64_initializer(onnx::GraphProto& g, const std::string& name,
                                         const std::vector<int64_t>& dims, const std::vector<int64_t>& values) {
  auto* t = g.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : dims) t->add_dims(d);
  for (int64_t v : values) t->add_int64_data(v);
  return t;
}

std::vector<float> random_floats(int64_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (float& x : v) x = d(rng);
  return v;
}

Result<ModelIR> import_proto(const onnx::ModelProto& m, const std::string& label, const std::string& dir) {
  return onnx_import::import_model_bytes(m.SerializeAsString(), label, dir);
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() / ("tandem-test-" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& bytes) const {
  const auto p = path_ / name;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
  return p.string();
}

std::string TempDir::write_model(const std::string& name, const onnx::ModelProto& m) const {
  return write(name, m.SerializeAsString());
}

std::string source_path(const std::string& relative) {
  // The tree the tests were built from, unless TANDEM_SOURCE_DIR names another copy of it at run time (the
  // GPU machine runs binaries built here from its own copy: tools/gpu_check.sh).
  const char* moved = std::getenv("TANDEM_SOURCE_DIR");
  return std::string(moved && *moved ? moved : TANDEM_SOURCE_DIR) + "/" + relative;
}

}  // namespace tandem::test
