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
// What a factory would refuse, checked on the graph alone (element types, attributes): CpuDevice::supports
// asks it, so `tandem info`, the partitioner's capability checks and compiling agree on which nodes run.
// A family without one takes every node of its ops there.
using NodeCheck = std::function<Status(const Graph&, NodeId)>;

class KernelRegistry {
 public:
  // An op of the default domain.
  void add(const std::string& op_type, KernelFactory factory, NodeCheck check = nullptr) {
    add("", op_type, std::move(factory), std::move(check));
  }
  // An op of another domain (normalised: "ai.onnx" is "").
  void add(const std::string& domain, const std::string& op_type, KernelFactory factory,
           NodeCheck check = nullptr);
  // Marks a registered op whose kernel handles string tensors (Kernel::takes_strings); every other op's
  // nodes are refused on the graph when one of their values is a string tensor.
  void take_strings(const std::string& op_type) { take_strings("", op_type); }
  void take_strings(const std::string& domain, const std::string& op_type);
  const KernelFactory* find(const std::string& domain, const std::string& op_type) const;
  // Node `id` of `g` (whose op has a kernel) against string values its kernel would not take, then against
  // its family's check; ok when it passes both.
  Status check(const Graph& g, NodeId id) const;
  // Op types, "domain::op" for those outside the default domain.
  std::vector<std::string> ops() const;

 private:
  struct Entry {
    KernelFactory factory;
    NodeCheck check;
    bool strings = false;
  };
  std::map<std::pair<std::string, std::string>, Entry> entries_;  // (domain, op type)
};

// Every CPU kernel, registered on first use.
const KernelRegistry& cpu_kernels();

}  // namespace tandem::cpu
