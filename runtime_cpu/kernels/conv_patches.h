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
// reads as T{} (zero). What depends only on the kernel position (the offsets, the band of output columns
// whose input lies inside the image) is worked out once for all channels, and a row's input coordinates
// once per call: at batch 1 a 1-D convolution's output is a few columns wide, and per-element index
// arithmetic would cost more than the copies.
template <typename T>
void im2col(const T* x, int64_t channels, const Window3& w, int64_t row_begin, int64_t row_end, T* col) {
  const auto& in = w.in;
  const auto& out = w.out;
  const int64_t width = out[2], rows = row_end - row_begin, ld = rows * width;
  const int64_t kernel_size = w.kernel[0] * w.kernel[1] * w.kernel[2], plane = in[0] * in[1] * in[2];
  std::vector<int64_t> row_d(static_cast<std::size_t>(rows)), row_h(static_cast<std::size_t>(rows));
  for (int64_t r = row_begin; r < row_end; ++r) {
    row_d[static_cast<std::size_t>(r - row_begin)] = r / out[1] * w.stride[0];
    row_h[static_cast<std::size_t>(r - row_begin)] = r % out[1] * w.stride[1];
  }
  const int64_t stride_w = w.stride[2];
  int64_t k = 0;
  for (int64_t kd = 0; kd < w.kernel[0]; ++kd)
    for (int64_t kh = 0; kh < w.kernel[1]; ++kh)
      for (int64_t kw = 0; kw < w.kernel[2]; ++kw, ++k) {
        const int64_t off_d = kd * w.dilation[0] - w.pad_begin[0];
        const int64_t off_h = kh * w.dilation[1] - w.pad_begin[1];
        const int64_t off_w = kw * w.dilation[2] - w.pad_begin[2];
        const auto [w_lo, w_hi] = valid_outputs(off_w, stride_w, in[2], width);
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t id = row_d[static_cast<std::size_t>(r)] + off_d, ih = row_h[static_cast<std::size_t>(r)] + off_h;
          const bool inside = id >= 0 && id < in[0] && ih >= 0 && ih < in[1];
          // Channel 0's element for output column 0 (an index, as it may lie outside the row: only the
          // columns in [w_lo, w_hi) are read).
          int64_t at = (id * in[1] + ih) * in[2] + off_w;
          T* dst = col + k * ld + r * width;
          for (int64_t c = 0; c < channels; ++c, at += plane, dst += kernel_size * ld) {
            if (!inside) {
              std::fill(dst, dst + width, T{});
              continue;
            }
            std::fill(dst, dst + w_lo, T{});
            if (stride_w == 1) {
              std::copy(x + at + w_lo, x + at + w_hi, dst + w_lo);
            } else {
              for (int64_t ow = w_lo; ow < w_hi; ++ow) dst[ow] = x[at + ow * stride_w];
            }
            std::fill(dst + w_hi, dst + width, T{});
          }
        }
      }
}

// Copies n elements. A 1-D kernel's row is a few elements (3 in most speech front ends), which std::copy
// hands to a memmove call costing more than the copy; a length known at compile time is inlined.
template <typename T>
inline void copy_short(const T* src, int64_t n, T* dst) {
  switch (n) {
    case 0: return;
    case 1: std::copy_n(src, 1, dst); return;
    case 2: std::copy_n(src, 2, dst); return;
    case 3: std::copy_n(src, 3, dst); return;
    case 4: std::copy_n(src, 4, dst); return;
    case 5: std::copy_n(src, 5, dst); return;
    case 6: std::copy_n(src, 6, dst); return;
    case 7: std::copy_n(src, 7, dst); return;
    case 8: std::copy_n(src, 8, dst); return;
    default: std::copy(src, src + n, dst);
  }
}

// The patch matrix transposed, for every output position of one image group: [positions][channels * kernel
// elements], each position's patch contiguous (what the panel product reads, panel_product.h). Padding reads
// as T{} (zero).
template <typename T>
void im2row(const T* x, int64_t channels, const Window3& w, T* dst) {
  // The geometry in locals (stores through dst would otherwise reload it), and per output position what
  // does not depend on the channel: each (kd, kh) row's offset in a channel's plane (-1: padding) and the
  // band [lo, hi) of the kernel's width that lies inside the input.
  const int64_t in0 = w.in[0], in1 = w.in[1], in2 = w.in[2], plane = in0 * in1 * in2;
  const int64_t kd_size = w.kernel[0], kh_size = w.kernel[1], kw_size = w.kernel[2];
  const int64_t dil2 = w.dilation[2];
  std::vector<int64_t> rows(static_cast<std::size_t>(kd_size * kh_size));
  for (int64_t od = 0; od < w.out[0]; ++od)
    for (int64_t oh = 0; oh < w.out[1]; ++oh)
      for (int64_t ow = 0; ow < w.out[2]; ++ow) {
        const int64_t d0 = od * w.stride[0] - w.pad_begin[0], h0 = oh * w.stride[1] - w.pad_begin[1],
                      w0 = ow * w.stride[2] - w.pad_begin[2];
        for (int64_t kd = 0; kd < kd_size; ++kd)
          for (int64_t kh = 0; kh < kh_size; ++kh) {
            const int64_t id = d0 + kd * w.dilation[0], ih = h0 + kh * w.dilation[1];
            rows[static_cast<std::size_t>(kd * kh_size + kh)] =
                id < 0 || id >= in0 || ih < 0 || ih >= in1 ? -1 : (id * in1 + ih) * in2;
          }
        const int64_t lo = std::clamp<int64_t>(-w0, 0, kw_size), hi = std::clamp<int64_t>(in2 - w0, lo, kw_size);
        for (int64_t c = 0; c < channels; ++c)
          for (const int64_t row : rows) {
            if (row < 0) {
              std::fill(dst, dst + kw_size, T{});
            } else if (dil2 == 1) {  // the kernel's width is one run of the input row
              const T* src = x + (c * plane + row + w0 + lo);  // w0 + lo >= 0: inside the row
              std::fill(dst, dst + lo, T{});
              copy_short(src, hi - lo, dst + lo);
              std::fill(dst + hi, dst + kw_size, T{});
            } else {
              const T* src = x + c * plane + row;
              for (int64_t kw = 0; kw < kw_size; ++kw) {
                const int64_t iw = w0 + kw * dil2;
                dst[kw] = iw >= 0 && iw < in2 ? src[iw] : T{};
              }
            }
            dst += kw_size;
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
