// tandem::Session: compile once, run many times from any thread.
#include <omp.h>

#include <thread>

#include "session/host_tensor_bridge.h"
#include "session/input_validation.h"
#include "session/model_impl.h"
#include "session/session_impl.h"

namespace tandem {
namespace {

std::shared_ptr<Session::Impl> make_session(Model model, const SessionOptions& options) {
  auto impl = std::make_shared<Session::Impl>(Session::Impl{std::move(model), options, {}, nullptr});
  const Graph& g = *impl->model.impl().ir.graph;
  auto exec = GraphExecutor::compile(g, impl->cpu);
  if (!exec) throw Error("model '" + impl->model.source() + "': " + exec.status().message());
  impl->executor = std::move(exec).value();
  return impl;
}

}  // namespace

Result<std::vector<Tensor>> Session::Impl::run(const std::vector<const Tensor*>& feeds) const {
  TANDEM_RETURN_IF_ERROR(validate_inputs(executor->graph(), feeds));
  // oneDNN's OpenMP team size is per calling thread: set it for this thread's runs.
  const int threads = options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  omp_set_num_threads(threads > 0 ? threads : 1);
  return executor->run(feeds);
}

Session::Session(const std::string& model_path, const SessionOptions& options)
    : impl_(make_session(Model::load(model_path, options.load), options)) {}

Session::Session(Model model, const SessionOptions& options) : impl_(make_session(std::move(model), options)) {}

const Model& Session::model() const { return impl_->model; }

std::map<std::string, HostTensor> Session::run(const std::map<std::string, HostTensor>& inputs) const {
  const Graph& g = impl_->executor->graph();
  const std::string context = "model '" + impl_->model.source() + "': ";
  std::vector<Tensor> wrapped(g.inputs().size());
  std::vector<const Tensor*> feeds(g.inputs().size(), nullptr);
  for (const auto& [name, t] : inputs) {
    std::size_t k = 0;
    while (k < g.inputs().size() && g.value(g.inputs()[k]).name != name) ++k;
    if (k == g.inputs().size()) {
      std::string names;
      for (ValueId v : g.inputs()) names += (names.empty() ? "" : ", ") + g.value(v).name;
      throw Error(context + "no input named '" + name + "' (the inputs are: " + names + ")");
    }
    wrapped[k] = to_runtime_tensor(t);
    feeds[k] = &wrapped[k];
  }
  auto outs = impl_->run(feeds);
  if (!outs) throw Error(context + outs.status().message());
  std::map<std::string, HostTensor> result;
  for (std::size_t k = 0; k < outs->size(); ++k)
    result.emplace(g.value(g.outputs()[k]).name, to_host_tensor((*outs)[k]));
  return result;
}

}  // namespace tandem
