// tandem::Model: the public face of onnx_import. Converts Status failures into tandem::Error here, at the
// API edge, and nowhere else.
#include <tandem/tandem.h>

#include "onnx_import/onnx_import.h"
#include "onnx_import/opsets.h"
#include "runtime_cpu/constant_folding.h"
#include "session/model_impl.h"

namespace tandem {
namespace {

TensorSpec spec_of(const Value& v) {
  TensorSpec s;
  s.name = v.name;
  s.form = value_form_name(v.form);
  s.dtype = std::string(dtype_name(v.dtype));
  s.has_rank = v.shape.has_rank();
  s.has_default = v.data != nullptr;
  for (const Dim& d : v.shape.dims()) {
    s.dims.push_back(d.is_known() ? d.value : -1);
    s.dim_names.push_back(d.is_known() ? "" : d.to_string());
  }
  return s;
}

std::shared_ptr<Model::Impl> make_impl(Result<ModelIR> ir) {
  if (!ir) throw Error(ir.status().message());
  auto impl = std::make_shared<Model::Impl>();
  impl->ir = std::move(ir).value();
  const Graph& g = *impl->ir.graph;
  impl->summary = summarize(g);
  for (ValueId v : g.inputs()) impl->inputs.push_back(spec_of(g.value(v)));
  for (ValueId v : g.outputs()) impl->outputs.push_back(spec_of(g.value(v)));
  // Every stage after import (profiling, partitioning, running) sees the folded graph, so their node lists
  // agree; the summary above describes the model as stored.
  const cpu::ConstantFoldingReport folding = cpu::fold_constants(*impl->ir.graph);
  impl->folded_nodes = folding.nodes;
  impl->inlined_ifs = folding.ifs_inlined;
  return impl;
}

onnx_import::ImportOptions import_options(const LoadOptions& o) {
  onnx_import::ImportOptions io;
  io.dims = o.dims;
  return io;
}

}  // namespace

Model Model::load(const std::string& path, const LoadOptions& options) {
  return Model(make_impl(onnx_import::import_model(path, import_options(options))));
}

Model Model::load_from_bytes(const void* data, std::size_t size, const std::string& name,
                             const LoadOptions& options) {
  std::string_view bytes(static_cast<const char*>(data), size);
  return Model(make_impl(onnx_import::import_model_bytes(bytes, name, "", import_options(options))));
}

const std::string& Model::source() const { return impl_->ir.source; }
int64_t Model::ir_version() const { return impl_->ir.ir_version; }
const std::vector<TensorSpec>& Model::inputs() const { return impl_->inputs; }
const std::vector<TensorSpec>& Model::outputs() const { return impl_->outputs; }
int64_t Model::num_nodes() const { return impl_->summary.nodes; }
int64_t Model::parameter_count() const { return impl_->summary.parameter_count; }
int64_t Model::parameter_bytes() const { return impl_->summary.parameter_bytes; }
std::map<std::string, int64_t> Model::op_histogram() const { return impl_->summary.op_counts; }

std::vector<std::pair<std::string, int64_t>> Model::opsets() const {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& o : impl_->ir.opsets) out.emplace_back(onnx_import::display_domain(o.domain), o.version);
  return out;
}

}  // namespace tandem
