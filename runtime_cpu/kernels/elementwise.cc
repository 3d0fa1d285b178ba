// Elementwise kernels: unary math and activations, binary arithmetic and comparisons with numpy
// broadcasting, the variadic Sum/Mean/Min/Max, Pow with its mixed types, logic ops, Where and Clip. Each
// op is a functor from elementwise_ops.h; the kernels here own dtype dispatch and loops, with the machinery
// they share with math_unary.cc, activation_ops.cc and mod_bitshift.cc in elementwise_kernels.h.
// Cast and CastLike live in cast.cc and register through this family.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/broadcast.h"
#include "runtime_cpu/kernels/cast.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/elementwise_kernels.h"
#include "runtime_cpu/kernels/elementwise_ops.h"
#include "runtime_cpu/kernels/register.h"

namespace tandem::cpu {
namespace {

using namespace ew;

// --- binary ---------------------------------------------------------------------------------------------

// Two inputs of one type, broadcast; the output has that type, or bool for comparisons and logic.
template <typename Op, typename Types, bool kBoolOut>
class BinaryKernel final : public Kernel {
 public:
  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* a, required_input(ctx, 0));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* b, required_input(ctx, 1));
    TANDEM_RETURN_IF_ERROR(same_dtype(ctx, {a, b}));
    TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> shape, broadcast_inputs(ctx, {a, b}));
    Status status;
    const bool known = dispatch(a->dtype(), Types{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Out = std::conditional_t<kBoolOut, Bool, T>;
      if constexpr (requires { Op::kChecksDivisor; } && std::is_integral_v<T>) {
        if (has_zero<T>(*b)) {
          status = ctx.error("integer division by zero: input 1 " + b->describe() + " holds a 0");
          return;
        }
      }
      Tensor& y = ctx.allocate_output(0, dtype_v<Out>, shape);
      binary_broadcast<Op, T, T, Out>(Op{}, *a, *b, y);
    });
    if (!known) return unsupported(ctx, "input 0", *a, Types{});
    return status;
  }
};

template <typename Op, typename Types, bool kBoolOut = false>
Result<KernelPtr> make_binary(const KernelInit&) {
  return KernelPtr(new BinaryKernel<Op, Types, kBoolOut>());
}

// Equal: numbers and bools as the other comparisons; strings too from opset 19 (the importer's type check
// keeps them from older nodes).
class EqualKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }
  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* a, required_input(ctx, 0));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* b, required_input(ctx, 1));
    if (a->dtype() != DType::kString && b->dtype() != DType::kString) return numbers_.run(ctx);
    TANDEM_RETURN_IF_ERROR(same_dtype(ctx, {a, b}));
    TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> shape, broadcast_inputs(ctx, {a, b}));
    Tensor& y = ctx.allocate_output(0, DType::kBool, shape);
    if (y.numel() == 0) return Status::ok();
    const Plan p = make_plan(y.shape(), {a, b});
    const std::string* pa = a->data<std::string>();
    const std::string* pb = b->data<std::string>();
    Bool* py = y.data<Bool>();
    for_each_broadcast_run(
        p.shape, p.strides, [&](int64_t o, const std::vector<int64_t>& off, int64_t n, const std::vector<int64_t>& in) {
          for (int64_t i = 0; i < n; ++i) py[o + i] = Bool{pa[off[0] + i * in[0]] == pb[off[1] + i * in[1]]};
        });
    return Status::ok();
  }

 private:
  BinaryKernel<ops::Equal, NumericAndBoolTypes, true> numbers_;
};

// --- variadic: Sum, Mean, Min, Max ----------------------------------------------------------------------

// acc = op(acc, b) over one run of acc, b broadcast.
template <typename Op, typename T>
void accumulate_run(const Op& op, T* acc, const T* b, int64_t sb, int64_t n) {
  using Tr = ElementTraits<T>;
  if (sb) {
    for (int64_t i = 0; i < n; ++i) acc[i] = Tr::store(op(Tr::load(acc[i]), Tr::load(b[i])));
  } else {
    const auto bv = Tr::load(*b);
    for (int64_t i = 0; i < n; ++i) acc[i] = Tr::store(op(Tr::load(acc[i]), bv));
  }
}

