// Runs the real `tandem` binary as a user would and captures what it prints.
#pragma once

#include <string>

namespace tandem::test {

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// `args` is appended to the binary's path and run through the shell (quote arguments yourself).
CliResult run_cli(const std::string& args);

}  // namespace tandem::test
