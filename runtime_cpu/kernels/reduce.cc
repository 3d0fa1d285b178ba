// The Reduce* ops. Softmax, LogSoftmax and the normalisations, registered from here too, live in
// softmax.cc and normalization.cc.
//
// A reduction walks the input once in memory order, adding each element into its output slot: the input
// is seen as runs of kept and reduced dimensions (neighbours of one kind merged, size-1 dimensions
// dropped), so the innermost run is either reduced into one slot or added elementwise into a row of slots.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/sub_families.h"

namespace tandem::cpu {
namespace {

enum class ReduceOp { kSum, kMean, kMax, kMin, kProd, kSumSquare, kL1, kL2, kLogSum, kLogSumExp };

struct ReduceLayout {
  std::vector<int64_t> dims;         // merged dimensions
  std::vector<int64_t> out_strides;  // per merged dimension: output stride, 0 where reduced
  int64_t in_numel = 1, out_numel = 1;
};

ReduceLayout plan_reduction(const std::vector<int64_t>& shape, const std::vector<bool>& reduced) {
  ReduceLayout l;
  std::vector<bool> kinds;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    l.in_numel *= shape[i];
    if (!reduced[i]) l.out_numel *= shape[i];
    if (shape[i] == 1) continue;
    if (!kinds.empty() && kinds.back() == reduced[i]) {
      l.dims.back() *= shape[i];
    } else {
      l.dims.push_back(shape[i]);
      kinds.push_back(reduced[i]);
    }
  }
  l.out_strides.assign(l.dims.size(), 0);
  int64_t stride = 1;
  for (std::size_t i = l.dims.size(); i-- > 0;) {
    if (kinds[i]) continue;
    l.out_strides[i] = stride;
    stride *= l.dims[i];
  }
  return l;
}

// Calls f(output_index, element) for every input element, in memory order.
template <typename T, typename F>
void visit(const T* x, const ReduceLayout& l, F&& f) {
  if (l.in_numel == 0) return;
  if (l.dims.empty()) {
    f(int64_t{0}, x[0]);
    return;
  }
  const std::size_t outer_rank = l.dims.size() - 1;
  const int64_t inner = l.dims.back(), inner_stride = l.out_strides.back();
  std::vector<int64_t> index(outer_rank, 0);
  int64_t out = 0;
  for (int64_t start = 0; start < l.in_numel; start += inner) {
    if (inner_stride == 0) {
      for (int64_t i = 0; i < inner; ++i) f(out, x[start + i]);
    } else {
      for (int64_t i = 0; i < inner; ++i) f(out + i, x[start + i]);
    }
    for (std::size_t d = outer_rank; d-- > 0;) {  // odometer over the outer dimensions
      out += l.out_strides[d];
      if (++index[d] < l.dims[d]) break;
      out -= l.out_strides[d] * l.dims[d];
      index[d] = 0;
    }
  }
}

// Floating-point inputs accumulate in double.
template <typename T>
void reduce_float(ReduceOp op, const T* x, const ReduceLayout& l, T* y) {
  const auto n = static_cast<std::size_t>(l.out_numel);
  const double inf = std::numeric_limits<double>::infinity();
  const double init = op == ReduceOp::kProd  ? 1.0
                      : op == ReduceOp::kMax ? -inf
                      : op == ReduceOp::kMin ? inf
                                             : 0.0;
  std::vector<double> acc(n, init);
  auto add = [&](auto g) { visit(x, l, [&](int64_t o, T v) { acc[o] += g(static_cast<double>(v)); }); };
  switch (op) {
    case ReduceOp::kSum:
    case ReduceOp::kMean:
    case ReduceOp::kLogSum:
      add([](double v) { return v; });
      break;
    case ReduceOp::kSumSquare:
    case ReduceOp::kL2:
      add([](double v) { return v * v; });
      break;
    case ReduceOp::kL1:
      add([](double v) { return std::abs(v); });
      break;
    case ReduceOp::kProd:
      visit(x, l, [&](int64_t o, T v) { acc[o] *= v; });
      break;
    case ReduceOp::kMax:
      visit(x, l, [&](int64_t o, T v) { acc[o] = v > acc[o] || std::isnan(v) ? v : acc[o]; });
      break;
    case ReduceOp::kMin:
      visit(x, l, [&](int64_t o, T v) { acc[o] = v < acc[o] || std::isnan(v) ? v : acc[o]; });
      break;
    case ReduceOp::kLogSumExp: {
      // Shift by each slot's maximum so exp cannot overflow.
      std::vector<double> shift(n, -inf);
      visit(x, l, [&](int64_t o, T v) { shift[o] = std::max<double>(shift[o], v); });
      for (double& s : shift) s = std::isfinite(s) ? s : 0.0;
      visit(x, l, [&](int64_t o, T v) { acc[o] += std::exp(static_cast<double>(v) - shift[o]); });
      for (std::size_t i = 0; i < n; ++i) acc[i] = std::log(acc[i]) + shift[i];
      break;
    }
  }
  const double count = l.out_numel ? static_cast<double>(l.in_numel / l.out_numel) : 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    double v = acc[i];
    if (op == ReduceOp::kMean) v /= count;
    if (op == ReduceOp::kL2) v = std::sqrt(v);
    if (op == ReduceOp::kLogSum) v = std::log(v);
    y[i] = static_cast<T>(v);
  }
}

