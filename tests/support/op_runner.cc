#include "tests/support/op_runner.h"

#include "runtime/executor.h"
#include "runtime_cpu/cpu_device.h"
#include "tests/support/model_builder.h"

namespace tandem::test {

Result<std::vector<Tensor>> run_on_cpu(const onnx::ModelProto& m, const std::vector<Tensor>& inputs) {
  TANDEM_ASSIGN_OR_RETURN(ModelIR ir, import_proto(m));
  static const cpu::CpuDevice device;
  TANDEM_ASSIGN_OR_RETURN(auto exec, GraphExecutor::compile(*ir.graph, device));
  std::vector<const Tensor*> ptrs;
  for (const Tensor& t : inputs) ptrs.push_back(&t);
  // The executor refers to the graph: keep the model alive until the run is over.
  return exec->run(ptrs);
}

}  // namespace tandem::test
