// An If whose condition is known before any run (a constant, once folding has computed it) always takes
// the same branch: its nodes can live in the enclosing graph instead. Splicing them in drops the other
// branch (whose kernels would otherwise be compiled, and its weights packed, for nothing), removes a nested
// executor from every run, and lets folding go on through values that were hidden in the branch.
#pragma once

#include "graph/graph.h"
#include "graph/status.h"

namespace tandem {

// Appends the nodes of If node `id`'s then_branch (take_then) or else_branch to `g`, the branch's values
// renamed where `g` already uses their names, so that they write the If's outputs (through an Identity
// where the branch passes on a value it did not compute). The If node itself stays: the caller removes it
// and puts the nodes back in topological order (remove_nodes, topological_order), so that several Ifs can
// be spliced before ids change. An error, with `g` unchanged, when the branch cannot be spliced: it is not
// there, declares inputs or a different number of outputs than the If has, reads a name `g` does not
// hold, or a body nested in it reads one of its values by a name that `g` already uses.
Status splice_if_branch(Graph& g, NodeId id, bool take_then);

}  // namespace tandem
