// Random task graphs for tests and benchmarks: small DAGs with random edges (the exact solver's range) and
// large layered DAGs shaped like deep networks. Deterministic per seed on every platform (no std::
// distributions, whose output differs between standard libraries).
#pragma once

#include <cstdint>

#include "partitioner/task_graph.h"

namespace tandem::partition {

struct RandomDagOptions {
  int tasks = 10;
  // 0: each later task reads each earlier one with `edge_probability`. > 0: tasks in this many layers of
  // about equal width, each reading 1..max_fan_in tasks of the previous two layers.
  int layers = 0;
  double edge_probability = 0.3;
  int max_fan_in = 3;
  double gpu_unsupported = 0.1;  // chance a task cannot run on the GPU
  double cpu_us_min = 10, cpu_us_max = 200;
  double gpu_speedup_min = 0.3, gpu_speedup_max = 8;               // CPU time / GPU time, log-uniform
  int64_t output_bytes_min = 1 << 10, output_bytes_max = 4 << 20;  // log-uniform
  int64_t weight_bytes_max = 16 << 20;
  int64_t workspace_bytes_max = 1 << 20;
  Link to_gpu{8, 12000}, to_cpu{8, 12000};  // about PCIe 4 x16 pinned copies
};

// A finalized graph: sources read one graph input from the host, sinks are graph outputs.
TaskGraph random_dag(const RandomDagOptions& o, uint64_t seed);

}  // namespace tandem::partition
