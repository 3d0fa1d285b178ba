// `tandem profile MODEL [--dim NAME=VALUE]... [--devices cpu,cuda] [--reps N] -o profile.json [--trace FILE]`:
// measures every node on every device (estimating the GPU where none can be measured), calibrates the links,
// writes the profile file and prints the slowest nodes per device and their CPU/GPU ratios.
#pragma once

#include <CLI/CLI.hpp>

namespace tandem::cli {

void add_profile_command(CLI::App& app, int& exit_code);

}  // namespace tandem::cli
