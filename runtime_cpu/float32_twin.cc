#include "runtime_cpu/float32_twin.h"

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime_cpu/kernels/element_types.h"

namespace tandem::cpu {
namespace {

// Their CPU kernels take float32 (some also float64) and no 16-bit float.
constexpr std::array<std::string_view, 26> kFloat32Ops = {
    "AveragePool", "BatchNormalization", "Conv", "ConvTranspose", "Gemm", "GlobalAveragePool", "GlobalLpPool",
    "GlobalMaxPool", "InstanceNormalization", "LayerNormalization", "LogSoftmax", "LpNormalization", "LpPool",
    "MatMul", "MaxPool", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean",
    "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare", "Softmax"};

bool is_float32_op(const Node& n) {
  return n.domain.empty() && std::find(kFloat32Ops.begin(), kFloat32Ops.end(), n.op_type) != kFloat32Ops.end();
}

// `count` float16 or bfloat16 elements as float32 (exact: every one is a float32).
void widen(DType from, const uint16_t* in, int64_t count, float* out) {
  for (int64_t i = 0; i < count; ++i) out[i] = narrow_to_float(from, in[i]);
}

// The node alone in a graph of its own, its 16-bit float values float32 and its 16-bit constants widened
// (their ids in `widened`).
std::unique_ptr<Graph> float32_twin(const Graph& g, const Node& n, std::vector<ValueId>& widened) {
  auto twin = std::make_unique<Graph>();
  twin->name = g.name;
  std::map<ValueId, ValueId> ids;
  const auto copy = [&](ValueId v) -> ValueId {
    if (v == kNoValue) return kNoValue;
    if (auto it = ids.find(v); it != ids.end()) return it->second;
    const Value& from = g.value(v);
    const ValueKind kind = from.kind == ValueKind::kInitializer ? ValueKind::kInitializer
                           : from.kind == ValueKind::kNodeOutput ? ValueKind::kNodeOutput
                                                                 : ValueKind::kGraphInput;
    const ValueId id = twin->add_value(from.name, kind);
    Value& to = twin->value(id);
    to.form = from.form;
    to.shape = from.shape;
    to.dtype = is_narrow_float(from.dtype) ? DType::kFloat32 : from.dtype;
    to.data = from.data;
    if (from.data && is_narrow_float(from.data->dtype)) {
      auto wide = std::make_shared<TensorData>();
      wide->dtype = DType::kFloat32;
      wide->dims = from.data->dims;
      const int64_t count = from.data->num_elements();
      wide->bytes.resize(static_cast<std::size_t>(count) * sizeof(float));
      widen(from.data->dtype, reinterpret_cast<const uint16_t*>(from.data->bytes.data()), count,
            reinterpret_cast<float*>(wide->bytes.data()));
      to.data = std::move(wide);
      widened.push_back(id);
    }
    if (kind == ValueKind::kInitializer) twin->add_initializer(id);
    else if (kind == ValueKind::kGraphInput) twin->add_input(id);
    ids.emplace(v, id);
    return id;
  };
  Node copy_of = n;
  copy_of.implicit_inputs.clear();  // none of these ops has a nested body
  for (ValueId& v : copy_of.inputs) v = copy(v);
  for (ValueId& v : copy_of.outputs) v = copy(v);
  const NodeId id = twin->add_node(std::move(copy_of));
  for (ValueId v : twin->node(id).outputs)
    if (v != kNoValue) twin->add_output(v);
  return twin;
}

class Float32TwinKernel final : public Kernel {
 public:
  Float32TwinKernel(std::unique_ptr<Graph> twin, const std::vector<ValueId>& widened, KernelPtr inner,
                    std::vector<DType> output_types, std::string label)
      : twin_(std::move(twin)), inner_(std::move(inner)), output_types_(std::move(output_types)),
        label_(std::move(label)) {
    // The 16-bit constants, widened once in the twin, stand in for the model's at every run.
    const Node& n = twin_->node(0);
    widened_constants_.resize(n.inputs.size());
    for (std::size_t i = 0; i < n.inputs.size(); ++i) {
      if (std::find(widened.begin(), widened.end(), n.inputs[i]) == widened.end()) continue;
      const Value& v = twin_->value(n.inputs[i]);
      if (v.kind != ValueKind::kInitializer) continue;  // a graph input's default may be overridden
      widened_constants_[i] = Tensor::from_constant(v.data);
    }
    for (ValueId v : widened) widened_bytes_ += static_cast<int64_t>(twin_->value(v).data->byte_size());
  }

