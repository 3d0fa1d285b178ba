// The profiler: measures every node of a model on every device, with the same prepared kernels the runtime
// uses, and fills a Profile (partitioner/profile.h) for the partitioner.
//
// 1. One reference run on the first device records every intermediate tensor (the executor's observer).
// 2. Each node, on each device: the device's own kernel is created once (weights packed then), and the
//    recorded inputs are received onto the device (Device::receive, untimed; constants are read in place),
//    then the kernel is run: warm-up, then repetitions until the median is stable (profiler/timing.h), each
//    repetition ending with the device's finish_run, so a GPU is timed until its queued work is done. A
//    node with nested bodies (If) is measured as a whole. On a host device that runs every node, the times
//    are then taken again inside whole runs (time_in_runs), which is what a plan's run will see; and when
//    the model has recurrent nodes that can be split in time, whole runs of it split into 8 time chunks
//    give each such node's per-call cost (NodeDeviceProfile::call_us), what each time chunk pays again.
// 3. Per node and device: median and p90, the weight bytes as that device's kernel stores them, output and
//    workspace bytes; per value: its size.
// 4. Devices that cannot be measured here (no GPU) get analytic estimates (gpu_estimate.h), flagged.
// 5. Links are calibrated by the caller's copy functions (link_fit.h) or estimated from the GPU spec.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "graph/model_ir.h"
#include "partitioner/profile.h"
#include "profiler/gpu_estimate.h"
#include "profiler/timing.h"
#include "runtime/device.h"
#include "runtime/tensor.h"

namespace tandem::profiler {

struct MeasuredDevice {
  std::string key;  // "cpu" or "cuda": the profile's name for it
  const Device* device = nullptr;
};

// A copy function for link calibration: performs one copy of `bytes` and returns its time in µs.
using CopyTimer = std::function<Result<double>(int64_t bytes)>;

// On a device that only enqueues work (a GPU), a timed repetition of a node is this many runs back to back
// and one wait for the device, per run (profile_model.cc says why).
inline constexpr int kQueuedRunsPerRepetition = 8;

struct Progress {
  std::string stage;  // "reference run", "nodes", "link cpu->cuda", ...
  int done = 0;
  int total = 0;
  std::string item;  // the node or size being measured
};

struct ProfileRequest {
  // The model's main graph (model.graph) and its hash go into the profile.
  const ModelIR* model = nullptr;
  // One per graph input, in order; an undefined Tensor uses the input's default (an initializer).
  std::vector<Tensor> inputs;
  // Symbolic dimensions fixed when the model was loaded (--dim); recorded with those read off the inputs.
  std::map<std::string, int64_t> dims;
  // Measured devices, the first also runs the reference run (the CPU; an error otherwise). Any Device
  // can be measured, a CudaDevice included.
  std::vector<MeasuredDevice> devices;
  // When set, "cuda" is estimated from this spec (and any measured "cuda" device is an error).
  std::optional<GpuSpec> estimate_gpu;
  TimingOptions timing;
  // Time each node inside whole runs of the model on a device that runs every node (else alone, on the
  // recorded inputs). A node repeated alone keeps its weights in cache and looks cheaper than it is in a
  // run, where the other nodes evict them; the partitioner predicts runs.
  bool time_in_runs = true;
  // Links to calibrate ("cpu->cuda", "cuda->cpu", "cpu->cpu"), with the sizes to use.
  std::map<std::string, CopyTimer> links;
  std::vector<int64_t> link_sizes;  // empty: calibration_sizes()
  TimingOptions link_timing = {1, 3, 20, 50, 0.05};
  partition::MachineInfo machine;
  std::function<void(const Progress&)> on_progress;
};

Result<partition::Profile> profile_model(const ProfileRequest& request);

// Bytes of the constants node `id` reads: its constant inputs, captured outer constants, and the
// initializers of its nested bodies. What a kernel that reads its weights in place keeps on its device.
int64_t constant_bytes(const Graph& g, NodeId id);

}  // namespace tandem::profiler
