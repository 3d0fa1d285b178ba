#include "profiler/gpu_estimate.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include "graph/flops.h"
#include "graph/host_values.h"

namespace tandem::profiler {

using partition::LinkProfile;
using partition::NodeDeviceProfile;

namespace {

// The ops the CUDA device runs (the CUDA runtime issue's list). Shape and Size are host-side bookkeeping.
const std::set<std::string>& gpu_ops() {
  static const std::set<std::string> ops = {
      // cuBLAS and convolution
      "MatMul", "Gemm", "Conv",
      // the elementwise family (broadcasting)
      "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Neg", "Abs", "Exp", "Log", "Sqrt",
      "Reciprocal", "Relu", "LeakyRelu", "Elu", "Selu", "Sigmoid", "HardSigmoid", "Tanh", "Softplus", "Erf",
      "Clip", "Where", "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor", "Not",
      "Cast", "Floor", "Ceil", "Sin", "Cos",
      // reductions and normalisations
      "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2", "ReduceSumSquare",
      "Softmax", "LogSoftmax", "LayerNormalization",
      // data movement
      "Gather", "Concat", "Split", "Slice", "Transpose", "Expand", "Pad",
      // views and constants: free on any device (constants are uploaded once, like weights)
      "Reshape", "Squeeze", "Unsqueeze", "Flatten", "Identity", "Constant",
      // generators
      "ConstantOfShape", "Range", "Tile",
      // recurrent
      "LSTM", "GRU", "RNN",
      // control flow: the host reads the condition, the branch runs on the GPU
      "If"};
  return ops;
}

bool is_view(const std::string& op) {
  return op == "Reshape" || op == "Squeeze" || op == "Unsqueeze" || op == "Flatten" || op == "Identity" ||
         op == "Constant";
}

bool is_host_bookkeeping(const Node& n) { return n.domain.empty() && (n.op_type == "Shape" || n.op_type == "Size"); }

double us_for_flops(double flops, const GpuSpec& s) { return flops / (s.fp32_tflops * 1e6 * s.efficiency); }
double us_for_bytes(double bytes, double gbps, const GpuSpec& s) { return bytes / (gbps * 1e3 * s.efficiency); }

int64_t bytes_of(const Shape& shape, DType dtype) {
  const auto n = shape.num_elements();
  return n && dtype_size(dtype) > 0 ? *n * static_cast<int64_t>(dtype_size(dtype)) : 0;
}

// LSTM/GRU/RNN: one GEMM projects the input of every step; then per step and direction a recurrent GEMM and
// a fused cell kernel, captured in a CUDA Graph. Recurrent weights are read from L2 when they fit there.
std::optional<double> rnn_us(const Graph& g, const Node& n, const NodeFacts& f, const GpuSpec& s) {
  auto shape = [&](std::size_t i) -> const Shape* {
    if (i >= n.inputs.size() || n.inputs[i] == kNoValue) return nullptr;
    const auto v = static_cast<std::size_t>(n.inputs[i]);
    const Shape& sh = v < f.run_shapes.size() && f.run_shapes[v].has_rank() ? f.run_shapes[v] : g.value(n.inputs[i]).shape;
    return sh.has_rank() && sh.rank() == 3 ? &sh : nullptr;
  };
  const Shape *x = shape(0), *w = shape(1), *r = shape(2);
  if (!x || !w || !r) return std::nullopt;
  for (const Shape* sh : {x, w, r})
    for (const Dim& d : sh->dims())
      if (!d.is_known()) return std::nullopt;
  const bool batch_major = n.attribute_int("layout", 0) == 1;
  const double steps = static_cast<double>((*x)[batch_major ? 1 : 0].value);
  const double batch = static_cast<double>((*x)[batch_major ? 0 : 1].value);
  const double dirs = static_cast<double>((*w)[0].value), gh = static_cast<double>((*w)[1].value);
  const double in = static_cast<double>((*w)[2].value), hidden = static_cast<double>((*r)[2].value);
  const double projection = s.launch_us + std::max(us_for_flops(2 * dirs * steps * batch * gh * in, s),
                                                   us_for_bytes(4 * (steps * batch * (in + dirs * gh) + dirs * gh * in),
                                                                s.memory_gbps, s));
  const double r_bytes = 4 * gh * hidden;
  const double r_gbps = dirs * r_bytes <= s.l2_bytes ? s.l2_gbps : s.memory_gbps;
  const double step = 2 * s.graph_node_us +
                      std::max(us_for_flops(2 * batch * gh * hidden, s), us_for_bytes(r_bytes, r_gbps, s));
  return projection + s.launch_us /* the graph launch */ + dirs * steps * step;
}

NodeFacts inferred_facts(const Graph& g, const Node& n) {
  NodeFacts f;
  for (ValueId v : n.inputs) {
    if (v == kNoValue) continue;
    const Value& val = g.value(v);
    (val.data ? f.weight_bytes : f.input_bytes) += bytes_of(val.shape, val.dtype);
  }
  for (ValueId v : n.outputs)
    if (v != kNoValue) f.output_bytes += bytes_of(g.value(v).shape, g.value(v).dtype);
  return f;
}

double graph_us(const Graph& g, const GpuSpec& s, bool* all_supported);

// If: the host reads the condition (a small device-to-host copy), then the larger branch runs.
double if_us(const Node& n, const GpuSpec& s, bool* all_supported) {
  double most = 0;
  for (const Graph* body : n.subgraphs()) most = std::max(most, graph_us(*body, s, all_supported));
  return s.link_alpha_us + most;
}

// The workspace tandem's GPU RNN kernel keeps for its life at these shapes (it mirrors the buffers
// runtime_cuda/cuda_rnn.cc's CudaRnnWorkspace::reserve sizes: the input projection, one step's gates, H, C
// and r(.)H, the lengths, and Y; the cuBLAS workspace is the stream's, below), or -1 for a node that is not
// an RNN or whose shapes are not known.
int64_t held_rnn_workspace(const Graph& g, const Node& n, const NodeFacts& f) {
  if (!n.domain.empty() || (n.op_type != "LSTM" && n.op_type != "GRU" && n.op_type != "RNN")) return -1;
  if (n.inputs.empty() || n.inputs[0] == kNoValue) return -1;
  const auto x = static_cast<std::size_t>(n.inputs[0]);
  if (x >= f.run_shapes.size() || !f.run_shapes[x].is_static() || f.run_shapes[x].rank() != 3) return -1;
  const Shape& xs = f.run_shapes[x];
  const bool batch_major = n.attribute_int("layout", 0) == 1;
  const int64_t t = xs[batch_major ? 1 : 0].value, b = xs[batch_major ? 0 : 1].value;
  int64_t h = n.attribute_int("hidden_size", 0);
  if (h <= 0 && n.inputs.size() > 2 && n.inputs[2] != kNoValue) {  // from R [dirs, G*H, H]
    const Shape& r = g.value(n.inputs[2]).shape;
    if (r.has_rank() && r.rank() == 3 && r[2].is_known()) h = r[2].value;
  }
  if (h <= 0) return -1;
  const int64_t gates = n.op_type == "LSTM" ? 4 : n.op_type == "GRU" ? 3 : 1;
  const int64_t dirs = n.attribute_string("direction", "forward") == "bidirectional" ? 2 : 1;
  const int64_t floats = dirs * t * b * gates * h + dirs * b * gates * h + 3 * dirs * b * h + t * dirs * b * h;
  return floats * 4 + b * 4;
}

// Whether tandem's GPU kernel for the node calls cuBLAS (and so needs its stream's cuBLAS workspace):
// MatMul, Gemm, the RNNs' projections, and Conv but for the direct kernel (depthwise, at most
// kConvDirectMaxK = 32 kernel elements: runtime_cuda/kernels/conv.cu's rule). An If: either branch.
bool uses_blas(const Graph& g, const Node& n) {
  if (!n.domain.empty() && n.domain != "ai.onnx") return false;
  const std::string& op = n.op_type;
  if (op == "MatMul" || op == "Gemm" || op == "LSTM" || op == "GRU" || op == "RNN") return true;
  if (op == "Conv") {
    if (n.inputs.size() < 2 || n.inputs[1] == kNoValue) return true;
    const Shape& w = g.value(n.inputs[1]).shape;  // [M, C/group, k1, k2, ...]
    if (!w.is_static() || w.rank() < 3) return true;
    int64_t kernel = 1;
    for (std::size_t d = 2; d < w.rank(); ++d) kernel *= w[d].value;
    return !(w[1].value == 1 && kernel <= 32);
  }
  for (const Graph* body : n.subgraphs())
    for (std::size_t i = 0; i < body->num_nodes(); ++i)
      if (uses_blas(*body, body->node(static_cast<NodeId>(i)))) return true;
  return false;
}

double node_us(const Graph& g, NodeId id, const NodeFacts& f, const GpuSpec& s, bool* all_supported) {
  const Node& n = g.node(id);
  if (!n.domain.empty() && n.domain != "ai.onnx") {
    *all_supported = false;
    return 0;
  }
  if (!gpu_ops().count(n.op_type)) *all_supported = false;
  if (is_view(n.op_type)) return 0.1;
  if (n.op_type == "If") return if_us(n, s, all_supported);
  if (n.op_type == "LSTM" || n.op_type == "GRU" || n.op_type == "RNN")
    if (auto t = rnn_us(g, n, f, s)) return *t;
  const double bytes = static_cast<double>(f.input_bytes + f.output_bytes + f.weight_bytes);
  double flops = 0;
  if (auto fc = estimate_flops(g, n, f.run_shapes)) flops = fc->flops;
  return s.launch_us + std::max(us_for_flops(flops, s), us_for_bytes(bytes, s.memory_gbps, s));
}

// A branch body: host-side bookkeeping (Shape, Size) stays on the host inside it, at about a microsecond.
double graph_us(const Graph& g, const GpuSpec& s, bool* all_supported) {
  double total = 0;
  for (std::size_t i = 0; i < g.num_nodes(); ++i) {
    const auto id = static_cast<NodeId>(i);
    total += is_host_bookkeeping(g.node(id)) ? 1.0 : node_us(g, id, inferred_facts(g, g.node(id)), s, all_supported);
  }
  return total;
}

}  // namespace

Result<GpuSpec> parse_gpu_spec(const std::string& text) {
  std::stringstream in(text);
  std::string part;
  std::getline(in, part, ',');
  GpuSpec s;
  if (part == "h100" || part == "H100") {
    // defaults
  } else if (part == "h200" || part == "H200") {
    s.name = "NVIDIA H200";
    s.memory_gbps = 4800;  // HBM3e; the SMs and L2 are the H100's
  } else {
    return Status::error("unknown GPU '" + part + "' for estimates (expected h100 or h200, then optional " +
                         "',key=value' overrides)");
  }
  const std::map<std::string, double*> fields = {
      {"fp32_tflops", &s.fp32_tflops},     {"memory_gbps", &s.memory_gbps},   {"l2_gbps", &s.l2_gbps},
      {"l2_bytes", &s.l2_bytes},           {"efficiency", &s.efficiency},     {"launch_us", &s.launch_us},
      {"graph_node_us", &s.graph_node_us}, {"link_alpha_us", &s.link_alpha_us}, {"link_gbps", &s.link_gbps},
      {"blas_workspace_bytes", &s.blas_workspace_bytes}};
  while (std::getline(in, part, ',')) {
    const auto eq = part.find('=');
    if (eq == std::string::npos) return Status::error("GPU spec override '" + part + "' is not key=value");
    const std::string key = part.substr(0, eq), value = part.substr(eq + 1);
    auto it = fields.find(key);
    if (it == fields.end()) {
      std::string known;
      for (const auto& [k, p] : fields) known += (known.empty() ? "" : ", ") + k;
      return Status::error("unknown GPU spec key '" + key + "' (known: " + known + ")");
    }
    char* end = nullptr;
    const double x = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !(x >= 0) || x > 1e15)
      return Status::error("GPU spec '" + key + "=" + value + "': expected a non-negative number");
    if ((key == "fp32_tflops" || key == "memory_gbps" || key == "l2_gbps" || key == "link_gbps" ||
         key == "efficiency") && x == 0)
      return Status::error("GPU spec '" + key + "' must be above 0");
    *it->second = x;
  }
  if (s.efficiency > 1) return Status::error("GPU spec 'efficiency' must be at most 1");
  return s;
}

