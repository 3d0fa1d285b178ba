// Elementwise kernels. One template per op family; the op is a template parameter so each instantiation
// is a straight loop with no per-element switch. Operands with the output's shape take a path with no
// index arithmetic.
#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include "runtime_cuda/cuda_check.h"
#include "runtime_cuda/kernels/broadcast_index.h"
#include "runtime_cuda/kernels/elementwise.h"

namespace tandem::cuda {

Result<std::vector<int64_t>> broadcast_shape(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const std::size_t r = std::max(a.size(), b.size());
  std::vector<int64_t> out(r);
  for (std::size_t i = 0; i < r; ++i) {
    const int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1) {
      auto str = [](const std::vector<int64_t>& s) {
        std::string o = "[";
        for (std::size_t k = 0; k < s.size(); ++k) o += (k ? "," : "") + std::to_string(s[k]);
        return o + "]";
      };
      return Status::error("shapes " + str(a) + " and " + str(b) + " do not broadcast");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Result<StridedShape> make_strided_shape(const std::vector<int64_t>& out,
                                        const std::vector<std::vector<int64_t>>& operands) {
  const std::size_t r = out.size(), nops = operands.size();
  if (nops > 2) return Status::error("make_strided_shape: at most two operands");
  // Per operand and output dimension: the operand's extent there (1 when broadcast or missing).
  std::vector<std::vector<int64_t>> ext(nops, std::vector<int64_t>(r, 1));
  for (std::size_t o = 0; o < nops; ++o) {
    const auto& s = operands[o];
    if (s.size() > r) return Status::error("operand has a higher rank than the output");
    for (std::size_t i = 0; i < s.size(); ++i) {
      const int64_t d = s[i], od = out[r - s.size() + i];
      if (d != od && d != 1) return Status::error("operand dimension " + std::to_string(d) + " does not broadcast to " + std::to_string(od));
      ext[o][r - s.size() + i] = d;
    }
  }
  // Merge dimension i into i+1 (the inner one) while, for every operand, both are broadcast or both are not.
  std::vector<int64_t> dims;
  std::vector<std::vector<int64_t>> merged(nops);
  for (std::size_t i = 0; i < r; ++i) {
    if (out[i] == 1) continue;  // size-1 output dimensions index nothing
    bool can_merge = !dims.empty();
    for (std::size_t o = 0; o < nops && can_merge; ++o)
      can_merge = (ext[o][i] == 1) == (merged[o].back() == 1);
    if (can_merge) {
      dims.back() *= out[i];
      for (std::size_t o = 0; o < nops; ++o) merged[o].back() = ext[o][i] == 1 ? 1 : dims.back();
    } else {
      dims.push_back(out[i]);
      for (std::size_t o = 0; o < nops; ++o) merged[o].push_back(ext[o][i]);
    }
  }
  if (dims.size() > static_cast<std::size_t>(kMaxKernelRank))
    return Status::error("broadcast of rank " + std::to_string(dims.size()) + " exceeds the GPU kernels' limit of " +
                         std::to_string(kMaxKernelRank));
  StridedShape s;
  s.rank = static_cast<int>(dims.size());
  for (std::size_t o = 0; o < nops; ++o) {
    int64_t stride = 1;
    for (int d = s.rank - 1; d >= 0; --d) {
      s.dims[d] = dims[static_cast<std::size_t>(d)];
      s.strides[o][d] = merged[o][static_cast<std::size_t>(d)] == 1 ? 0 : stride;
      stride *= merged[o][static_cast<std::size_t>(d)];
    }
  }
  return s;
}

namespace {

constexpr int kThreads = 256;

int blocks_for(int64_t n) {
  // Grid-stride loops: enough blocks to fill an H100 several times over, not one per element.
  return static_cast<int>(std::min<int64_t>((n + kThreads - 1) / kThreads, 132 * 32));
}

template <typename T, BinaryOp OP>
__device__ __forceinline__ T apply_binary(T a, T b) {
  if constexpr (OP == BinaryOp::kAdd) return a + b;
  if constexpr (OP == BinaryOp::kSub) return a - b;
  if constexpr (OP == BinaryOp::kMul) return a * b;
  if constexpr (OP == BinaryOp::kDiv) return a / b;
  if constexpr (OP == BinaryOp::kPow) return powf(a, b);
  if constexpr (OP == BinaryOp::kMax) return a > b ? a : b;
  if constexpr (OP == BinaryOp::kMin) return a < b ? a : b;
}

template <typename T, BinaryOp OP>
__global__ void binary_same_shape(const T* a, const T* b, T* y, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    y[i] = apply_binary<T, OP>(a[i], b[i]);
}

template <typename T, BinaryOp OP>
__global__ void binary_broadcast(const T* a, const T* b, T* y, int64_t n, StridedShape s) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    y[i] = apply_binary<T, OP>(a[s.offset(0, i)], b[s.offset(1, i)]);
}

template <typename T, BinaryOp OP>
Status launch_binary(const void* a, const std::vector<int64_t>& as, const void* b, const std::vector<int64_t>& bs,
                     void* y, cudaStream_t stream) {
  TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> out, broadcast_shape(as, bs));
  int64_t n = 1;
  for (int64_t d : out) n *= d;
  if (n == 0) return Status::ok();
  const T* pa = static_cast<const T*>(a);
  const T* pb = static_cast<const T*>(b);
  T* py = static_cast<T*>(y);
  if (as == bs) {
    binary_same_shape<T, OP><<<blocks_for(n), kThreads, 0, stream>>>(pa, pb, py, n);
  } else {
    TANDEM_ASSIGN_OR_RETURN(StridedShape s, make_strided_shape(out, {as, bs}));
    binary_broadcast<T, OP><<<blocks_for(n), kThreads, 0, stream>>>(pa, pb, py, n, s);
  }
  return launch_status("binary elementwise kernel");
}

template <typename T>
Status dispatch_binary(BinaryOp op, const void* a, const std::vector<int64_t>& as, const void* b,
                       const std::vector<int64_t>& bs, void* y, cudaStream_t stream) {
  switch (op) {
    case BinaryOp::kAdd:
      return launch_binary<T, BinaryOp::kAdd>(a, as, b, bs, y, stream);
    case BinaryOp::kSub:
      return launch_binary<T, BinaryOp::kSub>(a, as, b, bs, y, stream);
    case BinaryOp::kMul:
      return launch_binary<T, BinaryOp::kMul>(a, as, b, bs, y, stream);
    case BinaryOp::kDiv:
      return launch_binary<T, BinaryOp::kDiv>(a, as, b, bs, y, stream);
    case BinaryOp::kMax:
      return launch_binary<T, BinaryOp::kMax>(a, as, b, bs, y, stream);
    case BinaryOp::kMin:
      return launch_binary<T, BinaryOp::kMin>(a, as, b, bs, y, stream);
    case BinaryOp::kPow:
      if constexpr (std::is_same_v<T, float>) return launch_binary<T, BinaryOp::kPow>(a, as, b, bs, y, stream);
      return Status::error("Pow on the GPU takes float32 only");
  }
  return Status::error("unknown binary op");
}

template <UnaryOp OP>
__device__ __forceinline__ float apply_unary(float x) {
  if constexpr (OP == UnaryOp::kIdentity) return x;
  if constexpr (OP == UnaryOp::kNeg) return -x;
  if constexpr (OP == UnaryOp::kAbs) return fabsf(x);
  if constexpr (OP == UnaryOp::kRelu) return x > 0.0f ? x : 0.0f;
  if constexpr (OP == UnaryOp::kSigmoid) return 1.0f / (1.0f + expf(-x));
  if constexpr (OP == UnaryOp::kTanh) return tanhf(x);
  if constexpr (OP == UnaryOp::kExp) return expf(x);
  if constexpr (OP == UnaryOp::kLog) return logf(x);
  if constexpr (OP == UnaryOp::kSqrt) return sqrtf(x);
  if constexpr (OP == UnaryOp::kReciprocal) return 1.0f / x;
  if constexpr (OP == UnaryOp::kErf) return erff(x);
}

template <UnaryOp OP>
__global__ void unary_kernel(const float* x, float* y, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    y[i] = apply_unary<OP>(x[i]);
}

template <UnaryOp OP>
Status launch_unary(const float* x, float* y, int64_t n, cudaStream_t stream) {
  if (n == 0) return Status::ok();
  unary_kernel<OP><<<blocks_for(n), kThreads, 0, stream>>>(x, y, n);
  return launch_status("unary elementwise kernel");
}

template <typename T>
__global__ void expand_kernel(const T* x, T* y, int64_t n, StridedShape s) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    y[i] = x[s.offset(0, i)];
}

template <typename T>
Status launch_expand(const void* x, void* y, int64_t n, const StridedShape& s, cudaStream_t stream) {
  expand_kernel<T><<<blocks_for(n), kThreads, 0, stream>>>(static_cast<const T*>(x), static_cast<T*>(y), n, s);
  return launch_status("expand kernel");
}

}  // namespace