// Folds op over 1+ inputs, all broadcast together; Mean divides the sum by the count.
template <typename Op, typename Types, bool kMean = false>
class VariadicKernel final : public Kernel {
 public:
  Status run(KernelContext& ctx) const override {
    std::vector<const Tensor*> ins;
    for (std::size_t i = 0; i < ctx.num_inputs(); ++i) {
      TANDEM_ASSIGN_OR_RETURN(const Tensor* t, required_input(ctx, i));
      ins.push_back(t);
    }
    if (ins.empty()) return ctx.error("needs at least one input");
    TANDEM_RETURN_IF_ERROR(same_dtype(ctx, ins));
    TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> shape, broadcast_inputs(ctx, ins));
    const bool known = dispatch(ins[0]->dtype(), Types{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      if (ins.size() == 1) {  // the value itself: share its storage
        ctx.set_output(0, *ins[0]);
        return;
      }
      Tensor& y = ctx.allocate_output(0, ins[0]->dtype(), shape);
      if (y.numel() == 0) return;
      binary_broadcast<Op, T, T, T>(Op{}, *ins[0], *ins[1], y);
      T* py = y.data<T>();
      for (std::size_t k = 2; k < ins.size(); ++k) {
        const Plan p = make_plan(shape, {&y, ins[k]});
        const T* pb = ins[k]->data<T>();
        for_each_broadcast_run(
            p.shape, p.strides,
            [&](int64_t out, const std::vector<int64_t>& off, int64_t n, const std::vector<int64_t>& in) {
              accumulate_run(Op{}, py + out, pb + off[1], in[1], n);
            });
      }
      if constexpr (kMean) {
        using Tr = ElementTraits<T>;
        using C = compute_t<T>;
        const C count = static_cast<C>(ins.size());
        for (int64_t i = 0, n = y.numel(); i < n; ++i) py[i] = Tr::store(Tr::load(py[i]) / count);
      }
    });
    return known ? Status::ok() : unsupported(ctx, "input 0", *ins[0], Types{});
  }
};

template <typename Op, typename Types, bool kMean = false>
Result<KernelPtr> make_variadic(const KernelInit&) {
  return KernelPtr(new VariadicKernel<Op, Types, kMean>());
}

// --- Pow ------------------------------------------------------------------------------------------------

// pow for a base of element type T and an exponent already widened to double (exact for every integer
// up to 2^53, and for every float): the result is rounded (a float base) or truncated (an integer base)
// back to T, as numpy's power(...).astype(base type) in the ONNX reference does.
struct PowReal {
  template <typename C>
  C operator()(C base, double e) const {
    const double r = std::pow(static_cast<double>(base), e);
    if constexpr (std::is_floating_point_v<C>)
      return static_cast<C>(r);
    else
      return float_to_int<C>(r);
  }
};
// Same-type float pow in the type's own precision (powf for float32, like the reference).
struct PowSame {
  template <typename C>
  C operator()(C base, C e) const {
    return std::pow(base, e);
  }
};
struct PowInt {
  template <typename C>
  C operator()(C base, int64_t e) const {
    return ops::int_pow(base, e);
  }
};

using PowBaseTypes = TypeList<float, double, Half, BFloat16, int32_t, int64_t>;
using PowExponentTypes = NumericTypes;

// The exponent converted to W (int64 or double), shape kept.
template <typename W>
Tensor widen(const Tensor& t) {
  Tensor w = Tensor::empty(dtype_v<W>, t.shape());
  dispatch(t.dtype(), PowExponentTypes{}, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = t.data<T>();
    W* q = w.data<W>();
    for (int64_t i = 0, n = t.numel(); i < n; ++i) q[i] = convert_element<W>(p[i]);
  });
  return w;
}

