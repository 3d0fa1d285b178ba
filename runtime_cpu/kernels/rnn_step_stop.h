// Ends an LSTM/GRU/RNN run between two steps, or two blocks of its input projection, when the run's
// control says so (its time limit passed, or the caller cancelled): a recurrent node over a long sequence
// can take seconds, and a run under a deadline must not hold its cores that long. Checked before every step
// by every thread of a team; the first to see the stop records it, the others leave at their next step, and
// the kernel then fails with status().
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "graph/status.h"
#include "runtime/run_control.h"

namespace tandem::cpu::rnn {

class StepStop {
 public:
  // control: the run's (nullptr or inactive: never stops); node `node` of `graph`: the node, named in the
  // message only when the run stops (so a run without a limit builds no string for it).
  StepStop(const RunControl* control, const Graph& graph, NodeId node)
      : control_(control && control->active() ? control : nullptr), graph_(graph), node_(node) {}
  StepStop(const StepStop&) = delete;
  StepStop& operator=(const StepStop&) = delete;

  // True when the run must stop before step `step` (then always after).
  bool at(int64_t step) const { return due(step, -1); }
  // The same, before the block of the input projection (all steps' X·Wᵀ, computed before step 0) that
  // starts at `row` of `rows`.
  bool in_projection(int64_t row, int64_t rows) const { return due(row, rows); }
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }
  // Why the run stopped, once at() or in_projection() said so: "run stopped before node 'l' (LSTM): step 7:
  // past its time limit of ..." or "... (LSTM): the input projection, row 4096 of 100000: ...", or "run
  // cancelled by the caller before ...".
  Status status() const {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string what = rows_ < 0 ? "step " + std::to_string(at_)
                                       : "the input projection, row " + std::to_string(at_) + " of " +
                                             std::to_string(rows_);
    return control_->stop(why_, node_where(graph_, node_) + ": " + what);
  }

 private:
  bool due(int64_t at, int64_t rows) const {
    if (!control_) return false;
    if (stopped_.load(std::memory_order_acquire)) return true;
    const RunControl::Stop why = control_->due();
    if (why == RunControl::Stop::kNone) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopped_.load(std::memory_order_relaxed)) {
      why_ = why;
      at_ = at;
      rows_ = rows;
      stopped_.store(true, std::memory_order_release);
    }
    return true;
  }

  const RunControl* control_;
  const Graph& graph_;
  const NodeId node_;
  mutable std::mutex mutex_;
  mutable std::atomic<bool> stopped_{false};
  mutable RunControl::Stop why_ = RunControl::Stop::kNone;
  mutable int64_t at_ = 0, rows_ = -1;  // rows_ < 0: at_ is a step, else a row of the input projection
};

}  // namespace tandem::cpu::rnn
