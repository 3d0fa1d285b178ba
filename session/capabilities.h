// Which nodes of a model tandem can run, and why not for the others. `tandem info` reports this; the
// session refuses a model with unrunnable nodes before it starts.
#pragma once

#include <string>
#include <vector>

#include "graph/graph.h"

namespace tandem {

struct UnrunnableNode {
  std::string where;  // "main" or the path of the nested body, e.g. "main > If_3.then_branch"
  std::string label;  // how messages name the node
  std::string op;     // qualified op type
  std::string reason;
};

// Every node of `g`, nested bodies included, that no device can run.
std::vector<UnrunnableNode> unrunnable_nodes(const Graph& g);

}  // namespace tandem
