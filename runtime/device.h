// A device that can run nodes: the CPU, a CUDA GPU, or (for tests of the parallel runtime) a second CPU
// with its own threads. The executor only ever talks to this interface.
#pragma once

#include <optional>
#include <string>

#include "graph/graph.h"
#include "graph/status.h"
#include "runtime/kernel.h"

namespace tandem {

struct Support {
  bool ok = false;
  std::string reason;  // why not, when !ok: "no kernel for op 'Foo'", "LSTM with clip runs on the CPU only"
};

// What a device's own allocator (a GPU's) has handed out, per category: bytes in use now and the peak
// since the last reset_memory_peaks(). The partitioner predicts these (weights of the nodes placed there,
// the activations' static plan, kernels' workspace), so they are what a measurement compares with.
struct DeviceMemoryUsage {
  struct Counter {
    int64_t current = 0, peak = 0;
  };
  Counter weights, activations, workspace;
  Counter total;         // all categories at once: its peak is a simultaneous one
  int64_t reserved = 0;  // held from the driver, the allocator's cache included
};

class Device {
 public:
  virtual ~Device() = default;
  virtual std::string name() const = 0;  // "cpu", "cuda:0"
  virtual DeviceKind kind() const = 0;
  // Whether this device can run node `id` of `g` (checked before compiling, and by `tandem info`).
  virtual Support supports(const Graph& g, NodeId id) const = 0;
  // Creates the kernel: all one-time work (validation, weight packing) happens here.
  virtual Result<KernelPtr> create_kernel(const KernelInit& init) const = 0;

  // Prepares the calling thread to run this device's nodes; the plan executor calls it on the thread
  // that works through this device's node list, before every run. The CPU device sets the thread's
  // OpenMP team size (a per-thread setting, so each CPU device gets its own arena); a CUDA device would
  // make itself the thread's current device.
  virtual void bind_thread() const {}
  // Called by a thread that will not use this device again (a worker about to exit, the profiler when
  // done): the device frees what it keeps for that thread (a GPU thread's streams and cuBLAS workspace).
  // No work of the thread's may be in flight.
  virtual void release_thread() const {}

  // Where this device's kernels allocate their outputs (KernelContext::allocate_output); nullptr: host
  // memory. The executors pass it into every KernelContext of this device's nodes.
  virtual const OutputAllocator* output_allocator() const { return nullptr; }

  // Devices of one memory space read each other's tensors in place (two CPU devices: host memory, space
  // 0); a device of another space (a GPU: its own memory) reads them through a copy. The static memory
  // plan (graph/memory_plan.h) follows the same rule.
  virtual int memory_space() const { return 0; }

  // Cross-device hand-off: `t` was produced on `from` (nullptr: the caller's host memory, i.e. a graph
  // input) and a node of this device is about to read it. Returns a tensor this device's kernels can read.
  // Called on this device's thread, once per value and run, after `t`'s producer has finished.
  //  - Devices of one memory space share: the result is `t` itself (shared storage, no copy).
  //  - A CUDA device enqueues an asynchronous copy through pinned staging on its copy stream, ordered
  //    after the producer's work (an event) and before its own later work (its compute stream waits on an
  //    event), and returns at once: the copy overlaps compute on both sides. When this device is the host
  //    and `from` a GPU, it returns once the copy has landed, since CPU kernels cannot wait on an event.
  // `into`, when not nullptr, is where a copy should go: a tensor of t's type and shape in this device's
  // memory (a slot of the run's memory plan); a device that copies uses it rather than allocating.
  // The default (host memory) shares a tensor of its own space, and fetches one of another space through
  // its device's to_host.
  virtual Result<Tensor> receive(const Tensor& t, const Device* from, const Tensor* into) const {
    (void)into;
    const int source_space = from ? from->memory_space() : 0;
    if (source_space == memory_space() && t.device() == DeviceKind::kCpu) return t;
    if (memory_space() == 0 && from) return from->to_host(t);
    return Status::error("device '" + name() + "' cannot read " + t.describe() + " from " +
                         (from ? "device '" + from->name() + "'" : std::string("the caller")));
  }

  // A host copy of `t`, a tensor this device produced; returns once the data is on the host (after the
  // work that produced it). May be called from any thread. Host devices return `t` itself.
  virtual Result<Tensor> to_host(const Tensor& t) const {
    if (t.device() == DeviceKind::kCpu) return t;
    return Status::error("device '" + name() + "' cannot copy a tensor in device memory to the host");
  }

  // The allocator's account, for a device with memory of its own; nullopt for host memory (the process's
  // allocator, shared by every CPU device, keeps none per device).
  virtual std::optional<DeviceMemoryUsage> memory_usage() const { return std::nullopt; }
  // Sets the peaks to the current values, e.g. before measuring one run.
  virtual void reset_memory_peaks() const {}

  // Called on the device's thread after its last node of a run (success or not), so a device with
  // queued asynchronous work finishes it before the run returns: then nothing a run enqueued outlives it.
  virtual Status finish_run() const { return Status::ok(); }
};

}  // namespace tandem
