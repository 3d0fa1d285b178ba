// SequenceMap (opset 17): runs its body once per element of the input sequence. Body input j takes element
// i of node input j when that is a sequence (every sequence input must have the same length), or node
// input j whole when it is a tensor; body output k's results form output sequence k.
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/subgraph_body.h"

namespace tandem::cpu {
namespace {

class SequenceMapKernel final : public Kernel {
 public:
  SequenceMapKernel(SubgraphBody body, std::vector<DType> output_dtypes)
      : body_(std::move(body)), output_dtypes_(std::move(output_dtypes)) {}
  bool takes_non_tensors() const override { return true; }
  bool takes_strings() const override { return true; }

  Status run(KernelContext& ctx) const override {
    const Tensor* first = ctx.input(0);
    if (!first || !first->is_sequence())
      return ctx.error("input 0 must be a sequence, got " + (first ? first->describe() : std::string("nothing")));
    const std::size_t length = first->elements().size();
    for (std::size_t j = 0; j < ctx.num_inputs(); ++j) {
      const Tensor* in = ctx.input(j);
      if (!in) return ctx.error("input " + std::to_string(j) + " is missing");
      if (in->is_none()) return ctx.error("input " + std::to_string(j) + " is an empty optional");
      if (in->is_sequence() && in->elements().size() != length)
        return ctx.error("input " + std::to_string(j) + " is a " + in->describe() + " but input 0 is a " +
                         first->describe() + ": every sequence input must have the same length");
    }
    const std::vector<const Tensor*> outer = body_.outer(ctx);
    std::vector<std::vector<Tensor>> results(ctx.num_outputs());
    std::vector<const Tensor*> feeds(ctx.num_inputs());
    for (std::size_t i = 0; i < length; ++i) {
      TANDEM_RETURN_IF_ERROR(check_iteration(ctx, "element", static_cast<int64_t>(i)));
      for (std::size_t j = 0; j < ctx.num_inputs(); ++j) {
        const Tensor* in = ctx.input(j);
        feeds[j] = in->is_sequence() ? &in->elements()[i] : in;
      }
      auto outs = body_.run(ctx, feeds, outer);
      if (!outs) return ctx.error("element " + std::to_string(i) + ": " + outs.status().message());
      if (outs->size() != results.size())
        return ctx.error("the body returned " + std::to_string(outs->size()) + " values for " +
                         std::to_string(results.size()) + " outputs");
      for (std::size_t k = 0; k < results.size(); ++k) {
        Tensor& t = (*outs)[k];
        if (!t.is_tensor())
          return ctx.error("element " + std::to_string(i) + ": body output " + std::to_string(k) + " is a " +
                           t.describe() + "; SequenceMap's body makes tensors");
        results[k].push_back(std::move(t));
      }
    }
    for (std::size_t k = 0; k < results.size(); ++k) {
      DType dtype = results[k].empty() ? output_dtypes_[k] : results[k][0].dtype();
      for (const Tensor& t : results[k])
        if (t.dtype() != dtype)
          return ctx.error("body output " + std::to_string(k) + " made " + t.describe() + " and " +
                           std::string(dtype_name(dtype)) + " tensors: a sequence holds one element type");
      ctx.set_output(k, Tensor::sequence(dtype, std::move(results[k])));
    }
    return Status::ok();
  }

 private:
  SubgraphBody body_;
  std::vector<DType> output_dtypes_;  // what an empty input sequence's outputs hold: the body's declared types
};

Result<KernelPtr> make_sequence_map(const KernelInit& init) {
  const Node& n = init.node();
  if (n.inputs.empty() || n.inputs[0] == kNoValue) return init.error("needs an input sequence");
  TANDEM_ASSIGN_OR_RETURN(SubgraphBody body, compile_subgraph_body(init, "body"));
  const Graph& g = *body.graph;
  if (g.inputs().size() != n.inputs.size())
    return init.error("the body takes " + std::to_string(g.inputs().size()) + " inputs; the node gives " +
                      std::to_string(n.inputs.size()));
  if (g.outputs().size() != n.outputs.size())
    return init.error("the body makes " + std::to_string(g.outputs().size()) + " values for " +
                      std::to_string(n.outputs.size()) + " outputs");
  std::vector<DType> dtypes;
  for (ValueId v : g.outputs()) dtypes.push_back(g.value(v).dtype);
  return KernelPtr(new SequenceMapKernel(std::move(body), std::move(dtypes)));
}

}  // namespace

void register_sequence_map_kernels(KernelRegistry& r) {
  r.add("SequenceMap", make_sequence_map);
  r.take_strings("SequenceMap");
}

}  // namespace tandem::cpu
