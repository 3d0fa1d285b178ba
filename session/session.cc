// tandem::Session: compile once, run many times from any thread.
#include <omp.h>

#include <algorithm>
#include <iostream>
#include <thread>

#include "graph/rnn_time_split.h"
#include "session/auto_plan.h"
#include "session/host_tensor_bridge.h"
#include "session/input_validation.h"
#include "session/model_impl.h"
#include "session/session_impl.h"

namespace tandem {
namespace {

int session_threads(const SessionOptions& options) {
  const int threads = options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  return threads > 0 ? threads : 1;
}

// The plan's devices: "cpu" is the CPU; "cuda" is a second CPU with its own threads until tandem has a
// CUDA device to put there. The two share the session's threads. A plan for time chunks runs on a copy of
// the graph split the same way the partitioner split it (graph/rnn_time_split.h: deterministic).
Status compile_plan(Session::Impl& impl, const Graph& g, const std::string& where) {
  const partition::Plan& plan = *impl.plan;
  std::size_t on_gpu = 0;
  for (const partition::PlanNode& n : plan.nodes) on_gpu += n.device == partition::Device::kGpu;
  const int threads = session_threads(impl.options);
  if (on_gpu == 0) {
    impl.plan_devices.push_back(std::make_unique<cpu::CpuDevice>(threads, "cpu"));
  } else {
    const int half = std::max(1, threads / 2);
    impl.plan_devices.push_back(std::make_unique<cpu::CpuDevice>(half, "cpu"));
    impl.plan_devices.push_back(std::make_unique<cpu::CpuDevice>(std::max(1, threads - half), "cpu1"));
    if (impl.options.devices != "cpu,cpu")
      std::cerr << "tandem: " << where << " puts " << on_gpu
                << " nodes on cuda; tandem has no CUDA device to run them yet, so a second CPU device ('cpu1', "
                << std::max(1, threads - half) << (threads - half > 1 ? " threads" : " thread")
                << ") runs them in its place\n";
  }
  if (plan.time_chunks > 1) {
    auto split = std::make_shared<Graph>(g);
    const TimeSplitReport report = split_rnns_in_time(*split, plan.time_chunks);
    if (report.split.empty())
      return Status::error(where + " is for " + std::to_string(plan.time_chunks) +
                           " time chunks, but no recurrent node of this model can be split" +
                           (report.refused.empty() ? std::string() : ": " + report.refused.front()));
    impl.plan_graph = std::move(split);
  } else {
    impl.plan_graph = std::shared_ptr<const Graph>(impl.model.impl().ir.graph, &g);
  }
  TANDEM_ASSIGN_OR_RETURN(Placement placement, placement_from_plan(*impl.plan_graph, plan, {0, on_gpu ? 1 : 0}));
  std::vector<const Device*> devices;
  for (const auto& d : impl.plan_devices) devices.push_back(d.get());
  TANDEM_ASSIGN_OR_RETURN(impl.plan_executor,
                          PlanExecutor::compile(*impl.plan_graph, std::move(devices), std::move(placement)));
  return Status::ok();
}

std::shared_ptr<Session::Impl> make_session(Model model, const SessionOptions& options) {
  auto impl = std::make_shared<Session::Impl>(Session::Impl{std::move(model), options, {}, nullptr, {}, {}, nullptr, nullptr});
  const Graph& g = *impl->model.impl().ir.graph;
  const std::string context = "model '" + impl->model.source() + "': ";
  auto exec = GraphExecutor::compile(g, impl->cpu);
  if (!exec) throw Error(context + exec.status().message());
  impl->executor = std::move(exec).value();
  std::string where;
  if (!options.plan_path.empty()) {
    auto plan = partition::load_plan(options.plan_path);
    if (!plan) throw Error(context + plan.status().message());
    impl->plan = std::move(plan).value();
    where = "plan '" + options.plan_path + "'";
  } else if (options.mode != "cpu") {
    auto made = make_auto_plan(impl->model.impl().ir, options);
    if (!made) throw Error(context + made.status().message());
    if (!made->message.empty()) std::cerr << "tandem: " << context << made->message << "\n";
    impl->plan = std::move(made->plan);
    where = "the " + options.mode + " plan";
  }
  if (impl->plan) {
    const Status s = compile_plan(*impl, g, where);
    if (!s.is_ok()) throw Error(context + s.message());
  }
  return impl;
}

}  // namespace

Result<std::vector<Tensor>> Session::Impl::run(const std::vector<const Tensor*>& feeds) const {
  TANDEM_RETURN_IF_ERROR(validate_inputs(executor->graph(), feeds));
  if (plan_executor) return plan_executor->run(feeds);  // each device sets its own threads
  // oneDNN's OpenMP team size is per calling thread: set it for this thread's runs.
  omp_set_num_threads(session_threads(options));
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
