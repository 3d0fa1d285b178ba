// Runs a graph over several devices at once, following a Placement (a device per node and an order per
// device). The GPU half of the parallel runtime plugs in through the Device interface; two CPU devices
// with their own thread arenas are a valid pair, which is how the tests exercise the concurrency.
//
// How a run works:
//  1. Each device works through its node list in order on a thread of its own: device 0 on the calling
//     thread, every other device on a persistent worker of that device (runtime/worker_pool.h). The thread
//     calls Device::bind_thread first (the CPU sets its OpenMP team size there, so each device keeps its
//     own arena; note that this changes the calling thread's setting for device 0).
//  2. A node waits only for producers on other devices (its own device's producers ran earlier in its
//     order, which compile() checks, along with the absence of deadlocks between the orders). Waiting is
//     on a per-run condition variable: no spinning. A producer whose outputs another device reads marks
//     itself done under the run's mutex and wakes the waiters.
//  3. A value crossing devices goes through the reading device's Device::receive, once per value, device
//     and run (graph inputs too: they live in the caller's host memory); for two CPUs that shares the
//     storage, for a GPU it is an asynchronous copy (see runtime/device.h).
//  4. Memory. The first run with given input shapes records every value's size and which outputs are
//     views of an input; from then on, runs with those shapes follow a static memory plan
//     (graph/memory_plan.h): each device allocates one arena at the start of the run and its kernels'
//     outputs (and a GPU's copies of what it receives) are placed at planned offsets, buffers whose
//     lifetimes do not overlap sharing bytes. What the plan did not foresee (a data-dependent size, the
//     graph outputs handed to the caller) is allocated as the run goes. Values are released after their
//     last reader on any device (an atomic use count per value and run). Each device tallies the bytes
//     of live activation storage it holds (each buffer counted once, however many values alias it: the
//     arena once; constants, graph inputs and wrapped buffers not at all), and reports its peak.
//  5. After its last node each device thread calls Device::finish_run (a GPU waits for the work it queued),
//     and outputs left in a device's memory come back to the host through Device::to_host.
//  6. The first failing node stops the run: its Status is recorded, every waiting device wakes and stops
//     before its next node, and run() returns that node's message once all device threads are done.
// Each run has its own values, flags and tallies, so run() may be called from many threads at once; each
// run in flight holds its own arenas and, on a GPU, its worker's per-thread workspaces, so a GPU memory
// budget caps how many may be in flight (PlanCompileOptions::max_concurrent_runs): the others wait at
// run()'s start for one to finish.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <span>
#include <vector>

#include "graph/graph.h"
#include "graph/status.h"
#include "runtime/device.h"
#include "runtime/executor.h"
#include "runtime/placement.h"
#include "runtime/run_control.h"
#include "runtime/tensor.h"
#include "runtime/worker_pool.h"

namespace tandem {

// A value handed to another device (Device::receive).
struct CopyEvent {
  ValueId value = kNoValue;
  int from = -1;  // device index; -1: the caller's host memory (a graph input)
  int to = -1;
  std::chrono::steady_clock::time_point start, end;
  std::size_t bytes = 0;
  bool shared = false;  // the receiver reads the producer's storage: nothing was copied
};
using CopyObserver = std::function<void(const CopyEvent&)>;

struct DeviceRunStats {
  int64_t nodes = 0;
  int64_t peak_bytes = 0;      // peak of the live activation storage the device held during the run
  int64_t arena_bytes = 0;     // its static memory plan's arena; 0 when the run had no plan (first shapes)
  int64_t plan_misses = 0;     // outputs the plan had a slot for that came out another size or shape
  int64_t received = 0;        // values received from other devices or the caller
  int64_t copied_bytes = 0;    // bytes of those that were copied rather than shared
};
struct PlanRunStats {
  std::vector<DeviceRunStats> devices;  // by device index
};

struct PlanCompileOptions {
  // Runs with input shapes seen before use a static memory plan (see above); false: allocate as they go.
  bool static_memory = true;
  // Runs in flight at once (the rest wait for one to finish, in no promised order); 0: no limit.
  int max_concurrent_runs = 0;
};

struct PlanRunOptions {
  // Called from the device threads, possibly at the same time: they must be thread-safe. NodeEvent is
  // runtime/executor.h's; the node's device is placement().device[event.node].
  const NodeObserver* on_node = nullptr;
  const CopyObserver* on_copy = nullptr;
  PlanRunStats* stats = nullptr;  // filled when the run succeeds
  // Checked by every device thread before each node, and while the run waits for a place among the runs
  // in flight (runtime/run_control.h); nullptr: none. Its stop fails the run like a failing node.
  const RunControl* control = nullptr;
};

class PlanExecutor {
 public:
  // `g` and the devices must outlive the executor. Checks the placement (validate_placement) and that
  // each node's device supports it, and creates every kernel on its node's device (nested bodies are
  // compiled for the same device by their owning kernels, and run on that device's thread).
  static Result<std::shared_ptr<const PlanExecutor>> compile(const Graph& g, std::vector<const Device*> devices,
                                                             Placement placement,
                                                             PlanCompileOptions options = {});

