// The two model-wide passes that come from libonnx: its checker, and its shape inference with data
// propagation, both through tandem's schema registry so opsets newer than the library still work.
#pragma once

#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/status.h"

namespace onnx {
class ModelProto;
class GraphProto;
}  // namespace onnx

namespace tandem::onnx_import {

// Runs ONNX's graph checker when the library understands the model's IR version; otherwise records in
// `notes` why it was skipped. Returns whether it ran.
Result<bool> run_onnx_checker(const onnx::ModelProto& m, const std::string& model_dir,
                              std::vector<std::string>& notes);

// Runs ONNX shape inference (strict, with data propagation) on `m`, whose nodes must be in the order of
// `g`'s, and copies every inferred dtype and shape into `g` and its nested graphs. A failure is one line per
// failing node, "node 'n' (Op): shape inference: reason (inputs: 'a' float32 [2,3], ...)", located inside
// If/Loop/Scan bodies, where libonnx itself only reports the consequence at the owning node.
Status infer_shapes(onnx::ModelProto& m, Graph& g);

// Puts `g` (and its nested graphs) in topological order, and the nodes of `gp` in the same order, so
// libonnx's passes (which need sorted nodes) can run on models that list nodes out of order.
// A cycle is an error naming its nodes.
Status sort_nodes(Graph& g, onnx::GraphProto& gp);

}  // namespace tandem::onnx_import
