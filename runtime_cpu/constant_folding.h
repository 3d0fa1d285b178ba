// Constant folding: every node whose inputs are all constants is computed once, when a model is loaded,
// with the CPU's own kernels, and its outputs become initializers. Exporters leave such nodes everywhere
// (Silero VAD's LSTM weights are Unsqueeze(initializer) inside an If branch, and its bodies hold 160
// Constant nodes): unfolded, each run recomputes them, and an RNN whose weights are computed must pack them
// again on every run (the CPU) or cannot run at all (the GPU reads its weights once, as constants).
//
// Folding changes no result: a node is folded only when it is deterministic (no random ops), all its
// inputs and outputs are tensors, its outputs' types and static shapes are known and are what the kernel
// made, and it ran without error (a failing node is left to fail at run time with its usual message). It
// reaches into If/Loop/Scan bodies, where a value of an enclosing graph counts as constant when it is one
// there, and drops what folding left unread (initializers, bodies' outer references, the owners' implicit
// inputs), so weights that were only an input to a folded node do not stay in memory beside its result.
// An If whose condition is constant is replaced by the branch it takes (graph/if_inlining.h), and folding
// goes on through that branch's nodes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "graph/graph.h"

namespace tandem::cpu {

struct ConstantFoldingOptions {
  // A folded node's outputs may hold this many bytes more than its inputs (an Expand or a ConstantOfShape
  // that makes a large tensor from a small one is computed at run time instead of kept in memory).
  int64_t max_growth_bytes = int64_t{1} << 20;
};

struct ConstantFoldingReport {
  std::size_t nodes = 0;        // nodes folded, nested bodies included
  std::size_t ifs_inlined = 0;  // If nodes whose constant condition let their branch take their place
};

// Folds `g` and its nested bodies in place. Node ids of `g` change when anything is folded.
ConstantFoldingReport fold_constants(Graph& g, const ConstantFoldingOptions& options = {});

}  // namespace tandem::cpu
