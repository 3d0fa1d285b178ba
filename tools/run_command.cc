#include "tools/run_command.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>

#include <tandem/tandem.h>

#include "profiler/timing.h"
#include "session/device_set.h"
#include "session/model_impl.h"
#include "session/input_validation.h"
#include "session/session_impl.h"
#include "runtime/chrome_trace.h"
#include "session/tensor_io.h"
#include "tools/cli_common.h"
#include "tools/input_feeds.h"

namespace tandem::cli {
namespace {

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs, dims;
  std::string output_dir = ".";
  int threads = 0;
  uint64_t seed = 1;
  std::string plan, trace;
  int repeat = 1;
  std::string mode = "cpu", slo, gpu_mem, devices = "auto", profile;
  std::string timeout;  // --timeout: each run's time limit ("" : none)
  double timeout_us = 0;

  // A fresh control per run, its clock started now; none without --timeout. Returns it or nullptr.
  const RunControl* start_control(std::optional<RunControl>& control) const {
    if (timeout_us <= 0) return nullptr;
    control.emplace(std::chrono::duration_cast<RunControl::Clock::duration>(
                        std::chrono::duration<double, std::micro>(timeout_us)),
                    nullptr);
    return &*control;
  }
};

// "min -0.42  max 0.97  mean 0.031  [0.1, 0.2, 0.3, ...]"; strings: ["cat", "sat", ...]
std::string summary(const Tensor& t) {
  std::ostringstream s;
  s << std::setprecision(6);
  const int64_t n = t.numel();
  if (n == 0) return "(empty)";
  if (t.dtype() == DType::kString) {
    s << "[";
    for (int64_t i = 0; i < std::min<int64_t>(n, 6); ++i) {
      const std::string& e = t.data<std::string>()[i];
      s << (i ? ", " : "") << '"' << (e.size() > 24 ? e.substr(0, 24) + "..." : e) << '"';
    }
    s << (n > 6 ? ", ...]" : "]");
    return s.str();
  }
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double v = element_as_double(t, i);
    lo = std::min(lo, v), hi = std::max(hi, v), sum += v;
  }
  s << "min " << lo << "  max " << hi << "  mean " << sum / static_cast<double>(n) << "  [";
  for (int64_t i = 0; i < std::min<int64_t>(n, 6); ++i) s << (i ? ", " : "") << element_as_double(t, i);
  s << (n > 6 ? ", ...]" : "]");
  return s.str();
}

// Output names may hold '/' or ':' (exporters' scopes); the file name keeps letters, digits, '.', '_', '-'.
std::string file_name(const std::string& name) {
  std::string out = name;
  for (char& c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
  return out.empty() ? "output" : out;
}

std::string mib(int64_t bytes) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1);
  if (bytes < 1024 * 1024) s << static_cast<double>(bytes) / 1024.0 << " KiB";
  else s << static_cast<double>(bytes) / (1024.0 * 1024.0) << " MiB";
  return s.str();
}

