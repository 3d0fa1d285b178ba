#include "runtime/window_geometry.h"

#include <algorithm>

#include "runtime/overflow_check.h"
#include "runtime/tensor.h"

namespace tandem {
namespace {

std::vector<int64_t> ints_of(const Node& n, const char* name) {
  const Attribute* a = n.attribute(name);
  return a && a->kind == Attribute::Kind::kInts ? a->ints : std::vector<int64_t>{};
}

}  // namespace

Result<WindowAttrs> read_window_attrs(const Node& n) {
  WindowAttrs a;
  a.kernel_shape = ints_of(n, "kernel_shape");
  a.strides = ints_of(n, "strides");
  a.dilations = ints_of(n, "dilations");
  a.pads = ints_of(n, "pads");
  a.auto_pad = n.attribute_string("auto_pad", "NOTSET");
  if (a.auto_pad.empty()) a.auto_pad = "NOTSET";  // some exporters write the default as ""
  const int64_t ceil_mode = n.attribute_int("ceil_mode", 0);
  if (ceil_mode != 0 && ceil_mode != 1)
    return Status::error("ceil_mode must be 0 or 1, got " + std::to_string(ceil_mode));
  a.ceil_mode = ceil_mode == 1;
  if (a.auto_pad != "NOTSET" && a.auto_pad != "SAME_UPPER" && a.auto_pad != "SAME_LOWER" &&
      a.auto_pad != "VALID")
    return Status::error("auto_pad '" + a.auto_pad + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
  for (int64_t k : a.kernel_shape)
    if (k < 1) return Status::error("kernel_shape " + shape_string(a.kernel_shape) + " has an entry below 1");
  for (int64_t s : a.strides)
    if (s < 1) return Status::error("strides " + shape_string(a.strides) + " has an entry below 1");
  for (int64_t d : a.dilations)
    if (d < 1) return Status::error("dilations " + shape_string(a.dilations) + " has an entry below 1");
  for (int64_t p : a.pads)
    if (p < 0) return Status::error("pads " + shape_string(a.pads) + " has a negative entry");
  return a;
}

Result<Window> resolve_window(const WindowAttrs& a, const std::vector<int64_t>& in_spatial,
                              const std::vector<int64_t>& kernel) {
  const std::size_t r = in_spatial.size();
  if (kernel.size() != r)
    return Status::error("kernel shape " + shape_string(kernel) + " has " + std::to_string(kernel.size()) +
                         " dimensions for " + std::to_string(r) + " spatial dimensions");
  if (!a.strides.empty() && a.strides.size() != r)
    return Status::error("strides " + shape_string(a.strides) + " needs " + std::to_string(r) + " entries");
  if (!a.dilations.empty() && a.dilations.size() != r)
    return Status::error("dilations " + shape_string(a.dilations) + " needs " + std::to_string(r) +
                         " entries");
  if (!a.pads.empty() && a.pads.size() != 2 * r)
    return Status::error("pads " + shape_string(a.pads) + " needs " + std::to_string(2 * r) + " entries");
  Window w;
  w.in = in_spatial;
  w.kernel = kernel;
  w.stride = a.strides;
  if (w.stride.empty()) w.stride.assign(r, 1);
  w.dilation = a.dilations;
  if (w.dilation.empty()) w.dilation.assign(r, 1);
  w.out.assign(r, 0);
  w.pad_begin.assign(r, 0);
  w.pad_end.assign(r, 0);
  // Attributes may be anything up to 2^63 and a zero-size input's dimensions up to 2^40, so the sizes are
  // worked out with overflow checks (a stride of 2^63 - 1 with SAME padding wrapped the output size round
  // to -1: undefined behaviour).
  OverflowCheck check;
  const auto overflowed = [&](std::size_t i) {
    return Status::error("the output size in spatial dimension " + std::to_string(i) + " of input " +
                         shape_string(in_spatial) + " overflows int64 (kernel " + shape_string(kernel) +
                         ", strides, dilations or pads too large)");
  };
  for (std::size_t i = 0; i < r; ++i) {
    const int64_t in = in_spatial[i], s = w.stride[i];
    // What one window covers, dilation included.
    const int64_t extent = check.add(check.mul(kernel[i] - 1, w.dilation[i]), 1);
    if (a.auto_pad == "SAME_UPPER" || a.auto_pad == "SAME_LOWER") {
      // Output size ceil(in / stride); the padding that needs is split, the odd element at the end (UPPER)
      // or at the start (LOWER).
      w.out[i] = in / s + (in % s != 0);
      const int64_t total = std::max<int64_t>(0, check.add(check.add(check.mul(w.out[i] - 1, s), extent), -in));
      if (check.overflowed()) return overflowed(i);
      const int64_t half = total / 2;
      w.pad_begin[i] = a.auto_pad == "SAME_UPPER" ? half : total - half;
      w.pad_end[i] = total - w.pad_begin[i];
      continue;
    }
    if (a.auto_pad == "NOTSET" && !a.pads.empty()) {
      w.pad_begin[i] = a.pads[i];
      w.pad_end[i] = a.pads[i + r];
    }
    const int64_t span = check.add(check.add(check.add(in, w.pad_begin[i]), w.pad_end[i]), -extent);
    if (check.overflowed()) return overflowed(i);
    if (span < 0)
      return Status::error("the window (kernel " + shape_string(kernel) + ", dilations " +
                           shape_string(w.dilation) + ") is larger than the padded input " +
                           shape_string(in_spatial) + " in spatial dimension " + std::to_string(i));
    if (a.ceil_mode && a.auto_pad == "NOTSET") {
      w.out[i] = span / s + (span % s != 0) + 1;
      // A last window that would start inside the end padding is dropped (as PyTorch and onnxruntime do).
      // (A start past int64 is past the padded input too.)
      int64_t start = 0;
      if (__builtin_mul_overflow(w.out[i] - 1, s, &start) || start >= in + w.pad_begin[i]) --w.out[i];
    } else {
      w.out[i] = span / s + 1;
    }
  }
  return w;
}

Window3 to_window3(const Window& w) {
  Window3 w3;
  const std::size_t shift = 3 - w.in.size();
  for (std::size_t i = 0; i < 3; ++i) {
    const bool real = i >= shift;
    const std::size_t j = real ? i - shift : 0;
    w3.in[i] = real ? w.in[j] : 1;
    w3.out[i] = real ? w.out[j] : 1;
    w3.kernel[i] = real ? w.kernel[j] : 1;
    w3.stride[i] = real ? w.stride[j] : 1;
    w3.dilation[i] = real ? w.dilation[j] : 1;
    w3.pad_begin[i] = real ? w.pad_begin[j] : 0;
    w3.pad_end[i] = real ? w.pad_end[j] : 0;
  }
  return w3;
}

Status check_conv_weights(const std::vector<int64_t>& w_shape, int64_t group, const std::vector<int64_t>& kernel_attr,
                          const std::string& first_dimension) {
  if (w_shape.size() < 3 || w_shape.size() > 5)
    return Status::error("W must have rank 3 to 5 (1 to 3 spatial dimensions), got " + shape_string(w_shape));
  if (group <= 0 || w_shape[0] % group != 0)
    return Status::error("W " + shape_string(w_shape) + " has " + std::to_string(w_shape[0]) + " " + first_dimension +
                         ", not a multiple of group " + std::to_string(group));
  const std::vector<int64_t> kernel(w_shape.begin() + 2, w_shape.end());
  if (!kernel_attr.empty() && kernel_attr != kernel)
    return Status::error("kernel_shape " + shape_string(kernel_attr) + " does not match W " + shape_string(w_shape));
  return Status::ok();
}

}  // namespace tandem
