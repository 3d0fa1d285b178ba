// The CPU's kernels by domain and op type ("" is the default ONNX domain). Each kernel family registers itself through one
// function listed in kernels/register.h; registration is explicit (no static initialisers) so a static
// library cannot silently drop a family.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "graph/status.h"
#include "runtime/kernel.h"

namespace tandem::cpu {

using KernelFactory = std::function<Result<KernelPtr>(const KernelInit&)>;

class KernelRegistry {
 public:
  // An op of the default domain.
  void add(const std::string& op_type, KernelFactory factory) { add("", op_type, std::move(factory)); }
  // An op of another domain (normalised: "ai.onnx" is "").
  void add(const std::string& domain, const std::string& op_type, KernelFactory factory);
  const KernelFactory* find(const std::string& domain, const std::string& op_type) const;
  // Op types, "domain::op" for those outside the default domain.
  std::vector<std::string> ops() const;

 private:
  std::map<std::pair<std::string, std::string>, KernelFactory> factories_;  // (domain, op type)
};

// Every CPU kernel, registered on first use.
const KernelRegistry& cpu_kernels();

}  // namespace tandem::cpu
