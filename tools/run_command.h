// `tandem run MODEL [--input NAME=FILE]... [--dim NAME=VALUE]... [--output-dir DIR] [--threads N]
// [--plan PLAN [--repeat N] [--trace FILE]]`: runs the model (on the CPU, or as a device plan says), writes
// every output as DIR/NAME.npy and summarises it on the terminal; with a plan, prints the measured median
// latency and per-device peak memory beside the plan's predictions.
#pragma once

#include <CLI/CLI.hpp>

namespace tandem::cli {

void add_run_command(CLI::App& app, int& exit_code);

}  // namespace tandem::cli
