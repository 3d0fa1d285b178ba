#include "tools/profile_command.h"

#include <omp.h>
#include <unistd.h>

#include <iostream>
#include <sstream>
#include <thread>

#include <tandem/tandem.h>

#include "partitioner/profile.h"
#include "profiler/cpu_handoff.h"
#include "profiler/link_fit.h"
#include "profiler/machine_info.h"
#include "profiler/profile_merge.h"
#include "profiler/profile_model.h"
#include "profiler/profile_summary.h"
#include "profiler/run_trace.h"
#include "runtime_cpu/cpu_device.h"
#include "session/device_set.h"
#include "session/model_impl.h"
#include "tools/cli_common.h"
#include "tools/input_feeds.h"
#include "tools/progress_bar.h"

namespace tandem::cli {
namespace {

struct ProfileArgs {
  std::string model, output, trace, merge, devices = "cpu,cuda", gpu_spec = "h100", link_max = "64MiB";
  std::vector<std::string> dims, inputs;
  int reps = 200, threads = 0, top = 10;
  double budget_ms = 200;
  uint64_t seed = 1;
};

int run(const ProfileArgs& args) {
  bool want_cpu = false, want_cuda = false;
  // "cpu,cpu": the stand-in pair, a second CPU device with half the threads in the GPU's place, as
  // `tandem run --devices cpu,cpu` runs plans (session/device_set.h).
  const bool stand_in = args.devices == "cpu,cpu";
  if (stand_in) {
    want_cpu = want_cuda = true;
  } else {
    std::stringstream in(args.devices);
    std::string d;
    while (std::getline(in, d, ',')) {
      bool& want = d == "cpu" ? want_cpu : want_cuda;
      if (d != "cpu" && d != "cuda")
        throw UsageError{"--devices: unknown device '" + d + "' (expected cpu, cuda, cpu,cuda or cpu,cpu)"};
      if (want) throw UsageError{"--devices: '" + d + "' is named twice (cpu,cpu alone means the stand-in pair)"};
      want = true;
    }
  }
  if (!want_cpu && !want_cuda) throw UsageError{"--devices names no device"};
  if (args.reps < 1) throw UsageError{"--reps must be at least 1"};
  const int64_t link_max = parse_bytes(args.link_max, "--link-max");
  if (link_max < 4) throw UsageError{"--link-max must be at least 4 bytes"};

  LoadOptions load;
  load.dims = parse_dims(args.dims);
  check_writable(args.output, "-o");
  if (!args.trace.empty()) check_writable(args.trace, "--trace");
  Model model = Model::load(args.model, load);
  const ModelIR& ir = model.impl().ir;
  const Graph& g = *ir.graph;
  const std::string context = "model '" + args.model + "': ";
  Feeds feeds = make_feeds(g, args.inputs, args.seed, context, &std::cout);

  const int threads = resolve_threads(args.threads);
  omp_set_num_threads(threads);
  // The devices (session/device_set.h): the CPU with every thread, and the GPU when cuda is asked for and
  // one is here (without one, cuda is estimated below); or the stand-in pair, half the threads each.
  const GpuAvailability gpu = want_cuda && !stand_in ? find_gpu() : GpuAvailability{};
  auto made = make_device_set(stand_in ? "cpu,cpu" : gpu.present ? "cpu,cuda" : "cpu", threads);
  if (!made) throw Error(made.status().message());
  const DeviceSet devices = std::move(made).value();
  const Device& cpu_device = devices.cpu();

  profiler::ProfileRequest request;
  request.model = &ir;
  request.inputs = feeds.tensors;
  request.dims = load.dims;
  // The CPU always runs the reference run (it records the inputs every node is measured on); its costs
  // are kept only when asked for.
  request.devices.push_back({"cpu", &cpu_device});
  request.timing.max_reps = args.reps;
  request.timing.min_reps = std::min(5, args.reps);
  request.timing.budget_ms = args.budget_ms;
  request.machine.cpu_model = profiler::cpu_model_name();
  request.machine.threads = static_cast<const cpu::CpuDevice&>(cpu_device).threads();  // half beside a stand-in
  request.link_sizes = profiler::calibration_sizes(4, link_max);

  profiler::CpuHandoff handoff;
  if (want_cpu) request.links["cpu->cpu"] = [&handoff](int64_t bytes) { return handoff(bytes); };
  if (stand_in) {
    // Both devices of the pair measured, each with its own threads; their hand-over is set, not fitted.
    request.devices.push_back({"cuda", devices.second()});
    std::cout << "GPU: not used (--devices cpu,cpu); '" << devices.second()->name() << "', a CPU device with "
              << static_cast<const cpu::CpuDevice*>(devices.second())->threads() << " of " << threads
              << " threads, is measured in its place\n";
  } else if (want_cuda) {
    auto spec = profiler::parse_gpu_spec(args.gpu_spec);
    if (!spec) throw UsageError{"--gpu-spec: " + spec.status().message()};
    if (gpu.present) {
      // Every node is measured on the CudaDevice, and the host<->GPU links through its own hand-over.
      request.devices.push_back({"cuda", devices.second()});
      for (auto& [key, timer] : devices.link_timers()) request.links[key] = std::move(timer);
      request.machine.gpu_name = gpu.name;
      request.machine.driver = gpu.driver;
      std::cout << "GPU: " << gpu.name << " ('" << devices.second()->name() << "'; nodes and links measured)\n";
    } else {
      // Estimated numbers only where no GPU can be measured, and flagged as such.
      request.estimate_gpu = *spec;
      std::cout << "GPU: none here (" << gpu.why_not << "); cuda costs are estimated for "
                << profiler::describe_gpu_spec(*spec) << "\n";
    }
  }

  // A busy machine inflates every timing (OpenMP teams spin against the other work): say so, in the file too.
  const double load_avg = profiler::load_average();
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::string busy;
  if (load_avg > 0.5 * cores) {
    std::ostringstream o;
    o << "the machine was busy while profiling (load average " << load_avg << " on " << cores
      << " cores): timings are likely inflated";
    busy = o.str();
    std::cerr << "tandem: warning: " << busy << "\n";
  }

  ProgressBar bar(std::cerr, isatty(STDERR_FILENO) != 0);
  request.on_progress = [&bar](const profiler::Progress& p) { bar.update(p.stage, p.done, p.total, p.item); };
  auto profile = profiler::profile_model(request);
  bar.finish();
  if (!profile) throw Error(context + profile.status().message());
  if (!busy.empty()) profile->notes.push_back(busy);
  if (stand_in) mark_stand_in_profile(*profile);
  if (!want_cpu) {
    for (auto& n : profile->nodes) n.devices.erase("cpu");
    profile->notes.push_back("cpu costs left out (--devices " + args.devices + ")");
  }

  if (!args.merge.empty()) {
    auto other = partition::load_profile(args.merge);
    if (!other) throw Error(other.status().message());
    auto merged = profiler::merge_profiles(*profile, *other);
    if (!merged) throw Error("--merge " + args.merge + ": " + merged.status().message());
    profile = std::move(merged);
  }
  const Status saved = partition::save_profile(*profile, args.output);
  if (!saved.is_ok()) throw Error(saved.message());

  if (!args.trace.empty()) {
    auto events = profiler::trace_run(g, cpu_device, feeds.tensors, "cpu");
    if (!events) throw Error(context + "--trace: " + events.status().message());
    const Status s = write_chrome_trace(*events, args.trace);
    if (!s.is_ok()) throw Error(s.message());
    std::cout << "trace  " << args.trace << " (" << events->size() << " nodes; open in ui.perfetto.dev)\n";
  }
  std::cout << profiler::profile_summary(*profile, args.top) << "profile written to " << args.output << "\n";
  return kExitOk;
}

}  // namespace

void add_profile_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ProfileArgs>();
  CLI::App* cmd = app.add_subcommand("profile", "Measure every node on every device and write a profile");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_option("-o,--output", args->output, "Profile JSON to write")->required();
  cmd->add_option("--dim", args->dims, "Fix a symbolic input dimension, NAME=VALUE (repeatable)");
  cmd->add_option("--input", args->inputs, "NAME=FILE (.npy or ONNX TensorProto .pb; a SequenceProto or OptionalProto .pb for a sequence or optional input); random when not given");
  cmd->add_option("--devices", args->devices, "Devices to profile: cpu, cuda, cpu,cuda (default) or cpu,cpu (a second CPU device in the GPU's place)");
  cmd->add_option("--reps", args->reps, "Most timed repetitions per node and device (default 200)");
  cmd->add_option("--budget-ms", args->budget_ms, "Time budget per node and device (default 200 ms)")
      ->check(at_least(1));
  cmd->add_option("--threads", args->threads, "CPU threads (default: all cores)")->check(between(0, kMaxThreads));
  cmd->add_option("--gpu-spec", args->gpu_spec,
                  "GPU to estimate when none is measured: h100 (default) or h200, then ,key=value overrides");
  cmd->add_option("--link-max", args->link_max, "Largest copy for link calibration (default 64MiB)");
  cmd->add_option("--merge", args->merge, "Merge with a profile of the same model taken elsewhere (e.g. a GPU)");
  cmd->add_option("--trace", args->trace, "Write a Chrome/Perfetto trace of one real run on the CPU");
  cmd->add_option("--top", args->top, "Nodes listed per device in the summary (default 10)")
      ->check(at_least(1));
  cmd->add_option("--seed", args->seed, "Seed for random inputs");
  cmd->callback([args, &exit_code] { exit_code = run(*args); });
}

}  // namespace tandem::cli
