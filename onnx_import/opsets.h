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

// Domains whose ops tandem can import (today: the default ONNX domain).
bool is_supported_domain(const std::string& normalized_domain);

}  // namespace tandem::onnx_import
