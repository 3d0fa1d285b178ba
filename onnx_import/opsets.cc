#include "onnx_import/opsets.h"

#include <onnx/onnx_pb.h>

#include "onnx_import/schema_registry.h"

namespace tandem::onnx_import {

std::string normalize_domain(const std::string& domain) { return domain == "ai.onnx" ? "" : domain; }

std::string display_domain(const std::string& domain) { return domain.empty() ? "ai.onnx" : domain; }

bool is_supported_domain(const std::string& normalized_domain) {
  return normalized_domain.empty() || normalized_domain == kPreviewTrainingDomain;
}

std::string unsupported_op_reason(const std::string& normalized_domain, const std::string& op_type, int64_t version) {
  if (normalized_domain != kPreviewTrainingDomain) return {};
  // A preview domain keeps one version and changes it in place; a later one would be a guess.
  if (version != 1) return "domain '" + normalized_domain + "' has only version 1";
  if (op_type == "Adagrad" || op_type == "Adam" || op_type == "Momentum") return {};
  const std::string takes = "of domain '" + normalized_domain + "' tandem runs only Adagrad, Adam and Momentum";
  if (op_type == "Gradient") return "Gradient needs automatic differentiation, which tandem does not do (" + takes + ")";
  return takes;
}

Result<std::map<std::string, int64_t>> read_opsets(const onnx::ModelProto& m, std::vector<OpsetImport>& out) {
  std::map<std::string, int64_t> versions;
  if (m.opset_import_size() == 0) return Status::error("the model imports no operator set (opset_import is empty)");
  for (const auto& imp : m.opset_import()) {
    const std::string domain = normalize_domain(imp.domain());
    if (!versions.emplace(domain, imp.version()).second)
      return Status::error("the model imports domain '" + display_domain(domain) + "' twice");
    if (imp.version() < 1)
      return Status::error("the model imports domain '" + display_domain(domain) + "' at version " +
                           std::to_string(imp.version()) + ", which does not exist");
    if (domain.empty() && imp.version() > kMaxDefaultOpset)
      return Status::error("the model uses opset " + std::to_string(imp.version()) +
                           " of domain 'ai.onnx', newer than tandem supports (up to " +
                           std::to_string(kMaxDefaultOpset) + ")");
    out.push_back({domain, imp.version()});
  }
  return versions;
}

}  // namespace tandem::onnx_import
