// `tandem bench MODEL [--dim ...] [--threads N] [--warmup W] [--runs R] [--json]`: latency of Session::run
// on random inputs: median, p90 and p99 in microseconds.
#pragma once

#include <CLI/CLI.hpp>

namespace tandem::cli {

void add_bench_command(CLI::App& app, int& exit_code);

}  // namespace tandem::cli
