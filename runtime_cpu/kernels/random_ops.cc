// The random ops: RandomUniform and RandomNormal (a shape from the attributes), RandomUniformLike and
// RandomNormalLike (the input's shape, and its type unless `dtype` says otherwise), Bernoulli (one draw per
// probability) and Multinomial (`sample_size` class indices per row of unnormalised log-probabilities).
// Numbers come from a RandomSource (random_source.h): fresh on every call, in a sequence a `seed` attribute
// makes reproducible. Draws are made in double and rounded once to the output type; a uniform draw that rounds
// up to `high` is taken down to the largest value below it, so outputs stay in [low, high).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/random_source.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

using RandomFloatTypes = TypeList<float, double, Half, BFloat16>;  // the generators' output types (ONNX's T)

template <typename T>
T from_double(double d) {
  if constexpr (std::is_same_v<T, Half>)
    return half_from_double(d);
  else if constexpr (std::is_same_v<T, BFloat16>)
    return bfloat16_from_double(d);
  else
    return static_cast<T>(d);
}

template <typename T>
double to_double(T x) {
  return static_cast<double>(ElementTraits<T>::load(x));
}

// The largest value of T below `high`: where a uniform draw that rounded up to `high` goes.
template <typename T>
T largest_below(double high) {
  const T t = from_double<T>(high);
  if (to_double(t) < high) return t;
  if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {  // one step down in the bit pattern
    const uint16_t b = t.bits;
    return T{static_cast<uint16_t>((b & 0x7fff) == 0 ? 0x8001 : (b & 0x8000) ? b + 1 : b - 1)};
  } else {
    return std::nextafter(t, -std::numeric_limits<T>::infinity());
  }
}

// A number as messages show it: "1.5", "nan", "-inf".
std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.7g", v);
  return buf;
}

std::optional<uint64_t> float_seed(const Node& n) {
  if (!has_attr(n, "seed")) return std::nullopt;
  return seed_from_float(attr_float(n, "seed", 0.0f));
}

// The type a `dtype` attribute names, nullopt when the node has none.
Result<std::optional<DType>> dtype_attribute(const KernelInit& init) {
  if (!has_attr(init.node(), "dtype")) return std::optional<DType>();
  const int64_t v = attr_int(init.node(), "dtype", 0);
  const auto t = v >= 0 && v <= std::numeric_limits<int32_t>::max() ? dtype_from_onnx(static_cast<int32_t>(v))
                                                                     : std::optional<DType>();
  if (!t) return init.error("dtype " + std::to_string(v) + " is not a tensor type tandem handles");
  return std::optional<DType>(*t);
}

bool is_random_float(DType t) { return t == DType::kFloat32 || t == DType::kFloat64 || is_narrow_float(t); }

std::string random_float_names() { return type_names(RandomFloatTypes{}); }

// --- RandomUniform, RandomNormal and their Like forms ----------------------------------------------------

struct Distribution {
  bool normal = false;
  double a = 0, b = 1;  // low and high, or mean and scale
};

template <typename T>
void draw(const Distribution& d, T* out, int64_t n, std::mt19937_64& g) {
  if (d.normal) {
    StandardNormal z;
    for (int64_t i = 0; i < n; ++i) out[i] = from_double<T>(d.a + d.b * z(g));
    return;
  }
  const double low = d.a, high = d.b;
  const T top = largest_below<T>(high);
  const bool clamp = to_double(top) >= low;  // else [low, high) holds no value of T (low == high): give low
  for (int64_t i = 0; i < n; ++i) {
    T y = from_double<T>(low + (high - low) * uniform01(g));
    if (clamp && to_double(y) >= high) y = top;
    out[i] = y;
  }
}

class RandomKernel final : public Kernel {
 public:
  // `shape` for RandomUniform/RandomNormal; nullopt for the Like forms, which take their input's.
  RandomKernel(Distribution dist, std::optional<DType> dtype, std::optional<std::vector<int64_t>> shape,
               std::optional<uint64_t> seed)
      : dist_(dist), dtype_(dtype), shape_(std::move(shape)), source_(seed) {}

