// The base of CudaDevice's kernel adapters, the table of ops the GPU runs, and the family factories.
//
// An adapter reads its attributes once; the base uploads the constant inputs it reads on the device
// (weights category) once, at creation. `run` resolves the inputs (uploaded constants first, else the
// run's device tensors), takes the calling thread's state and enqueues on its compute stream: shapes are
// worked out from host-side metadata only, so no kernel synchronises with the GPU. Some inputs are read on
// the host (a Reshape's shape, a Slice's starts, an RNN's weights and sequence_lens): those must be
// constants (an initializer or a Constant node's value), which supports() checks.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/status.h"
#include "runtime/device.h"
#include "runtime/kernel.h"
#include "runtime_cuda/cuda_device.h"
#include "runtime_cuda/cuda_thread_state.h"

namespace tandem::cuda {

enum class CudaFamily { kLinear, kElementwise, kNormalization, kLayout, kView, kRnn, kConv };

struct CudaOp {
  const char* op;
  CudaFamily family;
  std::vector<int> host_inputs;  // inputs read on the host: must be constants
};

// The op's entry, or nullptr when the GPU has no kernel for it.
const CudaOp* find_cuda_op(const std::string& op_type);
// Whether the GPU can run node `id`; the reason names the op (and the input or type) when not.
Support cuda_supports(const Graph& g, NodeId id);

// A constant's contents: an initializer's or a Constant node's `value` (nullptr: computed at run time, or
// an overridable graph input).
TensorDataPtr constant_value(const Graph& g, ValueId v);
// Input i of the node as integers (int64 or int32 constant); an error when it is not a constant.
Result<std::vector<int64_t>> constant_ints(const KernelInit& init, std::size_t i);

// What an adapter's compute() sees of one run.
struct CudaRun {
  KernelContext& ctx;
  CudaThreadState& ts;
  cudaStream_t stream;
  std::vector<const Tensor*> in;  // by input index: device tensors (or nullptr), host inputs excepted

  const Tensor* input(std::size_t i) const { return i < in.size() ? in[i] : nullptr; }
  Result<Tensor*> output(std::size_t i, DType dtype, std::vector<int64_t> shape) {
    return ctx.try_allocate_output(i, dtype, std::move(shape));
  }
};

class CudaKernel : public Kernel {
 public:
  Status run(KernelContext& ctx) const final;
  // What it uploaded (0 for none: inputs read on the host, a Reshape's shape, stay there).
  int64_t own_weight_bytes() const override { return weight_bytes_; }
  // Uploads the node's constant inputs that are read on the device (the factories call it last).
  Status prepare(const KernelInit& init);

 protected:
  explicit CudaKernel(const CudaDevice& device) : device_(device) {}
  virtual Status compute(CudaRun& r) const = 0;
  // The calling thread's cuBLAS handle, bound to r.stream; notes the workspace it shares with the thread's
  // other kernels, so profiles count it.
  static Result<const CublasContext*> cublas(CudaRun& r);

  const CudaDevice& device_;
  std::vector<Tensor> constants_;  // by input index: device copies of constant inputs
  std::vector<bool> host_input_;   // by input index: read on the host (never a device tensor)
  int64_t weight_bytes_ = 0;
};

// Prepares an adapter (uploads its constants) and hands it out.
Result<KernelPtr> prepared(std::unique_ptr<CudaKernel> k, const KernelInit& init);

Result<KernelPtr> make_linear_kernel(const CudaDevice& device, const KernelInit& init);
Result<KernelPtr> make_elementwise_kernel(const CudaDevice& device, const KernelInit& init);
Result<KernelPtr> make_normalization_kernel(const CudaDevice& device, const KernelInit& init);
Result<KernelPtr> make_layout_kernel(const CudaDevice& device, const KernelInit& init);
Result<KernelPtr> make_view_kernel(const CudaDevice& device, const KernelInit& init);
Result<KernelPtr> make_rnn_kernel(const CudaDevice& device, const KernelInit& init);
Result<KernelPtr> make_conv_kernel(const CudaDevice& device, const KernelInit& init);
// Conv's own checks (W and B constants, attributes, shapes), run by cuda_supports after the common ones.
Support conv_supports(const Graph& g, NodeId id);

// Shared checks, worded as the CPU kernels word them.
Status expect_float32(const CudaRun& r, std::size_t i, const char* what);
// ONNX's negative axes: axis + rank when negative; an error when outside [-rank, rank).
Result<int64_t> normalize_axis(int64_t axis, int64_t rank);

}  // namespace tandem::cuda
