#include "onnx_import/onnx_import.h"

#include <filesystem>
#include <fstream>
#include <set>

#include <google/protobuf/io/coded_stream.h>
#include <onnx/onnx_pb.h>

#include "onnx_import/function_inliner.h"
#include "onnx_import/graph_builder.h"
#include "onnx_import/model_checks.h"
#include "onnx_import/model_hash.h"
#include "onnx_import/opsets.h"
#include "onnx_import/proto_walk.h"

namespace tandem::onnx_import {
namespace fs = std::filesystem;
namespace {

// IR versions tandem reads: 3 introduced opset_import; 13 (opset 25) is the newest this code was written
// against. 12 and 13 only added element types (float8e8m0, the 2-bit integers), which import refuses by name.
constexpr int64_t kMinIrVersion = 3;
constexpr int64_t kMaxIrVersion = 13;

// A model's names are arbitrary bytes, and messages quote them (and the file's path). A message must stay one
// printable line, so control characters are written as escapes: "\n", "\t", "\r", "\x1b".
std::string printable(const std::string& s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c < 0x20 || c == 0x7f) out += std::string("\\x") + kHex[c >> 4] + kHex[c & 0xf];
    else out += ch;
  }
  return out;
}

Status parse_model(std::string_view bytes, onnx::ModelProto& m) {
  if (bytes.empty()) return Status::error("the file is empty");
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  in.SetRecursionLimit(kProtobufRecursionLimit);
  in.SetTotalBytesLimit(static_cast<int>(kMaxModelFileBytes));
  if (!m.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
    return Status::error("not a valid ONNX model: protobuf parsing failed (truncated, corrupt or not an ONNX "
                         "file)");
  if (!m.has_graph())
    return Status::error("not an ONNX model: it has no graph (ir_version " + std::to_string(m.ir_version()) + ")");
  if (m.ir_version() <= 0) return Status::error("not an ONNX model: ir_version is missing");
  if (m.ir_version() < kMinIrVersion)
    return Status::error("IR version " + std::to_string(m.ir_version()) + " predates opset imports (IR 3); "
                         "re-export the model with a current exporter");
  if (m.ir_version() > kMaxIrVersion)
    return Status::error("IR version " + std::to_string(m.ir_version()) + " is newer than tandem supports (up to " +
                         std::to_string(kMaxIrVersion) + ")");
  return Status::ok();
}

// A symbol names one number everywhere in the model, so a value given for it replaces it in every declared
// type: the inputs, and the outputs and value_info of every graph, nested ones included.
void replace_symbols(onnx::GraphProto& root, const std::map<std::string, int64_t>& dims) {
  auto fix = [&](onnx::ValueInfoProto& vi) {
    if (!vi.type().has_tensor_type() || !vi.type().tensor_type().has_shape()) return;
    for (auto& d : *vi.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim()) {
      auto it = d.has_dim_param() ? dims.find(d.dim_param()) : dims.end();
      if (it != dims.end()) d.set_dim_value(it->second);  // clears dim_param (a oneof)
    }
  };
  for_each_proto_graph(root, [&](onnx::GraphProto& g) {
    for (auto& vi : *g.mutable_input()) fix(vi);
    for (auto& vi : *g.mutable_output()) fix(vi);
    for (auto& vi : *g.mutable_value_info()) fix(vi);
  });
}

// Fixes the requested symbolic dimensions to numbers, in the proto, before anything reads shapes.
Status apply_dim_values(onnx::ModelProto& m, const std::map<std::string, int64_t>& dims) {
  if (dims.empty()) return Status::ok();
  std::set<std::string> in_inputs;
  for (const auto& in : m.graph().input())
    for (const auto& d : in.type().tensor_type().shape().dim())
      if (d.has_dim_param()) in_inputs.insert(d.dim_param());
  for (const auto& [name, value] : dims) {
    if (value < 0) return Status::error("dimension '" + name + "' set to " + std::to_string(value) + ", below 0");
    if (!in_inputs.count(name)) return Status::error("no input has a dimension named '" + name + "'");
  }
  replace_symbols(*m.mutable_graph(), dims);
  return Status::ok();
}

// libonnx's shape inference types sparse initializers as sparse tensors, which no op takes as input; the
// model means them as constants, so the proto gets the dense tensors the builder already made.
Status densify_sparse_initializers(Graph& g, onnx::GraphProto& gp) {
  for (const auto& sp : gp.sparse_initializer()) {
    const TensorData& data = *g.value(g.find_value(sp.values().name())).data;
    auto* t = gp.add_initializer();
    t->set_name(sp.values().name());
    t->set_data_type(static_cast<int32_t>(data.dtype));
    for (int64_t d : data.dims) t->add_dims(d);
    t->set_raw_data(reinterpret_cast<const char*>(data.bytes.data()), data.bytes.size());
  }
  gp.clear_sparse_initializer();
  return for_each_nested_pair(g, gp, densify_sparse_initializers);
}

// libonnx's shape inference reads small constant inputs (Reshape's shape, Slice's starts, Pad's pads) to
// compute shapes, but cannot read external data: "Cannot parse data from external tensors" refused valid
// models saved with every tensor external (onnx's save_as_external_data with size_threshold=0). The
// builder has read them already, so small ones get their bytes back in the proto; weights stay outside.
constexpr std::size_t kInlineExternalBytes = 64 * 1024;

Status inline_small_external_initializers(Graph& g, onnx::GraphProto& gp) {
  for (auto& t : *gp.mutable_initializer()) {
    if (t.data_location() != onnx::TensorProto::EXTERNAL) continue;
    const ValueId id = g.find_value(t.name());
    if (id == kNoValue || !g.value(id).data) continue;
    const TensorData& data = *g.value(id).data;
    if (data.bytes.size() > kInlineExternalBytes || data.dtype == DType::kString) continue;
    t.clear_external_data();
    t.set_data_location(onnx::TensorProto::DEFAULT);
    t.set_raw_data(reinterpret_cast<const char*>(data.bytes.data()), data.bytes.size());
  }
  return for_each_nested_pair(g, gp, inline_small_external_initializers);
}

// libonnx's passes know the default domain only as "", so "ai.onnx" is rewritten before they run.
void normalize_default_domain(onnx::ModelProto& m) {
  for_each_proto_graph(*m.mutable_graph(), [](onnx::GraphProto& g) {
    for (auto& n : *g.mutable_node())
      if (n.domain() == "ai.onnx") n.set_domain("");
  });
  for (auto& imp : *m.mutable_opset_import())
    if (imp.domain() == "ai.onnx") imp.set_domain("");
}

Result<ModelIR> import_parsed(onnx::ModelProto& m, const std::string& model_dir, const ImportOptions& options) {
  ModelIR model;
  model.ir_version = m.ir_version();
  model.producer_name = m.producer_name();
  model.producer_version = m.producer_version();
  for (const auto& p : m.metadata_props()) model.metadata[p.key()] = p.value();
  TANDEM_ASSIGN_OR_RETURN(auto opsets, read_opsets(m, model.opsets));
  TANDEM_RETURN_IF_ERROR(apply_dim_values(m, options.dims));

  // Calls of model-local functions are replaced by the functions' bodies first, so everything below (the
  // builder, libonnx's checker and its shape inference, which then types every inlined value) sees plain ops.
  TANDEM_ASSIGN_OR_RETURN(InlineSummary inlined, inline_local_functions(m, opsets));
  if (inlined.calls > 0)
    model.notes.push_back("expanded " + std::to_string(inlined.calls) + " call" + (inlined.calls == 1 ? "" : "s") +
                          " of the model's " + std::to_string(inlined.functions) + " local function" +
                          (inlined.functions == 1 ? "" : "s") + " into " + std::to_string(inlined.nodes.size()) +
                          " nodes");

  ExternalDataReader external(model_dir);
  BuildSettings settings;
  settings.external = &external;
  settings.opsets = &opsets;
  settings.max_depth = options.max_subgraph_depth;
  settings.inlined = &inlined.nodes;
  TANDEM_ASSIGN_OR_RETURN(model.graph, build_graph(m.graph(), settings));
  if (model.graph->name.empty()) model.graph->name = "main";
  TANDEM_RETURN_IF_ERROR(sort_nodes(*model.graph, *m.mutable_graph()));
  normalize_default_domain(m);
  TANDEM_RETURN_IF_ERROR(densify_sparse_initializers(*model.graph, *m.mutable_graph()));

  TANDEM_ASSIGN_OR_RETURN(model.checker_ran, run_onnx_checker(m, model_dir, model.notes));
  TANDEM_RETURN_IF_ERROR(inline_small_external_initializers(*model.graph, *m.mutable_graph()));
  TANDEM_RETURN_IF_ERROR(infer_shapes(m, *model.graph));
  model.shapes_inferred = true;
  return model;
}

// The model from its parsed proto; `hash` is the file's sha256.
Result<ModelIR> import_proto(onnx::ModelProto& m, const std::string& label, const std::string& model_dir,
                             const ImportOptions& options, std::string hash) {
  auto model = import_parsed(m, model_dir, options);
  if (!model) return Status::error("model '" + printable(label) + "': " + printable(model.status().message()));
  model->source = label;
  model->sha256 = std::move(hash);
  return model;
}

}  // namespace

