#include "runtime_cuda/cuda_kernel.h"

#include <cstring>
#include <optional>
#include <string>

#include "graph/host_values.h"

namespace tandem::cuda {
namespace {

// Every op the GPU runs, with the inputs it reads on the host.
const std::vector<CudaOp>& cuda_ops() {
  using F = CudaFamily;
  static const std::vector<CudaOp> ops = {
      {"MatMul", F::kLinear, {}},
      {"Gemm", F::kLinear, {}},
      {"Add", F::kElementwise, {}},
      {"Sub", F::kElementwise, {}},
      {"Mul", F::kElementwise, {}},
      {"Div", F::kElementwise, {}},
      {"Pow", F::kElementwise, {}},
      {"Max", F::kElementwise, {}},
      {"Min", F::kElementwise, {}},
      {"Neg", F::kElementwise, {}},
      {"Abs", F::kElementwise, {}},
      {"Relu", F::kElementwise, {}},
      {"Sigmoid", F::kElementwise, {}},
      {"Tanh", F::kElementwise, {}},
      {"Exp", F::kElementwise, {}},
      {"Log", F::kElementwise, {}},
      {"Sqrt", F::kElementwise, {}},
      {"Reciprocal", F::kElementwise, {}},
      {"Erf", F::kElementwise, {}},
      {"Softmax", F::kNormalization, {}},
      {"LogSoftmax", F::kNormalization, {}},
      {"LayerNormalization", F::kNormalization, {}},
      {"ReduceSum", F::kNormalization, {1}},
      {"ReduceMean", F::kNormalization, {1}},
      {"ReduceMax", F::kNormalization, {1}},
      {"ReduceMin", F::kNormalization, {1}},
      {"ReduceProd", F::kNormalization, {1}},
      {"ReduceSumSquare", F::kNormalization, {1}},
      {"ReduceL1", F::kNormalization, {1}},
      {"ReduceL2", F::kNormalization, {1}},
      {"ReduceLogSumExp", F::kNormalization, {1}},
      {"Transpose", F::kLayout, {}},
      {"Slice", F::kLayout, {1, 2, 3, 4}},
      {"Concat", F::kLayout, {}},
      {"Split", F::kLayout, {1}},
      {"Gather", F::kLayout, {}},
      {"Expand", F::kLayout, {1}},
      {"Reshape", F::kView, {1}},
      {"Squeeze", F::kView, {1}},
      {"Unsqueeze", F::kView, {1}},
      {"Flatten", F::kView, {}},
      {"Identity", F::kView, {}},
      {"LSTM", F::kRnn, {1, 2, 3, 4, 7}},
      {"GRU", F::kRnn, {1, 2, 3, 4}},
      {"RNN", F::kRnn, {1, 2, 3, 4}},
      {"Conv", F::kConv, {}},
  };
  return ops;
}

bool float_only(const CudaOp& op) {
  if (op.family == CudaFamily::kLinear || op.family == CudaFamily::kNormalization || op.family == CudaFamily::kRnn ||
      op.family == CudaFamily::kConv)
    return true;
  if (op.family != CudaFamily::kElementwise) return false;
  static const char* const kIntOk[] = {"Add", "Sub", "Mul", "Div", "Max", "Min"};
  for (const char* name : kIntOk)
    if (std::strcmp(op.op, name) == 0) return false;
  return true;
}

}  // namespace

const CudaOp* find_cuda_op(const std::string& op_type) {
  for (const CudaOp& op : cuda_ops())
    if (op_type == op.op) return &op;
  return nullptr;
}

TensorDataPtr constant_value(const Graph& g, ValueId v) {
  if (v == kNoValue) return nullptr;
  const Value& val = g.value(v);
  if (val.kind == ValueKind::kInitializer) return val.data;
  if (val.kind != ValueKind::kNodeOutput || val.producer == kNoNode) return nullptr;
  const Node& p = g.node(val.producer);
  if (p.op_type != "Constant" || !p.domain.empty()) return nullptr;
  const Attribute* a = p.attribute("value");
  return a && a->kind == Attribute::Kind::kTensor ? a->t : nullptr;
}

Support cuda_supports(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  if (!n.domain.empty()) return {false, "no CUDA kernel for domain '" + n.domain + "'"};
  // Sequences, optionals and strings are host-side values: nodes that touch them run on the CPU.
  if (std::optional<std::string> why = host_only_value(g, id)) return {false, *why};
  const CudaOp* op = find_cuda_op(n.op_type);
  if (!op) return {false, "no CUDA kernel for op '" + n.op_type + "'"};
  for (int i : op->host_inputs) {
    const auto k = static_cast<std::size_t>(i);
    if (k >= n.inputs.size() || n.inputs[k] == kNoValue) continue;
    if (!constant_value(g, n.inputs[k]))
      return {false, n.op_type + " reads input " + std::to_string(i) + " ('" + g.value(n.inputs[k]).name +
                         "') on the host, so on the GPU it must be a constant"};
  }
  auto dtype_of = [&](std::size_t i) {
    return i < n.inputs.size() && n.inputs[i] != kNoValue ? g.value(n.inputs[i]).dtype : DType::kUndefined;
  };
  // An RNN's X, W, R, B, initial_h, initial_c and P share one type T, and the GPU's RNN takes float32 only:
  // a float16 or float64 node stays on the CPU, which runs every T (said here even when X's type is unknown).
  if (op->family == CudaFamily::kRnn)
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 7}) {
      const TensorDataPtr c = i < n.inputs.size() ? constant_value(g, n.inputs[i]) : nullptr;
      const DType t = c ? c->dtype : dtype_of(i);
      if (t != DType::kUndefined && t != DType::kFloat32)
        return {false, n.op_type + " on the GPU takes float32, not " + std::string(dtype_name(t)) + " (input " +
                           std::to_string(i) + " '" + g.value(n.inputs[i]).name + "'); the CPU runs it"};
    }
  const DType x = dtype_of(0);
  if (x != DType::kUndefined) {
    if (float_only(*op) && x != DType::kFloat32)
      return {false, n.op_type + " on the GPU takes float32, not " + std::string(dtype_name(x))};
    if (!float_only(*op) && op->family == CudaFamily::kElementwise && x != DType::kFloat32 && x != DType::kInt32 &&
        x != DType::kInt64)
      return {false, n.op_type + " on the GPU takes float32, int32 or int64, not " + std::string(dtype_name(x))};
    if (x == DType::kString) return {false, n.op_type + " on the GPU cannot hold strings"};
  }
  // ONNX's Pow lets the exponent have a type of its own (T1: float, int32, int64, unsigned, ...); the GPU
  // kernel takes one type for both operands, so a float32 base with any other exponent stays on the CPU
  // (ONNX's node cases test_pow_types_float32_int32/int64/uint32/uint64 are such nodes).
  if (n.op_type == "Pow" && n.inputs.size() > 1 && n.inputs[1] != kNoValue) {
    const TensorDataPtr c = constant_value(g, n.inputs[1]);
    const DType e = c ? c->dtype : dtype_of(1);
    if (e != DType::kUndefined && e != DType::kFloat32)
      return {false, "Pow on the GPU takes a float32 exponent, not " + std::string(dtype_name(e)) + " (input 1 '" +
                         g.value(n.inputs[1]).name + "'); the CPU runs it"};
  }
  if ((n.op_type == "Max" || n.op_type == "Min") && n.inputs.size() != 2)
    return {false, n.op_type + " with " + std::to_string(n.inputs.size()) + " inputs runs on the CPU only (the GPU kernel takes two)"};
  if (n.op_type == "Gather" && dtype_of(1) != DType::kUndefined && dtype_of(1) != DType::kInt64)
    return {false, std::string("Gather on the GPU takes int64 indices, not ") + std::string(dtype_name(dtype_of(1)))};
  if (op->family == CudaFamily::kConv) return conv_supports(g, id);
  return {true, {}};
}

