// `tandem run MODEL [--input NAME=FILE]... [--dim NAME=VALUE]... [--output-dir DIR] [--threads N]`: runs the
// model once, writes every output as DIR/NAME.npy and summarises it on the terminal.
#pragma once

#include <CLI/CLI.hpp>

namespace tandem::cli {

void add_run_command(CLI::App& app, int& exit_code);

}  // namespace tandem::cli
