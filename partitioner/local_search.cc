// Local search: single moves and pairwise swaps between the devices, first improvement, to a local optimum.
#include <algorithm>
#include <unordered_set>

#include "partitioner/search.h"

namespace tandem::partition::search {

namespace {

// Large graphs search only around the critical path: only a change there can shorten the run. Walks back
// from whatever finishes last through what each task waited for (its last input, or its lane).
std::vector<int> critical_path(const TaskGraph& g, const Schedule& s) {
  const std::size_t n = static_cast<std::size_t>(g.num_tasks());
  std::vector<int> path;
  if (n == 0) return path;
  std::vector<double> copied[kNumDevices];
  for (Device d : kDevices) copied[index(d)].assign(static_cast<std::size_t>(g.num_data()), -1.0);
  int last = 0;
  for (std::size_t t = 1; t < n; ++t)
    if (s.tasks[t].finish_us > s.tasks[static_cast<std::size_t>(last)].finish_us) last = static_cast<int>(t);
  double end = s.tasks[static_cast<std::size_t>(last)].finish_us;
  for (const CopySlot& c : s.copies) {
    copied[index(other(c.from))][static_cast<std::size_t>(c.data)] = c.finish_us;
    const Data& d = g.data(c.data);
    if (c.from == Device::kGpu && d.graph_output && c.finish_us > end) {
      end = c.finish_us;
      last = d.producer;
    }
  }
  // The task before each one on its lane.
  std::vector<int> by_lane(n), lane_prev(n, -1);
  for (std::size_t t = 0; t < n; ++t) by_lane[t] = static_cast<int>(t);
  std::sort(by_lane.begin(), by_lane.end(), [&](int x, int y) {
    const TaskSlot &a = s.tasks[static_cast<std::size_t>(x)], &b = s.tasks[static_cast<std::size_t>(y)];
    if (a.device != b.device) return a.device < b.device;
    if (a.lane != b.lane) return a.lane < b.lane;
    return a.start_us < b.start_us;
  });
  for (std::size_t i = 1; i < n; ++i) {
    const TaskSlot &a = s.tasks[static_cast<std::size_t>(by_lane[i - 1])],
                   &b = s.tasks[static_cast<std::size_t>(by_lane[i])];
    if (a.device == b.device && a.lane == b.lane)
      lane_prev[static_cast<std::size_t>(by_lane[i])] = by_lane[i - 1];
  }
  std::vector<bool> seen(n, false);
  for (int t = last; t >= 0 && !seen[static_cast<std::size_t>(t)];) {
    seen[static_cast<std::size_t>(t)] = true;
    path.push_back(t);
    const TaskSlot& slot = s.tasks[static_cast<std::size_t>(t)];
    const double eps = 1e-9 * std::max(1.0, slot.start_us);
    if (slot.start_us <= eps) break;
    int next = -1;
    bool waited_for_input = false;
    for (int x : g.task(t).inputs) {
      const Data& d = g.data(x);
      double arrival = 0;
      if (d.producer != kHost && s.tasks[static_cast<std::size_t>(d.producer)].device == slot.device)
        arrival = s.tasks[static_cast<std::size_t>(d.producer)].finish_us;
      else if (!(d.producer == kHost && slot.device == Device::kCpu))
        arrival = copied[index(slot.device)][static_cast<std::size_t>(x)];
      if (arrival >= slot.start_us - eps) {
        waited_for_input = true;
        next = d.producer;  // kHost ends the walk
        break;
      }
    }
    if (!waited_for_input) next = lane_prev[static_cast<std::size_t>(t)];
    t = next;
  }
  return path;
}

std::vector<int> candidates(CostModel& cm, const Problem& p, const Goal& goal, const State& st) {
  const TaskGraph& g = *p.g;
  std::vector<int> out;
  if (g.num_tasks() <= kSmallGraph) {
    for (int t = 0; t < g.num_tasks(); ++t)
      if (p.movable(t)) out.push_back(t);
    return out;
  }
  constexpr std::size_t kMaxCandidates = 192;
  std::unordered_set<int> chosen;
  auto add = [&](int t) {
    if (t >= 0 && p.movable(t) && out.size() < kMaxCandidates && chosen.insert(t).second) out.push_back(t);
  };
  const std::vector<int> path = critical_path(g, cm.schedule(st.a));
  for (int t : path) add(t);
  if (goal.objective == Objective::kMemory) {
    // The heaviest GPU tasks: where memory is.
    std::vector<int> heavy;
    for (int t = 0; t < g.num_tasks(); ++t)
      if (p.movable(t) && st.a[static_cast<std::size_t>(t)] == Device::kGpu) heavy.push_back(t);
    auto weight = [&](int t) {
      return g.task(t).on(Device::kGpu).weight_bytes + g.task(t).on(Device::kGpu).workspace_bytes;
    };
    std::partial_sort(heavy.begin(),
                      heavy.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(64, heavy.size())),
                      heavy.end(), [&](int x, int y) { return weight(x) > weight(y); });
    for (std::size_t i = 0; i < heavy.size() && i < 64; ++i) add(heavy[i]);
  }
  for (int t : path) {
    for (int q : g.predecessors(t)) add(q);
    for (int q : g.successors(t)) add(q);
  }
  return out;
}

std::string improvement(const Goal& goal, Score before, Score after) {
  if (goal.objective == Objective::kMemory && after.peak_gpu_bytes < before.peak_gpu_bytes)
    return "peak GPU memory " + format_bytes(before.peak_gpu_bytes) + " -> " +
           format_bytes(after.peak_gpu_bytes);
  if (after.latency_us < before.latency_us)
    return "latency " + format_us(before.latency_us) + " -> " + format_us(after.latency_us);
  return "peak GPU memory " + format_bytes(before.peak_gpu_bytes) + " -> " +
         format_bytes(after.peak_gpu_bytes);
}

}  // namespace

