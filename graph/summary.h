// Counts over a whole model, nested graphs included: the op histogram, parameters and graph depth.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "graph/graph.h"

namespace tandem {

struct GraphSummary {
  std::map<std::string, int64_t> op_counts;  // op type ("domain::Op" outside the default domain) -> nodes
  int64_t nodes = 0;                         // all nodes, nested ones included
  int64_t nested_nodes = 0;                  // of which inside If/Loop/Scan bodies
  int64_t nested_graphs = 0;
  int max_depth = 0;                         // 0: no nested graphs
  // Parameters: the elements of every initializer and Constant value, nested graphs included.
  int64_t parameter_count = 0;
  int64_t parameter_bytes = 0;
  int64_t initializer_count = 0;
};

GraphSummary summarize(const Graph& g);

// "Op" for the default domain, "domain::Op" otherwise.
std::string qualified_op(const Node& n);

}  // namespace tandem
