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

inline constexpr int kProfileSchemaVersion = 1;

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
};

// Copy cost in one direction, fitted as alpha + bytes / beta over measured copies.
struct LinkProfile {
  double alpha_us = 0;
  double beta_bytes_per_us = 0;  // > 0
  double residual_us = 0;        // RMS error of the fit, informative
};

struct Profile {
  int schema_version = kProfileSchemaVersion;
  MachineInfo machine;
  std::string model_hash;
  std::map<std::string, int64_t> input_shapes;  // symbolic dimension -> the value it was profiled at
  std::vector<NodeProfile> nodes;
  std::vector<ValueProfile> values;
  std::map<std::string, LinkProfile> links;  // "cpu->cuda", "cuda->cpu"

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
