// What tandem's own operator schemas are built from (schema_registry.cc and the schema files it adds).
#pragma once

#include <onnx/defs/schema.h>

#include <string>
#include <vector>

namespace tandem::onnx_import {

// An empty default-domain schema of `name` at since-version `since`, located where it is called (libonnx
// names the location in its messages about the schema). __builtin_FILE/__builtin_LINE rather than
// std::source_location, which Debian 12's clang (the fuzz build's compiler) lacks with libstdc++ 12.
inline onnx::OpSchema new_schema(const char* name, int since, const char* file = __builtin_FILE(),
                                 int line = __builtin_LINE()) {
  onnx::OpSchema s;
  s.SetName(name).SetDomain(onnx::ONNX_DOMAIN).SinceVersion(since).SetLocation(file, line);
  return s;
}

// The floating-point tensor types (float16, float, double, bfloat16) most of the newer ops take.
inline std::vector<std::string> float_tensor_types() {
  return {"tensor(float16)", "tensor(float)", "tensor(double)", "tensor(bfloat16)"};
}

}  // namespace tandem::onnx_import