// Runs the session's plan `repeat` times: prints the measured median latency and each device's peak
// activation memory beside the plan's predictions, and writes the last run's trace when asked.
Result<std::vector<Tensor>> run_plan(const Session& session, const RunArgs& args,
                                     const std::vector<const Tensor*>& feeds) {
  const Session::Impl& impl = session.impl();
  const PlanExecutor& ex = *impl.plan_executor;
  const Graph& g = ex.graph();
  std::vector<double> ms;
  PlanRunStats last;  // the last run's
  Result<std::vector<Tensor>> outs = Status::error("no run");
  std::mutex mu;
  std::vector<TraceEvent> events;
  std::chrono::steady_clock::time_point t0;
  auto us = [&](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double, std::micro>(t - t0).count();
  };
  NodeObserver on_node = [&](const NodeEvent& e) {
    const Node& n = g.node(e.node);
    const auto d = static_cast<std::size_t>(ex.placement().device[static_cast<std::size_t>(e.node)]);
    std::lock_guard<std::mutex> lock(mu);
    events.push_back({n.name.empty() ? "#" + std::to_string(e.node) : n.name, n.op_type, ex.devices()[d]->name(),
                      us(e.start), us(e.end) - us(e.start), {}});
  };
  CopyObserver on_copy = [&](const CopyEvent& e) {
    if (e.shared) return;  // a hand-over without a copy takes no copy engine's time
    const std::string from = e.from < 0 ? "host" : ex.devices()[static_cast<std::size_t>(e.from)]->name();
    std::lock_guard<std::mutex> lock(mu);
    events.push_back({g.value(e.value).name, "copy", from + "->" + ex.devices()[static_cast<std::size_t>(e.to)]->name(),
                      us(e.start), us(e.end) - us(e.start), {{"bytes", std::to_string(e.bytes)}}});
  };
  TANDEM_RETURN_IF_ERROR(validate_inputs(g, feeds));
  // Measuring (--repeat above 1): two untimed runs first. The first with these shapes records their sizes
  // (the static memory plan starts with the second), and first runs set up per-thread state (a GPU
  // thread's streams and cuBLAS, its RNN graphs' capture), which no later run pays.
  const int warmup = args.repeat > 1 ? 2 : 0;
  for (int r = 0; r < warmup; ++r) {
    std::optional<RunControl> control;
    PlanRunOptions opts;
    opts.control = args.start_control(control);
    outs = ex.run(feeds, opts);
    if (!outs) return outs;
  }
  for (int r = 0; r < args.repeat; ++r) {
    PlanRunStats stats;
    PlanRunOptions opts;
    opts.stats = &stats;
    std::optional<RunControl> control;
    opts.control = args.start_control(control);
    const bool traced = !args.trace.empty() && r == args.repeat - 1;
    if (traced) opts.on_node = &on_node, opts.on_copy = &on_copy;
    if (r == args.repeat - 1)  // the allocators' peaks are the last run's, as the executor's stats are
      for (const Device* d : ex.devices()) d->reset_memory_peaks();
    t0 = std::chrono::steady_clock::now();
    outs = ex.run(feeds, opts);
    const auto t1 = std::chrono::steady_clock::now();
    if (!outs) return outs;
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    last = stats;
  }
  std::sort(ms.begin(), ms.end());
  const double median = profiler::percentile(ms, 0.5);
  const partition::Plan& plan = *impl.plan;
  std::cout << std::fixed << std::setprecision(3) << "plan   "
            << (args.plan.empty() ? "made by the session" : args.plan) << " (" << plan.algorithm << ", "
            << partition::objective_name(plan.objective) << ")\n"
            << "latency: median " << median << " ms over " << ms.size() << " runs"
            << (warmup ? " (after " + std::to_string(warmup) + " untimed)" : std::string()) << "; plan predicts "
            << plan.predicted_latency_us / 1000.0 << " ms\n";
  // Memory of the last run: from the second run with these shapes, each device runs in its static memory
  // plan (one arena); the first run records the sizes.
  const bool planned = std::any_of(last.devices.begin(), last.devices.end(),
                                   [](const DeviceRunStats& s) { return s.arena_bytes > 0; });
  for (std::size_t d = 0; d < last.devices.size(); ++d) {
    const DeviceRunStats& s = last.devices[d];
    const bool runs_cuda = d == 1;  // the device the plan's "cuda" nodes run on: the GPU or a stand-in
    const bool stand_in = runs_cuda && impl.plan_devices.stand_in();
    std::cout << "peak memory " << ex.devices()[d]->name() << (stand_in ? " (in place of cuda)" : "") << ": "
              << mib(s.peak_bytes) << " of activations";
    if (planned) std::cout << " (arena " << mib(s.arena_bytes) << (s.plan_misses ? ", " + std::to_string(s.plan_misses) + " outputs outside the plan" : "") << ")";
    if (runs_cuda) {
      std::cout << "; plan predicts " << mib(plan.gpu_activation_bytes) << " of activations (GPU peak "
                << mib(plan.predicted_peak_gpu_bytes) << " with weights and workspace)";
      // The stand-in shares host memory with the CPU, so it holds no copies and hands its outputs over:
      // the prediction is for a GPU's own memory.
      if (stand_in) std::cout << "; a GPU would copy what crosses devices, the stand-in shares it";
    }
    std::cout << "\n";
  }
  // A device with its own allocator (the GPU) says what it held in the last run, in the plan's terms.
  for (const Device* d : ex.devices()) {
    const std::optional<DeviceMemoryUsage> u = d->memory_usage();
    if (!u) continue;
    std::cout << "allocator " << d->name() << ": peak " << mib(u->total.peak) << " (weights "
              << mib(u->weights.peak) << ", activations " << mib(u->activations.peak) << ", workspace "
              << mib(u->workspace.peak) << "); plan predicts " << mib(plan.predicted_peak_gpu_bytes)
              << " (weights " << mib(plan.gpu_weight_bytes) << ", activations " << mib(plan.gpu_activation_bytes)
              << ", workspace " << mib(plan.gpu_workspace_bytes) << ")\n";
  }
  if (!planned) std::cout << "memory: the first run with these shapes records the sizes; from the second (--repeat 2) runs use the static memory plan\n";
  if (last.devices.size() == 1) std::cout << "peak memory cuda: unused; plan predicts " << mib(plan.predicted_peak_gpu_bytes) << "\n";
  if (!args.trace.empty()) {
    TANDEM_RETURN_IF_ERROR(write_chrome_trace(events, args.trace));
    std::cout << "trace  " << args.trace << " (last run; one lane per device and copy direction)\n";
  }
  return outs;
}

