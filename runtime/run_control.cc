#include "runtime/run_control.h"

#include <cstdio>

namespace tandem {

RunControl::RunControl(std::optional<Clock::duration> timeout, const std::atomic<bool>* cancel)
    : start_(Clock::now()), cancel_(cancel) {
  if (timeout) deadline_ = start_ + *timeout;
}

namespace {
// "30 ms", "0.25 ms", "1.5 s", "3600 s": never an exponent ("1e+03 ms" for a limit of a second).
std::string readable(RunControl::Clock::duration d) {
  const double ms = std::chrono::duration<double, std::milli>(d).count();
  char buf[48];
  if (ms < 1000) std::snprintf(buf, sizeof buf, "%.3g ms", ms);
  else if (ms < 1e6) std::snprintf(buf, sizeof buf, "%.4g s", ms / 1000);
  else std::snprintf(buf, sizeof buf, "%.0f s", ms / 1000);
  return buf;
}
}  // namespace

RunControl::Stop RunControl::due() const {
  if (cancel_ && cancel_->load(std::memory_order_acquire)) return Stop::kCancelled;
  if (deadline_ && Clock::now() >= *deadline_) return Stop::kDeadline;
  return Stop::kNone;
}

Status RunControl::check(const std::string& where) const {
  const Stop why = due();
  return why == Stop::kNone ? Status::ok() : stop(why, where);
}

Status RunControl::stop(Stop why, const std::string& where) const {
  Stop none = Stop::kNone;
  stopped_.compare_exchange_strong(none, why, std::memory_order_acq_rel);
  if (why == Stop::kCancelled) return Status::error("run cancelled by the caller before " + where);
  if (!deadline_) return Status::error("run stopped before " + where);  // a caller's mistake: no deadline
  return Status::error("run stopped before " + where + ": past its time limit of " +
                       readable(*deadline_ - start_) + " (" + readable(Clock::now() - start_) +
                       " since it started)");
}

std::string node_where(const Graph& g, NodeId id) { return "node " + g.node(id).label(id); }

}  // namespace tandem
