#include "runtime_cpu/cpu_device.h"

#include <omp.h>

#include "runtime_cpu/float32_twin.h"
#include "runtime_cpu/kernel_registry.h"

namespace tandem::cpu {

Support CpuDevice::supports(const Graph& g, NodeId id) const {
  const Node& n = g.node(id);
  if (!cpu_kernels().find(n.domain, n.op_type)) {
    if (n.domain.empty()) return {false, "no CPU kernel for op '" + n.op_type + "'"};
    return {false, "no CPU kernel for op '" + n.op_type + "' of domain '" + n.domain + "'"};
  }
  // What kernel creation would refuse on the graph alone (an RNN's element types, say).
  if (Status s = cpu_kernels().check(g, id); !s) return {false, s.message()};
  return {true, {}};
}

Result<KernelPtr> CpuDevice::create_kernel(const KernelInit& init) const {
  const Node& n = init.node();
  const KernelFactory* f = cpu_kernels().find(n.domain, n.op_type);
  if (!f)
    return init.error("no CPU kernel for op '" + n.op_type + "'" +
                      (n.domain.empty() ? std::string() : " of domain '" + n.domain + "'"));
  // String values first: a kernel that copies bytes would otherwise compile and make empty strings.
  if (Status s = cpu_kernels().check(init.graph, init.node_id); !s) return init.error(s.message());
  // float16 and bfloat16 for the ops whose kernels compute in float32 only (runtime_cpu/float32_twin.h).
  if (runs_as_float32_twin(init.graph, init.node_id)) return make_float32_twin(init, *f);
  return (*f)(init);
}

// oneDNN's sgemm parallelises with OpenMP, whose team size is per calling thread.
void CpuDevice::bind_thread() const {
  if (threads_ > 0) omp_set_num_threads(threads_);
}

}  // namespace tandem::cpu
