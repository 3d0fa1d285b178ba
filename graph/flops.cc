#include "graph/flops.h"

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

const Shape* input_shape(const Graph& g, const Node& n, std::size_t i) {
  if (i >= n.inputs.size() || n.inputs[i] == kNoValue) return nullptr;
  const Shape& s = g.value(n.inputs[i]).shape;
  return s.has_rank() ? &s : nullptr;
}
const Shape* output_shape(const Graph& g, const Node& n, std::size_t i) {
  if (i >= n.outputs.size() || n.outputs[i] == kNoValue) return nullptr;
  const Shape& s = g.value(n.outputs[i]).shape;
  return s.has_rank() ? &s : nullptr;
}

std::optional<double> matmul(const Graph& g, const Node& n, DimReader& dim) {
  const Shape* a = input_shape(g, n, 0);
  const Shape* y = output_shape(g, n, 0);
  if (!a || !y || a->rank() == 0) return std::nullopt;
  return 2.0 * dim.elements(*y) * dim((*a)[a->rank() - 1]);  // each output element is a K-long dot product
}

std::optional<double> gemm(const Graph& g, const Node& n, DimReader& dim) {
  const Shape* a = input_shape(g, n, 0);
  const Shape* y = output_shape(g, n, 0);
  if (!a || !y || a->rank() != 2) return std::nullopt;
  const double k = dim((*a)[n.attribute_int("transA", 0) ? 0 : 1]);
  const double mn = dim.elements(*y);
  const bool has_c = n.inputs.size() > 2 && n.inputs[2] != kNoValue;
  return 2.0 * mn * k + (has_c ? mn : 0.0);
}

std::optional<double> conv(const Graph& g, const Node& n, DimReader& dim) {
  const Shape* w = input_shape(g, n, 1);
  const Shape* y = output_shape(g, n, 0);
  if (!w || !y || w->rank() < 3) return std::nullopt;
  double per_output = 1;  // (C_in / group) * kernel volume
  for (std::size_t i = 1; i < w->rank(); ++i) per_output *= dim((*w)[i]);
  const double outputs = dim.elements(*y);
  const bool has_bias = n.inputs.size() > 2 && n.inputs[2] != kNoValue;
  return 2.0 * outputs * per_output + (has_bias ? outputs : 0.0);
}

std::optional<double> recurrent(const Graph& g, const Node& n, DimReader& dim) {
  const Shape* x = input_shape(g, n, 0);
  const Shape* w = input_shape(g, n, 1);  // [directions, gates*hidden, input]
  const Shape* r = input_shape(g, n, 2);  // [directions, gates*hidden, hidden]
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

}  // namespace

bool is_flop_counted_op(const Node& n) {
  if (!n.domain.empty() && n.domain != "ai.onnx") return false;
  return n.op_type == "MatMul" || n.op_type == "Gemm" || n.op_type == "Conv" || n.op_type == "LSTM" ||
         n.op_type == "GRU" || n.op_type == "RNN";
}

std::optional<FlopCount> estimate_flops(const Graph& g, const Node& n) {
  if (!is_flop_counted_op(n)) return std::nullopt;
  FlopCount out;
  DimReader dim(out);
  std::optional<double> f;
  if (n.op_type == "MatMul") f = matmul(g, n, dim);
  else if (n.op_type == "Gemm") f = gemm(g, n, dim);
  else if (n.op_type == "Conv") f = conv(g, n, dim);
  else f = recurrent(g, n, dim);  // LSTM, GRU, RNN: the gate count is in W's shape
  if (!f || dim.unknown()) return std::nullopt;
  out.flops = *f;
  return out;
}

}  // namespace tandem
