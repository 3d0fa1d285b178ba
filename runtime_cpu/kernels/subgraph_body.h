// A nested graph (If's branches, Loop's and Scan's body) compiled for the owning node's device, with where
// each value it reads from the enclosing graph sits among the node's implicit inputs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/executor.h"
#include "runtime/kernel.h"

namespace tandem::cpu {

struct SubgraphBody {
  std::shared_ptr<const GraphExecutor> executor;
  const Graph* graph = nullptr;
  std::vector<std::size_t> outer_slots;  // per graph->outer_refs(): index into the node's implicit inputs

  // The enclosing values the body reads, in its outer_refs() order, from the running node's context.
  std::vector<const Tensor*> outer(const KernelContext& ctx) const;
  // Runs the body once (a branch, an iteration) under the running node's run control. Loops call
  // check_iteration first: a body of no nodes would otherwise never see the control.
  Result<std::vector<Tensor>> run(const KernelContext& ctx, std::span<const Tensor* const> feeds,
                                  std::span<const Tensor* const> outer) const {
    return executor->run(feeds, outer, nullptr, ctx.control());
  }
};

// Whether the run may go on to iteration `i` ("iteration", "element") of the running node: its deadline
// not passed, not cancelled (runtime/run_control.h).
Status check_iteration(const KernelContext& ctx, const char* what, int64_t i);

// Compiles the graph attribute `attr` of the node being made.
Result<SubgraphBody> compile_subgraph_body(const KernelInit& init, const std::string& attr);

}  // namespace tandem::cpu
