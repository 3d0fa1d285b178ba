// Between the public HostTensor and the runtime's Tensor (same element numbering: ONNX's).
#pragma once

#include <tandem/tandem.h>

#include "runtime/tensor.h"

namespace tandem {

// Wraps the HostTensor's memory without copying; it must outlive the returned Tensor's use.
Tensor to_runtime_tensor(const HostTensor& t);
// Copies into a HostTensor that owns its memory (outputs may share storage with constants or inputs).
HostTensor to_host_tensor(const Tensor& t);

}  // namespace tandem
