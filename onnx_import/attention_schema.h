// tandem's schemas of Attention (opsets 23 and 24) and TensorScatter (24), with their shape inference: the
// installed libonnx predates both. Unfinalized; schema_registry.cc finalizes and registers them.
#pragma once

#include <onnx/defs/schema.h>

namespace tandem::onnx_import {

// Attention-23 (six inputs) or Attention-24 (a seventh, nonpad_kv_seqlen; attn_mask's last axis may be
// shorter than the keys).
onnx::OpSchema attention_schema(int since);

onnx::OpSchema tensor_scatter_schema();

}  // namespace tandem::onnx_import
