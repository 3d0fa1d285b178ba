#include "onnx_import/tensor_import.h"

#include <cstring>

#include <onnx/onnx_pb.h>

#include "graph/shape.h"
#include "onnx_import/limits.h"

namespace tandem::onnx_import {
namespace {

Status fail(const std::string& what, const std::string& reason) { return Status::error(what + " " + reason); }

// "[2,3]": a tensor's dims as messages write a shape.
std::string dims_text(const google::protobuf::RepeatedField<int64_t>& dims) {
  std::string s = "[";
  for (int i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims.Get(i));
  return s + "]";
}

// Copies a repeated field into little-endian elements of type Dst (a checked count, a plain cast).
template <typename Dst, typename Field>
std::vector<std::byte> pack(const Field& field) {
  std::vector<std::byte> bytes(static_cast<std::size_t>(field.size()) * sizeof(Dst));
  auto* out = reinterpret_cast<Dst*>(bytes.data());
  for (int i = 0; i < field.size(); ++i) out[i] = static_cast<Dst>(field.Get(i));
  return bytes;
}

// Which repeated field holds this type's elements, and how many entries one element takes.
struct TypedField {
  int count = 0;
  int per_element = 1;
};
TypedField typed_field(const onnx::TensorProto& t, DType dt) {
  switch (dt) {
    case DType::kFloat32: return {t.float_data_size(), 1};
    case DType::kComplex64: return {t.float_data_size(), 2};
    case DType::kFloat64: return {t.double_data_size(), 1};
    case DType::kComplex128: return {t.double_data_size(), 2};
    case DType::kInt64: return {t.int64_data_size(), 1};
    case DType::kUInt32:
    case DType::kUInt64: return {t.uint64_data_size(), 1};
    case DType::kString: return {t.string_data_size(), 1};
    default: return {t.int32_data_size(), 1};  // int8..int32, uint8, uint16, bool, float16, bfloat16
  }
}

std::vector<std::byte> typed_bytes(const onnx::TensorProto& t, DType dt) {
  switch (dt) {
    case DType::kFloat32:
    case DType::kComplex64: return pack<float>(t.float_data());
    case DType::kFloat64:
    case DType::kComplex128: return pack<double>(t.double_data());
    case DType::kInt64: return pack<int64_t>(t.int64_data());
    case DType::kUInt32: return pack<uint32_t>(t.uint64_data());
    case DType::kUInt64: return pack<uint64_t>(t.uint64_data());
    case DType::kInt32: return pack<int32_t>(t.int32_data());
    case DType::kInt16: return pack<int16_t>(t.int32_data());
    case DType::kInt8: return pack<int8_t>(t.int32_data());
    case DType::kUInt16:
    case DType::kFloat16:
    case DType::kBFloat16: return pack<uint16_t>(t.int32_data());  // 16-bit patterns in int32 slots
    case DType::kUInt8: return pack<uint8_t>(t.int32_data());
    case DType::kBool: {
      std::vector<std::byte> bytes(static_cast<std::size_t>(t.int32_data_size()));
      for (int i = 0; i < t.int32_data_size(); ++i) bytes[static_cast<std::size_t>(i)] = std::byte(t.int32_data(i) != 0);
      return bytes;
    }
    default: return {};
  }
}

}  // namespace

std::string onnx_type_name(int32_t onnx_type) {
  if (auto dt = dtype_from_onnx(onnx_type)) return std::string(dtype_name(*dt));
  switch (onnx_type) {
    case 0: return "undefined (0)";
    case 17: return "float8e4m3fn (17)";
    case 18: return "float8e4m3fnuz (18)";
    case 19: return "float8e5m2 (19)";
    case 20: return "float8e5m2fnuz (20)";
    case 21: return "uint4 (21)";
    case 22: return "int4 (22)";
    case 23: return "float4e2m1 (23)";
    case 24: return "float8e8m0 (24)";
    case 25: return "uint2 (25)";
    case 26: return "int2 (26)";
    default: return "unknown type " + std::to_string(onnx_type);
  }
}

Result<TensorDataPtr> import_tensor(const onnx::TensorProto& t, const ExternalDataReader& external,
                                    const std::string& what) {
  auto dt = dtype_from_onnx(t.data_type());
  if (!dt) return fail(what, "has data type " + onnx_type_name(t.data_type()) + ", which tandem does not support");
  if (t.has_segment()) return fail(what, "is a segmented tensor, which tandem does not support");

  auto data = std::make_shared<TensorData>();
  data->dtype = *dt;
  int64_t count = 1;
  for (int64_t d : t.dims()) {
    if (d < 0) return fail(what, "has negative dimension " + std::to_string(d));
    if (d > kMaxDimension) return fail(what, "has absurd dimension " + std::to_string(d));
    auto m = checked_mul(count, d);
    if (!m || *m > kMaxElements)
      return fail(what, "has dimensions " + dims_text(t.dims()) + ", more elements than tandem accepts (their "
                  "product overflows int64 or exceeds 2^40)");
    count = *m;
    data->dims.push_back(d);
  }
  const std::size_t elem = dtype_size(*dt);
  const auto want_bytes = static_cast<std::size_t>(count) * elem;

  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    if (*dt == DType::kString) return fail(what, "is a string tensor stored externally, which ONNX does not allow");
    auto bytes = external.read(t, want_bytes);
    if (!bytes) return bytes.status().with_context(what + ": ");
    data->bytes = std::move(bytes).value();
    return TensorDataPtr(std::move(data));
  }
  if (t.has_raw_data()) {
    if (*dt == DType::kString) return fail(what, "is a string tensor with raw_data, which ONNX does not allow");
    if (t.raw_data().size() != want_bytes)
      return fail(what, "has " + std::to_string(t.raw_data().size()) + " bytes of raw_data but its shape and type "
                  "need " + std::to_string(want_bytes));
    data->bytes.assign(reinterpret_cast<const std::byte*>(t.raw_data().data()),
                       reinterpret_cast<const std::byte*>(t.raw_data().data()) + want_bytes);
    return TensorDataPtr(std::move(data));
  }
  const TypedField field = typed_field(t, *dt);
  const int64_t want_entries = count * field.per_element;
  if (field.count != want_entries)
    return fail(what, "holds " + std::to_string(field.count) + " values but its shape " + "needs " +
                std::to_string(want_entries));
  if (*dt == DType::kString) {
    data->strings.assign(t.string_data().begin(), t.string_data().end());
  } else {
    data->bytes = typed_bytes(t, *dt);
  }
  return TensorDataPtr(std::move(data));
}

