// Cast and CastLike: conversion between element types (strings too: string_elements.h), also usable by
// other kernels.
#pragma once

#include "graph/status.h"
#include "runtime/tensor.h"
#include "runtime_cpu/kernel_registry.h"

namespace tandem::cpu {

// Whether cast_into converts to and from `t` (every numeric type and bool; not strings or complex).
bool castable(DType t);

// Converts every element of `in` into `out`, which has the target type and as many elements. Floats to
// integers truncate toward zero (NaN gives 0, out-of-range values the type's nearest end); to float16 and
// bfloat16 rounds to nearest even; to bool gives "not zero" (NaN is true); integers wrap modulo 2^n.
Status cast_into(const Tensor& in, Tensor& out);

void register_cast_kernels(KernelRegistry& r);  // Cast, CastLike (both take strings), BitCast

}  // namespace tandem::cpu
