// ONNX's optional ops: Optional, OptionalHasElement and OptionalGetElement. An optional that holds a value
// is that value itself (a tensor or a sequence); an empty one is Tensor::none (runtime/tensor.h).
#include "runtime_cpu/kernels/register.h"

namespace tandem::cpu {
namespace {

class OptionalKernel final : public Kernel {
 public:
  // `empty`: what the node makes without an input (from its `type` attribute).
  explicit OptionalKernel(Tensor empty) : empty_(std::move(empty)) {}
  bool takes_non_tensors() const override { return true; }
  bool takes_strings() const override { return true; }

  Status run(KernelContext& ctx) const override {
    const Tensor* x = ctx.input(0);
    if (!x) {
      if (!empty_.defined()) return ctx.error("has neither an input nor a 'type' attribute");
      ctx.set_output(0, empty_);
      return Status::ok();
    }
    if (x->is_none()) return ctx.error("input 0 must be a tensor or a sequence, got an empty optional");
    ctx.set_output(0, *x);
    return Status::ok();
  }

 private:
  Tensor empty_;
};

Result<KernelPtr> make_optional(const KernelInit& init) {
  const Node& n = init.node();
  const Attribute* type = n.attribute("type");
  Tensor empty;
  if (type) {
    if (type->kind != Attribute::Kind::kType) return init.error("attribute 'type' must be a type");
    if (type->type_form != ValueForm::kTensor && type->type_form != ValueForm::kSequence)
      return init.error(std::string("attribute 'type' must be a tensor or sequence type, not ") +
                        value_form_name(type->type_form));
    empty = Tensor::none(type->type_dtype, type->type_form == ValueForm::kSequence);
  }
  const bool has_input = !n.inputs.empty() && n.inputs[0] != kNoValue;
  if (!has_input && !type) return init.error("has neither an input nor a 'type' attribute");
  return KernelPtr(new OptionalKernel(std::move(empty)));
}

// Opset 15 takes an optional; opset 18 also a plain tensor or sequence (always holding a value) or no
// input at all (holding none).
class OptionalHasElementKernel final : public Kernel {
 public:
  bool takes_non_tensors() const override { return true; }
  bool takes_strings() const override { return true; }
  Status run(KernelContext& ctx) const override {
    const Tensor* x = ctx.input(0);
    Tensor& y = ctx.allocate_output(0, DType::kBool, {});
    y.data<uint8_t>()[0] = x && !x->is_none() ? 1 : 0;
    return Status::ok();
  }
};

class OptionalGetElementKernel final : public Kernel {
 public:
  bool takes_non_tensors() const override { return true; }
  bool takes_strings() const override { return true; }
  Status run(KernelContext& ctx) const override {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("input 0 is missing");
    if (x->is_none()) return ctx.error("the optional input is empty: there is no element to get");
    ctx.set_output(0, *x);
    return Status::ok();
  }
};

}  // namespace

void register_optional_kernels(KernelRegistry& r) {
  r.add("Optional", make_optional);
  r.add("OptionalHasElement", [](const KernelInit&) -> Result<KernelPtr> {
    return KernelPtr(new OptionalHasElementKernel());
  });
  r.add("OptionalGetElement", [](const KernelInit&) -> Result<KernelPtr> {
    return KernelPtr(new OptionalGetElementKernel());
  });
  for (const char* op : {"Optional", "OptionalHasElement", "OptionalGetElement"}) r.take_strings(op);
}

}  // namespace tandem::cpu
