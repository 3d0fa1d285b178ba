// tandem's schemas of RMSNormalization-23 and RotaryEmbedding-23 (new in opset 23), for schema_registry.cc:
// inputs, attributes, and type and shape inference that refuses at import what the node's shapes and
// attributes already show to be wrong (the kernels check the rest at run time).
#pragma once

#include <onnx/defs/schema.h>

namespace tandem::onnx_import {

onnx::OpSchema rms_normalization_schema();  // finalized
onnx::OpSchema rotary_embedding_schema();   // finalized

}  // namespace tandem::onnx_import
