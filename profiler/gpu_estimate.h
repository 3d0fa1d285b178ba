// Analytic GPU costs for when there is no GPU to measure: each node's time from its FLOPs and the bytes it
// moves against a device's peak rates, plus launch overhead; RNNs step by step, since their time steps are
// sequential. Everything this produces is marked "estimated" in the profile. The figures are data-sheet
// peaks derated by an efficiency factor: good enough to rank placements, not to promise latencies.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/status.h"
#include "partitioner/profile.h"

namespace tandem::profiler {

struct GpuSpec {
  std::string name = "NVIDIA H100 SXM";
  double fp32_tflops = 67;        // non-tensor-core FP32 (tandem keeps FP32 math for 1e-4 agreement)
  double memory_gbps = 3350;      // HBM3
  double l2_gbps = 10000;         // on-chip L2, where small recurrent weights stay between steps
  double l2_bytes = 50e6;
  double efficiency = 0.6;        // fraction of peak a well-tuned kernel reaches
  double launch_us = 4;           // one kernel launched from the host
  double graph_node_us = 2;       // one kernel inside a captured CUDA Graph (RNN time loops)
  double link_alpha_us = 8;       // PCIe Gen5 x16, pinned memory
  double link_gbps = 40;
  double blas_workspace_bytes = 32 << 20;  // the cuBLAS workspace each GPU stream keeps (tandem sets 32 MiB)
};

// "h100" or "h200", optionally followed by ",key=value" overrides of the fields above (e.g.
// "h100,memory_gbps=2000,launch_us=5"); errors name the bad key or value.
Result<GpuSpec> parse_gpu_spec(const std::string& text);
std::string describe_gpu_spec(const GpuSpec& s);  // one line for notes and summaries

// What the estimator knows of one node at the profiled shapes (the profiler measured these on the CPU).
struct NodeFacts {
  std::vector<Shape> run_shapes;  // by ValueId of the node's graph: the shapes of the run
  int64_t input_bytes = 0;        // computed inputs read
  int64_t output_bytes = 0;
  int64_t weight_bytes = 0;       // constant inputs (and the constants of nested bodies)
  int64_t workspace_bytes = 0;
};

// The estimated cost of node `id` on the GPU, or unsupported with the reason (host-side ops, ops the CUDA
// device has no kernel for).
partition::NodeDeviceProfile estimate_gpu_node(const Graph& g, NodeId id, const NodeFacts& facts,
                                               const GpuSpec& spec);

// The link both ways, from the spec's PCIe figures.
partition::LinkProfile estimate_gpu_link(const GpuSpec& spec);

}  // namespace tandem::profiler
