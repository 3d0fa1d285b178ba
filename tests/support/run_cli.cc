#include "tests/support/run_cli.h"

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "tests/support/model_builder.h"

namespace tandem::test {

CliResult run_cli(const std::string& args) {
  TempDir tmp;
  const std::string out_file = (tmp.path() / "out").string(), err_file = (tmp.path() / "err").string();
  const std::string cmd = std::string(TANDEM_CLI_PATH) + " " + args + " >" + out_file + " 2>" + err_file;
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  auto slurp = [](const std::string& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  r.out = slurp(out_file);
  r.err = slurp(err_file);
  return r;
}

}  // namespace tandem::test
