// How an executor holds a graph's constants for its runs: every initializer and input default as a tensor
// sharing the constant's elements, except initializers that no run reads the elements of, because every
// kernel reading them packed them into a form of its own when it was made (Kernel::reads_constant_input).
// Those are held as type and shape only, so the executor keeps no reference to their elements, and a
// session that owns its model can free them (session/packed_weight_release.h): the weights are then held
// once, as the kernels' packed form, as ONNX Runtime does with the initializers it prepacks.
#pragma once

#include <vector>

#include "graph/graph.h"
#include "runtime/kernel.h"
#include "runtime/tensor.h"

namespace tandem {

// By ValueId of g: whether a run reads the value's elements as a constant. True for an input's default
// (the caller may feed it instead, and the kernel cannot have packed it), a graph output, a value a
// nested body reads (the If, Loop or Scan node hands it on), and an initializer that some kernel reads at
// run. `kernels` by NodeId; a node without a kernel counts as reading everything.
std::vector<bool> constants_read_at_run(const Graph& g, const std::vector<KernelPtr>& kernels);

// By ValueId of g: the tensor a run starts from for each value with data (undefined for the others), its
// elements shared where `read[v]`, its type and shape only elsewhere (Tensor::shape_only).
std::vector<Tensor> constants_for_runs(const Graph& g, const std::vector<bool>& read);

}  // namespace tandem
