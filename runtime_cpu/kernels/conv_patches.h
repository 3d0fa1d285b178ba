// What Conv and the integer convolutions (ConvInteger, QLinearConv) share: the patch matrix (im2col) that
// turns a convolution into matrix products, and the check of X against W. Templated on the element type:
// float for Conv, zero-point-shifted int16 for the integer ops (whose padding, the zero point, shifts to 0).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "graph/status.h"
#include "runtime/tensor.h"
#include "runtime/window_geometry.h"

namespace tandem::cpu {

// Output positions o in [0, out) whose input coordinate o * stride + offset lies in [0, in).
inline std::pair<int64_t, int64_t> valid_outputs(int64_t offset, int64_t stride, int64_t in, int64_t out) {
  const int64_t first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const int64_t last = in - 1 - offset < 0 ? 0 : (in - 1 - offset) / stride + 1;
  const int64_t hi = std::min(last, out);
  return {std::min(first, hi), hi};
}

// Writes the patch matrix of one image group for the output rows [row_begin, row_end) (a row is one (d, h)
// position of the output, out[2] elements wide): [channels * kernel elements, rows * out[2]]. Padding
// reads as T{} (zero).
template <typename T>
void im2col(const T* x, int64_t channels, const Window3& w, int64_t row_begin, int64_t row_end, T* col) {
  const auto& in = w.in;
  const auto& out = w.out;
  const int64_t width = out[2], ld = (row_end - row_begin) * width;
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t kd = 0; kd < w.kernel[0]; ++kd)
      for (int64_t kh = 0; kh < w.kernel[1]; ++kh)
        for (int64_t kw = 0; kw < w.kernel[2]; ++kw, col += ld) {
          const int64_t off_d = kd * w.dilation[0] - w.pad_begin[0];
          const int64_t off_h = kh * w.dilation[1] - w.pad_begin[1];
          const int64_t off_w = kw * w.dilation[2] - w.pad_begin[2];
          const auto [w_lo, w_hi] = valid_outputs(off_w, w.stride[2], in[2], width);
          for (int64_t r = row_begin; r < row_end; ++r) {
            T* dst = col + (r - row_begin) * width;
            const int64_t id = r / out[1] * w.stride[0] + off_d, ih = r % out[1] * w.stride[1] + off_h;
            if (id < 0 || id >= in[0] || ih < 0 || ih >= in[1]) {
              std::fill(dst, dst + width, T{});
              continue;
            }
            const T* row = x + ((c * in[0] + id) * in[1] + ih) * in[2];
            std::fill(dst, dst + w_lo, T{});
            for (int64_t ow = w_lo; ow < w_hi; ++ow) dst[ow] = row[ow * w.stride[2] + off_w];
            std::fill(dst + w_hi, dst + width, T{});
          }
        }
}

// The patch matrix is built a band of output rows at a time, so its size stays bounded (about 1 Mi
// elements) however large the image.
constexpr int64_t kPatchBudget = int64_t{1} << 20;  // elements

// W's own checks (check_conv_weights), and, when x_shape is given, X's rank and channels against W.
inline Status check_conv_operands(const std::vector<int64_t>& x_shape, const std::vector<int64_t>& w_shape,
                                  int64_t group, const std::vector<int64_t>& kernel_attr) {
  TANDEM_RETURN_IF_ERROR(check_conv_weights(w_shape, group, kernel_attr, "feature maps"));
  if (!x_shape.empty()) {
    if (x_shape.size() != w_shape.size())
      return Status::error("X " + shape_string(x_shape) + " and W " + shape_string(w_shape) + " differ in rank");
    if (x_shape[1] != w_shape[1] * group)
      return Status::error("X has " + std::to_string(x_shape[1]) + " channels but W " + shape_string(w_shape) +
                           " with group " + std::to_string(group) + " needs " + std::to_string(w_shape[1] * group));
  }
  return Status::ok();
}

}  // namespace tandem::cpu
