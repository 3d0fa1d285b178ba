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
};

}  // namespace tandem
