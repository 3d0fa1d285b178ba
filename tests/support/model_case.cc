#include "tests/support/model_case.h"

#include <filesystem>
#include <stdexcept>

#include "session/model_impl.h"
#include "session/tensor_io.h"
#include "tests/support/model_builder.h"

namespace tandem::test {

namespace fs = std::filesystem;

const Graph& ModelCase::graph() const { return *model.impl().ir.graph; }

std::vector<const Tensor*> ModelCase::feeds() const { return pointers_to(inputs); }

ModelCase load_model_case(const std::string& dir, bool fix_dims) {
  ModelCase c{dir, Model::load(source_path(dir + "/model.onnx")), {}};
  const Graph& g = c.graph();
  c.inputs.resize(g.inputs().size());
  std::vector<std::size_t> fed;  // inputs without defaults, in order, as the test data lists them
  for (std::size_t k = 0; k < g.inputs().size(); ++k)
    if (!g.value(g.inputs()[k]).data) fed.push_back(k);
  for (std::size_t j = 0;; ++j) {
    const fs::path p = fs::path(source_path(dir)) / "test_data_set_0" / ("input_" + std::to_string(j) + ".pb");
    if (!fs::exists(p)) break;
    auto t = read_tensor_file(p.string());
    if (!t) throw std::runtime_error(t.status().message());
    std::size_t k = j < fed.size() ? fed[j] : j;
    for (std::size_t q = 0; q < g.inputs().size(); ++q)
      if (!t->name.empty() && g.value(g.inputs()[q]).name == t->name) k = q;
    c.inputs[k] = std::move(t->tensor);
  }
  if (!fix_dims) return c;
  LoadOptions fixed;
  for (std::size_t k = 0; k < g.inputs().size(); ++k) {
    const Shape& declared = g.value(g.inputs()[k]).shape;
    if (!c.inputs[k].defined() || !declared.has_rank()) continue;
    for (std::size_t i = 0; i < declared.rank() && i < c.inputs[k].shape().size(); ++i)
      if (declared[i].is_symbolic()) fixed.dims[declared[i].symbol] = c.inputs[k].shape()[i];
  }
  c.model = Model::load(source_path(dir + "/model.onnx"), fixed);
  return c;
}

}  // namespace tandem::test
