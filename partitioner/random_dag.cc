#include "partitioner/random_dag.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace tandem::partition {

namespace {

class Rng {
 public:
  explicit Rng(uint64_t seed) : e_(seed) {}
  double uniform() { return static_cast<double>(e_() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double log_uniform(double lo, double hi) { return std::exp(uniform(std::log(lo), std::log(hi))); }
  int below(int n) { return static_cast<int>(uniform() * n); }
  bool chance(double p) { return uniform() < p; }

 private:
  std::mt19937_64 e_;
};

}  // namespace

TaskGraph random_dag(const RandomDagOptions& o, uint64_t seed) {
  Rng rng(seed);
  TaskGraph g;
  const int n = std::max(1, o.tasks);
  std::vector<int> layer(static_cast<std::size_t>(n), 0);
  for (int t = 0; t < n; ++t) {
    const double cpu = rng.uniform(o.cpu_us_min, o.cpu_us_max);
    const double speedup = rng.log_uniform(o.gpu_speedup_min, o.gpu_speedup_max);
    const int64_t weights = static_cast<int64_t>(rng.uniform() * static_cast<double>(o.weight_bytes_max));
    const int64_t workspace =
        static_cast<int64_t>(rng.uniform() * static_cast<double>(o.workspace_bytes_max));
    DeviceCost gpu = rng.chance(o.gpu_unsupported) ? DeviceCost::unsupported("random: no GPU kernel")
                                                   : DeviceCost::runs(cpu / speedup, weights, workspace);
    g.add_task("t" + std::to_string(t), DeviceCost::runs(cpu, weights), std::move(gpu));
    if (o.layers > 0)
      layer[static_cast<std::size_t>(t)] = static_cast<int>(static_cast<int64_t>(t) * o.layers / n);
  }
  std::vector<int> out(static_cast<std::size_t>(n));
  std::vector<bool> read(static_cast<std::size_t>(n), false), reads(static_cast<std::size_t>(n), false);
  for (int t = 0; t < n; ++t)
    out[static_cast<std::size_t>(t)] =
        g.add_data("v" + std::to_string(t),
                   static_cast<int64_t>(rng.log_uniform(static_cast<double>(o.output_bytes_min),
                                                        static_cast<double>(o.output_bytes_max))),
                   t);
  auto use = [&](int from, int to) {
    g.add_use(out[static_cast<std::size_t>(from)], to);
    read[static_cast<std::size_t>(from)] = true;
    reads[static_cast<std::size_t>(to)] = true;
  };
  if (o.layers > 0) {
    // Layer l holds tasks [first[l], first[l+1]).
    std::vector<int> first(static_cast<std::size_t>(o.layers) + 1, n);
    for (int t = n - 1; t >= 0; --t) first[static_cast<std::size_t>(layer[static_cast<std::size_t>(t)])] = t;
    for (int l = o.layers - 1; l >= 0; --l)
      first[static_cast<std::size_t>(l)] =
          std::min(first[static_cast<std::size_t>(l)], first[static_cast<std::size_t>(l) + 1]);
    for (int t = 0; t < n; ++t) {
      const int l = layer[static_cast<std::size_t>(t)];
      if (l == 0) continue;
      const int lo = first[static_cast<std::size_t>(std::max(0, l - 2))],
                hi = first[static_cast<std::size_t>(l)];
      if (hi <= lo) continue;
      const int fan_in = 1 + rng.below(std::max(1, o.max_fan_in));
      for (int k = 0; k < fan_in; ++k) use(lo + rng.below(hi - lo), t);
    }
  } else {
    for (int t = 1; t < n; ++t)
      for (int s = 0; s < t; ++s)
        if (rng.chance(o.edge_probability)) use(s, t);
  }
  const int input = g.add_data("input",
                               static_cast<int64_t>(rng.log_uniform(static_cast<double>(o.output_bytes_min),
                                                                    static_cast<double>(o.output_bytes_max))),
                               kHost);
  for (int t = 0; t < n; ++t) {
    if (!reads[static_cast<std::size_t>(t)]) g.add_use(input, t);
    if (!read[static_cast<std::size_t>(t)]) g.mark_output(out[static_cast<std::size_t>(t)]);
  }
  g.set_link(Device::kCpu, o.to_gpu);
  g.set_link(Device::kGpu, o.to_cpu);
  (void)g.finalize();  // cannot fail: ids are in range, names unique, every task runs on the CPU, edges go
                       // forward
  return g;
}

}  // namespace tandem::partition
