// Conv: im2col (below) + strided-batched cuBLAS SGEMM, or a direct kernel for small K (conv.h).
//
// Index conventions (all row-major, 64-bit):
//   X [N, C, in0, in1, in2], W [M, C/group, k0, k1, k2], Y [N, M, out0, out1, out2];
//   P = out0·out1·out2 output positions, kvol = k0·k1·k2, K = C/group · kvol;
//   col, for a chunk of `nb` images from image n0 and a band of `pb` output positions from p0:
//     col[((i·C + c)·kvol + kk)·pb + j] = X[n0 + i, c, pos(p0 + j, kk)] (0 in the padding),
//   so image i's group g is the [K, pb] matrix starting at row i·C·kvol + g·K.
#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include "runtime_cuda/cuda_check.h"
#include "runtime_cuda/kernels/conv.h"
#include "runtime_cuda/kernels/gemm.h"

namespace tandem::cuda {
namespace {

constexpr int kThreads = 256;

int blocks_for(int64_t n) {
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>((n + kThreads - 1) / kThreads, 132 * 32)));
}

// Output position p (row-major over out[]) as (od, oh, ow).
__device__ __forceinline__ void split_position(const ConvShape& s, int64_t p, int64_t& od, int64_t& oh, int64_t& ow) {
  ow = p % s.out[2];
  const int64_t r = p / s.out[2];
  oh = r % s.out[1];
  od = r / s.out[1];
}

__global__ void im2col_kernel(const float* __restrict__ x, float* __restrict__ col, ConvShape s, int64_t n0,
                              int64_t nb, int64_t p0, int64_t pb) {
  const int64_t kvol = s.kernel[0] * s.kernel[1] * s.kernel[2];
  const int64_t in_size = s.in[0] * s.in[1] * s.in[2];
  const int64_t total = nb * s.channels * kvol * pb;
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < total;
       idx += int64_t{gridDim.x} * blockDim.x) {
    const int64_t j = idx % pb;
    int64_t r = idx / pb;
    const int64_t kk = r % kvol;
    r /= kvol;
    const int64_t c = r % s.channels;
    const int64_t i = r / s.channels;
    int64_t od, oh, ow;
    split_position(s, p0 + j, od, oh, ow);
    const int64_t kw = kk % s.kernel[2], kh = (kk / s.kernel[2]) % s.kernel[1], kd = kk / (s.kernel[2] * s.kernel[1]);
    const int64_t id = od * s.stride[0] - s.pad_begin[0] + kd * s.dilation[0];
    const int64_t ih = oh * s.stride[1] - s.pad_begin[1] + kh * s.dilation[1];
    const int64_t iw = ow * s.stride[2] - s.pad_begin[2] + kw * s.dilation[2];
    float v = 0.0f;
    if (id >= 0 && id < s.in[0] && ih >= 0 && ih < s.in[1] && iw >= 0 && iw < s.in[2])
      v = x[((n0 + i) * s.channels + c) * in_size + (id * s.in[1] + ih) * s.in[2] + iw];
    col[idx] = v;
  }
}

// One thread per output element: bias + Σ over its group's channels and the kernel window.
__global__ void conv_direct_kernel(const float* __restrict__ x, const float* __restrict__ w,
                                   const float* __restrict__ bias, float* __restrict__ y, ConvShape s) {
  const int64_t kvol = s.kernel[0] * s.kernel[1] * s.kernel[2];
  const int64_t in_size = s.in[0] * s.in[1] * s.in[2];
  const int64_t out_size = s.out[0] * s.out[1] * s.out[2];
  const int64_t cg_count = s.channels / s.group, mg_count = s.maps / s.group;
  const int64_t total = s.batch * s.maps * out_size;
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < total;
       idx += int64_t{gridDim.x} * blockDim.x) {
    const int64_t p = idx % out_size;
    const int64_t m = (idx / out_size) % s.maps;
    const int64_t n = idx / (out_size * s.maps);
    const int64_t g = m / mg_count;
    int64_t od, oh, ow;
    split_position(s, p, od, oh, ow);
    float acc = bias ? bias[m] : 0.0f;
    for (int64_t cg = 0; cg < cg_count; ++cg) {
      const float* xc = x + (n * s.channels + g * cg_count + cg) * in_size;
      const float* wc = w + (m * cg_count + cg) * kvol;
      for (int64_t kd = 0; kd < s.kernel[0]; ++kd) {
        const int64_t id = od * s.stride[0] - s.pad_begin[0] + kd * s.dilation[0];
        if (id < 0 || id >= s.in[0]) continue;
        for (int64_t kh = 0; kh < s.kernel[1]; ++kh) {
          const int64_t ih = oh * s.stride[1] - s.pad_begin[1] + kh * s.dilation[1];
          if (ih < 0 || ih >= s.in[1]) continue;
          const float* xrow = xc + (id * s.in[1] + ih) * s.in[2];
          const float* wrow = wc + (kd * s.kernel[1] + kh) * s.kernel[2];
          for (int64_t kw = 0; kw < s.kernel[2]; ++kw) {
            const int64_t iw = ow * s.stride[2] - s.pad_begin[2] + kw * s.dilation[2];
            if (iw >= 0 && iw < s.in[2]) acc += wrow[kw] * xrow[iw];
          }
        }
      }
    }
    y[idx] = acc;
  }
}

