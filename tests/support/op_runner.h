// Runs small models on the CPU device through the real pipeline (import, compile, execute), for kernel
// tests, and builds/reads tensors for them.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "graph/status.h"
#include "runtime/tensor.h"

namespace tandem::test {

// Imports `m`, compiles it for the CPU and runs it; `inputs` are one per graph input, in order.
Result<std::vector<Tensor>> run_on_cpu(const onnx::ModelProto& m, const std::vector<Tensor>& inputs);

template <typename T>
DType dtype_of();
template <> inline DType dtype_of<float>() { return DType::kFloat32; }
template <> inline DType dtype_of<double>() { return DType::kFloat64; }
template <> inline DType dtype_of<int64_t>() { return DType::kInt64; }
template <> inline DType dtype_of<int32_t>() { return DType::kInt32; }
template <> inline DType dtype_of<int16_t>() { return DType::kInt16; }
template <> inline DType dtype_of<int8_t>() { return DType::kInt8; }
template <> inline DType dtype_of<uint8_t>() { return DType::kUInt8; }

template <typename T>
Tensor make_tensor(std::vector<int64_t> shape, const std::vector<T>& values) {
  Tensor t = Tensor::empty(dtype_of<T>(), std::move(shape));
  if (!values.empty()) std::memcpy(t.raw(), values.data(), values.size() * sizeof(T));
  return t;
}
inline Tensor make_string_tensor(std::vector<int64_t> shape, const std::vector<std::string>& values) {
  Tensor t = Tensor::empty(DType::kString, std::move(shape));
  std::copy(values.begin(), values.end(), t.data<std::string>());
  return t;
}
inline Tensor make_bool_tensor(std::vector<int64_t> shape, const std::vector<bool>& values) {
  Tensor t = Tensor::empty(DType::kBool, std::move(shape));
  for (std::size_t i = 0; i < values.size(); ++i) t.data<uint8_t>()[i] = values[i] ? 1 : 0;
  return t;
}

template <typename T>
std::vector<T> values_of(const Tensor& t) {
  const T* p = t.data<T>();
  return std::vector<T>(p, p + t.numel());
}

}  // namespace tandem::test
