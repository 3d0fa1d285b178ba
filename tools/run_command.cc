#include "tools/run_command.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <tandem/tandem.h>

#include "session/model_impl.h"
#include "session/session_impl.h"
#include "session/tensor_io.h"
#include "tools/cli_common.h"
#include "tools/random_inputs.h"

namespace tandem::cli {
namespace {

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs, dims;
  std::string output_dir = ".";
  int threads = 0;
  uint64_t seed = 1;
};

// "min -0.42  max 0.97  mean 0.031  [0.1, 0.2, 0.3, ...]"
std::string summary(const Tensor& t) {
  std::ostringstream s;
  s << std::setprecision(6);
  const int64_t n = t.numel();
  if (n == 0) return "(empty)";
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

int run(const RunArgs& args) {
  SessionOptions options;
  options.load.dims = parse_dims(args.dims);
  options.threads = args.threads;
  Session session(args.model, options);
  const Graph& g = session.impl().executor->graph();
  const std::string context = "model '" + args.model + "': ";

  std::vector<Tensor> tensors(g.inputs().size());
  std::vector<const Tensor*> feeds(g.inputs().size(), nullptr);
  for (const std::string& spec : args.inputs) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError{"--input expects NAME=FILE, got '" + spec + "'"};
    const std::string name = spec.substr(0, eq);
    std::size_t k = 0;
    while (k < g.inputs().size() && g.value(g.inputs()[k]).name != name) ++k;
    if (k == g.inputs().size()) throw Error(context + "--input " + name + ": the model has no input named '" + name + "'");
    auto t = read_tensor_file(spec.substr(eq + 1));
    if (!t) throw Error(context + "--input " + name + ": " + t.status().message());
    tensors[k] = std::move(t->tensor);
    feeds[k] = &tensors[k];
  }
  for (std::size_t k = 0; k < g.inputs().size(); ++k) {
    const Value& v = g.value(g.inputs()[k]);
    if (feeds[k] || v.data) continue;
    RandomInput r = random_input(v, args.seed + k);
    std::cout << "input  " << v.name << ": random " << r.tensor.describe();
    if (!r.defaulted_dims.empty()) {
      std::cout << " (taking";
      for (const auto& d : r.defaulted_dims) std::cout << " " << d << "=1";
      std::cout << "; set with --dim)";
    }
    std::cout << "\n";
    tensors[k] = std::move(r.tensor);
    feeds[k] = &tensors[k];
  }

  auto outs = session.impl().run(feeds);
  if (!outs) throw Error(context + outs.status().message());

  std::filesystem::create_directories(args.output_dir);
  for (std::size_t k = 0; k < outs->size(); ++k) {
    const std::string name = g.value(g.outputs()[k]).name;
    const std::string path = (std::filesystem::path(args.output_dir) / (file_name(name) + ".npy")).string();
    const Status s = write_npy(path, (*outs)[k]);
    if (!s.is_ok()) throw Error(s.message());
    std::cout << "output " << name << ": " << (*outs)[k].describe() << "  " << summary((*outs)[k]) << "\n"
              << "       written to " << path << "\n";
  }
  return kExitOk;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Run a model once and write its outputs as .npy files");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_option("--input", args->inputs, "NAME=FILE (.npy or ONNX TensorProto .pb); random when not given");
  cmd->add_option("--dim", args->dims, "Fix a symbolic input dimension, NAME=VALUE (repeatable)");
  cmd->add_option("--output-dir", args->output_dir, "Where NAME.npy files go (default: current folder)");
  cmd->add_option("--threads", args->threads, "Threads per run (default: all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", args->seed, "Seed for random inputs");
  cmd->callback([args, &exit_code] { exit_code = run(*args); });
}

}  // namespace tandem::cli
