#include "tools/bench_command.h"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <tandem/tandem.h>

#include "profiler/machine_info.h"
#include "profiler/timing.h"
#include "session/device_set.h"
#include "session/model_impl.h"
#include "session/session_impl.h"
#include "tools/cli_common.h"
#include "tools/input_feeds.h"

namespace tandem::cli {
namespace {

struct BenchArgs {
  std::string model;
  std::vector<std::string> dims, inputs;
  int threads = 0, warmup = 10, runs = 100;
  bool as_json = false;
};


int run(const BenchArgs& args) {
  SessionOptions options;
  options.load.dims = parse_dims(args.dims);
  options.threads = args.threads;
  Session session(args.model, options);
  const Graph& g = session.impl().graph();
  // Inputs from --input files, the rest random as `run` makes them (seed 1), with its error for one too big
  // to allocate.
  const Feeds given = make_feeds(g, args.inputs, 1, "model '" + args.model + "': ", nullptr);
  const std::vector<const Tensor*>& feeds = given.ptrs;
  const bool tty = isatty(STDERR_FILENO) && !args.as_json;
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(args.runs));
  for (int i = 0; i < args.warmup + args.runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto outs = session.impl().run(feeds);
    const auto t1 = std::chrono::steady_clock::now();
    if (!outs) throw Error("model '" + args.model + "': " + outs.status().message());
    if (i >= args.warmup) us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    if (tty && (i % 10 == 0 || i + 1 == args.warmup + args.runs))
      std::cerr << "\rbench: " << i + 1 << "/" << args.warmup + args.runs << " runs" << std::flush;
  }
  if (tty) std::cerr << "\n";
  const profiler::ResidentMemory memory = profiler::resident_memory();
  std::sort(us.begin(), us.end());
  const double median = profiler::percentile(us, 0.5), p90 = profiler::percentile(us, 0.9),
               p99 = profiler::percentile(us, 0.99);
  if (args.as_json) {
    nlohmann::json j = {{"model", args.model}, {"runs", args.runs}, {"warmup", args.warmup},
                        {"threads", args.threads}, {"median_us", median}, {"p90_us", p90}, {"p99_us", p99},
                        {"min_us", us.front()}, {"max_us", us.back()},
                        {"resident_bytes", memory.now}, {"peak_resident_bytes", memory.peak},
                        {"model_weights_freed", session.model().impl().weights_released}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "model   " << args.model << "\nruns    " << args.runs << " (after " << args.warmup << " warm-up)\n"
              << "latency median " << median << " us, p90 " << p90 << " us, p99 " << p99 << " us\n";
    if (memory.now >= 0) {
      // The whole process (libraries included): what serving this model from this program holds.
      std::cout << "memory  " << human_bytes(memory.now) << " resident after the runs, peak " << human_bytes(memory.peak)
                << (session.model().impl().weights_released
                        ? " (the weights the kernels packed are held once)\n"
                        : "\n");
    }
  }
  return kExitOk;
}

}  // namespace

void add_bench_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure the latency of running a model on given or random inputs");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_option("--input", args->inputs, "Input from a .npy or .pb file, NAME=FILE (repeatable; others random)");
  cmd->add_option("--dim", args->dims, "Fix a symbolic input dimension, NAME=VALUE (repeatable)");
  cmd->add_option("--threads", args->threads, "Threads per run (default: all cores)")->check(between(0, kMaxThreads));
  cmd->add_option("--warmup", args->warmup, "Runs before timing (default 10)")->check(at_least(0));
  cmd->add_option("--runs", args->runs, "Timed runs (default 100)")->check(at_least(1));
  cmd->add_flag("--json", args->as_json, "Print the result as JSON");
  cmd->callback([args, &exit_code] { exit_code = run(*args); });
}

}  // namespace tandem::cli
