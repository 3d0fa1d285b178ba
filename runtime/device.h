// A device that can run nodes: the CPU, a CUDA GPU, or (for tests of the parallel runtime) a second CPU
// with its own threads. The executor only ever talks to this interface.
#pragma once

#include <string>

#include "graph/graph.h"
#include "graph/status.h"
#include "runtime/kernel.h"

namespace tandem {

struct Support {
  bool ok = false;
  std::string reason;  // why not, when !ok: "no kernel for op 'Foo'", "LSTM with clip runs on the CPU only"
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

  // Cross-device hand-off: `t` was produced on `from` (nullptr: the caller's host memory, i.e. a graph
  // input) and a node of this device is about to read it. Returns a tensor this device's kernels can read.
  // Called on this device's thread, once per value and run, after `t`'s producer has finished.
  //  - Two CPU devices share host memory, so a CPU returns `t` itself (shared storage, no copy).
  //  - A CUDA device enqueues an asynchronous copy through pinned staging on its copy stream, ordered
  //    after the producer's work (an event) and before its own later work (its compute stream waits on an
  //    event), and returns at once: the copy overlaps compute on both sides. When this device is the host
  //    and `from` a GPU, it returns once the copy has landed, since CPU kernels cannot wait on an event.
  // The default (host memory only) shares `t`, and refuses a tensor that lives elsewhere.
  virtual Result<Tensor> receive(const Tensor& t, const Device* from) const {
    if (t.device() != DeviceKind::kCpu)
      return Status::error("device '" + name() + "' cannot read a tensor from device '" +
                           (from ? from->name() : std::string("?")) + "'");
    return t;
  }
};

}  // namespace tandem
