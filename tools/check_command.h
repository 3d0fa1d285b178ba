// `tandem check CASE_DIR... [--rtol R] [--atol A]`: runs ONNX test-case folders and compares every output.
// Exit 0 when all pass, 1 on any mismatch, 2 when a case cannot be run at all.
#pragma once

#include <CLI/CLI.hpp>

namespace tandem::cli {

void add_check_command(CLI::App& app, int& exit_code);

}  // namespace tandem::cli