std::string describe_gpu_spec(const GpuSpec& s) {
  std::ostringstream o;
  o << s.name << " (data sheet: " << s.fp32_tflops << " FP32 TFLOP/s, " << s.memory_gbps << " GB/s memory, "
    << s.efficiency * 100 << "% efficiency, " << s.launch_us << " us per launch, link " << s.link_alpha_us
    << " us + " << s.link_gbps << " GB/s)";
  return o.str();
}

NodeDeviceProfile estimate_gpu_node(const Graph& g, NodeId id, const NodeFacts& facts, const GpuSpec& spec) {
  const Node& n = g.node(id);
  NodeDeviceProfile p;
  p.estimated = true;
  if (is_host_bookkeeping(n)) {
    p.supported = false;
    p.reason = n.op_type + " is host-side bookkeeping (runs on the CPU)";
    return p;
  }
  // As the CUDA device says: a node touching a sequence, an optional or strings runs on the CPU.
  if (std::optional<std::string> why = host_only_value(g, id)) {
    p.supported = false;
    p.reason = *why;
    return p;
  }
  bool all_supported = true;
  const double us = node_us(g, id, facts, spec, &all_supported);
  if (!all_supported) {
    p.supported = false;
    p.reason = n.op_type == "If" ? "a branch of this If has an op without a CUDA kernel"
                                 : "no CUDA kernel for op '" + n.op_type + "'";
    return p;
  }
  p.median_us = us;
  p.p90_us = us;
  p.weight_bytes = facts.weight_bytes;
  p.output_bytes = facts.output_bytes;
  p.workspace_bytes = facts.workspace_bytes;
  if (const int64_t held = held_rnn_workspace(g, n, facts); held >= 0) {
    p.workspace_bytes = held;  // the GPU kernel's own, kept for its life
    p.workspace_held = true;
  }
  if (uses_blas(g, n)) p.shared_workspace_bytes = static_cast<int64_t>(spec.blas_workspace_bytes);
  return p;
}

LinkProfile estimate_gpu_link(const GpuSpec& spec) {
  LinkProfile l;
  l.alpha_us = spec.link_alpha_us;
  l.beta_bytes_per_us = spec.link_gbps * 1e3;
  l.estimated = true;
  return l;
}

}  // namespace tandem::profiler
