// Runs ONNX test-case folders (model.onnx plus test_data_set_K/input_J.pb and output_J.pb) and compares
// every output with the expected one: what `tandem check` and the conformance tests share.
#pragma once

#include <string>
#include <vector>

#include "graph/status.h"
#include "runtime/tensor.h"

namespace tandem {

struct Tolerance {
  double rtol = 1e-3;
  double atol = 1e-5;
};

struct OutputComparison {
  std::string name;
  double max_abs_error = 0;
  double max_rel_error = 0;
  bool pass = false;
  bool strings = false;  // compared string by string: equal or not, no error size
  std::string problem;  // shape or type mismatch, when there is one
};

struct DataSetResult {
  std::string name;  // "test_data_set_0"
  std::vector<OutputComparison> outputs;
  bool pass = false;
};

struct CaseResult {
  std::string dir;
  std::vector<DataSetResult> data_sets;
  bool pass() const;
};

// A failure to load, compile or run is an error (Status), not a mismatch.
Result<CaseResult> check_case(const std::string& dir, const Tolerance& tol, int threads = 0);

// numpy.allclose semantics per element: |got - want| <= atol + rtol * |want|; NaN matches NaN; exact for
// integers and bools.
OutputComparison compare_tensors(const std::string& name, const Tensor& got, const Tensor& want,
                                 const Tolerance& tol);
// compare_tensors, also for sequences (element by element, same length) and optionals (empty matches empty).
OutputComparison compare_values(const std::string& name, const Tensor& got, const Tensor& want, const Tolerance& tol);

}  // namespace tandem
