#include "session/auto_plan.h"

#include <filesystem>
#include <thread>

#include "partitioner/profile.h"
#include "partitioner/time_chunks.h"
#include "profiler/machine_info.h"
#include "profiler/profile_model.h"
#include "runtime_cpu/cpu_device.h"
#include "session/random_inputs.h"

namespace tandem {

namespace {

// A saved profile is reused only for the same model file at the same dimensions.
Status check_reusable(const partition::Profile& p, const ModelIR& model, const std::map<std::string, int64_t>& dims,
                      const std::string& path) {
  if (p.model_hash != model.sha256)
    return Status::error("profile '" + path + "' was taken of another model (its hash differs); delete it or " +
                         "give another profile_path");
  for (const auto& [symbol, value] : dims) {
    auto it = p.input_shapes.find(symbol);
    if (it == p.input_shapes.end() || it->second != value)
      return Status::error("profile '" + path + "' was taken at " + symbol + "=" +
                           (it == p.input_shapes.end() ? std::string("?") : std::to_string(it->second)) +
                           ", not " + std::to_string(value));
  }
  return Status::ok();
}

Result<partition::Profile> take_profile(const ModelIR& model, const SessionOptions& options, int threads) {
  const Graph& g = *model.graph;
  // The CPU, and a second CPU measured in the GPU's place: what the plan will run on.
  const cpu::CpuDevice cpu(std::max(1, threads / 2), "cpu"), second(std::max(1, threads - threads / 2), "cpu1");
  profiler::ProfileRequest r;
  r.model = &model;
  for (std::size_t k = 0; k < g.inputs().size(); ++k) {
    const Value& v = g.value(g.inputs()[k]);
    r.inputs.push_back(v.data ? Tensor() : random_input(v, 1 + k).tensor);
  }
  r.dims = options.load.dims;
  r.devices = {{"cpu", &cpu}, {"cuda", &second}};
  r.timing = profiler::TimingOptions{2, 5, 50, 50, 0.05};
  r.machine.cpu_model = profiler::cpu_model_name();
  r.machine.threads = threads;
  auto p = profiler::profile_model(r);
  if (!p) return p.status();
  // The two devices share host memory: a hand-over costs about nothing next to a node (no link to fit).
  p->links["cpu->cuda"] = partition::LinkProfile::of(1, 1e6);
  p->links["cuda->cpu"] = partition::LinkProfile::of(1, 1e6);
  p->notes.push_back("'cuda' is a second CPU device (devices \"cpu,cpu\")");
  return p;
}

}  // namespace

Result<AutoPlan> make_auto_plan(const ModelIR& model, const SessionOptions& options) {
  AutoPlan out;
  const auto objective = partition::parse_objective(options.mode);
  if (!objective) return Status::error("SessionOptions::mode must be cpu, latency or memory, not '" + options.mode + "'");
  if (*objective == partition::Objective::kMemory && !(options.slo_ms > 0))
    return Status::error("SessionOptions::mode \"memory\" needs slo_ms (the latency the plan must stay within)");
  if (options.devices != "auto" && options.devices != "cpu" && options.devices != "cpu,cpu")
    return Status::error("SessionOptions::devices must be auto, cpu or cpu,cpu, not '" + options.devices + "'");
  if (options.devices != "cpu,cpu") {
    // tandem's CUDA device does not run nodes yet (runtime_cuda has kernels but no Device adapter), so
    // "auto" finds no second device whether or not a GPU is present.
    out.message = "no GPU device to place nodes on (tandem's CUDA device does not run nodes yet): running on the CPU";
    return out;
  }

  const int threads = options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  partition::Profile profile;
  std::error_code ec;
  if (!options.profile_path.empty() && std::filesystem::exists(options.profile_path, ec)) {
    TANDEM_ASSIGN_OR_RETURN(profile, partition::load_profile(options.profile_path));
    TANDEM_RETURN_IF_ERROR(check_reusable(profile, model, options.load.dims, options.profile_path));
  } else {
    TANDEM_ASSIGN_OR_RETURN(profile, take_profile(model, options, threads));
    if (!options.profile_path.empty()) TANDEM_RETURN_IF_ERROR(partition::save_profile(profile, options.profile_path));
  }

  partition::PartitionOptions po;
  po.objective = *objective;
  if (options.slo_ms > 0) po.slo_us = options.slo_ms * 1e3;
  if (options.gpu_memory_budget > 0) po.gpu_budget_bytes = options.gpu_memory_budget;
  TANDEM_ASSIGN_OR_RETURN(partition::TimeChunking chunking, partition::choose_time_chunks(*model.graph, profile, po));
  out.plan = std::move(chunking.plan);
  if (!out.plan->slo_met) out.message = "no plan meets the SLO: running the fastest one found";
  return out;
}

}  // namespace tandem
