// HEFT (Topcuoglu et al., 2002) for two device kinds with lanes and per-direction copy engines.
#include <algorithm>

#include "partitioner/search.h"
#include "partitioner/timeline.h"

namespace tandem::partition::search {

State heft(const Problem& p, Lanes lanes) {
  const TaskGraph& g = *p.g;
  const std::size_t n = static_cast<std::size_t>(g.num_tasks());
  const std::size_t nd = static_cast<std::size_t>(g.num_data());

  // Upward rank with expectations: a task free to move is on the GPU with probability 1/2, and an edge
  // costs its copy times the chance that its ends are on different devices.
  std::vector<double> on_gpu(n), rank(n, 0.0);
  for (std::size_t t = 0; t < n; ++t) {
    const int ti = static_cast<int>(t);
    on_gpu[t] = p.movable(ti) ? 0.5 : p.may(ti, Device::kGpu) ? 1.0 : 0.0;
  }
  const auto& topo = g.topo_order();
  for (auto it = topo.rbegin(); it != topo.rend(); ++it) {
    const int t = *it;
    const std::size_t ti = static_cast<std::size_t>(t);
    const Task& task = g.task(t);
    double work = 0;
    int devices = 0;
    for (Device d : kDevices)
      if (p.may(t, d)) {
        work += task.on(d).time_us;
        ++devices;
      }
    double after = 0;
    for (int x : g.outputs_of(t)) {
      const Data& d = g.data(x);
      if (d.graph_output) after = std::max(after, on_gpu[ti] * g.copy_us(Device::kGpu, x));
      for (int c : d.consumers) {
        const double pc = on_gpu[static_cast<std::size_t>(c)];
        const double comm = on_gpu[ti] * (1 - pc) * g.copy_us(Device::kGpu, x) +
                            (1 - on_gpu[ti]) * pc * g.copy_us(Device::kCpu, x);
        after = std::max(after, comm + rank[static_cast<std::size_t>(c)]);
      }
    }
    rank[ti] = work / devices + after;
  }
  std::vector<int> order = topo;
  std::sort(order.begin(), order.end(), [&](int x, int y) {
    if (rank[static_cast<std::size_t>(x)] != rank[static_cast<std::size_t>(y)])
      return rank[static_cast<std::size_t>(x)] > rank[static_cast<std::size_t>(y)];
    return g.topo_position(x) < g.topo_position(y);
  });

  std::vector<Timeline> lane_tl[kNumDevices];
  for (Device d : kDevices) lane_tl[index(d)].resize(static_cast<std::size_t>(std::max(1, lanes.of(d))));
  Timeline copy_tl[kNumDevices];
  std::vector<double> avail[kNumDevices];
  for (Device d : kDevices) avail[index(d)].assign(nd, -1.0);
  for (std::size_t x = 0; x < nd; ++x)
    if (g.data(static_cast<int>(x)).producer == kHost) avail[index(Device::kCpu)][x] = 0.0;

  State st;
  st.a.assign(n, Device::kCpu);
  st.reasons.resize(n);
  auto commit_copy = [&](int x, Device from) {
    const std::size_t xi = static_cast<std::size_t>(x);
    const double dur = g.copy_us(from, x);
    const Timeline::Slot slot = copy_tl[index(from)].find(avail[index(from)][xi], dur);
    copy_tl[index(from)].place(slot, dur);
    avail[index(other(from))][xi] = slot.start + dur;
  };

  for (int t : order) {
    const Task& task = g.task(t);
    double eft[kNumDevices] = {kInf, kInf};
    Device best = Device::kCpu;
    for (Device d : kDevices) {
      if (!p.may(t, d)) continue;
      const int di = index(d);
      double ready = 0;
      for (int x : g.inputs_of(t)) {
        const std::size_t xi = static_cast<std::size_t>(x);
        double r = avail[di][xi];
        if (r < 0) {  // a copy it would need (tentative: ignores this task's other copies on that engine)
          const Device from = other(d);
          const double dur = g.copy_us(from, x);
          r = copy_tl[index(from)].find(avail[index(from)][xi], dur).start + dur;
        }
        ready = std::max(ready, r);
      }
      const double dur = task.on(d).time_us;
      double finish = kInf;
      for (const Timeline& tl : lane_tl[di]) finish = std::min(finish, tl.find(ready, dur).start + dur);
      // A graph output made on the GPU is not done until it is back on the host.
      double to_host = 0;
      if (d == Device::kGpu)
        for (int x : task.outputs)
          if (g.data(x).graph_output) to_host = std::max(to_host, g.copy_us(d, x));
      eft[di] = finish + to_host;
      if (eft[di] < eft[index(best)]) best = d;  // ties stay on the CPU: they cost no GPU memory
    }

    // Commit: the copies first, then the lane where it starts earliest.
    const int bi = index(best);
    double ready = 0;
    for (int x : g.inputs_of(t)) {
      const std::size_t xi = static_cast<std::size_t>(x);
      if (avail[bi][xi] < 0) commit_copy(x, other(best));
      ready = std::max(ready, avail[bi][xi]);
    }
    const double dur = task.on(best).time_us;
    std::size_t lane = 0;
    Timeline::Slot slot{kInf, 0};
    for (std::size_t l = 0; l < lane_tl[bi].size(); ++l) {
      const Timeline::Slot s = lane_tl[bi][l].find(ready, dur);
      if (s.start < slot.start) {
        slot = s;
        lane = l;
      }
    }
    lane_tl[bi][lane].place(slot, dur);
    const double start = slot.start;
    for (int x : g.outputs_of(t)) {
      avail[bi][static_cast<std::size_t>(x)] = start + dur;
      if (best == Device::kGpu && g.data(x).graph_output) commit_copy(x, best);
    }
    st.a[static_cast<std::size_t>(t)] = best;
    if (p.movable(t)) {
      const Device alt = other(best);
      st.reasons[static_cast<std::size_t>(t)] =
          "HEFT: finishes first on " + std::string(device_name(best)) + " (at " + format_us(eft[bi]) + "; " +
          std::string(device_name(alt)) + " at " + format_us(eft[index(alt)]) + ")";
    }
  }
  return st;
}

}  // namespace tandem::partition::search
