#include "graph/flops.h"

#include <string>
#include <vector>

namespace tandem {
namespace {

// Reads dimensions, taking symbolic ones as 1 and remembering them; any truly unknown one poisons the
// count, since there is nothing to scale it by.
class DimReader {
 public:
  explicit DimReader(FlopCount& out) : out_(out) {}
  double operator()(const Dim& d) {
    if (d.is_known()) return static_cast<double>(d.value);
    if (d.is_symbolic()) out_.per_symbol.insert(d.symbol);
    else unknown_ = true;
    return 1.0;
  }
  double elements(const Shape& s) {
    if (!s.has_rank()) {
      unknown_ = true;
      return 0;
    }
    double n = 1;
    for (const Dim& d : s.dims()) n *= (*this)(d);
    return n;
  }
  bool unknown() const { return unknown_; }

 private:
  FlopCount& out_;
  bool unknown_ = false;
};

// Where shapes come from: the run-time shapes when known, else the inferred ones.
struct Shapes {
  const Graph& g;
  std::span<const Shape> run;

  // nullptr without a rank.
  const Shape* of(ValueId v) const {
    const auto i = static_cast<std::size_t>(v);
    if (i < run.size() && run[i].has_rank()) return &run[i];
    const Shape& s = g.value(v).shape;
    return s.has_rank() ? &s : nullptr;
  }
  const Shape* input(const Node& n, std::size_t i) const {
    return i < n.inputs.size() && n.inputs[i] != kNoValue ? of(n.inputs[i]) : nullptr;
  }
  const Shape* output(const Node& n, std::size_t i) const {
    return i < n.outputs.size() && n.outputs[i] != kNoValue ? of(n.outputs[i]) : nullptr;
  }
};

std::optional<double> matmul(const Shapes& g, const Node& n, DimReader& dim) {
  const Shape* a = g.input(n, 0);
  const Shape* y = g.output(n, 0);
  if (!a || !y || a->rank() == 0) return std::nullopt;
  return 2.0 * dim.elements(*y) * dim((*a)[a->rank() - 1]);  // each output element is a K-long dot product
}

std::optional<double> gemm(const Shapes& g, const Node& n, DimReader& dim) {
  const Shape* a = g.input(n, 0);
  const Shape* y = g.output(n, 0);
  if (!a || !y || a->rank() != 2) return std::nullopt;
  const double k = dim((*a)[n.attribute_int("transA", 0) ? 0 : 1]);
  const double mn = dim.elements(*y);
  const bool has_c = n.inputs.size() > 2 && n.inputs[2] != kNoValue;
  return 2.0 * mn * k + (has_c ? mn : 0.0);
}

// w_at, bias_at: where W and the bias are among the inputs (Conv and ConvInteger: 1 and 2, QLinearConv: 3
// and 8); ConvInteger has no bias (its input 2 is a zero point).
std::optional<double> conv(const Shapes& g, const Node& n, DimReader& dim, std::size_t w_at, std::size_t bias_at) {
  const Shape* w = g.input(n, w_at);
  const Shape* y = g.output(n, 0);
  if (!w || !y || w->rank() < 3) return std::nullopt;
  double per_output = 1;  // (C_in / group) * kernel volume
  for (std::size_t i = 1; i < w->rank(); ++i) per_output *= dim((*w)[i]);
  const double outputs = dim.elements(*y);
  const bool has_bias = bias_at > 0 && n.inputs.size() > bias_at && n.inputs[bias_at] != kNoValue;
  return 2.0 * outputs * per_output + (has_bias ? outputs : 0.0);
}

std::optional<double> recurrent(const Shapes& g, const Node& n, DimReader& dim) {
  const Shape* x = g.input(n, 0);
  const Shape* w = g.input(n, 1);  // [directions, gates*hidden, input]
  const Shape* r = g.input(n, 2);  // [directions, gates*hidden, hidden]
  if (!x || !w || !r || x->rank() != 3 || w->rank() != 3 || r->rank() != 3) return std::nullopt;
  const bool batch_major = n.attribute_int("layout", 0) == 1;
  const double steps = dim((*x)[batch_major ? 1 : 0]);
  const double batch = dim((*x)[batch_major ? 0 : 1]);
  const double dirs = dim((*w)[0]);
  const double gh = dim((*w)[1]);  // gates * hidden
  const double in = dim((*w)[2]);
  const double hidden = dim((*r)[2]);
  const bool has_bias = n.inputs.size() > 3 && n.inputs[3] != kNoValue;
  // Per step: the input projection and the recurrent projection, plus two bias vectors.
  return dirs * steps * batch * (2.0 * gh * (in + hidden) + (has_bias ? 2.0 * gh : 0.0));
}

// Attention (opset 23): the two products per batch and query head, scores = Q Kᵀ ([seq, total] of head_size
// dot products) and Y = P V ([seq, head size of V] of total-long ones); total counts past_key's keys too.
// Masks, softcap and the softmax are elementwise, not counted.
std::optional<double> attention(const Shapes& g, const Node& n, DimReader& dim) {
  const Shape* q = g.input(n, 0);
  const Shape* k = g.input(n, 1);
  const Shape* v = g.input(n, 2);
  const Shape* past = g.input(n, 4);
  if (!q || !k || !v || q->rank() != k->rank() || q->rank() != v->rank() || (q->rank() != 3 && q->rank() != 4))
    return std::nullopt;
  const bool four_d = q->rank() == 4;
  const std::size_t seq_axis = four_d ? 2 : 1;
  double total = dim((*k)[seq_axis]);
  if (past) {
    if (past->rank() != 4) return std::nullopt;
    total += dim((*past)[2]);
  }
  if (four_d)  // [batch, heads, seq, size]: per head, seq x total scores of size Q's and of V's head size
    return 2.0 * dim((*q)[0]) * dim((*q)[1]) * dim((*q)[2]) * total * (dim((*q)[3]) + dim((*v)[3]));
  // [batch, seq, heads * size]: Q's last axis is heads x head_size, Y's heads x V's head size.
  const Shape* y = g.output(n, 0);
  if (!y || y->rank() != 3) return std::nullopt;
  return 2.0 * dim((*q)[0]) * dim((*q)[1]) * total * (dim((*q)[2]) + dim((*y)[2]));
}

}  // namespace

bool is_flop_counted_op(const Node& n) {
  if (!n.domain.empty() && n.domain != "ai.onnx") return false;
  const std::string& op = n.op_type;
  return op == "MatMul" || op == "Gemm" || op == "Conv" || op == "LSTM" || op == "GRU" || op == "RNN" ||
         op == "MatMulInteger" || op == "QLinearMatMul" || op == "ConvInteger" || op == "QLinearConv" ||
         op == "Attention";
}

std::optional<FlopCount> estimate_flops(const Graph& graph, const Node& n, std::span<const Shape> run_shapes) {
  if (!is_flop_counted_op(n)) return std::nullopt;
  const Shapes g{graph, run_shapes};
  FlopCount out;
  DimReader dim(out);
  std::optional<double> f;
  // The quantized products count their multiply-adds as the float ones do (A is input 0 for both matrix
  // products); zero-point shifts and requantization are elementwise work, not counted.
  if (n.op_type == "MatMul" || n.op_type == "MatMulInteger" || n.op_type == "QLinearMatMul") f = matmul(g, n, dim);
  else if (n.op_type == "Gemm") f = gemm(g, n, dim);
  else if (n.op_type == "Conv") f = conv(g, n, dim, 1, 2);
  else if (n.op_type == "ConvInteger") f = conv(g, n, dim, 1, 0);
  else if (n.op_type == "QLinearConv") f = conv(g, n, dim, 3, 8);
  else if (n.op_type == "Attention") f = attention(g, n, dim);
  else f = recurrent(g, n, dim);  // LSTM, GRU, RNN: the gate count is in W's shape
  if (!f || dim.unknown()) return std::nullopt;
  out.flops = *f;
  return out;
}

}  // namespace tandem
