// The CPU as a Device: kernels from the CPU registry. Several CpuDevices may run side by side (the plan
// executor's tests pair two of them in place of a CPU and a GPU): each sets the OpenMP team size of the
// thread that runs its nodes, so each has its own thread arena.
#pragma once

#include <string>

#include "runtime/device.h"

namespace tandem::cpu {

class CpuDevice final : public Device {
 public:
  CpuDevice() = default;
  // `threads`: OpenMP team size for this device's kernels (0: leave the running thread's setting alone).
  CpuDevice(int threads, std::string name) : threads_(threads), name_(std::move(name)) {}

  std::string name() const override { return name_; }
  DeviceKind kind() const override { return DeviceKind::kCpu; }
  Support supports(const Graph& g, NodeId id) const override;
  Result<KernelPtr> create_kernel(const KernelInit& init) const override;
  void bind_thread() const override;
  int threads() const { return threads_; }

 private:
  int threads_ = 0;
  std::string name_ = "cpu";
};

}  // namespace tandem::cpu
