#include "runtime/executor.h"

#include <exception>

#include "graph/liveness.h"
#include "runtime/constants_at_run.h"
#include "graph/topo_order.h"

namespace tandem {

Result<std::shared_ptr<const GraphExecutor>> GraphExecutor::compile(const Graph& g, const Device& device) {
  std::shared_ptr<GraphExecutor> ex(new GraphExecutor(g, device));
  TANDEM_ASSIGN_OR_RETURN(ex->order_, topological_order(g));

  ex->kernels_.resize(g.num_nodes());
  for (NodeId id : ex->order_) {
    const Support s = device.supports(g, id);
    if (!s.ok) return Status::error("node " + g.node(id).label(id) + ": " + s.reason);
    KernelInit init{g, id, [&device](const Graph& body) { return GraphExecutor::compile(body, device); }};
    TANDEM_ASSIGN_OR_RETURN(ex->kernels_[static_cast<std::size_t>(id)], device.create_kernel(init));
  }

  // Constants the kernels packed are held without their elements (runtime/constants_at_run.h).
  ex->constant_read_ = constants_read_at_run(g, ex->kernels_);
  ex->constants_ = constants_for_runs(g, ex->constant_read_);
  ex->initial_at_.assign(g.num_values(), nullptr);
  for (std::size_t v = 0; v < g.num_values(); ++v)
    if (ex->constants_[v].defined()) ex->initial_at_[v] = &ex->constants_[v];

  // A run keeps the tensors it produces in slots, one per node output (not one per value: after constant
  // folding most values are constants, and a run made and destroyed an empty Tensor for each).
  ex->slot_.assign(g.num_values(), -1);
  for (NodeId id : ex->order_)
    for (ValueId v : g.node(id).outputs)
      if (v != kNoValue) ex->slot_[static_cast<std::size_t>(v)] = ex->num_slots_++;

  // Free each intermediate as soon as its last reader has run, so peak memory follows liveness.
  const std::vector<Lifetime> life = compute_liveness(g, ex->order_);
  ex->frees_.resize(ex->order_.size());
  for (std::size_t v = 0; v < life.size(); ++v) {
    const Value& val = g.values()[v];
    if (val.kind != ValueKind::kNodeOutput) continue;
    const int last = life[v].last >= 0 ? life[v].last : life[v].first;  // unread outputs go right away
    if (last >= 0 && last < static_cast<int>(ex->order_.size()))
      ex->frees_[static_cast<std::size_t>(last)].push_back(static_cast<ValueId>(v));
  }
  return std::shared_ptr<const GraphExecutor>(std::move(ex));
}

Result<std::vector<Tensor>> GraphExecutor::run(std::span<const Tensor* const> inputs,
                                               std::span<const Tensor* const> outer,
                                               const NodeObserver* observer,
                                               const RunControl* control) const {
  const Graph& g = graph_;
  if (inputs.size() != g.inputs().size())
    return Status::error("graph '" + g.name + "' takes " + std::to_string(g.inputs().size()) + " inputs, got " +
                         std::to_string(inputs.size()));
  if (outer.size() != g.outer_refs().size())
    return Status::error("graph '" + g.name + "' reads " + std::to_string(g.outer_refs().size()) +
                         " outer values, got " + std::to_string(outer.size()));

  // Per run: the tensors this run produces or was given, and for every value where its tensor lives (the
  // constants are read in place, so a run touches no reference count of theirs).
  std::vector<Tensor> owned(static_cast<std::size_t>(num_slots_));
  std::vector<const Tensor*> at(initial_at_);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto v = static_cast<std::size_t>(g.inputs()[i]);
    if (inputs[i]) at[v] = inputs[i];
    else if (!at[v]) return Status::error("graph input '" + g.value(g.inputs()[i]).name + "' was not given");
  }
  for (std::size_t i = 0; i < outer.size(); ++i) at[static_cast<std::size_t>(g.outer_refs()[i])] = outer[i];

  std::vector<const Tensor*> in_ptrs, implicit_ptrs;
  std::vector<Tensor> outs;  // the node's outputs, moved into `owned`; one buffer for every node of the run
  auto ptr = [&](ValueId v) { return v == kNoValue ? nullptr : at[static_cast<std::size_t>(v)]; };
  for (std::size_t step = 0; step < order_.size(); ++step) {
    const NodeId id = order_[step];
    const Node& n = g.node(id);
    if (control && control->active()) TANDEM_RETURN_IF_ERROR(control->check(node_where(g, id)));
    in_ptrs.clear();
    implicit_ptrs.clear();
    for (ValueId v : n.inputs) in_ptrs.push_back(ptr(v));
    for (ValueId v : n.implicit_inputs) implicit_ptrs.push_back(ptr(v));
    outs.clear();
    outs.resize(n.outputs.size());
    KernelContext ctx(g, id, in_ptrs, implicit_ptrs, outs, device_.output_allocator());
    ctx.set_control(control);
    Status s;
    const auto start = observer ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    s = run_kernel(*kernels_[static_cast<std::size_t>(id)], ctx);
    TANDEM_RETURN_IF_ERROR(s);
    if (observer) (*observer)(NodeEvent{id, start, std::chrono::steady_clock::now(), outs, in_ptrs, implicit_ptrs});
    for (std::size_t k = 0; k < n.outputs.size(); ++k) {
      if (n.outputs[k] == kNoValue) continue;
      if (!outs[k].defined()) return ctx.error("internal error: output " + std::to_string(k) + " was not produced");
      const auto v = static_cast<std::size_t>(n.outputs[k]);
      Tensor& slot = owned[static_cast<std::size_t>(slot_[v])];
      slot = std::move(outs[k]);
      at[v] = &slot;
    }
    for (ValueId v : frees_[step])
      if (!g.is_graph_output(v)) {
        owned[static_cast<std::size_t>(slot_[static_cast<std::size_t>(v)])] = Tensor();
        at[static_cast<std::size_t>(v)] = nullptr;
      }
  }

  std::vector<Tensor> result;
  result.reserve(g.outputs().size());
  for (ValueId v : g.outputs()) {
    const Tensor* t = at[static_cast<std::size_t>(v)];
    if (!t) return Status::error("graph output '" + g.value(v).name + "' was not computed");
    result.push_back(*t);  // shares the storage: an input, a constant or this run's own
  }
  return result;
}

}  // namespace tandem
