// Kernels: the code that computes one node on one device.
//
// A kernel is created once per node when a graph is compiled; its factory does all one-time work there
// (reads attributes, validates them, packs and reorders weights from constant inputs). `run` only
// computes: it reads its inputs and writes outputs it allocates through the context, and must be safe to
// call from many threads at once on the same kernel (a Session serves concurrent requests with one set of
// kernels), so it keeps no mutable state of its own.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/status.h"
#include "runtime/tensor.h"

namespace tandem {

class GraphExecutor;
class RunControl;

// Where a device's kernels put their outputs. The executor takes it from the node's device
// (Device::output_allocator) and hands it to each KernelContext; nullptr means host memory from
// Tensor::empty, which is what the CPU uses. A GPU returns tensors in its own memory (Tensor::adopt).
class OutputAllocator {
 public:
  virtual ~OutputAllocator() = default;
  virtual Result<Tensor> allocate(DType dtype, std::vector<int64_t> shape) const = 0;
};

// Where a static memory plan puts a node's outputs: byte offsets in the arena of the node's device for
// this run (runtime/plan_executor.h). allocate_output takes output i from there when the plan has a slot
// of exactly its size, and from the allocator otherwise.
struct PlannedOutputs {
  const Tensor* arena = nullptr;
  std::span<const int64_t> offset;  // by output index: -1 when not planned
  std::span<const int64_t> bytes;   // by output index: the size the plan made room for
};

class KernelContext {
 public:
  KernelContext(const Graph& graph, NodeId node_id, std::span<const Tensor* const> inputs,
                std::span<const Tensor* const> implicit_inputs, std::vector<Tensor>& outputs,
                const OutputAllocator* allocator = nullptr)
      : graph_(graph), node_id_(node_id), inputs_(inputs), implicit_inputs_(implicit_inputs), outputs_(outputs),
        allocator_(allocator) {}

  const Node& node() const { return graph_.node(node_id_); }
  const Graph& graph() const { return graph_; }
  NodeId node_id() const { return node_id_; }

  std::size_t num_inputs() const { return inputs_.size(); }
  // nullptr when the optional input is omitted (or beyond the inputs given).
  const Tensor* input(std::size_t i) const { return i < inputs_.size() ? inputs_[i] : nullptr; }
  bool has_input(std::size_t i) const { return input(i) != nullptr; }
  // Enclosing-graph values read by this node's nested bodies, in node().implicit_inputs order.
  std::span<const Tensor* const> implicit_inputs() const { return implicit_inputs_; }

  std::size_t num_outputs() const { return outputs_.size(); }
  // Whether the model uses output i (an omitted optional output need not be computed).
  bool wants_output(std::size_t i) const;
  // Allocates output i in the device's memory (host memory without an allocator) and returns it for the
  // kernel to fill. Throws std::runtime_error when the allocator fails (the executors turn exceptions
  // into the node's error); try_allocate_output returns the failure instead.
  Tensor& allocate_output(std::size_t i, DType dtype, std::vector<int64_t> shape);
  Result<Tensor*> try_allocate_output(std::size_t i, DType dtype, std::vector<int64_t> shape);
  const OutputAllocator* allocator() const { return allocator_; }
  // Sets output i to an existing tensor (e.g. a reshaped input: no copy).
  void set_output(std::size_t i, Tensor t);

  void set_planned_outputs(const PlannedOutputs* planned) { planned_ = planned; }
  // The run's deadline and cancel flag (nullptr: none): kernels that run nested bodies (If, Loop, Scan,
  // SequenceMap) hand it on and check it between iterations.
  void set_control(const RunControl* control) { control_ = control; }
  const RunControl* control() const { return control_; }
  // Whether output i was made by allocate_output (rather than set to an existing tensor).
  bool allocated(std::size_t i) const { return i < 64 && (allocated_ >> i & 1u); }
  // Outputs the plan had a slot for but which asked for another size (a data-dependent shape).
  int planned_misses() const { return planned_misses_; }

