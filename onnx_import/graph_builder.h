// ONNX GraphProto -> Graph, recursively through the bodies of If/Loop/Scan. This is where a model's
// structure is validated: every value defined once, every input resolvable (in the graph or an enclosing
// one), every op known at the model's opset and well-formed per its schema, every tensor consistent.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "graph/graph.h"
#include "graph/status.h"
#include "onnx_import/external_data.h"
#include "onnx_import/function_inliner.h"

namespace onnx {
class GraphProto;
}

namespace tandem::onnx_import {

struct BuildSettings {
  const ExternalDataReader* external = nullptr;
  const std::map<std::string, int64_t>* opsets = nullptr;      // normalised domain -> version
  const InlinedNodes* inlined = nullptr;                       // nodes that came from model-local functions
  int max_depth = 0;
};

Result<std::shared_ptr<Graph>> build_graph(const onnx::GraphProto& gp, const BuildSettings& settings);

}  // namespace tandem::onnx_import
