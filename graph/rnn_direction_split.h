// Splitting a bidirectional recurrent node (LSTM, GRU, RNN) into its two directions: a forward node and a
// reverse node over the same X, each with its half of the weights, and Concat nodes that join their Y,
// Y_h and Y_c on the direction axis. The result computes exactly what the node did (the directions never
// read each other), and lets the two directions run on two devices at once: the only parallelism a stack
// of bidirectional layers has, since a time split cannot cut a node whose directions walk time in
// opposite orders (graph/rnn_time_split.h).
#pragma once

#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/status.h"

namespace tandem {

// Replaces bidirectional node `id` of `g` with its two directions. Nodes are renumbered (topological
// order). Refused, with the reason: a node that is not bidirectional, weights (W, R, B, P) the graph
// computes rather than holds as constants (the kernels read them once, when they are made), and
// activation_alpha/activation_beta (which activation of which direction takes which value depends on the
// activation functions; the split leaves such nodes whole rather than guess).
Status split_rnn_directions(Graph& g, NodeId id);

// Every bidirectional LSTM, GRU and RNN node of the main graph that can be split, split. What the
// partitioner does to a model when it plans the directions apart, and what the runtime repeats to run that
// plan: the same graph always gives the same result.
struct DirectionSplitReport {
  std::vector<std::string> split;    // the names of the nodes that were split
  std::vector<std::string> refused;  // one line per bidirectional node left whole, with the reason
};
DirectionSplitReport split_bidirectional_rnns(Graph& g);

}  // namespace tandem
