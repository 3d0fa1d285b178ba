// What stands behind the public tandem::Session: the model, the device, and the compiled executor.
#pragma once

#include <memory>
#include <vector>

#include <tandem/tandem.h>

#include "runtime/executor.h"
#include "runtime_cpu/cpu_device.h"

namespace tandem {

struct Session::Impl {
  Model model;
  SessionOptions options;
  cpu::CpuDevice cpu;
  std::shared_ptr<const GraphExecutor> executor;

  // The runtime-level entry: one tensor per graph input (nullptr: not given), outputs in graph order.
  // Validates the inputs first. Messages are not yet prefixed with the model's name.
  Result<std::vector<Tensor>> run(const std::vector<const Tensor*>& feeds) const;
};

}  // namespace tandem
