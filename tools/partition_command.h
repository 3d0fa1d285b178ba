// `tandem partition MODEL --profile P --mode latency|memory [--slo 5ms] [--gpu-mem 2GiB] [--pin NODE=cpu]...
// [--exact] -o plan.json`: a device plan from a profile, with a summary against the baselines; `--sweep` prints
// the Pareto frontier of latency against GPU memory instead.
#pragma once

#include <CLI/CLI.hpp>

namespace tandem::cli {

void add_partition_command(CLI::App& app, int& exit_code);

}  // namespace tandem::cli
