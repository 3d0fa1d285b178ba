// libonnx reports checker and shape-inference failures in its own words, over several lines and without
// the types involved. These turn them into tandem's one-line messages that name the node (inside nested
// bodies too) and the types it was given.
#pragma once

#include <string>
#include <unordered_map>

#include "graph/graph.h"

namespace onnx {
class GraphProto;
}

namespace tandem::onnx_import {

// Joins a multi-line message into one line, "; " between the lines.
std::string one_line(const std::string& s);

// A libonnx checker failure: "ONNX checker: reason", naming the nested node when there is one.
std::string describe_checker_failure(const std::string& what);

// A libonnx shape-inference failure on graph `gp` (as inference left it) and tandem's Graph `g` built from it
// (same node order): one clause per failing node, e.g. "node 'sum' (Add): shape inference: Incompatible
// dimensions (inputs: 'a' float32 [2,3], 'b' float32 [4,5])".
std::string describe_inference_failure(const std::string& what, const onnx::GraphProto& gp, const Graph& g,
                                       const std::unordered_map<std::string, int>& opsets);

}  // namespace tandem::onnx_import
