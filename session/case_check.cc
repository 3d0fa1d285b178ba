#include "session/case_check.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <tandem/tandem.h>

#include "graph/utf8.h"
#include "session/model_impl.h"
#include "session/session_impl.h"
#include "session/tensor_io.h"

namespace tandem {
namespace fs = std::filesystem;
namespace {

// Test-data files sorted by their index J (input_10 after input_9).
std::vector<fs::path> numbered(const fs::path& dir, const std::string& prefix) {
  std::vector<std::pair<int, fs::path>> found;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || e.path().extension() != ".pb") continue;
    try {
      found.emplace_back(std::stoi(name.substr(prefix.size())), e.path());
    } catch (...) {
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> out;
  for (auto& [k, p] : found) out.push_back(p);
  return out;
}

}  // namespace

bool CaseResult::pass() const {
  return std::all_of(data_sets.begin(), data_sets.end(), [](const DataSetResult& d) { return d.pass; });
}

OutputComparison compare_tensors(const std::string& name, const Tensor& got, const Tensor& want,
                                 const Tolerance& tol) {
  OutputComparison c;
  c.name = name;
  if (got.dtype() != want.dtype()) {
    c.problem = "type " + std::string(dtype_name(got.dtype())) + ", expected " + std::string(dtype_name(want.dtype()));
    return c;
  }
  if (got.shape() != want.shape()) {
    c.problem = "shape " + shape_string(got.shape()) + ", expected " + shape_string(want.shape());
    return c;
  }
  if (got.dtype() == DType::kString) {  // strings compare exactly, element by element
    c.pass = c.strings = true;
    for (int64_t i = 0; i < got.numel() && c.pass; ++i)
      if (got.data<std::string>()[i] != want.data<std::string>()[i]) {
        c.pass = false;
        c.problem = "element " + std::to_string(i) + " is " + quoted(got.data<std::string>()[i], 200) + ", expected " +
                    quoted(want.data<std::string>()[i], 200);
      }
    return c;
  }
  const bool exact = got.dtype() != DType::kFloat32 && got.dtype() != DType::kFloat64 &&
                     got.dtype() != DType::kFloat16 && got.dtype() != DType::kBFloat16;
  c.pass = true;
  for (int64_t i = 0; i < got.numel(); ++i) {
    const double g = element_as_double(got, i), w = element_as_double(want, i);
    if (std::isnan(g) || std::isnan(w)) {
      if (std::isnan(g) != std::isnan(w)) c.pass = false, c.max_abs_error = INFINITY;
      continue;
    }
    if (std::isinf(g) || std::isinf(w)) {
      if (g != w) c.pass = false, c.max_abs_error = INFINITY;
      continue;
    }
    const double err = std::fabs(g - w);
    c.max_abs_error = std::max(c.max_abs_error, err);
    if (w != 0) c.max_rel_error = std::max(c.max_rel_error, err / std::fabs(w));
    if (exact ? err != 0 : err > tol.atol + tol.rtol * std::fabs(w)) c.pass = false;
  }
  return c;
}

OutputComparison compare_values(const std::string& name, const Tensor& got, const Tensor& want, const Tolerance& tol) {
  if (got.is_tensor() && want.is_tensor()) return compare_tensors(name, got, want, tol);
  OutputComparison c;
  c.name = name;
  if (got.form() != want.form() || got.elements().size() != want.elements().size()) {
    c.problem = "got a " + got.describe() + ", expected a " + want.describe();
    return c;
  }
  c.pass = true;
  for (std::size_t k = 0; k < got.elements().size(); ++k) {
    OutputComparison e = compare_tensors(name, got.elements()[k], want.elements()[k], tol);
    c.max_abs_error = std::max(c.max_abs_error, e.max_abs_error);
    c.max_rel_error = std::max(c.max_rel_error, e.max_rel_error);
    if (!e.pass && c.pass) c.problem = "element " + std::to_string(k) + ": " + e.problem;
    c.pass = c.pass && e.pass;
  }
  return c;
}

Result<CaseResult> check_case(const std::string& dir, const Tolerance& tol, int threads) {
  const fs::path root(dir);
  const fs::path model_path = root / "model.onnx";
  std::error_code ec;
  if (!fs::is_regular_file(model_path, ec)) return Status::error("'" + dir + "': no model.onnx in this folder");
  CaseResult result;
  result.dir = dir;
  try {
    SessionOptions options;
    options.threads = threads;
    Session session(model_path.string(), options);
    const Graph& g = session.impl().graph();
    // Test data feeds the inputs without defaults, in order (an old model lists its initializers as inputs).
    std::vector<std::size_t> fed;
    for (std::size_t k = 0; k < g.inputs().size(); ++k)
      if (!g.value(g.inputs()[k]).data) fed.push_back(k);

    std::vector<fs::path> sets;
    for (const auto& e : fs::directory_iterator(root))
      if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(e.path());
    std::sort(sets.begin(), sets.end(), [](const fs::path& a, const fs::path& b) {
      auto index = [](const fs::path& p) { return std::stoi(p.filename().string().substr(14)); };
      return index(a) < index(b);
    });
    if (sets.empty()) return Status::error("'" + dir + "': no test_data_set_* folders");

    for (const fs::path& set : sets) {
      const std::vector<fs::path> in_files = numbered(set, "input_"), out_files = numbered(set, "output_");
      if (in_files.size() > g.inputs().size())
        return Status::error("'" + set.string() + "': " + std::to_string(in_files.size()) + " inputs for a model with " +
                             std::to_string(g.inputs().size()));
      std::vector<Tensor> tensors(g.inputs().size());
      std::vector<const Tensor*> feeds(g.inputs().size(), nullptr);
      for (std::size_t j = 0; j < in_files.size(); ++j) {
        // Match by name when the file carries a graph input's name, else by position.
        std::size_t k = j < fed.size() ? fed[j] : j;
        const Value& declared = g.value(g.inputs()[k]);
        TANDEM_ASSIGN_OR_RETURN(NamedTensor t, read_value_file(in_files[j].string(), declared.form, declared.dtype));
        for (std::size_t q = 0; q < g.inputs().size(); ++q)
          if (!t.name.empty() && g.value(g.inputs()[q]).name == t.name) k = q;
        tensors[k] = std::move(t.tensor);
        feeds[k] = &tensors[k];
      }
      auto outs = session.impl().run(feeds);
      if (!outs) return Status::error("'" + set.string() + "': " + outs.status().message());
      if (out_files.size() != outs->size())
        return Status::error("'" + set.string() + "': " + std::to_string(out_files.size()) + " expected outputs for a "
                             "model with " + std::to_string(outs->size()));
      DataSetResult ds;
      ds.name = set.filename().string();
      ds.pass = true;
      for (std::size_t j = 0; j < out_files.size(); ++j) {
        const Value& declared = g.value(g.outputs()[j]);
        TANDEM_ASSIGN_OR_RETURN(NamedTensor want, read_value_file(out_files[j].string(), declared.form, declared.dtype));
        ds.outputs.push_back(compare_values(declared.name, (*outs)[j], want.tensor, tol));
        ds.pass = ds.pass && ds.outputs.back().pass;
      }
      result.data_sets.push_back(std::move(ds));
    }
  } catch (const Error& e) {
    return Status::error(e.what());
  }
  return result;
}

}  // namespace tandem