  Status run(KernelContext& ctx) const override {
    std::vector<int64_t> shape;
    DType dtype = dtype_.value_or(DType::kFloat32);
    if (shape_) {
      shape = *shape_;
    } else {
      TANDEM_ASSIGN_OR_RETURN(const Tensor* like, required_input(ctx, 0, "input"));
      shape = like->shape();
      if (!dtype_) dtype = like->dtype();
    }
    if (!is_random_float(dtype))
      return ctx.error("output type " + std::string(dtype_name(dtype)) + " is not supported (" +
                       random_float_names() + (dtype_ ? " are)" : " are; a dtype attribute can name one)"));
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, shape, dtype));
    Tensor& y = ctx.allocate_output(0, dtype, std::move(shape));
    std::mt19937_64 g = source_.engine();
    dispatch(dtype, RandomFloatTypes{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      draw(dist_, y.data<T>(), y.numel(), g);
    });
    return Status::ok();
  }

 private:
  Distribution dist_;
  std::optional<DType> dtype_;
  std::optional<std::vector<int64_t>> shape_;
  RandomSource source_;
};

Result<KernelPtr> make_random(const KernelInit& init, bool normal, bool like) {
  const Node& n = init.node();
  Distribution d;
  d.normal = normal;
  d.a = normal ? attr_float(n, "mean", 0.0f) : attr_float(n, "low", 0.0f);
  d.b = normal ? attr_float(n, "scale", 1.0f) : attr_float(n, "high", 1.0f);
  if (!std::isfinite(d.a) || !std::isfinite(d.b))
    return init.error(std::string(normal ? "mean and scale" : "low and high") + " must be finite");
  if (!normal && d.a > d.b)
    return init.error("low (" + num(d.a) + ") is above high (" + num(d.b) + ")");
  TANDEM_ASSIGN_OR_RETURN(std::optional<DType> dtype, dtype_attribute(init));
  if (!like && !dtype) dtype = DType::kFloat32;
  if (dtype && !is_random_float(*dtype))
    return init.error("dtype " + std::string(dtype_name(*dtype)) + " is not supported (" + random_float_names() +
                      " are)");
  std::optional<std::vector<int64_t>> shape;
  if (!like) {
    const Attribute* a = n.attribute("shape");
    if (!a || a->kind != Attribute::Kind::kInts) return init.error("attribute 'shape' (ints) is required");
    for (int64_t v : a->ints)
      if (v < 0) return init.error("shape " + shape_string(a->ints) + " has a negative dimension");
    shape = a->ints;
  }
  return KernelPtr(new RandomKernel(d, dtype, std::move(shape), float_seed(n)));
}

// --- Bernoulli -----------------------------------------------------------------------------------------

// Each output element is 1 with the probability its input element gives (which must be in [0, 1]), else 0,
// in the `dtype` attribute's type (any numeric type or bool) or the input's.
class BernoulliKernel final : public Kernel {
 public:
  BernoulliKernel(std::optional<DType> dtype, std::optional<uint64_t> seed) : dtype_(dtype), source_(seed) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* p, required_input(ctx, 0, "input"));
    if (!is_random_float(p->dtype()))
      return ctx.error("input type " + std::string(dtype_name(p->dtype())) + " is not supported (" +
                       random_float_names() + " are)");
    const DType dtype = dtype_.value_or(p->dtype());
    auto zero = scalar_bytes(dtype, 0.0);
    auto one = scalar_bytes(dtype, 1.0);
    if (!zero || !one) return ctx.error("output type " + std::string(dtype_name(dtype)) + " is not supported");
    const int64_t n = p->numel();
    std::vector<double> prob(static_cast<std::size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const double v = element_as_double(*p, i);
      if (!(v >= 0.0 && v <= 1.0))
        return ctx.error("probability " + num(v) + " at element " + std::to_string(i) +
                         " is outside [0, 1]");
      prob[static_cast<std::size_t>(i)] = v;
    }
    Tensor& y = ctx.allocate_output(0, dtype, p->shape());
    auto* out = static_cast<std::byte*>(y.raw());
    const std::size_t es = zero->size();
    std::mt19937_64 g = source_.engine();
    for (int64_t i = 0; i < n; ++i) {
      const bool hit = uniform01(g) < prob[static_cast<std::size_t>(i)];
      std::memcpy(out + static_cast<std::size_t>(i) * es, (hit ? *one : *zero).data(), es);
    }
    return Status::ok();
  }

 private:
  std::optional<DType> dtype_;
  RandomSource source_;
};