Result<std::vector<int64_t>> constant_ints(const KernelInit& init, std::size_t i) {
  const Node& n = init.node();
  const TensorDataPtr d = i < n.inputs.size() ? constant_value(init.graph, n.inputs[i]) : nullptr;
  if (!d) return init.error("input " + std::to_string(i) + " must be a constant on the GPU");
  if (d->dtype == DType::kInt64) {
    auto s = d->as<int64_t>();
    return std::vector<int64_t>(s.begin(), s.end());
  }
  if (d->dtype == DType::kInt32) {
    auto s = d->as<int32_t>();
    return std::vector<int64_t>(s.begin(), s.end());
  }
  return init.error("input " + std::to_string(i) + " must be int64 or int32, not " + std::string(dtype_name(d->dtype)));
}

Status CudaKernel::prepare(const KernelInit& init) {
  const Node& n = init.node();
  const CudaOp* op = find_cuda_op(n.op_type);
  constants_.assign(n.inputs.size(), Tensor());
  host_input_.assign(n.inputs.size(), false);
  if (op)
    for (int i : op->host_inputs)
      if (static_cast<std::size_t>(i) < host_input_.size()) host_input_[static_cast<std::size_t>(i)] = true;
  for (std::size_t i = 0; i < n.inputs.size(); ++i) {
    if (host_input_[i] || n.inputs[i] == kNoValue) continue;
    const TensorDataPtr d = constant_value(init.graph, n.inputs[i]);
    if (!d) continue;
    if (d->dtype == DType::kString) return init.error("input " + std::to_string(i) + " is a string tensor");
    auto up = device_.upload_now(Tensor::from_constant(d), MemoryCategory::kWeights);
    if (!up) return init.error("uploading input " + std::to_string(i) + ": " + up.status().message());
    constants_[i] = std::move(up).value();
    weight_bytes_ += static_cast<int64_t>(constants_[i].nbytes());
  }
  return Status::ok();
}

