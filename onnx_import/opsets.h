// Which operator sets a model imports, and which of them tandem accepts.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "graph/model_ir.h"
#include "graph/status.h"

namespace onnx {
class ModelProto;
}

namespace tandem::onnx_import {

// "" and "ai.onnx" both name the default domain; tandem stores "".
std::string normalize_domain(const std::string& domain);
// How messages name a domain: "ai.onnx" for the default one.
std::string display_domain(const std::string& domain);

// Normalised domain -> version. Refuses duplicate imports, versions below 1, and a default-domain
// version newer than tandem supports. Other domains are only refused when a node uses them.
Result<std::map<std::string, int64_t>> read_opsets(const onnx::ModelProto& m, std::vector<OpsetImport>& out);

// ONNX's domain of training ops (Gradient and the optimizers Adagrad, Adam, Momentum), at version 1 only.
inline constexpr const char* kPreviewTrainingDomain = "ai.onnx.preview.training";

// Domains whose ops tandem can import: the default ONNX domain, and ai.onnx.preview.training for its
// optimizers.
bool is_supported_domain(const std::string& normalized_domain);

// Why tandem refuses op `op_type` of a supported domain at domain version `version`, or "" when it takes
// it. Of ai.onnx.preview.training it takes the optimizers, each one update step and so a pure function of
// its inputs; Gradient needs automatic differentiation of the graph, which tandem does not do.
std::string unsupported_op_reason(const std::string& normalized_domain, const std::string& op_type, int64_t version);

}  // namespace tandem::onnx_import