Result<ModelIR> import_model_bytes(std::string_view bytes, const std::string& label, const std::string& model_dir,
                                 const ImportOptions& options) {
  onnx::ModelProto m;
  TANDEM_RETURN_IF_ERROR(parse_model(bytes, m).with_context("model '" + printable(label) + "': "));
  return import_proto(m, label, model_dir, options, sha256_hex(bytes));
}

Result<ModelIR> import_model(const std::string& path, const ImportOptions& options) {
  const std::string context = "model '" + printable(path) + "': ";
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return Status::error(context + "file not found");
  if (!fs::is_regular_file(st)) return Status::error(context + "not a regular file");
  const auto size = fs::file_size(path, ec);
  if (ec) return Status::error(context + "cannot read its size: " + ec.message());
  if (static_cast<int64_t>(size) > kMaxModelFileBytes)
    return Status::error(context + "the file is " + std::to_string(size) + " bytes; protobuf cannot parse 2 GiB "
                         "or more, so larger models must keep their weights as external data");
  onnx::ModelProto m;
  std::string hash;
  {
    std::string bytes(size, '\0');
    std::ifstream in(path, std::ios::binary);
    if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) return Status::error(context + "cannot be read");
    TANDEM_RETURN_IF_ERROR(parse_model(bytes, m).with_context(context));
    hash = sha256_hex(bytes);
  }  // the file's bytes go before the IR copies the weights: two copies of them at most, not three
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  return import_proto(m, path, dir.string(), options, std::move(hash));
}

}  // namespace tandem::onnx_import
