// A bundled model with the inputs of its first test data set (`DIR/model.onnx`,
// `DIR/test_data_set_0/input_J.pb`), as the runtime tests feed it.
#pragma once

#include <string>
#include <vector>

#include <tandem/tandem.h>

#include "graph/graph.h"
#include "runtime/tensor.h"

namespace tandem::test {

struct ModelCase {
  std::string name;  // the folder, relative to the source tree
  Model model;
  std::vector<Tensor> inputs;  // one per graph input; undefined for an input left to its default
  const Graph& graph() const;
  std::vector<const Tensor*> feeds() const;  // into `inputs`, nullptr for a default
};

// `dir` relative to the source tree, e.g. "tests/data/pytorch/tagger". Inputs are matched by name when the
// files carry one, else in the order of the inputs without defaults. With `fix_dims` the model is loaded
// with its symbolic input dimensions fixed to the test inputs' sizes (shapes known throughout, as
// `tandem profile --dim` loads it). Throws std::runtime_error.
ModelCase load_model_case(const std::string& dir, bool fix_dims = false);

}  // namespace tandem::test
