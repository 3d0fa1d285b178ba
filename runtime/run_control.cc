#include "runtime/run_control.h"

#include <cstdio>

namespace tandem {

RunControl::RunControl(std::optional<Clock::duration> timeout, const std::atomic<bool>* cancel)
    : start_(Clock::now()), cancel_(cancel) {
  if (timeout) deadline_ = start_ + *timeout;
}

namespace {
std::string milliseconds(RunControl::Clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g ms", std::chrono::duration<double, std::milli>(d).count());
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
                       milliseconds(*deadline_ - start_) + " (" + milliseconds(Clock::now() - start_) +
                       " since it started)");
}

std::string node_where(const Graph& g, NodeId id) { return "node " + g.node(id).label(id); }

}  // namespace tandem
