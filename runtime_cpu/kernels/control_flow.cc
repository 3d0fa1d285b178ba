// If (a choice between two compiled bodies), Constant and Identity.
#include <cstring>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/subgraph_body.h"

namespace tandem::cpu {
namespace {

class IfKernel final : public Kernel {
 public:
  IfKernel(SubgraphBody then_body, SubgraphBody else_body)
      : then_(std::move(then_body)), else_(std::move(else_body)) {}
  bool takes_non_tensors() const override { return true; }  // the condition is checked; the rest is passed on
  bool takes_strings() const override { return true; }

  Status run(KernelContext& ctx) const override {
    const Tensor* cond = ctx.input(0);
    if (!cond || cond->numel() != 1 || cond->dtype() != DType::kBool)
      return ctx.error("the condition must be a single bool, got " + (cond ? cond->describe() : "nothing"));
    const SubgraphBody& body = cond->data<uint8_t>()[0] ? then_ : else_;
    auto outs = body.run(ctx, {}, body.outer(ctx));
    if (!outs) return ctx.error(outs.status().message());
    if (outs->size() != ctx.num_outputs())
      return ctx.error("the branch returned " + std::to_string(outs->size()) + " values for " +
                       std::to_string(ctx.num_outputs()) + " outputs");
    for (std::size_t k = 0; k < outs->size(); ++k) ctx.set_output(k, std::move((*outs)[k]));
    return Status::ok();
  }

 private:
  SubgraphBody then_, else_;
};

Result<KernelPtr> make_if(const KernelInit& init) {
  // A condition declared with more (or fewer) than one element can never run; refused when the kernel is
  // made, before `tandem run` spent minutes filling a declared [2^31] input with random bools.
  const Node& n = init.node();
  if (!n.inputs.empty() && n.inputs[0] != kNoValue) {
    const Value& cond = init.graph.value(n.inputs[0]);
    for (const Dim& d : cond.shape.dims())
      if (d.is_known() && d.value != 1)
        return init.error("the condition must be a single bool, but '" + cond.name + "' is declared " +
                          cond.shape.to_string());
  }
  TANDEM_ASSIGN_OR_RETURN(SubgraphBody then_body, compile_subgraph_body(init, "then_branch"));
  TANDEM_ASSIGN_OR_RETURN(SubgraphBody else_body, compile_subgraph_body(init, "else_branch"));
  return KernelPtr(new IfKernel(std::move(then_body), std::move(else_body)));
}

// Its value is built once, when the kernel is made; running hands out the same storage every time.
class ConstantKernel final : public Kernel {
 public:
  explicit ConstantKernel(Tensor value) : value_(std::move(value)) {}
  Status run(KernelContext& ctx) const override {
    ctx.set_output(0, value_);
    return Status::ok();
  }
  bool takes_strings() const override { return true; }

 private:
  Tensor value_;
};

template <typename T>
Tensor tensor_of(DType dtype, std::vector<int64_t> shape, const std::vector<T>& values) {
  Tensor t = Tensor::empty(dtype, std::move(shape));
  if (!values.empty()) std::memcpy(t.raw(), values.data(), values.size() * sizeof(T));
  return t;
}

Result<KernelPtr> make_constant(const KernelInit& init) {
  const Node& n = init.node();
  if (n.attributes.size() != 1) return init.error("needs exactly one value attribute");
  const auto& [name, a] = *n.attributes.begin();
  Tensor value;
  if (name == "value" || name == "sparse_value") {
    if (a.kind != Attribute::Kind::kTensor || !a.t) return init.error("attribute '" + name + "' is not a tensor");
    value = Tensor::from_constant(a.t);
  } else if (name == "value_float") {
    value = tensor_of<float>(DType::kFloat32, {}, {a.f});
  } else if (name == "value_floats") {
    value = tensor_of<float>(DType::kFloat32, {static_cast<int64_t>(a.floats.size())}, a.floats);
  } else if (name == "value_int") {
    value = tensor_of<int64_t>(DType::kInt64, {}, {a.i});
  } else if (name == "value_ints") {
    value = tensor_of<int64_t>(DType::kInt64, {static_cast<int64_t>(a.ints.size())}, a.ints);
  } else if (name == "value_string" || name == "value_strings") {
    const bool one = name == "value_string";
    if (a.kind != (one ? Attribute::Kind::kString : Attribute::Kind::kStrings))
      return init.error("attribute '" + name + "' is not a " + (one ? "string" : "list of strings"));
    auto data = std::make_shared<TensorData>();
    data->dtype = DType::kString;
    data->strings = one ? std::vector<std::string>{a.s} : a.strings;
    if (!one) data->dims = {static_cast<int64_t>(a.strings.size())};
    value = Tensor::from_constant(data);
  } else {
    return init.error("attribute '" + name + "' is not supported");
  }
  return KernelPtr(new ConstantKernel(std::move(value)));
}

class IdentityKernel final : public Kernel {
 public:
  bool takes_non_tensors() const override { return true; }  // Identity of a sequence or an optional (opset 14, 16)
  bool takes_strings() const override { return true; }
  Status run(KernelContext& ctx) const override {
    if (!ctx.input(0)) return ctx.error("input 0 is missing");
    ctx.set_output(0, *ctx.input(0));  // shares the storage: tensors are immutable
    return Status::ok();
  }
};

Result<KernelPtr> make_identity(const KernelInit&) { return KernelPtr(new IdentityKernel()); }

}  // namespace

void register_control_flow_kernels(KernelRegistry& r) {
  r.add("If", make_if);
  r.add("Constant", make_constant);
  r.add("Identity", make_identity);
  for (const char* op : {"If", "Constant", "Identity"}) r.take_strings(op);
}

}  // namespace tandem::cpu
