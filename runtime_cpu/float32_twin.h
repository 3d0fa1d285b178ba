// 16-bit floats for the ops whose CPU kernel computes in float32 (or float64) only, though ONNX gives them
// float16 and, mostly, bfloat16 too: Conv, ConvTranspose, MatMul, Gemm, the pools, Softmax, LogSoftmax,
// the Reduce ops, and the normalisations. Such a node runs as its float32 twin: the kernel is made for a
// one-node copy of it whose 16-bit float values are float32 (constants widened exactly, once), each run
// widens its 16-bit inputs exactly and rounds its 16-bit outputs once. That is how the RNN and elementwise
// kernels treat the 16-bit types (computed in float, rounded once), here without a 16-bit copy of every
// kernel.
#pragma once

#include "graph/graph.h"
#include "graph/status.h"
#include "runtime/kernel.h"
#include "runtime_cpu/kernel_registry.h"

namespace tandem::cpu {

// Whether node `id` is one of those ops with a float16 or bfloat16 input or output (as the graph types it).
bool runs_as_float32_twin(const Graph& g, NodeId id);

// The kernel of node init.node_id that runs `factory`'s kernel for its float32 twin.
Result<KernelPtr> make_float32_twin(const KernelInit& init, const KernelFactory& factory);

}  // namespace tandem::cpu
