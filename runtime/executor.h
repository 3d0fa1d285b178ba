// Runs a compiled graph on one device, node after node in topological order. Compiling creates every
// kernel once; `run` may be called from many threads at once, each call with its own values.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "graph/graph.h"
#include "graph/status.h"
#include "runtime/device.h"
#include "runtime/run_control.h"
#include "runtime/tensor.h"

namespace tandem {

// What a run reports about each node it executes (for the profiler and traces). `outputs` are the node's
// results, shared with the run: keep a copy of a Tensor to hold on to one after the run frees it.
struct NodeEvent {
  NodeId node = kNoNode;
  std::chrono::steady_clock::time_point start, end;
  std::span<const Tensor> outputs;
  std::span<const Tensor* const> inputs;  // nullptr for an omitted optional input
  std::span<const Tensor* const> implicit_inputs;
};
using NodeObserver = std::function<void(const NodeEvent&)>;

class GraphExecutor {
 public:
  // `g` must outlive the executor. Nested bodies are compiled by the kernels that own them (If, Loop).
  static Result<std::shared_ptr<const GraphExecutor>> compile(const Graph& g, const Device& device);

  // `inputs`: one per g.inputs(), nullptr to use an input's default (an overridable initializer).
  // `outer`: one per g.outer_refs(), for a nested body. Returns one tensor per g.outputs().
  // `observer`, when given, is called after every node of this graph (not of nested bodies).
  // `control`, when given, is checked before every node and handed to the kernels (runtime/run_control.h).
  Result<std::vector<Tensor>> run(std::span<const Tensor* const> inputs,
                                  std::span<const Tensor* const> outer = {},
                                  const NodeObserver* observer = nullptr,
                                  const RunControl* control = nullptr) const;

  const Graph& graph() const { return graph_; }
  // Whether a run reads the elements of constant v (runtime/constants_at_run.h): false for an initializer
  // every kernel reading it packed, which the executor holds as type and shape only.
  bool reads_constant(ValueId v) const { return constant_read_[static_cast<std::size_t>(v)]; }

 private:
  GraphExecutor(const Graph& g, const Device& device) : graph_(g), device_(device) {}

  const Graph& graph_;
  const Device& device_;  // its output allocator serves every node
  std::vector<NodeId> order_;
  std::vector<KernelPtr> kernels_;           // by NodeId
  std::vector<Tensor> constants_;            // by ValueId: initializers and input defaults
  std::vector<bool> constant_read_;          // by ValueId: whether a run reads the constant's elements
  std::vector<const Tensor*> initial_at_;    // by ValueId: where a run starts reading each value (constants)
  std::vector<int> slot_;                    // by ValueId: a node output's slot in a run's tensors, else -1
  int num_slots_ = 0;
  std::vector<std::vector<ValueId>> frees_;  // by step: values whose last reader ran at that step
};

}  // namespace tandem