  // "node 'n' (Op): " + reason, as every kernel error should read.
  Status error(const std::string& reason) const;

  // Scratch memory a kernel needs while it runs (beyond its outputs): kernels that allocate scratch say
  // how much at its peak, so the profiler can report it and the partitioner can count it. `held`: the
  // kernel keeps it between runs (for its whole life), so it occupies the device all along rather than
  // while the node runs.
  void note_workspace(std::size_t bytes, bool held = false) {
    workspace_bytes_ = std::max(workspace_bytes_, bytes);
    workspace_held_ = workspace_held_ || held;
  }
  std::size_t workspace_bytes() const { return workspace_bytes_; }
  bool workspace_held() const { return workspace_held_; }
  // Scratch the device keeps per worker thread (stream) and shares among the kernels that thread runs (a
  // GPU thread's cuBLAS workspace): it occupies the device once per stream that runs such a kernel.
  void note_shared_workspace(std::size_t bytes) { shared_workspace_bytes_ = std::max(shared_workspace_bytes_, bytes); }
  std::size_t shared_workspace_bytes() const { return shared_workspace_bytes_; }

 private:
  const Graph& graph_;
  NodeId node_id_;
  std::span<const Tensor* const> inputs_;
  std::span<const Tensor* const> implicit_inputs_;
  std::vector<Tensor>& outputs_;
  const OutputAllocator* allocator_ = nullptr;
  std::size_t workspace_bytes_ = 0;
  bool workspace_held_ = false;
  std::size_t shared_workspace_bytes_ = 0;
  const PlannedOutputs* planned_ = nullptr;
  const RunControl* control_ = nullptr;
  uint64_t allocated_ = 0;  // bit i: output i came from allocate_output (outputs past 64: never planned)
  int planned_misses_ = 0;
  void mark_allocated(std::size_t i, bool yes);
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual Status run(KernelContext& ctx) const = 0;
  // Bytes of weights the kernel keeps of its own (packed, reordered, or uploaded to its device); -1 when it
  // reads its constant inputs in place. What a node's weights cost on a device is what the profiler reports.
  virtual int64_t own_weight_bytes() const { return -1; }
  // Whether `run` reads the elements of input i when that input is an initializer. A kernel that made a
  // form of its own of the constant when it was created (RNN weights packed, an integer B shifted, 16-bit
  // weights widened) reads only its type and shape: executors then hold such a constant without its
  // elements (runtime/constants_at_run.h), and a session that owns its model frees them.
  virtual bool reads_constant_input(std::size_t input) const {
    (void)input;
    return true;
  }
  // Whether the kernel's inputs may be sequences or empty optionals (sequence ops, Identity, If, Loop):
  // run_kernel gives any other kernel tensors only, so no tensor kernel is ever handed a sequence.
  virtual bool takes_non_tensors() const { return false; }
  // Whether the kernel handles string tensors (as objects, not bytes); run_kernel refuses them to others.
  // The CPU's registry says the same of the op on the graph (KernelRegistry::take_strings).
  virtual bool takes_strings() const { return false; }
};

using KernelPtr = std::unique_ptr<const Kernel>;

// How every executor runs a kernel: refuses non-tensor inputs to a kernel that does not take them
// (libonnx's type inference does not reach every value), and turns an exception into the node's error.
Status run_kernel(const Kernel& kernel, KernelContext& ctx);

// What a kernel factory sees of its node: the node, its graph (constant inputs have Value::data), and a
// way to compile nested bodies (for If/Loop/Scan) with the same device.
struct KernelInit {
  const Graph& graph;
  NodeId node_id;
  std::function<Result<std::shared_ptr<const GraphExecutor>>(const Graph&)> compile_subgraph;

  const Node& node() const { return graph.node(node_id); }
  // The constant behind input i (an initializer), or nullptr when it is computed at run time.
  TensorDataPtr constant_input(std::size_t i) const;
  Status error(const std::string& reason) const;
};

}  // namespace tandem
