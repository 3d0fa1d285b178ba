#include "runtime_cpu/kernels/subgraph_body.h"

namespace tandem::cpu {

std::vector<const Tensor*> SubgraphBody::outer(const KernelContext& ctx) const {
  std::vector<const Tensor*> out;
  out.reserve(outer_slots.size());
  for (std::size_t slot : outer_slots) out.push_back(ctx.implicit_inputs()[slot]);
  return out;
}

Status check_iteration(const KernelContext& ctx, const char* what, int64_t i) {
  const RunControl* c = ctx.control();
  if (!c || !c->active()) return Status::ok();
  return c->check(node_where(ctx.graph(), ctx.node_id()) + ": " + what + " " + std::to_string(i));
}

Result<SubgraphBody> compile_subgraph_body(const KernelInit& init, const std::string& attr) {
  const Attribute* a = init.node().attribute(attr);
  if (!a || a->kind != Attribute::Kind::kGraph || !a->g) return init.error("attribute '" + attr + "' is missing");
  SubgraphBody body;
  body.graph = a->g.get();
  TANDEM_ASSIGN_OR_RETURN(body.executor, init.compile_subgraph(*a->g));
  const Node& n = init.node();
  for (ValueId ref : a->g->outer_refs()) {
    const std::string& name = a->g->value(ref).name;
    std::size_t slot = n.implicit_inputs.size();
    for (std::size_t k = 0; k < n.implicit_inputs.size(); ++k)
      if (init.graph.value(n.implicit_inputs[k]).name == name) slot = k;
    if (slot == n.implicit_inputs.size())
      return init.error("internal error: " + attr + " reads '" + name + "', which the node does not capture");
    body.outer_slots.push_back(slot);
  }
  return body;
}

}  // namespace tandem::cpu
