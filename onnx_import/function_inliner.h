// Model-local functions (ModelProto.functions): every call is replaced by the function's body, in the main
// graph, inside If/Loop/Scan bodies and inside other functions, before the Graph is built, so the rest of the
// importer (builder, libonnx's checker and shape inference) and everything after it sees plain ops.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>

#include "graph/status.h"

namespace onnx {
class ModelProto;
class NodeProto;
}  // namespace onnx

namespace tandem::onnx_import {

// What the builder needs to know about a node that came out of a function body.
struct InlinedNode {
  int64_t opset = 0;   // its domain's version as the function imports it (ops resolve at the function's opset)
  std::string origin;  // for messages: "from function 'Linear' of domain 'torch.nn.modules.linear'"
};
// Keyed by the node's address in the expanded ModelProto (stable until the proto's nodes are moved).
using InlinedNodes = std::unordered_map<const onnx::NodeProto*, InlinedNode>;

struct InlineSummary {
  int functions = 0;  // model-local functions defined
  int64_t calls = 0;  // calls expanded, nested ones included
  InlinedNodes nodes;
};

// Expands every call of a model-local function in `m` in place and removes the functions from it.
// `model_opsets` is the model's normalised domain -> version; domains a function imports that the model does
// not are added to `m`'s opset_import (for libonnx's passes). Refuses, naming the call: more inputs or outputs
// than the function declares, attributes it does not declare, a required attribute referenced but not given,
// a name the body neither takes nor defines, recursion, a function's opset whose schema for an op differs from
// the model's (ONNX requires them to agree), duplicate definitions.
Result<InlineSummary> inline_local_functions(onnx::ModelProto& m, const std::map<std::string, int64_t>& model_opsets);

}  // namespace tandem::onnx_import