  // `inputs`: one per g.inputs(), nullptr to use an input's default. Returns one tensor per g.outputs(),
  // in host memory (an output a GPU produced is copied back through its device's to_host).
  Result<std::vector<Tensor>> run(std::span<const Tensor* const> inputs, const PlanRunOptions& options = {}) const;

  const Graph& graph() const { return graph_; }
  // Whether a run reads the elements of constant v (runtime/constants_at_run.h): false for an initializer
  // every kernel reading it packed, which the executor holds as type and shape only.
  bool reads_constant(ValueId v) const { return constant_read_[static_cast<std::size_t>(v)]; }
  const Placement& placement() const { return placement_; }
  const std::vector<const Device*>& devices() const { return devices_; }
  int max_concurrent_runs() const { return max_concurrent_runs_; }  // 0: no limit

  // The arena bytes per device of the static memory plan for inputs of these types and shapes; empty until
  // a run with them has recorded the sizes (or without static memory).
  std::vector<int64_t> planned_arena_bytes(std::span<const Tensor* const> inputs) const;

 private:
  // Where a node's input comes from in a run.
  enum class SourceKind : uint8_t { kNone, kConstant, kOwned, kReceived };
  struct Source {
    SourceKind kind = SourceKind::kNone;
    int32_t index = -1;  // ValueId for kConstant and kOwned, a slot for kReceived
  };
  struct Step {
    NodeId id = kNoNode;
    std::vector<Source> inputs, implicit_inputs;
    std::vector<NodeId> waits;  // producers on other devices, each once
    bool notify = false;        // another device reads an output of this node
  };
  // A value one device receives from another (or from the caller).
  struct Slot {
    ValueId value = kNoValue;
    int from = -1;  // device index, -1 for a graph input
    int to = -1;    // the receiving device
    int uses = 0;   // reads by nodes of the receiving device
  };
  // The static memory plan for one set of input shapes.
  struct MemoryPlan {
    std::vector<int64_t> arena_bytes;                   // by device
    std::vector<std::vector<int64_t>> offset, bytes;    // by NodeId and output: -1 where not planned
    std::vector<int64_t> received_offset, received_bytes;  // by slot
    std::vector<ValueId> view_of;                       // by ValueId: the input it was recorded viewing
  };
  // What a recording run saw of a value.
  struct Recorded {
    int64_t bytes = 0;
    ValueId view_of = kNoValue;
    bool allocated = false;  // made by allocate_output
    bool tensor = true;      // false: a sequence, an empty optional or strings, which the memory plan leaves alone
  };
  struct RunState;

  explicit PlanExecutor(const Graph& g) : graph_(g) {}
  void run_device(RunState& rs, std::size_t d, const PlanRunOptions& options) const;
  void run_steps(RunState& rs, std::size_t d, const PlanRunOptions& options) const;
  Status run_step(RunState& rs, std::size_t d, const Step& st, const PlanRunOptions& options) const;
  Result<const Tensor*> resolve(RunState& rs, std::size_t d, const Source& src, const PlanRunOptions& options) const;
  Status check_outputs(RunState& rs, std::size_t d, const Step& st, std::span<const Tensor* const> ins,
                       std::span<const Tensor* const> implicit_ins, std::vector<Tensor>& outs,
                       const KernelContext& ctx) const;
  std::shared_ptr<const MemoryPlan> make_memory_plan(const std::vector<Recorded>& recorded) const;
  using ShapeKey = std::vector<int64_t>;  // per input: dtype, rank, dims (numbers: cheap to build per run)
  ShapeKey shape_key(std::span<const Tensor* const> inputs) const;
  void release_use(RunState& rs, std::size_t d, const Source& src) const;
  void drop_value(RunState& rs, ValueId v) const;

  const Graph& graph_;
  std::vector<const Device*> devices_;
  Placement placement_;
  std::vector<KernelPtr> kernels_;       // by NodeId
  std::vector<Tensor> constants_;        // by ValueId: initializers and input defaults
  std::vector<bool> constant_read_;      // by ValueId: whether a run reads the constant's elements
  std::vector<std::vector<Step>> steps_; // by device
  std::vector<Slot> slots_;
  std::vector<int> producer_device_;     // by ValueId: the device of its producer, -1 if not a node output
  std::vector<int> uses_;                // by ValueId: reads of a node output before it is freed; -1: never freed
  std::vector<std::unique_ptr<WorkerPool>> pools_;  // by device; [0] is empty (device 0 uses the caller)
  bool static_memory_ = true;
  int max_concurrent_runs_ = 0;
  mutable std::mutex admit_mu_;  // runs in flight, when max_concurrent_runs_ caps them
  mutable std::condition_variable admit_cv_;
  mutable int in_flight_ = 0;
  mutable std::mutex plans_mu_;
  mutable std::map<ShapeKey, std::shared_ptr<const MemoryPlan>> plans_;  // by shape_key of the inputs
};

}  // namespace tandem
