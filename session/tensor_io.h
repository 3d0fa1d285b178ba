// Tensors in files: NumPy .npy (read and write; strings as fixed-width '<U' or '|S') and ONNX TensorProto
// .pb (read), the two formats users and ONNX test cases keep inputs and outputs in; and ONNX's
// SequenceProto and OptionalProto .pb (read), how test cases keep sequences and optionals.
#pragma once

#include <string>

#include "graph/status.h"
#include "graph/value_form.h"
#include "runtime/tensor.h"

namespace tandem {

struct NamedTensor {
  std::string name;  // from a .pb's name field; empty for .npy
  Tensor tensor;
};

// Reads .npy or .pb, told apart by content (the .npy magic), not by extension.
Result<NamedTensor> read_tensor_file(const std::string& path);
// A value of `form`: a tensor file as above, or a SequenceProto / OptionalProto .pb. `dtype` is what an
// empty optional holds (the file does not say).
Result<NamedTensor> read_value_file(const std::string& path, ValueForm form, DType dtype);
// The same for a file's bytes already in memory: `path` names them in messages, and its folder is where a
// .pb's external data is looked for.
Result<NamedTensor> parse_tensor_bytes(const std::string& bytes, const std::string& path);
Result<NamedTensor> parse_value_bytes(const std::string& bytes, const std::string& path, ValueForm form, DType dtype);
Status write_npy(const std::string& path, const Tensor& t);
// What write_npy writes.
Result<std::string> npy_bytes(const Tensor& t);
// True when NumPy has a type for t's elements (bfloat16 has none).
bool npy_can_hold(DType t);
// t (numbers or bool) as an ONNX TensorProto named `name`, raw little-endian data: what `tandem run` writes
// where .npy cannot hold the type, and what --input and ONNX's tools read back.
Status write_tensor_pb(const std::string& path, const std::string& name, const Tensor& t);

}  // namespace tandem
