// `tandem info MODEL [--dim NAME=VALUE]... [--json] [--dot FILE]`: what a model is, what it costs, and
// what tandem can run of it.
#pragma once

#include <CLI/CLI.hpp>

namespace tandem::cli {

// Registers the subcommand; `exit_code` receives its result when it runs.
void add_info_command(CLI::App& app, int& exit_code);

}  // namespace tandem::cli