  Status run(KernelContext& ctx) const override {
    std::vector<Tensor> widened(ctx.num_inputs());
    std::vector<const Tensor*> inputs(ctx.num_inputs());
    std::size_t scratch = 0;
    for (std::size_t i = 0; i < ctx.num_inputs(); ++i) {
      const Tensor* t = ctx.input(i);
      inputs[i] = t;
      if (!t || !t->is_tensor() || !is_narrow_float(t->dtype())) continue;
      if (i < widened_constants_.size() && widened_constants_[i].defined()) {
        inputs[i] = &widened_constants_[i];
        continue;
      }
      widened[i] = Tensor::empty(DType::kFloat32, t->shape());
      widen(t->dtype(), t->data<uint16_t>(), t->numel(), widened[i].data<float>());
      inputs[i] = &widened[i];
      scratch += widened[i].nbytes();
    }
    std::vector<Tensor> outputs(ctx.num_outputs());
    KernelContext inner(*twin_, 0, inputs, ctx.implicit_inputs(), outputs);
    inner.set_control(ctx.control());
    if (Status s = run_kernel(*inner_, inner); !s) return relabelled(s);
    for (std::size_t k = 0; k < outputs.size(); ++k) {
      if (!ctx.wants_output(k) || !outputs[k].defined()) continue;
      const DType want = output_types_[k];
      if (!is_narrow_float(want) || !outputs[k].is_tensor() || outputs[k].dtype() != DType::kFloat32) {
        ctx.set_output(k, std::move(outputs[k]));
        continue;
      }
      scratch += outputs[k].nbytes();
      Tensor& y = ctx.allocate_output(k, want, outputs[k].shape());
      const float* from = outputs[k].data<float>();
      auto* to = y.data<uint16_t>();
      for (int64_t i = 0, n = y.numel(); i < n; ++i) to[i] = float_to_narrow(want, from[i]);
    }
    ctx.note_workspace(scratch + inner.workspace_bytes(), inner.workspace_held());
    return Status::ok();
  }

  // The widened constants are the kernel's own (the model keeps its 16-bit ones), besides what the inner
  // kernel packed of them.
  int64_t own_weight_bytes() const override {
    return widened_bytes_ == 0 ? inner_->own_weight_bytes() : widened_bytes_ + std::max<int64_t>(inner_->own_weight_bytes(), 0);
  }
  // A widened constant stands in for the model's 16-bit one; other inputs go to the inner kernel as given.
  bool reads_constant_input(std::size_t i) const override {
    if (i < widened_constants_.size() && widened_constants_[i].defined()) return false;
    return inner_->reads_constant_input(i);
  }

 private:
  // The inner kernel's messages name the twin's node, which is node #0 of its graph: an unnamed node is
  // named as the model's graph has it.
  Status relabelled(const Status& s) const {
    const std::string twin_label = "node " + twin_->node(0).label(0);
    std::string message = s.message();
    if (message.rfind(twin_label, 0) == 0) message = "node " + label_ + message.substr(twin_label.size());
    return Status::error(message);
  }

  std::unique_ptr<Graph> twin_;  // the kernel and its runs refer to it
  KernelPtr inner_;
  std::vector<DType> output_types_;  // the node's, by output: 16-bit ones are rounded to
  std::string label_;
  std::vector<Tensor> widened_constants_;  // by input: a 16-bit constant widened (else undefined)
  int64_t widened_bytes_ = 0;
};

}  // namespace

bool runs_as_float32_twin(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  if (!is_float32_op(n)) return false;
  const auto narrow = [&](ValueId v) { return v != kNoValue && is_narrow_float(g.value(v).dtype); };
  return std::any_of(n.inputs.begin(), n.inputs.end(), narrow) ||
         std::any_of(n.outputs.begin(), n.outputs.end(), narrow);
}

Result<KernelPtr> make_float32_twin(const KernelInit& init, const KernelFactory& factory) {
  const Node& n = init.node();
  std::vector<ValueId> widened;
  std::unique_ptr<Graph> twin = float32_twin(init.graph, n, widened);
  TANDEM_ASSIGN_OR_RETURN(KernelPtr inner, factory(KernelInit{*twin, 0, init.compile_subgraph}));
  // Each output's type as the model has it; where the graph does not say, the node's 16-bit type (its
  // first 16-bit float input's), which every output of these ops but LayerNormalization's statistics has.
  DType t = DType::kUndefined;
  for (ValueId v : n.inputs)
    if (v != kNoValue && is_narrow_float(init.graph.value(v).dtype) && t == DType::kUndefined) t = init.graph.value(v).dtype;
  std::vector<DType> types;
  for (std::size_t k = 0; k < n.outputs.size(); ++k) {
    const DType declared = n.outputs[k] == kNoValue ? DType::kUndefined : init.graph.value(n.outputs[k]).dtype;
    types.push_back(declared != DType::kUndefined ? declared : k == 0 ? t : DType::kUndefined);
  }
  return KernelPtr(new Float32TwinKernel(std::move(twin), widened, std::move(inner), std::move(types),
                                         n.label(init.node_id)));
}

}  // namespace tandem::cpu