class PowKernel final : public Kernel {
 public:
  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* e, required_input(ctx, 1));
    bool exponent_known = false;
    dispatch(e->dtype(), PowExponentTypes{}, [&](auto) { exponent_known = true; });
    if (!exponent_known) return unsupported(ctx, "input 1 (the exponent)", *e, PowExponentTypes{});
    TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> shape, broadcast_inputs(ctx, {x, e}));
    const bool integer_exponent = !is_float_dtype(e->dtype());
    const bool known = dispatch(x->dtype(), PowBaseTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      Tensor& y = ctx.allocate_output(0, x->dtype(), shape);
      if constexpr (std::is_floating_point_v<T>) {
        // x^2 as x * x (exact, where powf may be an ulp off), as ONNX Runtime does: exporters square
        // this way (a spectrum's power, a variance) and pow costs ten times a multiply.
        if (e->dtype() == x->dtype() && e->numel() == 1 && *e->data<T>() == T{2} && shape == x->shape()) {
          const T* in = x->data<T>();
          T* out = y.data<T>();
          for (int64_t i = 0, n = x->numel(); i < n; ++i) out[i] = in[i] * in[i];
          return;
        }
      }
      if constexpr (is_floating_v<T>) {
        if (e->dtype() == x->dtype()) return binary_broadcast<PowSame, T, T, T>(PowSame{}, *x, *e, y);
      } else {
        if (integer_exponent)
          return binary_broadcast<PowInt, T, int64_t, T>(PowInt{}, *x, widen<int64_t>(*e), y);
      }
      binary_broadcast<PowReal, T, double, T>(PowReal{}, *x, widen<double>(*e), y);
    });
    return known ? Status::ok() : unsupported(ctx, "input 0 (the base)", *x, PowBaseTypes{});
  }

 private:
  static bool is_float_dtype(DType t) {
    return t == DType::kFloat32 || t == DType::kFloat64 || t == DType::kFloat16 || t == DType::kBFloat16;
  }
};

Result<KernelPtr> make_pow(const KernelInit&) { return KernelPtr(new PowKernel()); }

// --- Where ----------------------------------------------------------------------------------------------

// Copies elements without looking at them, so one instantiation per element size serves every type.
template <typename W>
void where_broadcast(const Tensor& cond, const Tensor& x, const Tensor& y, Tensor& out) {
  if (out.numel() == 0) return;
  const Plan p = make_plan(out.shape(), {&cond, &x, &y});
  const uint8_t* pc = cond.data<uint8_t>();
  const W* px = x.data<W>();
  const W* py = y.data<W>();
  W* po = out.data<W>();
  for_each_broadcast_run(
      p.shape, p.strides,
      [&](int64_t o, const std::vector<int64_t>& off, int64_t n, const std::vector<int64_t>& in) {
        const uint8_t* c = pc + off[0];
        const W* a = px + off[1];
        const W* b = py + off[2];
        const int64_t sc = in[0], sa = in[1], sb = in[2];
        if (sc && sa && sb) {  // the common case, kept apart so that it vectorises
          for (int64_t i = 0; i < n; ++i) po[o + i] = c[i] ? a[i] : b[i];
        } else {
          for (int64_t i = 0; i < n; ++i) po[o + i] = c[i * sc] ? a[i * sa] : b[i * sb];
        }
      });
}

class WhereKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }
  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* c, required_input(ctx, 0));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 1));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* y, required_input(ctx, 2));
    if (c->dtype() != DType::kBool)
      return ctx.error("the condition (input 0) must be bool, got " + c->describe());
    if (x->dtype() != y->dtype())
      return ctx.error("input 1 is " + x->describe() + " but input 2 is " + y->describe() +
                       "; they must have one element type");
    TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> shape, broadcast_inputs(ctx, {c, x, y}));
    const std::size_t size = dtype_size(x->dtype());
    if (x->dtype() == DType::kString) {
      where_broadcast<std::string>(*c, *x, *y, ctx.allocate_output(0, x->dtype(), shape));
      return Status::ok();
    }
    if (size != 1 && size != 2 && size != 4 && size != 8)
      return ctx.error("input 1 has type " + std::string(dtype_name(x->dtype())) +
                       ", which Where does not take");
    Tensor& out = ctx.allocate_output(0, x->dtype(), shape);
    switch (size) {
      case 1:
        where_broadcast<uint8_t>(*c, *x, *y, out);
        break;
      case 2:
        where_broadcast<uint16_t>(*c, *x, *y, out);
        break;
      case 4:
        where_broadcast<uint32_t>(*c, *x, *y, out);
        break;
      default:
        where_broadcast<uint64_t>(*c, *x, *y, out);
        break;
    }
    return Status::ok();
  }
};

