// Builds ONNX models inside tests with ONNX's own protobuf API, so each test states the exact model it
// feeds the importer (valid or deliberately broken).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include <onnx/onnx_pb.h>

#include "graph/model_ir.h"
#include "graph/status.h"

namespace tandem::test {

using DimSpec = std::variant<int64_t, std::string>;  // a number or a symbol

onnx::ModelProto make_model(int64_t opset = 17, int64_t ir_version = 8);
onnx::ValueInfoProto* add_input(onnx::GraphProto& g, const std::string& name, int32_t elem_type,
                                const std::vector<DimSpec>& dims);
onnx::ValueInfoProto* add_output(onnx::GraphProto& g, const std::string& name, int32_t elem_type = 0,
                                 const std::vector<DimSpec>* dims = nullptr);
// A graph input or output of type sequence(tensor(elem_type)).
onnx::ValueInfoProto* add_sequence_input(onnx::GraphProto& g, const std::string& name, int32_t elem_type);
onnx::ValueInfoProto* add_sequence_output(onnx::GraphProto& g, const std::string& name, int32_t elem_type);
onnx::NodeProto* add_node(onnx::GraphProto& g, const std::string& op, const std::vector<std::string>& inputs,
                          const std::vector<std::string>& outputs, const std::string& name = "");
void set_int(onnx::NodeProto* n, const std::string& attr, int64_t v);
void set_ints(onnx::NodeProto* n, const std::string& attr, const std::vector<int64_t>& v);
void set_float(onnx::NodeProto* n, const std::string& attr, float v);
void set_string(onnx::NodeProto* n, const std::string& attr, const std::string& v);
onnx::GraphProto* set_graph(onnx::NodeProto* n, const std::string& attr);
onnx::TensorProto* add_float_initializer(onnx::GraphProto& g, const std::string& name,
                                         const std::vector<int64_t>& dims, const std::vector<float>& values);
onnx::TensorProto* add_int64_initializer(onnx::GraphProto& g, const std::string& name,
                                         const std::vector<int64_t>& dims, const std::vector<int64_t>& values);

// n values uniform in [lo, hi) from a fixed seed: random weights and inputs that tests can repeat.
std::vector<float> random_floats(int64_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f);

// Imports from serialized bytes, labelled `label`, with external data resolved in `dir` (if given).
Result<ModelIR> import_proto(const onnx::ModelProto& m, const std::string& label = "test.onnx",
                             const std::string& dir = "");

// A fresh empty folder under the system temp dir, removed when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string write(const std::string& name, const std::string& bytes) const;  // returns the full path
  std::string write_model(const std::string& name, const onnx::ModelProto& m) const;

 private:
  std::filesystem::path path_;
};

// Path of a file shipped in the repository, e.g. "models/silero_vad/silero_vad_16k_op15/model.onnx"; the
// environment variable TANDEM_SOURCE_DIR, when set, names the repository's root instead of the build's.
std::string source_path(const std::string& relative);

}  // namespace tandem::test
