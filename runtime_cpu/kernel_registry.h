// The CPU's kernels by op type (default ONNX domain). Each kernel family registers itself through one
// function listed in kernels/register.h; registration is explicit (no static initialisers) so a static
// library cannot silently drop a family.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "graph/status.h"
#include "runtime/kernel.h"

namespace tandem::cpu {

using KernelFactory = std::function<Result<KernelPtr>(const KernelInit&)>;

class KernelRegistry {
 public:
  void add(const std::string& op_type, KernelFactory factory);
  const KernelFactory* find(const std::string& op_type) const;
  std::vector<std::string> ops() const;

 private:
  std::map<std::string, KernelFactory> factories_;
};

// Every CPU kernel, registered on first use.
const KernelRegistry& cpu_kernels();

}  // namespace tandem::cpu
