// What a value holds. ONNX's non-tensor types: a sequence of tensors (SequenceInsert, SplitToSequence, a
// Loop appending to a list) and an optional (a tensor or a sequence, or nothing). A value's dtype and shape
// are then its element tensors' (a sequence's elements share a type; their shapes may differ, so the shape
// is what they have in common). Non-tensor values live in host memory and run on the CPU.
#pragma once

#include <cstdint>

namespace tandem {

enum class ValueForm : uint8_t { kTensor, kSequence, kOptionalTensor, kOptionalSequence };

// "tensor", "sequence", "optional tensor", "optional sequence"
const char* value_form_name(ValueForm f);

}  // namespace tandem
