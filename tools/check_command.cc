#include "tools/check_command.h"

#include <cstdio>
#include <iostream>

#include "session/case_check.h"
#include "session/device_set.h"
#include "tools/cli_common.h"

namespace tandem::cli {
namespace {

struct CheckArgs {
  std::vector<std::string> dirs;
  Tolerance tol;
  int threads = 0;
};

std::string sci(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2e", v);
  return buf;
}

int run(const CheckArgs& args) {
  int failed = 0, errors = 0, passed = 0;
  for (const std::string& dir : args.dirs) {
    auto r = check_case(dir, args.tol, args.threads);
    if (!r) {
      std::cout << "ERROR " << dir << ": " << r.status().message() << "\n";
      ++errors;
      continue;
    }
    std::cout << dir << "\n";
    for (const DataSetResult& ds : r->data_sets) {
      std::cout << "  " << (ds.pass ? "PASS " : "FAIL ") << ds.name << "\n";
      for (const OutputComparison& o : ds.outputs) {
        std::cout << "    " << o.name << ": ";
        if (!o.problem.empty()) std::cout << o.problem << "\n";
        else if (o.strings) std::cout << "every string equal\n";
        else std::cout << "max abs error " << sci(o.max_abs_error) << ", max rel error " << sci(o.max_rel_error) << "\n";
      }
      (ds.pass ? passed : failed) += 1;
    }
  }
  std::cout << "check: " << passed << " passed, " << failed << " failed";
  if (errors) std::cout << ", " << errors << " case(s) could not run";
  std::cout << " (rtol " << args.tol.rtol << ", atol " << args.tol.atol << ")\n";
  if (errors) return kExitUsage;
  return failed ? kExitBadInput : kExitOk;
}

}  // namespace

void add_check_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<CheckArgs>();
  CLI::App* cmd = app.add_subcommand("check", "Run ONNX test-case folders and compare outputs with the expected ones");
  cmd->add_option("case_dirs", args->dirs, "Folders holding model.onnx and test_data_set_*/")->required();
  cmd->add_option("--rtol", args->tol.rtol, "Relative tolerance (default 1e-3)")->check(at_least(0));
  cmd->add_option("--atol", args->tol.atol, "Absolute tolerance (default 1e-5)")->check(at_least(0));
  cmd->add_option("--threads", args->threads, "Threads per run (default: all cores)")->check(between(0, kMaxThreads));
  cmd->callback([args, &exit_code] { exit_code = run(*args); });
}

}  // namespace tandem::cli
