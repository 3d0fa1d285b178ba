// Reads tensor data stored outside the .onnx file. Every location is resolved inside the model's own
// folder: absolute paths, '..' components and symbolic links that lead elsewhere are refused, so a model
// cannot make tandem read arbitrary files.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "graph/status.h"

namespace onnx {
class TensorProto;
}

namespace tandem::onnx_import {

class ExternalDataReader {
 public:
  // `model_dir` empty: the model came from bytes with no folder, and any external data is an error.
  explicit ExternalDataReader(std::string model_dir) : model_dir_(std::move(model_dir)) {}

  // Reads exactly `expected_bytes` for tensor `t` (whose data_location is EXTERNAL), checking the
  // location, offset and length entries against the file.
  Result<std::vector<std::byte>> read(const onnx::TensorProto& t, std::size_t expected_bytes) const;

 private:
  std::string model_dir_;
};

}  // namespace tandem::onnx_import