// y[n, m, p] += bias[m] over total = N·M·P elements.
__global__ void add_bias_kernel(float* __restrict__ y, const float* __restrict__ bias, int64_t maps, int64_t out_size,
                                int64_t total) {
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < total;
       idx += int64_t{gridDim.x} * blockDim.x)
    y[idx] += bias[(idx / out_size) % maps];
}

// A 1x1 kernel at unit strides without padding over the whole input: X itself is the patch matrix.
bool reads_in_place(const ConvShape& s) {
  for (int d = 0; d < 3; ++d)
    if (s.kernel[d] != 1 || s.stride[d] != 1 || s.pad_begin[d] != 0 || s.out[d] != s.in[d]) return false;
  return true;
}

// How the im2col buffer is filled: `images` whole images at a time, or (images == 1) bands of `band` output
// positions of one image when a single image's patches exceed the budget.
struct ColumnPlan {
  int64_t images = 1, band = 1;
};

ColumnPlan column_plan(const ConvShape& s) {
  const int64_t rows = std::max<int64_t>(1, s.channels * s.kernel_size());  // patch rows per image, all groups
  const int64_t positions = std::max<int64_t>(1, s.out_size());
  ColumnPlan plan;
  if (rows * positions <= kConvColumnBudget) {
    plan.images = std::max<int64_t>(1, std::min<int64_t>(s.batch, kConvColumnBudget / (rows * positions)));
    plan.band = positions;
  } else {
    plan.images = 1;
    plan.band = std::max<int64_t>(1, std::min<int64_t>(positions, kConvColumnBudget / rows));
  }
  return plan;
}

std::string n_of(int64_t v) { return std::to_string(v); }

}  // namespace

ConvAlgo conv_algo(const ConvShape& s, ConvAlgo algo) {
  if (algo != ConvAlgo::kAuto) return algo;
  return s.group_channels() == 1 && s.k() <= kConvDirectMaxK ? ConvAlgo::kDirect : ConvAlgo::kIm2col;
}

int64_t conv_workspace_floats(const ConvShape& s, ConvAlgo algo) {
  if (conv_algo(s, algo) == ConvAlgo::kDirect || reads_in_place(s)) return 0;
  if (s.batch == 0 || s.maps == 0 || s.out_size() == 0 || s.k() == 0) return 0;
  const ColumnPlan plan = column_plan(s);
  return plan.images * s.channels * s.kernel_size() * plan.band;
}

Status check_conv_shape(const ConvShape& s) {
  if (s.batch < 0 || s.channels < 0 || s.maps < 0)
    return Status::error("Conv: negative batch (" + n_of(s.batch) + "), channels (" + n_of(s.channels) +
                         ") or feature maps (" + n_of(s.maps) + ")");
  if (s.group < 1) return Status::error("Conv: group must be 1 or more, got " + n_of(s.group));
  if (s.channels % s.group != 0 || s.maps % s.group != 0)
    return Status::error("Conv: channels (" + n_of(s.channels) + ") and feature maps (" + n_of(s.maps) +
                         ") must be multiples of group " + n_of(s.group));
  for (int d = 0; d < 3; ++d) {
    if (s.in[d] < 0 || s.out[d] < 0 || s.kernel[d] < 1 || s.stride[d] < 1 || s.dilation[d] < 1 || s.pad_begin[d] < 0)
      return Status::error("Conv: spatial dimension " + n_of(d) + " has in " + n_of(s.in[d]) + ", out " +
                           n_of(s.out[d]) + ", kernel " + n_of(s.kernel[d]) + ", stride " + n_of(s.stride[d]) +
                           ", dilation " + n_of(s.dilation[d]) + ", pad " + n_of(s.pad_begin[d]));
  }
  return Status::ok();
}

