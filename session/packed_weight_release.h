// Weights held once: a session that holds the only reference to its model frees the model's copy of the
// constants its kernels packed into a form of their own (RNN weights in panels, an integer B shifted,
// 16-bit weights widened), as ONNX Runtime frees the initializers it prepacks. Before this, such weights
// were held twice for the session's life: 604 MB resident for an LSTM with 302 MB of weights.
//
// Which constants: those the session's executor holds without their elements (runtime/constants_at_run.h).
// The Model then still describes the model (inputs, outputs, counts) but cannot make another Session:
// Model::Impl::weights_released says so, and the Session refuses it by name.
#pragma once

#include <cstdint>
#include <unordered_set>

#include "graph/graph.h"

namespace tandem {

struct ReleasedConstants {
  int64_t values = 0;  // initializers whose data was dropped
  int64_t packed = 0;  // of them, those some node reads (a kernel packed them); the others nothing reads
};

// Drops `data` from every initializer of `g` (the main graph, not nested bodies) whose constant is not in
// `read`, the constants a run still reads the elements of: those the kernels packed, and those no node
// reads at all. A model that lost only the second kind can still make sessions.
ReleasedConstants release_packed_constants(Graph& g, const std::unordered_set<const TensorData*>& read);

}  // namespace tandem