Result<TensorDataPtr> import_sparse_tensor(const onnx::SparseTensorProto& t, const ExternalDataReader& external,
                                           const std::string& what) {
  TANDEM_ASSIGN_OR_RETURN(TensorDataPtr values, import_tensor(t.values(), external, what + " (values)"));
  TANDEM_ASSIGN_OR_RETURN(TensorDataPtr indices, import_tensor(t.indices(), external, what + " (indices)"));
  if (values->dtype == DType::kString) return fail(what, "is a sparse string tensor, which tandem does not support");
  if (indices->dtype != DType::kInt64) return fail(what, "has sparse indices that are not int64");
  if (values->dims.size() != 1) return fail(what, "has sparse values that are not 1-D");

  auto dense = std::make_shared<TensorData>();
  dense->dtype = values->dtype;
  int64_t count = 1;
  for (int64_t d : t.dims()) {
    auto m = checked_mul(count, d);
    if (d < 0 || !m || *m > kMaxElements) return fail(what, "has a negative or absurd dense shape");
    count = *m;
    dense->dims.push_back(d);
  }
  const int64_t nnz = values->dims[0];
  const std::size_t rank = dense->dims.size();
  const bool flat = indices->dims.size() == 1 && indices->dims[0] == nnz;
  const bool coords = indices->dims.size() == 2 && indices->dims[0] == nnz &&
                      indices->dims[1] == static_cast<int64_t>(rank);
  if (!flat && !coords) return fail(what, "has sparse indices of a shape that is neither [NNZ] nor [NNZ, rank]");

  const std::size_t elem = dtype_size(dense->dtype);
  if (elem > 0 && count > kMaxSparseDenseBytes / static_cast<int64_t>(elem))
    return fail(what, "has dense shape " + dims_text(t.dims()) + " of " + std::to_string(count) + " " +
                std::string(dtype_name(dense->dtype)) + " elements, more than the " +
                std::to_string(kMaxSparseDenseBytes) + " bytes a model file could hold densely");
  dense->bytes.assign(static_cast<std::size_t>(count) * elem, std::byte{0});
  auto idx = indices->as<int64_t>();
  for (int64_t k = 0; k < nnz; ++k) {
    int64_t flat_index = 0;
    if (flat) {
      flat_index = idx[static_cast<std::size_t>(k)];
    } else {
      for (std::size_t a = 0; a < rank; ++a) {
        const int64_t i = idx[static_cast<std::size_t>(k) * rank + a];
        if (i < 0 || i >= dense->dims[a]) return fail(what, "has a sparse index out of range");
        flat_index = flat_index * dense->dims[a] + i;
      }
    }
    if (flat_index < 0 || flat_index >= count) return fail(what, "has a sparse index out of range");
    std::memcpy(dense->bytes.data() + static_cast<std::size_t>(flat_index) * elem,
                values->bytes.data() + static_cast<std::size_t>(k) * elem, elem);
  }
  return TensorDataPtr(std::move(dense));
}

}  // namespace tandem::onnx_import