Status binary(BinaryOp op, DType dtype, const void* a, const std::vector<int64_t>& a_shape, const void* b,
              const std::vector<int64_t>& b_shape, void* y, cudaStream_t stream) {
  switch (dtype) {
    case DType::kFloat32:
      return dispatch_binary<float>(op, a, a_shape, b, b_shape, y, stream);
    case DType::kInt32:
      return dispatch_binary<int32_t>(op, a, a_shape, b, b_shape, y, stream);
    case DType::kInt64:
      return dispatch_binary<int64_t>(op, a, a_shape, b, b_shape, y, stream);
    default:
      return Status::error("GPU binary elementwise ops take float32, int32 or int64, not " +
                           std::string(dtype_name(dtype)));
  }
}

Status unary(UnaryOp op, const float* x, float* y, int64_t n, cudaStream_t stream) {
  switch (op) {
    case UnaryOp::kIdentity:
      return launch_unary<UnaryOp::kIdentity>(x, y, n, stream);
    case UnaryOp::kNeg:
      return launch_unary<UnaryOp::kNeg>(x, y, n, stream);
    case UnaryOp::kAbs:
      return launch_unary<UnaryOp::kAbs>(x, y, n, stream);
    case UnaryOp::kRelu:
      return launch_unary<UnaryOp::kRelu>(x, y, n, stream);
    case UnaryOp::kSigmoid:
      return launch_unary<UnaryOp::kSigmoid>(x, y, n, stream);
    case UnaryOp::kTanh:
      return launch_unary<UnaryOp::kTanh>(x, y, n, stream);
    case UnaryOp::kExp:
      return launch_unary<UnaryOp::kExp>(x, y, n, stream);
    case UnaryOp::kLog:
      return launch_unary<UnaryOp::kLog>(x, y, n, stream);
    case UnaryOp::kSqrt:
      return launch_unary<UnaryOp::kSqrt>(x, y, n, stream);
    case UnaryOp::kReciprocal:
      return launch_unary<UnaryOp::kReciprocal>(x, y, n, stream);
    case UnaryOp::kErf:
      return launch_unary<UnaryOp::kErf>(x, y, n, stream);
  }
  return Status::error("unknown unary op");
}

Status expand(const void* x, const std::vector<int64_t>& x_shape, void* y, const std::vector<int64_t>& y_shape,
              DType dtype, cudaStream_t stream) {
  int64_t n = 1;
  for (int64_t d : y_shape) n *= d;
  if (n == 0) return Status::ok();
  TANDEM_ASSIGN_OR_RETURN(StridedShape s, make_strided_shape(y_shape, {x_shape}));
  switch (dtype_size(dtype)) {
    case 1:
      return launch_expand<uint8_t>(x, y, n, s, stream);
    case 2:
      return launch_expand<uint16_t>(x, y, n, s, stream);
    case 4:
      return launch_expand<uint32_t>(x, y, n, s, stream);
    case 8:
      return launch_expand<uint64_t>(x, y, n, s, stream);
    default:
      return Status::error("Expand on the GPU: unsupported element type " + std::string(dtype_name(dtype)));
  }
}

}  // namespace tandem::cuda