void local_search(CostModel& cm, const Problem& p, const Goal& goal, Budget& budget, State& st) {
  auto flip = [&](int t) {
    Device& d = st.a[static_cast<std::size_t>(t)];
    d = other(d);
  };
  // Evaluates the current assignment; keeps it when it is better, else the caller undoes it.
  auto accept = [&](Score* before) {
    const Score s = cm.score(st.a);
    if (!goal.feasible(s) || !goal.better(s, st.score)) return false;
    *before = st.score;
    st.score = s;
    return true;
  };
  bool improved = true;
  while (improved && !budget.spent()) {
    improved = false;
    const std::vector<int> cands = candidates(cm, p, goal, st);
    for (int t : cands) {
      if (budget.spent()) return;
      flip(t);
      Score before;
      if (accept(&before)) {
        st.reasons[static_cast<std::size_t>(t)] =
            "local search: moving it to " + std::string(device_name(st.a[static_cast<std::size_t>(t)])) +
            " took " + improvement(goal, before, st.score);
        improved = true;
      } else {
        flip(t);
      }
    }
    if (improved) continue;
    // Swaps, when no single move helps (e.g. both devices are busy).
    for (std::size_t i = 0; i < cands.size() && !improved; ++i) {
      for (std::size_t j = i + 1; j < cands.size() && !improved; ++j) {
        const int x = cands[i], y = cands[j];
        if (st.a[static_cast<std::size_t>(x)] == st.a[static_cast<std::size_t>(y)]) continue;
        if (budget.spent()) return;
        flip(x);
        flip(y);
        Score before;
        if (accept(&before)) {
          const std::string why = improvement(goal, before, st.score);
          st.reasons[static_cast<std::size_t>(x)] =
              "local search: swapped devices with '" + p.g->task(y).name + "', which took " + why;
          st.reasons[static_cast<std::size_t>(y)] =
              "local search: swapped devices with '" + p.g->task(x).name + "', which took " + why;
          improved = true;
        } else {
          flip(x);
          flip(y);
        }
      }
    }
  }
}

}  // namespace tandem::partition::search
