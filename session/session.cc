// tandem::Session: compile once, run many times from any thread.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <unordered_set>
#if __has_include(<malloc.h>)
#include <malloc.h>  // malloc_trim (glibc)
#endif

#include "graph/rnn_direction_split.h"
#include "graph/rnn_time_split.h"
#include "session/auto_plan.h"
#include "session/host_tensor_bridge.h"
#include "session/input_validation.h"
#include "session/model_impl.h"
#include "session/packed_weight_release.h"
#include "session/session_impl.h"

namespace tandem {
namespace {

// How many runs of `plan` may be in flight at once within `budget` bytes of GPU memory (0: no limit). One
// run takes the plan's predicted peak; each run beside it adds its own activations and workspaces (its
// arena, its GPU worker's cuBLAS and RNN workspaces), the weights being shared. A plan whose one run is
// already over the budget is an error.
Result<int> runs_within_gpu_budget(const partition::Plan& plan, std::size_t on_gpu, int64_t budget,
                                   const std::string& where) {
  if (budget <= 0 || on_gpu == 0) return 0;
  if (plan.predicted_peak_gpu_bytes > budget)
    return Status::error(where + " predicts " + std::to_string(plan.predicted_peak_gpu_bytes) +
                         " bytes of peak GPU memory, over SessionOptions::gpu_memory_budget (" +
                         std::to_string(budget) + " bytes)");
  const int64_t per_run = plan.gpu_activation_bytes + plan.gpu_workspace_bytes;
  if (per_run <= 0) return 0;
  const int64_t runs = 1 + (budget - plan.predicted_peak_gpu_bytes) / per_run;
  return static_cast<int>(std::min<int64_t>(runs, 1 << 20));
}

// The plan's devices (session/device_set.h): "cpu" is the CPU; "cuda" is the GPU when there is one, else a
// second CPU with its own threads, the two sharing the session's threads. A plan with nothing on "cuda"
// runs on the CPU alone with every thread. `devices`: ones already made for this plan (the session's own
// plans are measured on the devices they then run on), else empty. A plan for split recurrent nodes (time
// chunks, directions apart) runs on a copy of the graph split the same way the partitioner split it
// (graph/rnn_time_split.h, graph/rnn_direction_split.h: deterministic).
Status compile_plan(Session::Impl& impl, const Graph& g, const std::string& where, DeviceSet devices) {
  const partition::Plan& plan = *impl.plan;
  std::size_t on_gpu = 0;
  for (const partition::PlanNode& n : plan.nodes) on_gpu += n.device == partition::Device::kGpu;
  if (on_gpu > 0 && impl.options.devices == "cpu")
    return Status::error(where + " puts " + std::to_string(on_gpu) +
                         " nodes on cuda, but SessionOptions::devices \"cpu\" is the CPU alone (use auto, cpu,cpu "
                         "or cpu,cuda)");
  const std::string option = on_gpu == 0 ? "cpu" : impl.options.devices;
  if (devices.devices.empty() || (on_gpu == 0 && devices.second())) {
    auto made = make_device_set(option, impl.options.threads);
    if (!made) return Status::error("SessionOptions::" + made.status().message());
    devices = std::move(made).value();
    // Said once: which device runs the plan's cuda nodes, when the session chose it.
    if (!devices.note.empty())
      std::cerr << "tandem: " << where << " puts " << on_gpu << " nodes on cuda; " << devices.note << "\n";
  }
  impl.plan_devices = std::move(devices);
  if (plan.time_chunks > 1 || plan.split_directions) {
    // The partitioner's splits, repeated: directions first, then time chunks (partitioner/time_chunks.h).
    auto split = std::make_shared<Graph>(g);
    if (plan.split_directions) {
      const DirectionSplitReport report = split_bidirectional_rnns(*split);
      if (report.split.empty())
        return Status::error(where + " splits bidirectional nodes into their directions, but this model has none "
                             "that can be" + (report.refused.empty() ? std::string() : ": " + report.refused.front()));
    }
    if (plan.time_chunks > 1) {
      const TimeSplitReport report = split_rnns_in_time(*split, plan.time_chunks);
      if (report.split.empty())
        return Status::error(where + " is for " + std::to_string(plan.time_chunks) +
                             " time chunks, but no recurrent node of this model can be split" +
                             (report.refused.empty() ? std::string() : ": " + report.refused.front()));
    }
    impl.plan_graph = std::move(split);
  } else {
    impl.plan_graph = std::shared_ptr<Graph>(impl.model.impl().ir.graph, impl.model.impl().ir.graph.get());
  }
  TANDEM_ASSIGN_OR_RETURN(Placement placement, placement_from_plan(*impl.plan_graph, plan, {0, on_gpu ? 1 : 0}));
  PlanCompileOptions compile_options;
  TANDEM_ASSIGN_OR_RETURN(compile_options.max_concurrent_runs,
                          runs_within_gpu_budget(plan, on_gpu, impl.options.gpu_memory_budget, where));
  TANDEM_ASSIGN_OR_RETURN(impl.plan_executor, PlanExecutor::compile(*impl.plan_graph, impl.plan_devices.pointers(),
                                                                    std::move(placement), compile_options));
  return Status::ok();
}

// Frees the model's copy of every constant the session's executor no longer reads (packed by its
// kernels), in the model's graph and in the session's split copy of it (session/packed_weight_release.h).
// Only for a session that holds the only reference to its model.
void release_packed_weights(Session::Impl& impl) {
  std::unordered_set<const TensorData*> read;
  auto note_read = [&read](const Graph& g, const auto& executor) {
    for (std::size_t v = 0; v < g.num_values(); ++v)
      if (const TensorDataPtr& data = g.values()[v].data; data && executor.reads_constant(static_cast<ValueId>(v)))
        read.insert(data.get());
  };
  if (impl.executor) note_read(impl.executor->graph(), *impl.executor);
  if (impl.plan_executor) note_read(impl.plan_executor->graph(), *impl.plan_executor);
  Graph& model_graph = *impl.model.impl().ir.graph;
  ReleasedConstants released = release_packed_constants(model_graph, read);
  if (impl.plan_graph && impl.plan_graph.get() != &model_graph) {
    const ReleasedConstants split = release_packed_constants(*impl.plan_graph, read);
    released.values += split.values;
    released.packed += split.packed;
  }
  if (released.values == 0) return;
  // Constants no node reads go without a trace; one a kernel packed makes the model unfit for more sessions.
  if (released.packed > 0) impl.model.impl().weights_released = true;
#ifdef __GLIBC__
  // glibc keeps freed blocks below its (adaptive, up to 32 MB) mmap threshold in the heap: weights of a few
  // MB freed in the middle of it would stay resident, free but unreturned. Hand them back to the system.
  malloc_trim(0);
#endif
}

std::shared_ptr<Session::Impl> make_session(Model model, const SessionOptions& options, bool only_reference) {
  auto impl = std::make_shared<Session::Impl>(std::move(model), options);
  const Graph& g = *impl->model.impl().ir.graph;
  const std::string context = "model '" + impl->model.source() + "': ";
  if (impl->model.impl().weights_released)
    throw Error(context + "its weights were freed by the session that held its only reference, once that "
                          "session's kernels had packed them (Session::model() describes the model but cannot "
                          "make another session): load the model again, or keep a Model and give sessions copies of it");
  if (Status s = check_threads(options.threads, "SessionOptions::threads"); !s.is_ok()) throw Error(context + s.message());
  std::string where;
  DeviceSet devices;
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
    devices = std::move(made->devices);
    where = "the " + options.mode + " plan";
  }
  if (impl->plan) {
    // The plan executor holds the kernels (weights packed once, for the device each node runs on): no
    // single-device executor is compiled beside it.
    const Status s = compile_plan(*impl, g, where, std::move(devices));
    if (!s.is_ok()) throw Error(context + s.message());
  } else {
    auto exec = GraphExecutor::compile(g, impl->cpu);
    if (!exec) throw Error(context + exec.status().message());
    impl->executor = std::move(exec).value();
  }
  if (only_reference) release_packed_weights(*impl);
  return impl;
}

}  // namespace

