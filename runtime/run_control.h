// How a caller stops a run early: a deadline, a flag set from another thread, or both. A server under a
// latency SLO gives up on a request rather than let it hold a core, and a Loop whose condition never turns
// false (ONNX allows it) can still be ended. The executors check it before every node, and Loop, Scan and
// SequenceMap before every iteration, the CPU's LSTM/GRU/RNN before every step, and its Expand and Tile
// between 16 MiB slices of their output; other nodes already running are not interrupted (their kernels
// finish).
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>

#include "graph/graph.h"
#include "graph/status.h"

namespace tandem {

class RunControl {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Stop { kNone, kCancelled, kDeadline };

  // `timeout`: how long after now the run may go on (none: no deadline); `cancel`: the caller's flag
  // (nullptr: none), read with acquire ordering, never written.
  RunControl(std::optional<Clock::duration> timeout, const std::atomic<bool>* cancel);

  // ok, or why the run must stop now; the first stop is remembered (stopped()). `where` says what was
  // about to run ("node 'n' (Op)", "node 'loop' (Loop): iteration 7").
  Status check(const std::string& where) const;
  // Why the run must stop now, if it must (kNone: go on); builds no message and remembers nothing: for
  // checks in a kernel's inner loop, which then reports through stop().
  Stop due() const;
  // The error for a stop that due() returned (not kNone), remembered as check() does.
  Status stop(Stop why, const std::string& where) const;
  // Cheap to call when nothing is set up: the common case, a control with neither deadline nor flag.
  bool active() const { return deadline_.has_value() || cancel_ != nullptr; }
  // Whether check() ever stopped the run, and why: a run that failed after that failed because of it.
  Stop stopped() const { return stopped_.load(std::memory_order_acquire); }
  // Blocks on `cv` until `ready()` or the deadline; false at the deadline (a cancel flag is not waited
  // on: it is seen at the next check). For waits that may take a while before a run starts.
  template <typename Lock, typename CondVar, typename Pred>
  bool wait(Lock& lock, CondVar& cv, Pred ready) const {
    if (!deadline_) {
      cv.wait(lock, ready);
      return true;
    }
    return cv.wait_until(lock, *deadline_, ready);
  }

 private:
  Clock::time_point start_;
  std::optional<Clock::time_point> deadline_;
  const std::atomic<bool>* cancel_ = nullptr;
  mutable std::atomic<Stop> stopped_{Stop::kNone};
};

// "node 'n' (Op)": what check() is told before a node runs.
std::string node_where(const Graph& g, NodeId id);

}  // namespace tandem