Result<KernelPtr> make_where(const KernelInit&) { return KernelPtr(new WhereKernel()); }

// --- Clip -----------------------------------------------------------------------------------------------

// min(max(x, lo), hi): NaN passes through, and lo > hi gives hi everywhere, as the spec says.
template <typename T>
void clip(const Tensor& x, compute_t<T> lo, compute_t<T> hi, Tensor& y) {
  using Tr = ElementTraits<T>;
  const T* px = x.data<T>();
  T* py = y.data<T>();
  for (int64_t i = 0, n = x.numel(); i < n; ++i) {
    const auto v = Tr::load(px[i]);
    const auto low = v < lo ? lo : v;
    py[i] = Tr::store(hi < low ? hi : low);
  }
}

// Clip-6: the bounds are attributes (floats, defaulting to float's range); Clip-11 on: optional scalar
// inputs of the input's type, unbounded when omitted.
class ClipKernel final : public Kernel {
 public:
  ClipKernel(bool bounds_are_inputs, float min_attr, float max_attr)
      : inputs_(bounds_are_inputs), min_(min_attr), max_(max_attr) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0));
    for (std::size_t i = 1; i <= 2 && inputs_; ++i) {
      const Tensor* b = ctx.input(i);
      if (!b) continue;
      if (b->dtype() != x->dtype())
        return ctx.error("input " + std::to_string(i) + " (" + (i == 1 ? "min" : "max") + ") is " +
                         b->describe() + " but input 0 is " + x->describe() +
                         "; they must have one element type");
      if (b->numel() != 1)
        return ctx.error("input " + std::to_string(i) + " (" + (i == 1 ? "min" : "max") +
                         ") must be a scalar, got " + b->describe());
    }
    const bool known = dispatch(x->dtype(), NumericTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using C = compute_t<T>;
      C lo = std::numeric_limits<C>::lowest(), hi = std::numeric_limits<C>::max();
      if (inputs_) {
        if (const Tensor* b = ctx.input(1)) lo = ElementTraits<T>::load(b->data<T>()[0]);
        if (const Tensor* b = ctx.input(2)) hi = ElementTraits<T>::load(b->data<T>()[0]);
      } else {  // float bounds for any type: convert as Cast would (an integer type saturates)
        lo = ElementTraits<T>::load(convert_element<T>(min_));
        hi = ElementTraits<T>::load(convert_element<T>(max_));
      }
      clip<T>(*x, lo, hi, ctx.allocate_output(0, x->dtype(), x->shape()));
    });
    return known ? Status::ok() : unsupported(ctx, "input 0", *x, NumericTypes{});
  }

 private:
  const bool inputs_;
  const float min_, max_;
};

Result<KernelPtr> make_clip(const KernelInit& init) {
  const Node& n = init.node();
  if (n.opset >= 11) return KernelPtr(new ClipKernel(true, 0, 0));
  if (n.inputs.size() > 1)
    return init.error("before opset 11 Clip takes its bounds as attributes, not inputs");
  return KernelPtr(new ClipKernel(false, attr_float(n, "min", std::numeric_limits<float>::lowest()),
                                  attr_float(n, "max", std::numeric_limits<float>::max())));
}

}  // namespace