Result<KernelPtr> prepared(std::unique_ptr<CudaKernel> k, const KernelInit& init) {
  TANDEM_RETURN_IF_ERROR(k->prepare(init));
  return KernelPtr(std::move(k));
}

Status CudaKernel::run(KernelContext& ctx) const {
  auto ts = device_.thread_state();
  if (!ts) return ctx.error(ts.status().message());
  CudaRun r{ctx, **ts, (*ts)->compute.get(), {}};
  r.in.resize(ctx.num_inputs(), nullptr);
  for (std::size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (i < constants_.size() && constants_[i].defined()) {
      r.in[i] = &constants_[i];
      continue;
    }
    if (i < host_input_.size() && host_input_[i]) continue;  // read from the constant at creation
    const Tensor* t = ctx.input(i);
    if (t && t->device() != DeviceKind::kCuda)
      return ctx.error("input " + std::to_string(i) + " is in host memory, not on the GPU");
    r.in[i] = t;
  }
  return compute(r);
}

Result<const CublasContext*> CudaKernel::cublas(CudaRun& r) {
  auto c = r.ts.cublas_context();
  if (!c) return r.ctx.error("cuBLAS: " + c.status().message());
  r.ctx.note_shared_workspace((*c)->workspace_bytes());
  return *c;
}

Status expect_float32(const CudaRun& r, std::size_t i, const char* what) {
  const Tensor* t = r.input(i);
  if (!t) return r.ctx.error(std::string(what) + " is missing");
  if (t->dtype() != DType::kFloat32)
    return r.ctx.error(std::string(what) + " must be float32 on the GPU, got " + t->describe());
  return Status::ok();
}

Result<int64_t> normalize_axis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return Status::error("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

}  // namespace tandem::cuda