int run(RunArgs args) {
  if ((args.repeat != 1 || !args.trace.empty()) && args.plan.empty() && args.mode == "cpu")
    throw UsageError{"--repeat and --trace need --plan or --mode (tandem bench measures the CPU alone)"};
  if (!args.plan.empty() && args.mode != "cpu") throw UsageError{"--plan and --mode exclude each other"};
  SessionOptions options;
  options.load.dims = parse_dims(args.dims);
  options.threads = args.threads;
  options.plan_path = args.plan;
  options.mode = args.mode;
  if (args.mode != "cpu" && args.mode != "latency" && args.mode != "memory")
    throw UsageError{"--mode must be cpu, latency or memory, got '" + args.mode + "'"};
  if (!args.slo.empty()) options.slo_ms = parse_duration_us(args.slo, "--slo") / 1e3;
  if (!args.timeout.empty()) {
    args.timeout_us = parse_duration_us(args.timeout, "--timeout");
    if (!(args.timeout_us > 0)) throw UsageError{"--timeout must be above 0, got '" + args.timeout + "'"};
  }
  if (args.mode == "memory" && args.slo.empty()) throw UsageError{"--mode memory needs --slo"};
  if (!args.gpu_mem.empty()) options.gpu_memory_budget = parse_bytes(args.gpu_mem, "--gpu-mem");
  if (args.devices != "auto" && args.devices != "cpu" && args.devices != "cpu,cpu" && args.devices != "cpu,cuda")
    throw UsageError{"--devices must be " + std::string(device_options()) + ", got '" + args.devices + "'"};
  options.devices = args.devices;
  options.profile_path = args.profile;
  if (!args.trace.empty()) check_writable(args.trace, "--trace");
  Session session(args.model, options);
  const Graph& g = session.impl().graph();
  const std::string context = "model '" + args.model + "': ";

  const Feeds feeds = make_feeds(g, args.inputs, args.seed, context, &std::cout);

  std::optional<RunControl> control;
  auto outs = session.impl().plan_executor ? run_plan(session, args, feeds.ptrs)
                                           : session.impl().run(feeds.ptrs, args.start_control(control));
  if (!outs) throw Error(context + outs.status().message());

  std::filesystem::create_directories(args.output_dir);
  for (std::size_t k = 0; k < outs->size(); ++k) {
    const std::string name = g.value(g.outputs()[k]).name;
    const Tensor& out = (*outs)[k];
    auto npy_path = [&](const std::string& stem) {
      return (std::filesystem::path(args.output_dir) / (file_name(stem) + ".npy")).string();
    };
    if (out.is_none()) {
      std::cout << "output " << name << ": " << out.describe() << " (nothing written)\n";
      continue;
    }
    if (out.is_sequence()) {
      // One file per element, NAME.0.npy, NAME.1.npy, ...: .npy holds one array.
      std::cout << "output " << name << ": " << out.describe() << "\n";
      for (std::size_t e = 0; e < out.elements().size(); ++e) {
        const std::string path = npy_path(name + "." + std::to_string(e));
        const Status s = write_npy(path, out.elements()[e]);
        if (!s.is_ok()) throw Error(context + "output '" + name + "' element " + std::to_string(e) + ": " + s.message());
        std::cout << "  [" << e << "] " << out.elements()[e].describe() << "  " << summary(out.elements()[e])
                  << "\n       written to " << path << "\n";
      }
      continue;
    }
    // NumPy has no bfloat16: such an output goes out as an ONNX TensorProto, NAME.pb, which --input takes.
    const bool as_pb = !npy_can_hold(out.dtype());
    const std::string path =
        as_pb ? (std::filesystem::path(args.output_dir) / (file_name(name) + ".pb")).string() : npy_path(name);
    const Status s = as_pb ? write_tensor_pb(path, name, out) : write_npy(path, out);
    if (!s.is_ok()) throw Error(context + "output '" + name + "': " + s.message());
    std::cout << "output " << name << ": " << out.describe() << "  " << summary(out) << "\n"
              << "       written to " << path << (as_pb ? " (an ONNX TensorProto: NumPy has no " +
                                                             std::string(dtype_name(out.dtype())) + " type)"
                                                        : std::string())
              << "\n";
  }
  return kExitOk;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Run a model once and write its outputs as .npy files");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_option("--input", args->inputs, "NAME=FILE (.npy or ONNX TensorProto .pb; a SequenceProto or OptionalProto .pb for a sequence or optional input); random when not given");
  cmd->add_option("--dim", args->dims, "Fix a symbolic input dimension, NAME=VALUE (repeatable)");
  cmd->add_option("--output-dir", args->output_dir, "Where NAME.npy files go (default: current folder)");
  cmd->add_option("--threads", args->threads, "Threads per run (default: all cores)")->check(between(0, kMaxThreads));
  cmd->add_option("--seed", args->seed, "Seed for random inputs");
  cmd->add_option("--timeout", args->timeout,
                  "Stop a run still going after this long, e.g. 500ms (checked before each node and Loop "
                  "iteration); exit 1 saying where it stopped");
  cmd->add_option("--plan", args->plan, "Run this device plan (from tandem partition) instead of the CPU alone");
  cmd->add_option("--repeat", args->repeat, "With --plan: runs to take the median latency of (default 1)")
      ->check(at_least(1));
  cmd->add_option("--trace", args->trace, "With --plan: write the last run as a Chrome trace (ui.perfetto.dev)");
  cmd->add_option("--mode", args->mode,
                  "Without --plan: cpu (default), or latency / memory to profile, partition and run a plan");
  cmd->add_option("--slo", args->slo, "With --mode memory: the latency the plan must stay within, e.g. 5ms");
  cmd->add_option("--gpu-mem", args->gpu_mem, "With --mode: cap on predicted peak GPU memory, e.g. 2GiB");
  cmd->add_option("--devices", args->devices,
                  "auto (default: the GPU when there is one, else a second CPU device in its place), cpu, "
                  "cpu,cpu (two CPU devices standing in for CPU and GPU) or cpu,cuda");
  cmd->add_option("--profile", args->profile, "With --mode: reuse this profile if it exists, else save the one taken");
  cmd->callback([args, &exit_code] { exit_code = run(*args); });
}

}  // namespace tandem::cli
