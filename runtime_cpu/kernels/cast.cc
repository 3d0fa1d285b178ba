#include "runtime_cpu/kernels/cast.h"

#include <cstring>
#include <string>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/string_elements.h"

namespace tandem::cpu {
namespace {

using CastTypes = TypeList<float, double, Half, BFloat16, int8_t, int16_t, int32_t, int64_t, uint8_t,
                           uint16_t, uint32_t, uint64_t, Bool>;

// Every type Cast converts between: the numeric ones, bool and string.
bool cast_kernel_type(DType t) { return castable(t) || t == DType::kString; }
std::string cast_kernel_types() { return type_names(CastTypes{}) + ", string"; }

// The output is `in` itself when the type does not change (tensors are immutable, so sharing is safe).
Status cast_output(KernelContext& ctx, const Tensor& in, DType to) {
  if (!cast_kernel_type(in.dtype()))
    return ctx.error("input 0 has type " + std::string(dtype_name(in.dtype())) +
                     ", which Cast does not take (it takes " + cast_kernel_types() + ")");
  if (in.dtype() == to) {
    ctx.set_output(0, in);
    return Status::ok();
  }
  Tensor& out = ctx.allocate_output(0, to, in.shape());
  Status s = to == DType::kString         ? format_elements(in, out)
             : in.dtype() == DType::kString ? parse_elements(in, out)
                                          : cast_into(in, out);
  return s ? s : ctx.error(s.message());
}

class CastKernel final : public Kernel {
 public:
  explicit CastKernel(DType to) : to_(to) {}
  Status run(KernelContext& ctx) const override {
    if (!ctx.input(0)) return ctx.error("input 0 is missing");
    return cast_output(ctx, *ctx.input(0), to_);
  }
  bool takes_strings() const override { return true; }

 private:
  const DType to_;
};

// Cast-24's round_mode only governs float8e8m0 targets, which tandem refuses at import, so on any other it
// changes nothing (ONNX Runtime refuses it there; the spec does not), but a value the spec does not name is
// refused rather than ignored.
Status check_round_mode(const KernelInit& init) {
  if (!init.node().attribute("round_mode")) return Status::ok();
  const std::string mode = attr_string(init.node(), "round_mode", "up");
  if (mode == "up" || mode == "down" || mode == "nearest") return Status::ok();
  return init.error("round_mode '" + mode + "' is not one of up, down, nearest");
}

Result<KernelPtr> make_cast(const KernelInit& init) {
  TANDEM_RETURN_IF_ERROR(check_round_mode(init));
  const Node& n = init.node();
  const Attribute* a = n.attribute("to");
  if (!a || a->kind != Attribute::Kind::kInt) return init.error("attribute 'to' (an int) is missing");
  const auto to = a->i >= 0 && a->i <= 1000 ? dtype_from_onnx(static_cast<int32_t>(a->i)) : std::nullopt;
  if (!to || !cast_kernel_type(*to))
    return init.error("cannot cast to type " + (to ? std::string(dtype_name(*to)) : std::to_string(a->i)) +
                      " (supported: " + cast_kernel_types() + ")");
  if (*to == DType::kBFloat16 && n.opset < 13) return init.error("bfloat16 needs opset 13 or later");
  return KernelPtr(new CastKernel(*to));
}

// The target type is the type of input 1, whose elements are never read.
class CastLikeKernel final : public Kernel {
 public:
  Status run(KernelContext& ctx) const override {
    if (!ctx.input(0) || !ctx.input(1))
      return ctx.error("needs 2 inputs: the tensor and one of the target type");
    const DType to = ctx.input(1)->dtype();
    if (!cast_kernel_type(to))
      return ctx.error("cannot cast to type " + std::string(dtype_name(to)) + " (input 1 is " +
                       ctx.input(1)->describe() + ")");
    return cast_output(ctx, *ctx.input(0), to);
  }
  bool takes_strings() const override { return true; }
};

// BitCast (opset 26): the same bits as another type of the same width, the shape unchanged (bytes little-
// endian, as tandem keeps them). bool counts as 8 bits, as ONNX stores it and numpy's view reads it.
class BitCastKernel final : public Kernel {
 public:
  explicit BitCastKernel(DType to) : to_(to) {}
  Status run(KernelContext& ctx) const override {
    const Tensor* in = ctx.input(0);
    if (!in) return ctx.error("input 0 is missing");
    if (in->dtype() == DType::kString || dtype_size(in->dtype()) != dtype_size(to_))
      return ctx.error("cannot reinterpret " + in->describe() + " as " + std::string(dtype_name(to_)) +
                       (in->dtype() == DType::kString ? ": strings have no fixed width"
                                                      : ": the element widths differ (" +
                                                            std::to_string(8 * dtype_size(in->dtype())) + " and " +
                                                            std::to_string(8 * dtype_size(to_)) + " bits)"));
    Tensor& out = ctx.allocate_output(0, to_, in->shape());
    if (out.nbytes() > 0) std::memcpy(out.raw(), in->raw(), out.nbytes());
    return Status::ok();
  }

 private:
  const DType to_;
};

Result<KernelPtr> make_bit_cast(const KernelInit& init) {
  const Attribute* a = init.node().attribute("to");
  if (!a || a->kind != Attribute::Kind::kInt) return init.error("attribute 'to' (an int) is missing");
  const auto to = a->i > 0 && a->i <= 1000 ? dtype_from_onnx(static_cast<int32_t>(a->i)) : std::nullopt;
  if (!to || *to == DType::kString)
    return init.error("cannot reinterpret as type " + (to ? std::string(dtype_name(*to)) : std::to_string(a->i)) +
                      " (any fixed-width type tandem has but string)");
  return KernelPtr(new BitCastKernel(*to));
}

Result<KernelPtr> make_cast_like(const KernelInit& init) {
  TANDEM_RETURN_IF_ERROR(check_round_mode(init));
  return KernelPtr(new CastLikeKernel());
}

}  // namespace

bool castable(DType t) {
  return dispatch(t, CastTypes{}, [](auto) {});
}

Status cast_into(const Tensor& in, Tensor& out) {
  if (in.numel() != out.numel())
    return Status::error("cast of " + in.describe() + " into " + out.describe() + ": element counts differ");
  bool known_out = false;
  const bool known_in = dispatch(in.dtype(), CastTypes{}, [&](auto s) {
    known_out = dispatch(out.dtype(), CastTypes{}, [&](auto d) {
      using S = typename decltype(s)::type;
      using D = typename decltype(d)::type;
      const S* p = in.data<S>();
      D* q = out.data<D>();
      for (int64_t i = 0, n = in.numel(); i < n; ++i) q[i] = convert_element<D>(p[i]);
    });
  });
  if (!known_in || !known_out)
    return Status::error("cannot cast " + std::string(dtype_name(in.dtype())) + " to " +
                         std::string(dtype_name(out.dtype())));
  return Status::ok();
}

void register_cast_kernels(KernelRegistry& r) {
  r.add("Cast", make_cast);
  r.add("CastLike", make_cast_like);
  r.add("BitCast", make_bit_cast);
  r.take_strings("Cast");
  r.take_strings("CastLike");
}

}  // namespace tandem::cpu
