#include "partitioner/partitioner.h"

#include "graph/memory_plan.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include "partitioner/search.h"

namespace tandem::partition {

using search::Budget;
using search::format_bytes;
using search::format_us;
using search::Goal;
using search::Problem;
using search::State;

namespace {

// The automatic search budget per phase (latency, then memory): about this many task, edge and value visits
// of the cost model, which keeps a 10,000-node graph near a quarter of a second per phase on one 2.5 GHz
// core; small graphs search to convergence well within it.
constexpr double kAutoWork = 3e6;

int64_t auto_budget(const TaskGraph& g) {
  const double size = static_cast<double>(g.num_tasks() + g.num_edges() + g.num_data() + 1);
  return std::clamp<int64_t>(static_cast<int64_t>(kAutoWork / size), 32, 2'000'000);
}

// Everything that may run on the CPU, there: the least GPU memory a plan can usually get to.
State fewest_on_gpu(const Problem& p, const std::string& reason) {
  State st;
  const std::size_t n = static_cast<std::size_t>(p.g->num_tasks());
  st.a.assign(n, Device::kCpu);
  st.reasons.assign(n, reason);
  for (std::size_t t = 0; t < n; ++t)
    if (!p.may(static_cast<int>(t), Device::kCpu)) st.a[t] = Device::kGpu;
  return st;
}

// The best latency plan the heuristics find, within the budget: HEFT (and, on small graphs, the baselines
// too) as starting points, each repaired to fit the GPU budget and improved by local search.
Result<State> latency_plan(CostModel& cm, const Problem& p, Budget& budget, std::vector<std::string>& notes) {
  const TaskGraph& g = *p.g;
  const Goal goal{Objective::kLatency, search::kInf, p.budget};

  State floor = fewest_on_gpu(p, "kept on the CPU to meet the GPU memory budget");
  floor.score = cm.score(floor.a);
  if (floor.score.peak_gpu_bytes > p.budget) {
    std::string must;
    int listed = 0;
    for (int t = 0; t < g.num_tasks(); ++t)
      if (floor.a[static_cast<std::size_t>(t)] == Device::kGpu && listed++ < 5)
        must += (must.empty() ? "" : ", ") + g.task(t).label();
    const std::string needs = format_bytes(floor.score.peak_gpu_bytes);
    return Status::error("the GPU memory budget of " + format_bytes(p.budget) +
                         " cannot be met: with every node that may run on the CPU there, the plan still " +
                         "needs " + needs + " on the GPU (for " + must + ")");
  }

  std::vector<State> starts;
  starts.push_back(search::heft(p, cm.lanes()));
  for (const char* name : {"gpu", "fallback", "cpu"}) {
    auto b = search::baseline(p, name);
    if (b.is_ok()) starts.push_back(std::move(b).value());
  }
  for (State& s : starts) s.score = cm.score(s.a);
  // Large graphs improve only the most promising start; small ones improve them all.
  if (g.num_tasks() > search::kSmallGraph) {
    auto rank = [&](const State& s) {
      return std::make_pair(s.score.peak_gpu_bytes > p.budget, s.score.latency_us);
    };
    std::stable_sort(starts.begin(), starts.end(),
                     [&](const State& x, const State& y) { return rank(x) < rank(y); });
    starts.resize(1);
  }
  std::optional<State> best;
  for (State& s : starts) {
    if (s.score.peak_gpu_bytes > p.budget &&
        !search::reduce_gpu_memory(cm, p, search::kInf, p.budget, budget, s)) {
      s = floor;  // could not repair it within the budget: start from the plan that fits
    }
    search::local_search(cm, p, goal, budget, s);
    if (!best || goal.better(s.score, best->score)) best = std::move(s);
  }
  if (budget.spent())
    notes.push_back("the latency search stopped at its evaluation budget; a larger one may find better");
  return std::move(*best);
}

std::string pin_text(const std::string& name, Device d) {
  return "pin '" + name + "=" + std::string(device_name(d)) + "'";
}

Status check_options(const PartitionOptions& o) {
  if (o.lanes.cpu < 1 || o.lanes.gpu < 1 || o.lanes.cpu > 256 || o.lanes.gpu > 256)
    return Status::error("lanes must be 1..256 per device (got cpu " + std::to_string(o.lanes.cpu) +
                         ", cuda " + std::to_string(o.lanes.gpu) + ")");
  if (o.slo_us && !(std::isfinite(*o.slo_us) && *o.slo_us > 0))
    return Status::error("the SLO must be a positive number of microseconds");
  if (o.gpu_budget_bytes && *o.gpu_budget_bytes < 0)
    return Status::error("the GPU memory budget must be >= 0");
  if (o.objective == Objective::kMemory && !o.slo_us && o.baseline.empty())
    return Status::error("objective 'memory' needs an SLO (the latency it may not exceed)");
  if (o.max_evaluations < 0) return Status::error("max_evaluations must be >= 0");
  return Status::ok();
}

// The GPU's activations as the runtime will hold them: its static memory plan (graph/memory_plan.h) over
// the plan's order on each device, with the profile's sizes. The search itself scores the cost model's
// faster estimate (live bytes over the simulated timeline); this is the number a run measures.
void predict_memory_plan(const TaskGraph& g, Plan& plan) {
  MemoryPlanInput in;
  in.device.resize(static_cast<std::size_t>(g.num_tasks()));
  in.order.resize(kNumDevices);
  in.memory_space = {0, 1};  // the host, the GPU's own memory
  std::vector<std::vector<std::pair<int, int>>> by_order(kNumDevices);
  for (int t = 0; t < g.num_tasks(); ++t) {
    const PlanNode& n = plan.nodes[static_cast<std::size_t>(t)];
    const int d = index(n.device);
    in.device[static_cast<std::size_t>(t)] = d;
    by_order[static_cast<std::size_t>(d)].emplace_back(n.order, t);
  }
  for (int d = 0; d < kNumDevices; ++d) {
    auto& tasks = by_order[static_cast<std::size_t>(d)];
    std::sort(tasks.begin(), tasks.end());  // as the runtime orders each device's nodes (placement.h)
    for (const auto& [order, t] : tasks) in.order[static_cast<std::size_t>(d)].push_back(t);
  }
  for (int d = 0; d < g.num_data(); ++d) {
    const Data& data = g.data(d);
    MemoryPlanInput::Item item;
    item.bytes = data.bytes;
    item.producer = data.producer == kHost ? -1 : data.producer;
    item.readers = data.consumers;
    item.view_of = data.view_of;
    item.graph_output = data.graph_output;
    item.unplanned = data.unplanned;
    in.items.push_back(std::move(item));
  }
  const int64_t arena = plan_memory(in)[static_cast<std::size_t>(index(Device::kGpu))].arena_bytes;
  plan.gpu_activation_bytes = arena;
  plan.predicted_peak_gpu_bytes = plan.gpu_weight_bytes + arena + plan.gpu_workspace_bytes;
}

Plan make_plan(CostModel& cm, const Problem& p, const PartitionOptions& o, const State& st,
               const std::map<int, Device>& pinned) {
  const TaskGraph& g = *p.g;
  const Schedule s = cm.schedule(st.a);
  Plan plan;
  plan.objective = o.objective;
  plan.slo_us = o.slo_us;
  plan.gpu_budget_bytes = o.gpu_budget_bytes;
  plan.slo_met = !o.slo_us || s.latency_us <= *o.slo_us;
  plan.cpu_lanes = cm.lanes().cpu;
  plan.gpu_lanes = cm.lanes().gpu;
  plan.predicted_latency_us = s.latency_us;
  plan.predicted_peak_gpu_bytes = s.gpu.peak();
  plan.gpu_weight_bytes = s.gpu.weights;
  plan.gpu_activation_bytes = s.gpu.activations;
  plan.gpu_workspace_bytes = s.gpu.workspace;

  // `order`: by start, ties by list position (a topological order, and each lane's running order).
  std::vector<int> list_pos(static_cast<std::size_t>(g.num_tasks()));
  for (std::size_t i = 0; i < s.order.size(); ++i)
    list_pos[static_cast<std::size_t>(s.order[i])] = static_cast<int>(i);
  std::vector<int> by_start = s.order;
  std::stable_sort(by_start.begin(), by_start.end(), [&](int x, int y) {
    return s.tasks[static_cast<std::size_t>(x)].start_us < s.tasks[static_cast<std::size_t>(y)].start_us;
  });
  std::vector<int> order(static_cast<std::size_t>(g.num_tasks()));
  for (std::size_t i = 0; i < by_start.size(); ++i)
    order[static_cast<std::size_t>(by_start[i])] = static_cast<int>(i);

  for (int t = 0; t < g.num_tasks(); ++t) {
    const std::size_t ti = static_cast<std::size_t>(t);
    const Task& task = g.task(t);
    const TaskSlot& slot = s.tasks[ti];
    PlanNode n;
    n.name = task.name;
    n.node_index = task.node_index;
    n.device = slot.device;
    n.lane = slot.lane;
    n.order = order[ti];
    n.start_us = slot.start_us;
    n.finish_us = slot.finish_us;
    if (auto it = pinned.find(t); it != pinned.end()) {
      n.reason = "pinned to " + std::string(device_name(it->second)) + " by the user";
    } else if (!p.movable(t)) {
      const Device no = other(slot.device);
      n.reason = "only " + std::string(device_name(slot.device)) + " can run it (" +
                 std::string(device_name(no)) + ": " + task.on(no).reason + ")";
    } else {
      n.reason = (st.reasons[ti].empty() ? std::string("placed here") : st.reasons[ti]) + "; " +
                 search::costs_of(task);
    }
    plan.nodes.push_back(std::move(n));
  }
  predict_memory_plan(g, plan);
  std::vector<CopySlot> copies = s.copies;
  std::stable_sort(copies.begin(), copies.end(),
                   [](const CopySlot& x, const CopySlot& y) { return x.start_us < y.start_us; });
  for (const CopySlot& c : copies)
    plan.copies.push_back(
        PlanCopy{g.data(c.data).name, c.from, other(c.from), g.data(c.data).bytes, c.start_us, c.finish_us});
  return plan;
}

}  // namespace

std::vector<std::string> baseline_names() { return search::baseline_names(); }

Result<std::pair<std::string, Device>> parse_pin(std::string_view text) {
  const auto eq = text.rfind('=');
  const std::string shown(text);
  if (eq == std::string_view::npos || eq == 0)
    return Status::error("pin '" + shown + "': expected NODE=cpu or NODE=cuda");
  const auto d = parse_device(text.substr(eq + 1));
  if (!d)
    return Status::error("pin '" + shown + "': unknown device '" + std::string(text.substr(eq + 1)) +
                         "' (expected cpu or cuda)");
  return std::make_pair(std::string(text.substr(0, eq)), *d);
}

Result<Assignment> assignment_from_plan(const TaskGraph& g, const Plan& plan) {
  if (!g.finalized()) return Status::error("plan: the task graph is not finalized");
  Assignment a(static_cast<std::size_t>(g.num_tasks()), Device::kCpu);
  std::vector<bool> seen(a.size(), false);
  for (const PlanNode& n : plan.nodes) {
    const int t = g.find_task(n.name);
    if (t < 0) return Status::error("plan: node '" + n.name + "' is not in the model (as tandem runs it, constants " +
                                      "folded: a plan of another model, or made before tandem folded them? " +
                                      "partition again)");
    const Task& task = g.task(t);
    if (!task.supports(n.device))
      return Status::error("plan: node " + task.label() + " is on " + std::string(device_name(n.device)) +
                           ", which cannot run it: " + task.on(n.device).reason);
    seen[static_cast<std::size_t>(t)] = true;
    a[static_cast<std::size_t>(t)] = n.device;
  }
  for (int t = 0; t < g.num_tasks(); ++t)
    if (!seen[static_cast<std::size_t>(t)])
      return Status::error("plan: node " + g.task(t).label() + " has no device");
  return a;
}

Result<Plan> partition(const TaskGraph& g, const PartitionOptions& o) {
  if (!g.finalized()) return Status::error("partition: the task graph is not finalized");
  TANDEM_RETURN_IF_ERROR(check_options(o).with_context("partition: "));

  Problem p;
  p.g = &g;
  p.budget = o.gpu_budget_bytes.value_or(search::kNoBudget);
  p.allowed.resize(static_cast<std::size_t>(g.num_tasks()));
  for (int t = 0; t < g.num_tasks(); ++t)
    for (Device d : kDevices)
      if (g.task(t).supports(d)) p.allowed[static_cast<std::size_t>(t)] |= mask_of(d);
  std::map<int, Device> pinned;
  for (const auto& [name, d] : o.pins) {
    const int t = g.find_task(name);
    if (t < 0) return Status::error(pin_text(name, d) + ": the model has no node of that name");
    if (!g.task(t).supports(d))
      return Status::error(pin_text(name, d) + ": node " + g.task(t).label() + " cannot run on " +
                           std::string(device_name(d)) + ": " + g.task(t).on(d).reason);
    p.allowed[static_cast<std::size_t>(t)] = mask_of(d);
    pinned[t] = d;
  }

  CostModel cm(g, o.lanes);
  // Each phase (latency, then memory) gets this many evaluations.
  const int64_t phase_evaluations = o.max_evaluations > 0 ? o.max_evaluations : auto_budget(g);
  Budget budget(cm, phase_evaluations);
  std::vector<std::string> notes;
  State st;
  std::string algorithm;
  const bool memory = o.objective == Objective::kMemory;
  const double slo = o.slo_us.value_or(search::kInf);

  if (!o.baseline.empty()) {
    TANDEM_ASSIGN_OR_RETURN(st, search::baseline(p, o.baseline));
    st.score = cm.score(st.a);
    if (st.score.peak_gpu_bytes > p.budget)
      return Status::error("baseline '" + o.baseline + "' needs " + format_bytes(st.score.peak_gpu_bytes) +
                           " of GPU memory, over the budget of " + format_bytes(p.budget));
    algorithm = "baseline:" + o.baseline;
  } else {
    if (o.exact && g.num_tasks() > kMaxExactTasks)
      return Status::error("partition: the exact solver takes at most " + std::to_string(kMaxExactTasks) +
                           " nodes; this graph has " + std::to_string(g.num_tasks()));
    TANDEM_ASSIGN_OR_RETURN(st, latency_plan(cm, p, budget, notes));
    algorithm = "heft+local_search";
    search::ExactStats stats;
    if (o.exact) {
      const Goal goal{Objective::kLatency, search::kInf, p.budget};
      if (auto best = search::exact(cm, p, goal, &st, &stats)) {
        // Keep the heuristic's reasons where the device did not change.
        for (std::size_t t = 0; t < st.a.size(); ++t)
          if (best->a[t] != st.a[t]) st.reasons[t] = "exact: part of the fastest assignment";
        st.a = best->a;
        st.score = best->score;
      }
      algorithm = "exact";
    }
    if (memory) {
      const Goal goal{Objective::kMemory, slo, p.budget};
      Budget memory_budget(cm, phase_evaluations);
      std::optional<State> within;
      if (goal.feasible(st.score)) {
        State down = st;
        search::reduce_gpu_memory(cm, p, slo, -1, memory_budget, down);
        search::local_search(cm, p, goal, memory_budget, down);
        within = std::move(down);
      }
      if (g.num_tasks() <= search::kSmallGraph) {
        // Also from the other end: everything it can on the CPU, then to the GPU what buys the most time.
        State up = fewest_on_gpu(p, "kept on the CPU: it saves GPU memory and the SLO holds");
        up.score = cm.score(up.a);
        if (search::grow_until_slo(cm, p, slo, memory_budget, up)) {
          search::local_search(cm, p, goal, memory_budget, up);
          if (!within || goal.better(up.score, within->score)) within = std::move(up);
        }
      }
      if (o.exact) {
        if (auto best = search::exact(cm, p, goal, within ? &*within : nullptr, &stats)) {
          for (std::size_t t = 0; t < best->a.size(); ++t)
            if (!within || best->a[t] != within->a[t])
              best->reasons[t] = "exact: part of the least-memory assignment within the SLO";
            else
              best->reasons[t] = within->reasons[t];
          within = std::move(best);
        }
      }
      if (memory_budget.spent() && !o.exact)
        notes.push_back("the memory search stopped at its evaluation budget; a larger one may find better");
      if (within) {
        st = std::move(*within);
        algorithm = o.exact ? "exact" : "heft+local_search+memory";
      } else {
        notes.push_back("no plan " + std::string(o.exact ? "meets" : "found meets") + " the SLO of " +
                        format_us(slo) + ": the fastest " + std::string(o.exact ? "" : "found ") + "takes " +
                        format_us(st.score.latency_us) + "; this is that plan");
      }
    }
    if (o.exact)
      notes.push_back("exact: " + std::to_string(stats.nodes) + " branch-and-bound nodes, " +
                      std::to_string(stats.leaves) + " assignments evaluated");
  }
  if (!memory && o.slo_us && st.score.latency_us > slo)
    notes.push_back("the plan takes " + format_us(st.score.latency_us) + ", over the SLO of " +
                    format_us(slo));

  notes.push_back("the cost model evaluated " + std::to_string(cm.evaluations() + 1) + " assignments");
  Plan plan = make_plan(cm, p, o, st, pinned);
  plan.algorithm = algorithm;
  plan.notes = std::move(notes);
  // The algorithms keep these; a failure here is a bug, better reported than executed.
  for (int t = 0; t < g.num_tasks(); ++t)
    if (!p.may(t, plan.nodes[static_cast<std::size_t>(t)].device))
      return Status::error("partition: internal error: node " + g.task(t).label() +
                           " placed on a device it may not use");
  if (plan.predicted_peak_gpu_bytes > p.budget)
    return Status::error("partition: the best plan found needs " + format_bytes(plan.predicted_peak_gpu_bytes) +
                         " of GPU memory once its buffers are laid out (the search estimated " +
                         format_bytes(st.score.peak_gpu_bytes) + "), over the budget of " + format_bytes(p.budget) +
                         "; raise the budget or relax the SLO");
  return plan;
}

}  // namespace tandem::partition
