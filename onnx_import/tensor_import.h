// ONNX TensorProto / SparseTensorProto -> TensorData, for every element type tandem handles and every way
// ONNX stores the elements (raw_data, the typed repeated fields, external files, sparse), with the declared
// size checked against the data actually present.
#pragma once

#include <string>

#include "graph/status.h"
#include "graph/tensor_data.h"
#include "onnx_import/external_data.h"

namespace onnx {
class TensorProto;
class SparseTensorProto;
}  // namespace onnx

namespace tandem::onnx_import {

// `what` names the tensor in messages, e.g. "initializer 'W'".
Result<TensorDataPtr> import_tensor(const onnx::TensorProto& t, const ExternalDataReader& external,
                                    const std::string& what);

// Densifies: zeros everywhere except at the listed indices (flat [NNZ] or coordinate [NNZ, rank] form).
Result<TensorDataPtr> import_sparse_tensor(const onnx::SparseTensorProto& t, const ExternalDataReader& external,
                                           const std::string& what);

// "float8e4m3fn (17)" etc.: how messages name an ONNX data type number, known to tandem or not.
std::string onnx_type_name(int32_t onnx_type);

}  // namespace tandem::onnx_import
