// ONNX Conv on the GPU (float32, 1 to 3 spatial dimensions, any group), as plain functions over device
// pointers and a stream. The geometry (strides, dilations, pads after auto_pad) is resolved by the caller;
// 1-D and 2-D convolutions are 3-D ones with leading spatial dimensions of size 1.
//
// Two algorithms:
//  - im2col + cuBLAS: per image and group Y_g[M/group, P] = W_g[M/group, K] · col_g[K, P], with
//    K = C/group · kernel elements and P the output positions. W's row-major layout [M, C/group, k...] is
//    that left operand as it stands. `col` (the patches, our own kernel) is built for a chunk of images (or
//    a band of output positions of one image) at a time, within kConvColumnBudget floats; the products are
//    strided-batched over images or over groups, whichever is more. A 1x1 kernel with unit strides and no
//    padding reads the input in place (no col).
//  - direct: one thread per output element sums its C/group · kernel products; chosen for depthwise
//    convolutions (C/group = 1) with a small kernel, where a GEMM would be mostly overhead. Dense
//    convolutions go to the GEMM even when K is small: the direct kernel reuses nothing between outputs.
// The bias is added by a separate pass over Y (im2col) or as the direct kernel's starting value.
// C++17-clean.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>

#include "graph/status.h"

namespace tandem::cuda {

struct ConvShape {
  int64_t batch = 0, channels = 0, maps = 0, group = 1;  // N, C, M (output channels), group
  // Spatial dimensions as three (1-D and 2-D: leading entries in = out = kernel = stride = dilation = 1,
  // pad 0). pad_begin is what lies before each dimension; the end padding is implied by `out`.
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, kernel[3] = {1, 1, 1};
  int64_t stride[3] = {1, 1, 1}, dilation[3] = {1, 1, 1}, pad_begin[3] = {0, 0, 0};

  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t out_size() const { return out[0] * out[1] * out[2]; }
  int64_t kernel_size() const { return kernel[0] * kernel[1] * kernel[2]; }
  int64_t group_channels() const { return channels / group; }
  int64_t group_maps() const { return maps / group; }
  int64_t k() const { return group_channels() * kernel_size(); }  // the GEMM's inner dimension
};

enum class ConvAlgo { kAuto, kIm2col, kDirect };

// The most floats the im2col buffer holds (64 MiB), unless one output position's patch (C · kernel
// elements) alone is larger: the buffer always holds at least that.
constexpr int64_t kConvColumnBudget = int64_t{16} << 20;
// kAuto's rule: direct when C/group is 1 and K (the kernel's elements) is at most this.
constexpr int64_t kConvDirectMaxK = 32;

// What `algo` (kAuto resolved) does for `s`.
ConvAlgo conv_algo(const ConvShape& s, ConvAlgo algo);
// Floats of scratch conv_forward needs for `s` with `algo` (0: none; the direct kernel and the in-place
// 1x1 case need none).
int64_t conv_workspace_floats(const ConvShape& s, ConvAlgo algo);
// Checks the shape's consistency (positive sizes, C and M multiples of group, non-negative pads, output
// sizes within what the padded input gives); the message names what is wrong.
Status check_conv_shape(const ConvShape& s);

// Y [N, M, out...] = Conv(X [N, C, in...], W [M, C/group, kernel...]) + B [M] (bias: nullptr for none).
// `col` holds conv_workspace_floats(s, algo) floats (nullptr when that is 0). cuBLAS calls use `handle`
// (its stream is set to `stream`). Enqueued on `stream`; returns before the work completes.
Status conv_forward(cublasHandle_t handle, cudaStream_t stream, const ConvShape& s, ConvAlgo algo, const float* x,
                    const float* w, const float* bias, float* y, float* col);

}  // namespace tandem::cuda
