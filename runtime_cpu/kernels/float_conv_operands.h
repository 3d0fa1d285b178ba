// The operands Conv and ConvTranspose read the same way: X and W (the kernel's own checked copy of W when
// W is a constant), both float32, X of rank 3 to 5; and the optional bias B, float32 [maps].
#pragma once

#include <string>

#include "graph/status.h"
#include "runtime/kernel.h"

namespace tandem::cpu {

struct FloatConvOperands {
  const Tensor* x = nullptr;
  const Tensor* w = nullptr;
};

// `weights`: W prepared when the kernel was made, undefined when W is computed at run time.
inline Result<FloatConvOperands> float_conv_operands(const KernelContext& ctx, const Tensor& weights) {
  const Tensor* x = ctx.input(0);
  const Tensor* w = weights.defined() ? &weights : ctx.input(1);
  if (!x || !w) return ctx.error("inputs X and W are required");
  if (x->dtype() != DType::kFloat32 || w->dtype() != DType::kFloat32)
    return ctx.error("X and W must be float32, got " + x->describe() + " and " + w->describe());
  if (x->rank() < 3) return ctx.error("X must be [N, C, D1, ...] with rank 3 to 5, got " + x->describe());
  return FloatConvOperands{x, w};
}

// Input 2, the bias (nullptr when omitted), checked to be float32 [maps].
inline Result<const Tensor*> float_conv_bias(const KernelContext& ctx, int64_t maps) {
  const Tensor* bias = ctx.input(2);
  if (bias && (bias->dtype() != DType::kFloat32 || bias->rank() != 1 || bias->dim(0) != maps))
    return ctx.error("B must be float32 [" + std::to_string(maps) + "], got " + bias->describe());
  return bias;
}

}  // namespace tandem::cpu
