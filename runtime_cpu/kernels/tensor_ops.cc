// Placeholder registration, replaced by the kernel family's implementation.
#include "runtime_cpu/kernels/register.h"

namespace tandem::cpu {

void register_tensor_kernels(KernelRegistry&) {}

}  // namespace tandem::cpu
