// `tandem report --profile P [--plan PLAN]... -o report.html [--markdown report.md]`: a self-contained HTML
// report (charts inline) and a Markdown summary of a profile and the plans made from it, from the files
// alone (no model needed).
#pragma once

#include <CLI/CLI.hpp>

namespace tandem::cli {

void add_report_command(CLI::App& app, int& exit_code);

}  // namespace tandem::cli
