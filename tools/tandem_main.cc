// The tandem command line. Each subcommand lives in its own file and registers itself here.
#include <iostream>

#include <CLI/CLI.hpp>
#include <tandem/tandem.h>

#include "tools/bench_command.h"
#include "tools/check_command.h"
#include "tools/cli_common.h"
#include "tools/info_command.h"
#include "tools/partition_command.h"
#include "tools/profile_command.h"
#include "tools/report_command.h"
#include "tools/run_command.h"
#include "tools/version_text.h"

int main(int argc, char** argv) {
  using namespace tandem::cli;
  CLI::App app{"tandem: run RNN models on a CPU and a GPU at the same time"};
  app.require_subcommand(1);
  app.set_version_flag("--version", [] { return tandem::cli::version_text(); });
  int exit_code = kExitOk;
  add_info_command(app, exit_code);
  add_run_command(app, exit_code);
  add_check_command(app, exit_code);
  add_bench_command(app, exit_code);
  add_profile_command(app, exit_code);
  add_partition_command(app, exit_code);
  add_report_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help, version or the usage error
    return (e.get_exit_code() == 0) ? kExitOk : (rc == 0 ? kExitOk : kExitUsage);
  } catch (const UsageError& e) {
    std::cerr << "tandem: " << e.message << "\n";
    return kExitUsage;
  } catch (const tandem::Error& e) {
    std::cerr << "tandem: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "tandem: internal error: " << e.what() << "\n";
    return kExitBadInput;
  }
  return exit_code;
}
