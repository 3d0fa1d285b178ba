// The machinery of the elementwise kernels, shared by elementwise.cc and the families beside it
// (math_unary.cc, activation_ops.cc, mod_bitshift.cc): dtype errors, numpy broadcasting merged into long
// runs, and the unary kernel that applies a functor elementwise. In namespace ew so that its short names
// stay apart from the shape kernels' helpers (tensor_ops.h).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime/kernel.h"
#include "runtime_cpu/kernel_registry.h"
#include "runtime_cpu/kernels/broadcast.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/vector_math.h"

namespace tandem::cpu::ew {

template <typename List>
Status unsupported(const KernelContext& ctx, const std::string& what, const Tensor& t, List list) {
  return ctx.error(what + " has type " + std::string(dtype_name(t.dtype())) +
                   ", which this op does not take" + " (it takes " + type_names(list) + ")");
}

inline Result<const Tensor*> required_input(const KernelContext& ctx, std::size_t i) {
  const Tensor* t = ctx.input(i);
  if (!t) return ctx.error("input " + std::to_string(i) + " is missing");
  return t;
}

inline Status same_dtype(const KernelContext& ctx, const std::vector<const Tensor*>& ins) {
  for (std::size_t k = 1; k < ins.size(); ++k)
    if (ins[k]->dtype() != ins[0]->dtype())
      return ctx.error("input " + std::to_string(k) + " is " + ins[k]->describe() + " but input 0 is " +
                       ins[0]->describe() + "; they must have one element type");
  return Status::ok();
}

// --- broadcasting ---------------------------------------------------------------------------------------

// Inputs read as if broadcast to `shape`, with dimensions merged wherever every input walks them as one
// (same-shaped operands become one flat run, [2,3,4] with [4] becomes [6,4]), so runs are long.
struct Plan {
  std::vector<int64_t> shape;
  std::vector<std::vector<int64_t>> strides;  // per input, one per entry of `shape`
};

inline Plan make_plan(const std::vector<int64_t>& out_shape, const std::vector<const Tensor*>& ins) {
  const std::size_t n = ins.size();
  std::vector<std::vector<int64_t>> full(n);
  for (std::size_t k = 0; k < n; ++k) full[k] = broadcast_strides(ins[k]->shape(), out_shape);
  Plan p;  // built innermost first, reversed at the end
  p.strides.resize(n);
  for (std::size_t d = out_shape.size(); d-- > 0;) {
    if (out_shape[d] == 1) continue;
    bool merge = !p.shape.empty();
    for (std::size_t k = 0; k < n && merge; ++k) merge = full[k][d] == p.strides[k].back() * p.shape.back();
    if (merge) {
      p.shape.back() *= out_shape[d];
      continue;
    }
    p.shape.push_back(out_shape[d]);
    for (std::size_t k = 0; k < n; ++k) p.strides[k].push_back(full[k][d]);
  }
  std::reverse(p.shape.begin(), p.shape.end());
  for (auto& s : p.strides) std::reverse(s.begin(), s.end());
  return p;
}

inline Result<std::vector<int64_t>> broadcast_inputs(const KernelContext& ctx,
                                                     const std::vector<const Tensor*>& ins) {
  std::vector<std::vector<int64_t>> shapes;
  for (const Tensor* t : ins) shapes.push_back(t->shape());
  auto out = broadcast_shapes(shapes);
  if (!out) return ctx.error(out.status().message());
  return out;
}

// y = op(a, b) over one run: inner strides are 1 (walks) or 0 (a broadcast value), so each case is a
// plain loop the compiler vectorises.
template <typename Op, typename A, typename B, typename Out>
void binary_run(const Op& op, const A* a, int64_t sa, const B* b, int64_t sb, Out* y, int64_t n) {
  using TA = ElementTraits<A>;
  using TB = ElementTraits<B>;
  using TO = ElementTraits<Out>;
  if (sa && sb) {
    for (int64_t i = 0; i < n; ++i) y[i] = TO::store(op(TA::load(a[i]), TB::load(b[i])));
  } else if (sa) {
    const auto bv = TB::load(*b);
    for (int64_t i = 0; i < n; ++i) y[i] = TO::store(op(TA::load(a[i]), bv));
  } else if (sb) {
    const auto av = TA::load(*a);
    for (int64_t i = 0; i < n; ++i) y[i] = TO::store(op(av, TB::load(b[i])));
  } else {
    const Out v = TO::store(op(TA::load(*a), TB::load(*b)));
    for (int64_t i = 0; i < n; ++i) y[i] = v;
  }
}

// y = op(a, b) with a and b broadcast to y's shape.
template <typename Op, typename A, typename B, typename Out>
void binary_broadcast(const Op& op, const Tensor& a, const Tensor& b, Tensor& y) {
  if (y.numel() == 0) return;
  const Plan p = make_plan(y.shape(), {&a, &b});
  const A* pa = a.data<A>();
  const B* pb = b.data<B>();
  Out* py = y.data<Out>();
  for_each_broadcast_run(
      p.shape, p.strides,
      [&](int64_t out, const std::vector<int64_t>& off, int64_t n, const std::vector<int64_t>& in) {
        binary_run(op, pa + off[0], in[0], pb + off[1], in[1], py + out, n);
      });
}

// --- unary ----------------------------------------------------------------------------------------------

// y = op(x) elementwise; the output has x's type, or bool for predicates (kBoolOut). `float_span`, when
// given, computes float32 (and, widened, float16 and bfloat16) inputs over whole vectors (vector_math.h);
// op's loop is then its reference twin.
template <typename Op, typename Types, bool kBoolOut = false>
class UnaryKernel final : public Kernel {
 public:
  explicit UnaryKernel(Op op, SpanFn float_span = nullptr) : op_(op), float_span_(float_span) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0));
    const bool known = dispatch(x->dtype(), Types{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Out = std::conditional_t<kBoolOut, Bool, T>;
      Tensor& y = ctx.allocate_output(0, dtype_v<Out>, x->shape());
      const T* px = x->data<T>();
      Out* py = y.data<Out>();
      const int64_t n = x->numel();
      if constexpr (std::is_same_v<T, float> && std::is_same_v<Out, float>)
        if (float_span_) return float_span_(px, py, n);
      // float16 and bfloat16 as the loop below computes them (widened, computed in float, rounded once), a
      // block of floats at a time through the vector form.
      if constexpr (std::is_same_v<T, Out> && (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>))
        if (float_span_) {
          constexpr int64_t kBlock = 256;
          float block[kBlock];
          for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
            const int64_t m = std::min(kBlock, n - i0);
            for (int64_t k = 0; k < m; ++k) block[k] = ElementTraits<T>::load(px[i0 + k]);
            float_span_(block, block, m);
            for (int64_t k = 0; k < m; ++k) py[i0 + k] = ElementTraits<T>::store(block[k]);
          }
          return;
        }
      for (int64_t i = 0; i < n; ++i) py[i] = ElementTraits<Out>::store(op_(ElementTraits<T>::load(px[i])));
    });
    return known ? Status::ok() : unsupported(ctx, "input 0", *x, Types{});
  }

 private:
  const Op op_;
  const SpanFn float_span_;
};

