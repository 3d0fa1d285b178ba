// Element types. The numbering is ONNX's TensorProto.DataType, so conversion at the import edge is a
// checked cast and the numbers mean the same thing in every file we read or write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tandem {

enum class DType : int32_t {
  kUndefined = 0,
  kFloat32 = 1,
  kUInt8 = 2,
  kInt8 = 3,
  kUInt16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kBool = 9,
  kFloat16 = 10,
  kFloat64 = 11,
  kUInt32 = 12,
  kUInt64 = 13,
  kComplex64 = 14,
  kComplex128 = 15,
  kBFloat16 = 16,
};

// The DType for an ONNX data_type number, or nullopt when tandem does not handle it (e.g. float8, int4).
std::optional<DType> dtype_from_onnx(int32_t onnx_type);

// Lower-case name as users see it: "float32", "int64", "bool", ...
std::string_view dtype_name(DType t);

// Bytes per element; 0 for kString and kUndefined (their size is not fixed).
std::size_t dtype_size(DType t);

}  // namespace tandem