Result<std::vector<Tensor>> Session::Impl::run(const std::vector<const Tensor*>& feeds,
                                               const RunControl* control) const {
  TANDEM_RETURN_IF_ERROR(validate_inputs(graph(), feeds));
  if (plan_executor) {
    PlanRunOptions o;
    o.control = control;
    return plan_executor->run(feeds, o);  // each device sets its own threads
  }
  // oneDNN's OpenMP team size is per calling thread: set it for this thread's runs.
  omp_set_num_threads(resolve_threads(options.threads));
  return executor->run(feeds, {}, nullptr, control);
}

Session::Session(const std::string& model_path, const SessionOptions& options)
    : impl_(make_session(Model::load(model_path, options.load), options, true)) {}

Session::Session(Model model, const SessionOptions& options) {
  const bool only_reference = model.impl_.use_count() == 1;
  // use_count is a relaxed read: order this thread's writes to the model (release_packed_weights) after
  // whatever another thread did with a copy it has since dropped (the drop's decrement releases).
  std::atomic_thread_fence(std::memory_order_acquire);
  impl_ = make_session(std::move(model), options, only_reference);
}

const Model& Session::model() const { return impl_->model; }

std::map<std::string, HostTensor> Session::run(const std::map<std::string, HostTensor>& inputs,
                                               const RunOptions& options) const {
  const Graph& g = impl_->graph();
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
  if (options.timeout.count() < 0)
    throw Error(context + "RunOptions::timeout is negative (" + std::to_string(options.timeout.count()) + " us)");
  const bool controlled = options.timeout.count() > 0 || options.cancel;
  const RunControl control(options.timeout.count() > 0 ? std::optional<RunControl::Clock::duration>(options.timeout)
                                                       : std::nullopt,
                           options.cancel);
  auto outs = impl_->run(feeds, controlled ? &control : nullptr);
  if (!outs) {
    // A run that check() stopped fails because of it: say which way, for callers that retry or shed load.
    const RunControl::Stop stop = control.stopped();
    throw Error(context + outs.status().message(), stop == RunControl::Stop::kCancelled  ? Error::Kind::kCancelled
                                                   : stop == RunControl::Stop::kDeadline ? Error::Kind::kTimedOut
                                                                                         : Error::Kind::kFailed);
  }
  std::map<std::string, HostTensor> result;
  for (std::size_t k = 0; k < outs->size(); ++k)
    result.emplace(g.value(g.outputs()[k]).name, to_host_tensor((*outs)[k]));
  return result;
}

}  // namespace tandem
