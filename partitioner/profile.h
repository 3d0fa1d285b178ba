// Profile: what each node of a model costs on each device, and what moving data between them costs.
//
// The data contract between the profiler (which measures, issue 4) and the partitioner (which reads). It is
// plain data with a versioned JSON form, so a profile taken on a GPU machine can be partitioned anywhere,
// diffed and edited by hand. Nodes are keyed by their index in the main graph AND their name, so a profile
// taken of another model is refused instead of silently misapplied.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "graph/status.h"

namespace tandem::partition {

// 2 added link samples, max residual and "estimated", the "cpu->cpu" link and notes; 1 is still read.
inline constexpr int kProfileSchemaVersion = 2;

struct MachineInfo {
  std::string cpu_model;
  int threads = 0;  // CPU threads the CPU costs were measured with
  std::string gpu_name;
  std::string driver;
};

// One node on one device ("cpu" or "cuda").
struct NodeDeviceProfile {
  bool supported = true;
  std::string reason;  // why not, when unsupported
  double median_us = 0;
  double p90_us = 0;
  int64_t weight_bytes = 0;     // the node's constant inputs as stored on this device (packed, reordered)
  int64_t output_bytes = 0;     // all its outputs together
  int64_t workspace_bytes = 0;  // scratch its kernel needs while it runs
  bool estimated = false;       // from an analytic model rather than measured
  bool workspace_held = false;  // the kernel keeps its workspace for its life (a GPU RNN), not per run
  // Scratch the device keeps per stream and shares among the kernels on it (a GPU thread's cuBLAS
  // workspace): it occupies the device once per stream that runs such a node, for as long as it runs any.
  int64_t shared_workspace_bytes = 0;
  // What one call of the node's kernel costs however few time steps it runs (its weights streamed in again,
  // the input projection's GEMM call, setting up): measured for recurrent nodes inside whole runs of the
  // model split into time chunks (profiler/profile_model.h); 0 where not measured. A time chunk of the node
  // costs call_us (at most median_us) plus its share of the rest (partitioner/time_chunks.h). Optional in
  // the file.
  double call_us = 0;
};

struct NodeProfile {
  int64_t index = -1;                                // NodeId in the main graph
  std::string name;                                  // the node's name there ("" for an unnamed node)
  std::string op_type;                               // informative
  std::map<std::string, NodeDeviceProfile> devices;  // "cpu", "cuda"; a missing device is unsupported
};

struct ValueProfile {
  std::string name;
  int64_t bytes = 0;  // size at the profiled input shapes
  // Its storage is view_of's (a Reshape, Identity or Squeeze output: no bytes of its own); "" when not.
  std::string view_of;
  // False when the run did not allocate it (a Constant node's output reads the model's constant): the
  // static memory plan (graph/memory_plan.h) gives it no bytes. Both fields are optional in the file.
  bool allocated = true;
};

struct LinkSample {
  int64_t bytes = 0;
  double us = 0;  // median time of one copy of that size
};

// Copy cost in one direction, fitted as alpha + bytes / beta over measured copies.
struct LinkProfile {
  double alpha_us = 0;
  double beta_bytes_per_us = 0;  // > 0
  double residual_us = 0;        // RMS error of the fit over the samples
  double max_residual_us = 0;    // the largest |fit - sample|: every sample lies within it
  bool estimated = false;        // from a device's data sheet rather than measured
  std::vector<LinkSample> samples;  // what the fit was made from (empty when estimated)

  static LinkProfile of(double alpha_us, double beta_bytes_per_us, double residual_us = 0) {
    LinkProfile l;
    l.alpha_us = alpha_us;
    l.beta_bytes_per_us = beta_bytes_per_us;
    l.residual_us = residual_us;
    return l;
  }
};

struct Profile {
  int schema_version = kProfileSchemaVersion;
  MachineInfo machine;
  std::string model_hash;
  std::map<std::string, int64_t> input_shapes;  // symbolic dimension -> the value it was profiled at
  std::vector<NodeProfile> nodes;
  std::vector<ValueProfile> values;
  // "cpu->cuda", "cuda->cpu"; "cpu->cpu" is the hand-over between two CPU devices (a pair of thread arenas).
  std::map<std::string, LinkProfile> links;
  std::vector<std::string> notes;  // how it was taken, e.g. which costs are estimated and from what

  // nullptr when absent.
  const NodeProfile* find_node(int64_t index) const;
  const ValueProfile* find_value(const std::string& name) const;
};

// JSON text (2-space indent). Deterministic: equal profiles give equal text.
std::string profile_to_json(const Profile& p);
// Errors name the field: "profile: nodes[3].devices.cuda.median_us: expected a number, got a string".
Result<Profile> profile_from_json(std::string_view text);

Status save_profile(const Profile& p, const std::string& path);
Result<Profile> load_profile(const std::string& path);

}  // namespace tandem::partition
