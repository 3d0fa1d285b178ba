// Loop: runs its body while the trip count and the condition allow, carrying values from one iteration to
// the next and stacking the scan outputs of every iteration along a new first axis.
//
// Body inputs: (iteration number, condition, carried values...); body outputs: (condition, carried
// values..., scan outputs...). The loop's outputs are the final carried values, then the scan outputs.
// Neither trip count nor condition would loop forever (ONNX's "for (i = 0; ; ++i)"): refused when the node
// is made rather than hanging a run. Carried values may be sequences or optionals (opset 13, 16); scan
// outputs are tensors.

#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/stack_slices.h"
#include "runtime_cpu/kernels/subgraph_body.h"

namespace tandem::cpu {
namespace {

// A single int64 (the trip count) or bool (a condition): one element, any rank that holds one.
Result<int64_t> read_trip_count(const KernelContext& ctx, const Tensor& t) {
  if (t.dtype() != DType::kInt64 || t.numel() != 1)
    return ctx.error("the trip count M must be a single int64, got " + t.describe());
  return t.data<int64_t>()[0];
}

Result<bool> read_condition(const KernelContext& ctx, const Tensor& t, const std::string& what) {
  if (t.dtype() != DType::kBool || t.numel() != 1)
    return ctx.error(what + " must be a single bool, got " + t.describe());
  return t.data<uint8_t>()[0] != 0;
}

Tensor scalar_of(int64_t v) {
  Tensor t = Tensor::empty(DType::kInt64, {});
  *static_cast<int64_t*>(t.raw()) = v;
  return t;
}

Tensor scalar_of(bool v) {
  Tensor t = Tensor::empty(DType::kBool, {});
  *static_cast<uint8_t*>(t.raw()) = v ? 1 : 0;
  return t;
}

class LoopKernel final : public Kernel {
 public:
  LoopKernel(SubgraphBody body, std::size_t carried, std::size_t scans)
      : body_(std::move(body)), carried_(carried), scans_(scans) {}
  bool takes_non_tensors() const override { return true; }  // carried sequences and optionals (opset 13, 16)
  bool takes_strings() const override { return true; }

  Status run(KernelContext& ctx) const override {
    const Tensor* m = ctx.input(0);
    const Tensor* c = ctx.input(1);
    if (!m && !c) return ctx.error("has neither a trip count M nor a condition: it would never end");
    int64_t trip_count = 0;
    bool cond = true;
    if (m) {
      TANDEM_ASSIGN_OR_RETURN(trip_count, read_trip_count(ctx, *m));
    }
    if (c) {
      TANDEM_ASSIGN_OR_RETURN(cond, read_condition(ctx, *c, "the condition"));
    }

    std::vector<Tensor> state(carried_);
    for (std::size_t k = 0; k < carried_; ++k) {
      const Tensor* v = ctx.input(2 + k);
      if (!v) return ctx.error("loop-carried input " + std::to_string(2 + k) + " is missing");
      state[k] = *v;
    }
    const std::vector<const Tensor*> outer = body_.outer(ctx);
    std::vector<std::vector<Tensor>> scanned(scans_);
    std::vector<const Tensor*> feeds(2 + carried_);
    int64_t i = 0;
    for (; (!m || i < trip_count) && cond; ++i) {
      TANDEM_RETURN_IF_ERROR(check_iteration(ctx, "iteration", i));
      const Tensor iteration = scalar_of(i), cond_in = scalar_of(cond);
      feeds[0] = &iteration;
      feeds[1] = &cond_in;
      for (std::size_t k = 0; k < carried_; ++k) feeds[2 + k] = &state[k];
      auto outs = body_.run(ctx, feeds, outer);
      if (!outs) return ctx.error("iteration " + std::to_string(i) + ": " + outs.status().message());
      if (outs->size() != 1 + carried_ + scans_)
        return ctx.error("the body returned " + std::to_string(outs->size()) + " values, expected " +
                         std::to_string(1 + carried_ + scans_));
      // A loop without a condition input ignores the body's (ONNX: "cond = ...; // ignored").
      if (c) {
        TANDEM_ASSIGN_OR_RETURN(cond, read_condition(ctx, (*outs)[0], "the body's condition output"));
      }
      for (std::size_t k = 0; k < carried_; ++k) state[k] = std::move((*outs)[1 + k]);
      for (std::size_t k = 0; k < scans_; ++k) scanned[k].push_back(std::move((*outs)[1 + carried_ + k]));
    }

    for (std::size_t k = 0; k < carried_ && k < ctx.num_outputs(); ++k) ctx.set_output(k, std::move(state[k]));
    for (std::size_t k = 0; k < scans_ && carried_ + k < ctx.num_outputs(); ++k) {
      const std::size_t out = carried_ + k;
      if (!ctx.wants_output(out)) continue;
      const std::string what = "scan output " + std::to_string(k);
      if (scanned[k].empty()) {
        // No iteration ran: [0, element shape] when the body declares that shape, else [0].
        TANDEM_ASSIGN_OR_RETURN(Tensor empty, empty_stack(ctx, *body_.graph, 1 + carried_ + k, 0, what));
        ctx.set_output(out, std::move(empty));
        continue;
      }
      TANDEM_RETURN_IF_ERROR(stack_slices(ctx, out, scanned[k], /*axis=*/0, /*reverse=*/false, what));
    }
    return Status::ok();
  }

 private:
  SubgraphBody body_;
  std::size_t carried_, scans_;
};

Result<KernelPtr> make_loop(const KernelInit& init) {
  const Node& n = init.node();
  if (n.inputs.size() < 2) return init.error("needs inputs M and cond (either may be empty)");
  TANDEM_ASSIGN_OR_RETURN(SubgraphBody body, compile_subgraph_body(init, "body"));
  const std::size_t carried = n.inputs.size() - 2;
  const Graph& g = *body.graph;
  if (g.inputs().size() != 2 + carried)
    return init.error("the body takes " + std::to_string(g.inputs().size()) + " inputs; a loop with " +
                      std::to_string(carried) + " carried values needs " + std::to_string(2 + carried) +
                      " (iteration number, condition, the carried values)");
  if (g.outputs().size() < 1 + carried)
    return init.error("the body returns " + std::to_string(g.outputs().size()) + " values; it needs at least " +
                      std::to_string(1 + carried) + " (condition, the carried values)");
  const std::size_t scans = g.outputs().size() - 1 - carried;
  if (n.outputs.size() > carried + scans)
    return init.error("has " + std::to_string(n.outputs.size()) + " outputs; its body makes " +
                      std::to_string(carried) + " carried values and " + std::to_string(scans) + " scan outputs");
  if (n.inputs[0] == kNoValue && n.inputs[1] == kNoValue)
    return init.error("has neither a trip count M nor a condition: it would never end");
  return KernelPtr(new LoopKernel(std::move(body), carried, scans));
}

}  // namespace

void register_loop_kernels(KernelRegistry& r) {
  r.add("Loop", make_loop);
  r.take_strings("Loop");
}

}  // namespace tandem::cpu