Status conv_forward(cublasHandle_t handle, cudaStream_t stream, const ConvShape& s, ConvAlgo algo, const float* x,
                    const float* w, const float* bias, float* y, float* col) {
  TANDEM_RETURN_IF_ERROR(check_conv_shape(s));
  const int64_t positions = s.out_size(), y_elems = s.batch * s.maps * positions;
  if (y_elems == 0) return Status::ok();
  const int64_t k = s.k(), kvol = s.kernel_size(), group_maps = s.group_maps(), group_channels = s.group_channels();

  if (conv_algo(s, algo) == ConvAlgo::kDirect) {
    conv_direct_kernel<<<blocks_for(y_elems), kThreads, 0, stream>>>(x, w, bias, y, s);
    return launch_status("conv_direct_kernel");
  }

  if (k == 0) {
    // No input channels: Y is the bias alone (cuBLAS is not asked for a product over K = 0).
    TANDEM_CUDA_RETURN_IF_ERROR(
        cudaMemsetAsync(y, 0, static_cast<std::size_t>(y_elems) * sizeof(float), stream));
  } else {
    const bool in_place = reads_in_place(s);
    const ColumnPlan plan = in_place ? ColumnPlan{s.batch, positions} : column_plan(s);
    if (!in_place && !col) return Status::error("Conv: the im2col buffer is missing");
    const int64_t rows = s.channels * kvol;  // patch rows per image
    for (int64_t n0 = 0; n0 < s.batch; n0 += plan.images) {
      const int64_t nb = std::min(plan.images, s.batch - n0);
      for (int64_t p0 = 0; p0 < positions; p0 += plan.band) {
        const int64_t pb = std::min(plan.band, positions - p0);
        // The patch matrix B of image i (from n0), group g: base + i·stride_image + g·stride_group, ld ldb.
        const float* b_base;
        int64_t ldb, b_image, b_group;
        if (in_place) {
          b_base = x + n0 * s.channels * positions;
          ldb = positions;
          b_image = s.channels * positions;
          b_group = group_channels * positions;
        } else {
          const int64_t total = nb * rows * pb;
          im2col_kernel<<<blocks_for(total), kThreads, 0, stream>>>(x, col, s, n0, nb, p0, pb);
          TANDEM_RETURN_IF_ERROR(launch_status("im2col_kernel"));
          b_base = col;
          ldb = pb;
          b_image = rows * pb;
          b_group = k * pb;
        }
        // Y of image n0 + i, group g: y + ((n0 + i)·M + g·M/group)·P + p0, row stride P.
        float* y_base = y + n0 * s.maps * positions + p0;
        const int64_t y_image = s.maps * positions, y_group = group_maps * positions;
        if (s.group <= nb) {
          // One product per group, batched over the chunk's images (W_g repeats: stride 0).
          for (int64_t g = 0; g < s.group; ++g)
            TANDEM_RETURN_IF_ERROR(sgemm_strided_batched(handle, stream, false, false, group_maps, pb, k, 1.0f,
                                                         w + g * group_maps * k, k, 0, b_base + g * b_group, ldb,
                                                         b_image, 0.0f, y_base + g * y_group, positions, y_image, nb));
        } else {
          // One product per image, batched over the groups.
          for (int64_t i = 0; i < nb; ++i)
            TANDEM_RETURN_IF_ERROR(sgemm_strided_batched(handle, stream, false, false, group_maps, pb, k, 1.0f, w, k,
                                                         group_maps * k, b_base + i * b_image, ldb, b_group, 0.0f,
                                                         y_base + i * y_image, positions, y_group, s.group));
        }
      }
    }
  }
  if (bias) {
    add_bias_kernel<<<blocks_for(y_elems), kThreads, 0, stream>>>(y, bias, s.maps, positions, y_elems);
    TANDEM_RETURN_IF_ERROR(launch_status("add_bias_kernel"));
  }
  return Status::ok();
}

}  // namespace tandem::cuda