Result<KernelPtr> make_bernoulli(const KernelInit& init) {
  TANDEM_ASSIGN_OR_RETURN(std::optional<DType> dtype, dtype_attribute(init));
  if (dtype && !scalar_bytes(*dtype, 1.0))
    return init.error("dtype " + std::string(dtype_name(*dtype)) + " is not supported (numeric types and bool are)");
  return KernelPtr(new BernoulliKernel(dtype, float_seed(init.node())));
}

// --- Multinomial ---------------------------------------------------------------------------------------

// Input [batch, classes] of unnormalised log-probabilities; output [batch, sample_size] of class indices,
// each drawn with probability softmax(row): the row's exp(x - max) summed up, and the first class whose
// running sum exceeds a uniform draw times the total. A class at -inf is never drawn; a row with NaN or
// +inf, or with every class at -inf, has no distribution and is an error.
class MultinomialKernel final : public Kernel {
 public:
  MultinomialKernel(int64_t samples, DType dtype, std::optional<uint64_t> seed)
      : samples_(samples), dtype_(dtype), source_(seed) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "input"));
    if (!is_random_float(x->dtype()))
      return ctx.error("input type " + std::string(dtype_name(x->dtype())) + " is not supported (" +
                       random_float_names() + " are)");
    if (x->rank() != 2) return ctx.error("the input must be [batch, classes], got " + x->describe());
    const int64_t batch = x->dim(0), classes = x->dim(1);
    if (classes == 0 && batch > 0) return ctx.error("the input has no classes: " + x->describe());
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, {batch, samples_}, dtype_));
    Tensor& y = ctx.allocate_output(0, dtype_, {batch, samples_});
    std::mt19937_64 g = source_.engine();
    std::vector<double> cum(static_cast<std::size_t>(classes));
    for (int64_t b = 0; b < batch; ++b) {
      double top = -std::numeric_limits<double>::infinity();
      for (int64_t c = 0; c < classes; ++c) {
        const double v = element_as_double(*x, b * classes + c);
        if (std::isnan(v) || v == std::numeric_limits<double>::infinity())
          return ctx.error("row " + std::to_string(b) + " holds " + num(v) +
                           ", which gives no distribution");
        top = std::max(top, v);
      }
      if (top == -std::numeric_limits<double>::infinity())
        return ctx.error("row " + std::to_string(b) + " gives every class probability 0 (all -inf)");
      double total = 0;
      int64_t last = 0;  // the last class with a positive probability
      for (int64_t c = 0; c < classes; ++c) {
        const double e = std::exp(element_as_double(*x, b * classes + c) - top);
        if (e > 0) last = c;
        total += e;
        cum[static_cast<std::size_t>(c)] = total;
      }
      for (int64_t s = 0; s < samples_; ++s) {
        const double t = uniform01(g) * total;
        auto c = static_cast<int64_t>(std::upper_bound(cum.begin(), cum.end(), t) - cum.begin());
        if (c >= classes) c = last;  // t rounded up to the total
        if (dtype_ == DType::kInt32)
          y.data<int32_t>()[b * samples_ + s] = static_cast<int32_t>(c);
        else
          y.data<int64_t>()[b * samples_ + s] = c;
      }
    }
    return Status::ok();
  }

 private:
  int64_t samples_;
  DType dtype_;
  RandomSource source_;
};

Result<KernelPtr> make_multinomial(const KernelInit& init) {
  const int64_t samples = attr_int(init.node(), "sample_size", 1);
  if (samples < 0) return init.error("sample_size must not be negative, got " + std::to_string(samples));
  TANDEM_ASSIGN_OR_RETURN(std::optional<DType> dtype, dtype_attribute(init));
  const DType t = dtype.value_or(DType::kInt32);
  if (t != DType::kInt32 && t != DType::kInt64)
    return init.error("dtype " + std::string(dtype_name(t)) + " is not supported (int32, int64 are)");
  return KernelPtr(new MultinomialKernel(samples, t, float_seed(init.node())));
}

}  // namespace

void register_random_kernels(KernelRegistry& r) {
  r.add("RandomUniform", [](const KernelInit& init) { return make_random(init, false, false); });
  r.add("RandomNormal", [](const KernelInit& init) { return make_random(init, true, false); });
  r.add("RandomUniformLike", [](const KernelInit& init) { return make_random(init, false, true); });
  r.add("RandomNormalLike", [](const KernelInit& init) { return make_random(init, true, true); });
  r.add("Bernoulli", make_bernoulli);
  r.add("Multinomial", make_multinomial);
}

}  // namespace tandem::cpu
