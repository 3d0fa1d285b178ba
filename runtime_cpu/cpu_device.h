// The CPU as a Device: kernels from the CPU registry.
#pragma once

#include "runtime/device.h"

namespace tandem::cpu {

class CpuDevice final : public Device {
 public:
  std::string name() const override { return "cpu"; }
  DeviceKind kind() const override { return DeviceKind::kCpu; }
  Support supports(const Graph& g, NodeId id) const override;
  Result<KernelPtr> create_kernel(const KernelInit& init) const override;
};

}  // namespace tandem::cpu
