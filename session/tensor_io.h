// Tensors in files: NumPy .npy (read and write) and ONNX TensorProto .pb (read), the two formats users
// and ONNX test cases keep inputs and outputs in.
#pragma once

#include <string>

#include "graph/status.h"
#include "runtime/tensor.h"

namespace tandem {

struct NamedTensor {
  std::string name;  // from a .pb's name field; empty for .npy
  Tensor tensor;
};

// Reads .npy or .pb, told apart by content (the .npy magic), not by extension.
Result<NamedTensor> read_tensor_file(const std::string& path);
Status write_npy(const std::string& path, const Tensor& t);

}  // namespace tandem