// Integer sums and products wrap around (computed unsigned: signed overflow would be undefined).
template <typename T>
void reduce_int(ReduceOp op, const T* x, const ReduceLayout& l, T* y) {
  const auto n = static_cast<std::size_t>(l.out_numel);
  if (op == ReduceOp::kSum || op == ReduceOp::kProd) {
    std::vector<uint64_t> acc(n, op == ReduceOp::kProd ? 1 : 0);
    if (op == ReduceOp::kSum)
      visit(x, l, [&](int64_t o, T v) { acc[o] += static_cast<uint64_t>(v); });
    else
      visit(x, l, [&](int64_t o, T v) { acc[o] *= static_cast<uint64_t>(v); });
    for (std::size_t i = 0; i < n; ++i) y[i] = static_cast<T>(acc[i]);
    return;
  }
  const bool is_max = op == ReduceOp::kMax;
  std::fill(y, y + n, is_max ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max());
  if (is_max)
    visit(x, l, [&](int64_t o, T v) { y[o] = std::max(y[o], v); });
  else
    visit(x, l, [&](int64_t o, T v) { y[o] = std::min(y[o], v); });
}

// ReduceMax and ReduceMin of bools (opset 20): any and all; an empty set gives false and true.
void reduce_bool(bool is_max, const Bool* x, const ReduceLayout& l, Bool* y) {
  std::fill(y, y + l.out_numel, Bool{static_cast<uint8_t>(is_max ? 0 : 1)});
  if (is_max)
    visit(x, l, [&](int64_t o, Bool v) { y[o].byte = static_cast<uint8_t>(y[o].byte | (v.byte != 0)); });
  else
    visit(x, l, [&](int64_t o, Bool v) { y[o].byte = static_cast<uint8_t>(y[o].byte & (v.byte != 0)); });
}

class ReduceKernel final : public Kernel {
 public:
  ReduceKernel(ReduceOp op, bool axes_from_input, std::vector<int64_t> axes, bool keepdims, bool noop_empty)
      : op_(op),
        axes_from_input_(axes_from_input),
        axes_(std::move(axes)),
        keepdims_(keepdims),
        noop_empty_(noop_empty) {}

