// Runs a compiled graph on one device, node after node in topological order. Compiling creates every
// kernel once; `run` may be called from many threads at once, each call with its own values.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "graph/graph.h"
#include "graph/status.h"
#include "runtime/device.h"
#include "runtime/tensor.h"

namespace tandem {

class GraphExecutor {
 public:
  // `g` must outlive the executor. Nested bodies are compiled by the kernels that own them (If, Loop).
  static Result<std::shared_ptr<const GraphExecutor>> compile(const Graph& g, const Device& device);

  // `inputs`: one per g.inputs(), nullptr to use an input's default (an overridable initializer).
  // `outer`: one per g.outer_refs(), for a nested body. Returns one tensor per g.outputs().
  Result<std::vector<Tensor>> run(std::span<const Tensor* const> inputs,
                                  std::span<const Tensor* const> outer = {}) const;

  const Graph& graph() const { return graph_; }

 private:
  GraphExecutor(const Graph& g) : graph_(g) {}

  const Graph& graph_;
  std::vector<NodeId> order_;
  std::vector<KernelPtr> kernels_;           // by NodeId
  std::vector<Tensor> constants_;            // by ValueId: initializers and input defaults
  std::vector<std::vector<ValueId>> frees_;  // by step: values whose last reader ran at that step
};

}  // namespace tandem