template <typename Types, typename Op, bool kBoolOut = false>
KernelFactory unary(Op op) {
  return [op](const KernelInit&) -> Result<KernelPtr> {
    return KernelPtr(new UnaryKernel<Op, Types, kBoolOut>(op));
  };
}

// The factory of an op with a vector form for float32 (`member` of vector_math.h's table), chosen when the
// kernel is made: the plain loop under TANDEM_ELEMENTWISE_KERNEL=reference.
template <typename Types, typename Op>
KernelFactory unary_vector(Op op, SpanFn VectorMath::*member) {
  return [op, member](const KernelInit&) -> Result<KernelPtr> {
    const VectorMath* vm = vector_math();
    return KernelPtr(new UnaryKernel<Op, Types>(op, vm ? vm->*member : nullptr));
  };
}

// Factories for ops whose functor takes attributes.
template <typename Types, typename Op, bool kBoolOut = false, typename MakeOp>
KernelFactory unary_with(MakeOp make) {
  return [make](const KernelInit& init) -> Result<KernelPtr> {
    return KernelPtr(new UnaryKernel<Op, Types, kBoolOut>(make(init.node())));
  };
}

// Whether t (of integer type T) holds a 0: integer division and remainder refuse it before dividing.
template <typename T>
bool has_zero(const Tensor& t) {
  const T* p = t.data<T>();
  return std::any_of(p, p + t.numel(), [](T v) { return v == T(0); });
}

}  // namespace tandem::cpu::ew
