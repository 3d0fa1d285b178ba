// Splitting a recurrent node (LSTM, GRU, RNN) into time chunks: chunk k runs steps [t_k, t_{k+1}) and hands
// its final state to the next chunk as that chunk's initial state; the chunks' Y are concatenated along time.
// The result computes exactly what the node did, and lets stacked layers pipeline across devices: layer l
// works on chunk k+1 while layer l+1 works on chunk k.
#pragma once

#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/status.h"

namespace tandem {

// Replaces node `id` of `g` with `chunks` nodes over consecutive, nearly equal time ranges, plus the Slice
// and Concat nodes that cut X and join Y. Nodes are renumbered (topological order). Refused, with the
// reason: bidirectional nodes (their directions walk time in opposite orders), nodes with sequence_lens,
// a time length that is not a known number, more chunks than steps, and opsets below 10 (Slice then
// takes attributes).
Status split_rnn_in_time(Graph& g, NodeId id, int chunks);

// Every LSTM, GRU and RNN node of the main graph that can be split, split into `chunks` (or into as many
// as it has steps, when fewer). What the partitioner does to a model when it chooses time chunks, and what
// the runtime repeats to run that plan: the same graph and chunk count always give the same result.
struct TimeSplitReport {
  std::vector<std::string> split;    // the names of the nodes that were split
  std::vector<std::string> refused;  // one line per recurrent node left whole, with the reason
};
TimeSplitReport split_rnns_in_time(Graph& g, int chunks);

}  // namespace tandem