  Status run(KernelContext& ctx) const override {
    const Tensor* x = ctx.input(0);
    if (!x) return ctx.error("input 0 (data) is missing");
    std::vector<int64_t> axes = axes_;
    if (axes_from_input_ && ctx.input(1)) {
      auto read = read_int_list(*ctx.input(1), "axes (input 1)");
      if (!read) return ctx.error(read.status().message());
      axes = std::move(*read);
    }
    const int64_t rank = static_cast<int64_t>(x->rank());
    if (axes.empty() && noop_empty_) {
      ctx.set_output(0, *x);  // noop_with_empty_axes: the input passes through
      return Status::ok();
    }
    std::vector<bool> reduced(x->rank(), axes.empty());
    for (int64_t a : axes) {
      auto axis = normalize_axis(a, rank, "axis");
      if (!axis) return ctx.error(axis.status().message() + " (input " + x->describe() + ")");
      if (reduced[*axis]) return ctx.error("axis " + std::to_string(a) + " is listed twice in axes");
      reduced[*axis] = true;
    }
    std::vector<int64_t> out_shape;
    for (std::size_t i = 0; i < x->rank(); ++i)
      if (!reduced[i])
        out_shape.push_back(x->dim(i));
      else if (keepdims_)
        out_shape.push_back(1);
    const ReduceLayout l = plan_reduction(x->shape(), reduced);
    const bool int_ok =
        op_ == ReduceOp::kSum || op_ == ReduceOp::kProd || op_ == ReduceOp::kMax || op_ == ReduceOp::kMin;
    const bool bool_ok = op_ == ReduceOp::kMax || op_ == ReduceOp::kMin;  // the importer allows it from 20
    switch (x->dtype()) {
      case DType::kFloat32:
        reduce_float(op_, x->data<float>(), l, ctx.allocate_output(0, x->dtype(), out_shape).data<float>());
        return Status::ok();
      case DType::kFloat64:
        reduce_float(op_, x->data<double>(), l, ctx.allocate_output(0, x->dtype(), out_shape).data<double>());
        return Status::ok();
      case DType::kInt32:
        if (!int_ok) break;
        reduce_int(op_, x->data<int32_t>(), l, ctx.allocate_output(0, x->dtype(), out_shape).data<int32_t>());
        return Status::ok();
      case DType::kInt64:
        if (!int_ok) break;
        reduce_int(op_, x->data<int64_t>(), l, ctx.allocate_output(0, x->dtype(), out_shape).data<int64_t>());
        return Status::ok();
      case DType::kBool:
        if (!bool_ok) break;
        reduce_bool(op_ == ReduceOp::kMax, x->data<Bool>(), l,
                    ctx.allocate_output(0, x->dtype(), out_shape).data<Bool>());
        return Status::ok();
      default:
        break;
    }
    return ctx.error(std::string("supports float32 and float64") + (int_ok ? ", int32 and int64" : "") +
                     (bool_ok ? ", bool (opset 20)" : "") + ", got " + x->describe());
  }

 private:
  ReduceOp op_;
  bool axes_from_input_;
  std::vector<int64_t> axes_;  // the attribute form's axes
  bool keepdims_, noop_empty_;
};

// `input_since`: the opset from which axes is an input instead of an attribute.
KernelFactory reduce_factory(ReduceOp op, int input_since) {
  return [op, input_since](const KernelInit& init) -> Result<KernelPtr> {
    const Node& n = init.node();
    const bool from_input = n.opset >= input_since;
    const int64_t keepdims = attr_int(n, "keepdims", 1);
    const int64_t noop = attr_int(n, "noop_with_empty_axes", 0);
    if (keepdims != 0 && keepdims != 1)
      return init.error("keepdims must be 0 or 1, got " + std::to_string(keepdims));
    if (noop != 0 && noop != 1)
      return init.error("noop_with_empty_axes must be 0 or 1, got " + std::to_string(noop));
    if (from_input && has_attr(n, "axes"))
      return init.error("from opset " + std::to_string(input_since) + " axes is an input, not an attribute");
    return KernelPtr(new ReduceKernel(op, from_input,
                                      from_input ? std::vector<int64_t>{} : attr_ints(n, "axes"),
                                      keepdims == 1, from_input && noop == 1));
  };
}

}  // namespace

void register_reduce_kernels(KernelRegistry& r) {
  r.add("ReduceSum", reduce_factory(ReduceOp::kSum, 13));
  r.add("ReduceMean", reduce_factory(ReduceOp::kMean, 18));
  r.add("ReduceMax", reduce_factory(ReduceOp::kMax, 18));
  r.add("ReduceMin", reduce_factory(ReduceOp::kMin, 18));
  r.add("ReduceProd", reduce_factory(ReduceOp::kProd, 18));
  r.add("ReduceSumSquare", reduce_factory(ReduceOp::kSumSquare, 18));
  r.add("ReduceL1", reduce_factory(ReduceOp::kL1, 18));
  r.add("ReduceL2", reduce_factory(ReduceOp::kL2, 18));
  r.add("ReduceLogSum", reduce_factory(ReduceOp::kLogSum, 18));
  r.add("ReduceLogSumExp", reduce_factory(ReduceOp::kLogSumExp, 18));
  register_softmax_kernels(r);
  register_normalization_kernels(r);
  register_mvn_kernels(r);
  register_lrn_kernels(r);
}

}  // namespace tandem::cpu