void register_elementwise_kernels(KernelRegistry& r) {
  using BoolTypes = TypeList<Bool>;

  r.add("Neg", unary<SignedTypes>(ops::Neg{}));
  r.add("Abs", unary<NumericTypes>(ops::Abs{}));
  r.add("Sign", unary<NumericTypes>(ops::Sign{}));
  r.add("Relu", unary<SignedTypes>(ops::Relu{}));
  r.add("Sqrt", unary<FloatTypes>(ops::Sqrt{}));
  r.add("Exp", unary_vector<FloatTypes>(ops::Exp{}, &VectorMath::exp));
  r.add("Log", unary_vector<FloatTypes>(ops::Log{}, &VectorMath::log));
  r.add("Tanh", unary_vector<FloatTypes>(ops::Tanh{}, &VectorMath::tanh));
  r.add("Sigmoid", unary_vector<FloatTypes>(ops::Sigmoid{}, &VectorMath::sigmoid));
  r.add("Erf", unary_vector<FloatTypes>(ops::Erf{}, &VectorMath::erf));
  r.add("Reciprocal", unary<FloatTypes>(ops::Reciprocal{}));
  r.add("Floor", unary<FloatTypes>(ops::Floor{}));
  r.add("Ceil", unary<FloatTypes>(ops::Ceil{}));
  r.add("Softplus", unary<FloatTypes>(ops::Softplus{}));
  r.add("Not", unary<BoolTypes>(ops::Not{}));
  r.add("LeakyRelu", unary_with<FloatTypes, ops::LeakyRelu>(
                         [](const Node& n) { return ops::LeakyRelu{attr_float(n, "alpha", 0.01f)}; }));
  r.add("Elu", unary_with<FloatTypes, ops::Elu>(
                   [](const Node& n) { return ops::Elu{attr_float(n, "alpha", 1.0f)}; }));
  r.add("Selu", unary_with<FloatTypes, ops::Selu>([](const Node& n) {
          return ops::Selu{attr_float(n, "alpha", 1.67326319217681884765625f),
                           attr_float(n, "gamma", 1.05070102214813232421875f)};
        }));
  r.add("Gelu", [](const KernelInit& init) -> Result<KernelPtr> {
    const std::string approximate = attr_string(init.node(), "approximate", "none");
    if (approximate != "none" && approximate != "tanh")
      return init.error("approximate must be none or tanh, got '" + approximate + "'");
    const VectorMath* vm = vector_math();
    const bool tanh = approximate == "tanh";
    return KernelPtr(new UnaryKernel<ops::Gelu, FloatTypes>(
        ops::Gelu{tanh}, vm ? (tanh ? vm->gelu_tanh : vm->gelu_erf) : nullptr));
  });
  r.add("Swish", unary_with<FloatTypes, ops::Swish>(
                    [](const Node& n) { return ops::Swish{attr_float(n, "alpha", 1.0f)}; }));
  r.add("HardSigmoid", unary_with<FloatTypes, ops::HardSigmoid>([](const Node& n) {
          return ops::HardSigmoid{attr_float(n, "alpha", 0.2f), attr_float(n, "beta", 0.5f)};
        }));

  r.add("Add", make_binary<ops::Add, NumericTypes>);
  r.add("Sub", make_binary<ops::Sub, NumericTypes>);
  r.add("Mul", make_binary<ops::Mul, NumericTypes>);
  r.add("Div", make_binary<ops::Div, NumericTypes>);
  r.add("Pow", make_pow);
  r.add("Equal", [](const KernelInit&) -> Result<KernelPtr> { return KernelPtr(new EqualKernel()); });
  r.take_strings("Equal");
  r.add("Less", make_binary<ops::Less, NumericTypes, true>);
  r.add("Greater", make_binary<ops::Greater, NumericTypes, true>);
  r.add("LessOrEqual", make_binary<ops::LessOrEqual, NumericTypes, true>);
  r.add("GreaterOrEqual", make_binary<ops::GreaterOrEqual, NumericTypes, true>);
  r.add("And", make_binary<ops::And, BoolTypes, true>);
  r.add("Or", make_binary<ops::Or, BoolTypes, true>);
  r.add("Xor", make_binary<ops::Xor, BoolTypes, true>);

  r.add("Sum", make_variadic<ops::Add, NumericTypes>);
  r.add("Mean", make_variadic<ops::Add, FloatTypes, true>);
  r.add("Min", make_variadic<ops::Min, NumericTypes>);
  r.add("Max", make_variadic<ops::Max, NumericTypes>);

  r.add("Where", make_where);
  r.take_strings("Where");
  r.add("Clip", make_clip);
  register_cast_kernels(r);
}

}  // namespace tandem::cpu
