// A CPU device that behaves, for memory, like a GPU: it has a memory space of its own, so what it reads
// from other devices comes through a copy (into the memory plan's slot when there is one), and what others
// read from it is copied back out (to_host). CI has no GPU; this device lets the tests check the static
// memory plan's copy rules and its prediction against a measured run on the CPU.
#pragma once

#include <cstring>
#include <string>

#include "runtime/device.h"
#include "runtime_cpu/cpu_device.h"

namespace tandem::test {

class CopyingDevice final : public Device {
 public:
  CopyingDevice(int threads, std::string name) : cpu_(threads, std::move(name)) {}

  std::string name() const override { return cpu_.name(); }
  DeviceKind kind() const override { return DeviceKind::kCpu; }
  Support supports(const Graph& g, NodeId id) const override { return cpu_.supports(g, id); }
  Result<KernelPtr> create_kernel(const KernelInit& init) const override { return cpu_.create_kernel(init); }
  void bind_thread() const override { cpu_.bind_thread(); }
  int memory_space() const override { return 1; }

  Result<Tensor> receive(const Tensor& t, const Device* from, const Tensor* into) const override {
    (void)from;
    if (t.device() != DeviceKind::kCpu) return Status::error("copying device: not a host tensor");
    if (!into || !into->defined()) return t.clone();
    if (into->nbytes() != t.nbytes()) return Status::error("copying device: the plan's slot has another size");
    Tensor copy = *into;
    if (t.nbytes()) std::memcpy(copy.raw(), t.raw(), t.nbytes());
    return copy.view(0, t.dtype(), t.shape());
  }
  Result<Tensor> to_host(const Tensor& t) const override { return t.clone(); }

 private:
  cpu::CpuDevice cpu_;
};

}  // namespace tandem::test
