#include "tools/progress_bar.h"

#include <algorithm>

namespace tandem::cli {

void ProgressBar::update(const std::string& stage, int done, int total, const std::string& item) {
  const int pct = total > 0 ? std::clamp(100 * done / total, 0, 100) : 100;
  if (terminal_) {
    constexpr int kWidth = 24;
    const int filled = kWidth * pct / 100;
    std::string line = "\r\033[K[" + std::string(static_cast<std::size_t>(filled), '#') +
                       std::string(static_cast<std::size_t>(kWidth - filled), '.') + "] " + std::to_string(pct) +
                       "% " + stage + " " + std::to_string(done) + "/" + std::to_string(total);
    if (!item.empty()) line += "  " + item.substr(0, 60);
    out_ << line << std::flush;
    drawn_ = true;
    return;
  }
  const int tenth = pct / 10;
  if (stage != stage_) {
    stage_ = stage;
    last_tenth_ = -1;
  }
  if (tenth == last_tenth_) return;
  last_tenth_ = tenth;
  out_ << stage << ": " << done << "/" << total << " (" << pct << "%)\n" << std::flush;
}

void ProgressBar::finish() {
  if (terminal_ && drawn_) out_ << "\r\033[K" << std::flush;
  drawn_ = false;
}

}  // namespace tandem::cli
