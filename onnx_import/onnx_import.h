// The onnx_import module's entry point: an ONNX model file (or its bytes) -> Model, validated, with ONNX's
// shape inference applied. Every failure is a Status whose message starts with the model's name.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "graph/model_ir.h"
#include "graph/status.h"
#include "onnx_import/limits.h"

namespace tandem::onnx_import {

struct ImportOptions {
  // Values for symbolic input dimensions ("batch" -> 1), fixed before shape inference so every shape
  // that depends on them becomes a number. Naming a symbol the inputs do not have is an error.
  std::map<std::string, int64_t> dims;
  int max_subgraph_depth = kMaxSubgraphDepth;
};

Result<ModelIR> import_model(const std::string& path, const ImportOptions& options = {});

// `label` names the model in messages; `model_dir` is where external data is looked up (empty: none).
Result<ModelIR> import_model_bytes(std::string_view bytes, const std::string& label, const std::string& model_dir,
                                 const ImportOptions& options = {});

}  // namespace tandem::onnx_import
