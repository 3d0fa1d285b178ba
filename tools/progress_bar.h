// Progress for long commands (profile, bench): a bar redrawn in place on a terminal, plain lines otherwise
// (a log or CI keeps one line per stage and per tenth of the work, not thousands of carriage returns).
#pragma once

#include <ostream>
#include <string>

namespace tandem::cli {

class ProgressBar {
 public:
  ProgressBar(std::ostream& out, bool terminal) : out_(out), terminal_(terminal) {}
  ~ProgressBar() { finish(); }

  void update(const std::string& stage, int done, int total, const std::string& item);
  // Ends the bar's line (on a terminal); call before printing anything else.
  void finish();

 private:
  std::ostream& out_;
  bool terminal_;
  bool drawn_ = false;
  std::string stage_;
  int last_tenth_ = -1;
};

}  // namespace tandem::cli
