#include "partitioner/time_chunks.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>

#include "graph/graph_edit.h"
#include "graph/rnn_direction_split.h"
#include "graph/rnn_time_split.h"

namespace tandem::partition {

namespace {

// Chunk k's share of a node's T steps split into n parts: T/n steps, one more for the first T%n
// (graph/rnn_time_split.cc), as a fraction kept exact so that byte sizes come out as the run's.
struct Share {
  int64_t steps = 1, of = 1;
  double fraction() const { return static_cast<double>(steps) / static_cast<double>(of); }
};
Share chunk_share(int64_t total_steps, int parts, int k) {
  if (parts <= 0 || total_steps <= 0) return {};
  return {total_steps / parts + (k < total_steps % parts ? 1 : 0), total_steps};
}
int64_t scaled(int64_t bytes, Share s) { return bytes / s.of * s.steps + bytes % s.of * s.steps / s.of; }

// The k of a split node's name "<whole>/chunk<k>..." (-1 when it has none).
int chunk_index(const std::string& name) {
  const auto at = name.rfind("/chunk");
  return at == std::string::npos ? -1 : std::atoi(name.c_str() + at + 6);
}

// A recurrent node of the unsplit graph, as the split nodes derived from it need it.
struct WholeRnn {
  const NodeProfile* profile = nullptr;
  int64_t steps = 0;
  int64_t x_bytes = 0, y_bytes = 0, state_bytes = 0;  // X, Y and one of Y_h/Y_c at the profiled shapes
};

// "<rnn>/chunk<k>", "<rnn>/chunk<k>/slice" or "<rnn>/concat_Y" -> "<rnn>".
std::string whole_name_of(const std::string& name) {
  auto at = name.rfind("/chunk");
  if (at == std::string::npos) at = name.rfind("/concat_Y");
  return at == std::string::npos ? "" : name.substr(0, at);
}

// The fixed cost per node on each device: the cheapest node measured there (a launch or a dispatch).
std::map<std::string, double> fixed_cost_per_device(const Profile& p) {
  std::map<std::string, double> fixed;
  for (const NodeProfile& np : p.nodes)
    for (const auto& [key, d] : np.devices)
      if (d.supported) fixed[key] = fixed.count(key) ? std::min(fixed[key], d.median_us) : d.median_us;
  return fixed;
}

// Copy bandwidth for the Slice/Split/Concat nodes a split adds: the CPU hand-over's when measured, else
// 10 GB/s.
double copy_bytes_per_us(const Profile& p) {
  return p.links.count("cpu->cpu") ? p.links.at("cpu->cpu").beta_bytes_per_us : 1e4;
}

// The whole model's profile looked up by name: nodes (a name measured once, of the given op) and values.
class ProfileIndex {
 public:
  explicit ProfileIndex(const Profile& p) {
    for (const NodeProfile& np : p.nodes) {
      nodes_[np.name] = &np;
      ++node_count_[np.name];
    }
    for (const ValueProfile& v : p.values) values_[v.name] = &v;
  }
  const NodeProfile* node(const std::string& name) const {
    auto it = nodes_.find(name);
    return it == nodes_.end() ? nullptr : it->second;
  }
  // The node's measurement when the split left it as it was: its name measured once, for the same op.
  const NodeProfile* unchanged(const Node& n) const {
    const NodeProfile* np = node(n.name);
    return np && node_count_.at(n.name) == 1 && np->op_type == n.op_type ? np : nullptr;
  }
  const ValueProfile* value(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? nullptr : it->second;
  }
  int64_t bytes(const Graph& g, ValueId v) const {
    const ValueProfile* vp = v == kNoValue ? nullptr : value(g.value(v).name);
    return vp ? vp->bytes : 0;
  }

 private:
  std::map<std::string, const NodeProfile*> nodes_;
  std::map<std::string, int> node_count_;
  std::map<std::string, const ValueProfile*> values_;
};

// A derived node's cost on one device from the whole node's `d`: the fixed cost `f` plus `fraction` of
// the rest.
void scale_time(NodeDeviceProfile& c, const NodeDeviceProfile& d, double f, double fraction) {
  c.median_us = f + (d.median_us - f) * fraction;
  c.p90_us = std::max(c.median_us, f + (d.p90_us - f) * fraction);
}

// An added Slice/Split/Concat: the fixed cost plus `moved` bytes at the copy rate; no weights or workspace.
void copy_cost(NodeDeviceProfile& c, double f, int64_t moved, double copy_rate) {
  c.median_us = c.p90_us = f + static_cast<double>(moved) / copy_rate;
  c.weight_bytes = c.workspace_bytes = c.shared_workspace_bytes = 0;
  c.workspace_held = false;
  c.output_bytes = moved;
}

// The fixed cost on device `key` (0 where no node runs there), at most the node's own time `us`.
double fixed_on(const std::map<std::string, double>& fixed, const std::string& key, double us) {
  auto it = fixed.find(key);
  return std::min(it == fixed.end() ? 0.0 : it->second, us);
}

// The values node `n` of the split graph made (those the whole graph lacks), sized by `bytes(k)` for output k.
void add_new_values(const Graph& g, const Graph& split, const Node& n, Profile& out,
                    const std::function<int64_t(std::size_t)>& bytes) {
  for (std::size_t k = 0; k < n.outputs.size(); ++k) {
    const ValueId v = n.outputs[k];
    if (v == kNoValue || g.find_value(split.value(v).name) != kNoValue) continue;
    out.values.push_back({split.value(v).name, bytes(k), "", true});
  }
}

// The profile of a split graph: `p` with its nodes replaced by the split graph's. A node the split left as
// it was (not `replaced`, measured once for its op) keeps its measurements; `derive` fills in the others'
// (and adds the values they make to the profile), or fails.
Result<Profile> split_graph_profile(const Profile& p, const ProfileIndex& index, const Graph& split,
                                    const std::function<bool(const std::string&)>& replaced,
                                    const std::function<Status(const Node&, NodeProfile&, Profile&)>& derive) {
  Profile out = p;
  out.nodes.clear();
  for (std::size_t i = 0; i < split.num_nodes(); ++i) {
    const Node& n = split.node(static_cast<NodeId>(i));
    NodeProfile np;
    np.index = static_cast<int64_t>(i);
    np.name = n.name;
    np.op_type = n.op_type;
    if (const NodeProfile* same = index.unchanged(n); same && !replaced(n.name)) np.devices = same->devices;
    else TANDEM_RETURN_IF_ERROR(derive(n, np, out));
    out.nodes.push_back(std::move(np));
  }
  return out;
}

}  // namespace

Result<Profile> derive_split_profile(const Graph& g, const Profile& p, const Graph& split) {
  const ProfileIndex index(p);
  auto bytes_of = [&](const Graph& graph, ValueId v) { return index.bytes(graph, v); };
  const std::map<std::string, double> fixed = fixed_cost_per_device(p);
  const double copy_rate = copy_bytes_per_us(p);

  std::map<std::string, WholeRnn> rnns;
  for (std::size_t i = 0; i < g.num_nodes(); ++i) {
    const Node& n = g.node(static_cast<NodeId>(i));
    if (!is_recurrent(n)) continue;
    const Shape& x = g.value(n.inputs[0]).shape;
    const std::size_t axis = n.attribute_int("layout", 0) == 1 ? 1 : 0;
    const NodeProfile* prof = index.node(n.name);
    if (!x.has_rank() || x.rank() != 3 || !x[axis].is_known() || !prof) continue;
    WholeRnn w;
    w.profile = prof;
    w.steps = x[axis].value;
    w.x_bytes = bytes_of(g, n.inputs[0]);
    w.y_bytes = bytes_of(g, n.outputs.empty() ? kNoValue : n.outputs[0]);
    w.state_bytes = bytes_of(g, n.outputs.size() > 1 ? n.outputs[1] : kNoValue);
    rnns[n.name] = w;
  }

  // How many split nodes of each op a whole node became ("<whole>/chunk<k>"), counted once.
  std::map<std::pair<std::string, std::string>, int> parts_of;
  for (const Node& other : split.nodes())
    if (const std::string w = whole_name_of(other.name); !w.empty()) ++parts_of[{w, other.op_type}];

  auto derive = [&](const Node& n, NodeProfile& np, Profile& out) -> Status {
    const std::string whole_name = whole_name_of(n.name);
    auto whole = rnns.find(whole_name);
    if (whole == rnns.end()) {
      // A time-preserving node between two split layers, now one per chunk (link_to_layer_below): its
      // share of the time steps is that of the chunk it reads.
      const NodeProfile* op = index.node(whole_name);
      if (!op || op->op_type != n.op_type)
        return Status::error("split node '" + n.name + "' has no counterpart in the profile");
      Share share{1, std::max(1, parts_of[{whole_name, n.op_type}])};
      const NodeId below = n.inputs.empty() || n.inputs[0] == kNoValue ? kNoNode : split.value(n.inputs[0]).producer;
      if (below != kNoNode) {
        const std::string& chunk_name = split.node(below).name;
        auto rnn = rnns.find(whole_name_of(chunk_name));
        if (rnn != rnns.end())
          share = chunk_share(rnn->second.steps, parts_of[{rnn->first, rnn->second.profile->op_type}],
                              chunk_index(chunk_name));
      }
      const double fraction = share.fraction();
      for (const auto& [key, d] : op->devices) {
        NodeDeviceProfile c = d;
        scale_time(c, d, fixed_on(fixed, key, d.median_us), fraction);
        c.output_bytes = scaled(d.output_bytes, share);
        c.estimated = true;
        np.devices[key] = c;
      }
      // Its output is a view of the chunk it reads when the whole node's was of the whole input (a Squeeze).
      const Node& whole_node = g.node(static_cast<NodeId>(op->index));
      for (std::size_t k = 0; k < n.outputs.size() && k < whole_node.outputs.size(); ++k) {
        if (n.outputs[k] == kNoValue) continue;
        ValueProfile vp{split.value(n.outputs[k]).name, scaled(bytes_of(g, whole_node.outputs[k]), share), "", true};
        if (const ValueProfile* whole_value = index.value(g.value(whole_node.outputs[k]).name)) {
          const ValueProfile& wv = *whole_value;
          vp.allocated = wv.allocated;
          if (!wv.view_of.empty() && !whole_node.inputs.empty() && whole_node.inputs[0] != kNoValue &&
              wv.view_of == g.value(whole_node.inputs[0]).name && n.inputs[0] != kNoValue)
            vp.view_of = split.value(n.inputs[0]).name;
        }
        out.values.push_back(std::move(vp));
      }
      return Status::ok();
    }
    const WholeRnn& w = whole->second;
    const bool chunk = n.op_type == w.profile->op_type;
    // A chunk's (and its X slice's) share of the steps: chunk k of n over T steps has T/n steps, one more
    // for the first T%n (graph/rnn_time_split.cc); the Concat joins all.
    const Share share = n.op_type == "Concat" ? Share{}
                                               : chunk_share(w.steps, parts_of[{whole_name, w.profile->op_type}],
                                                             chunk_index(n.name));
    const double fraction = share.fraction();
    for (const auto& [key, d] : w.profile->devices) {
      NodeDeviceProfile c = d;
      const double f = fixed_on(fixed, key, d.median_us);
      if (chunk) {
        // Each chunk is a call of its own: it pays the node's measured per-call cost again.
        scale_time(c, d, d.call_us > 0 ? std::min(d.call_us, d.median_us) : f, fraction);
        c.output_bytes = scaled(w.y_bytes, share) + (d.output_bytes - w.y_bytes > 0 ? d.output_bytes - w.y_bytes : 0);
        c.workspace_bytes = scaled(d.workspace_bytes, share);
      } else {
        copy_cost(c, f, n.op_type == "Slice" ? scaled(w.x_bytes, share) : w.y_bytes, copy_rate);
      }
      c.estimated = true;
      np.devices[key] = c;
    }
    // The values the split made: X parts, Y parts, and the states handed from chunk to chunk.
    add_new_values(g, split, n, out, [&](std::size_t k) -> int64_t {
      if (n.op_type == "Slice") return scaled(w.x_bytes, share);
      return chunk ? (k == 0 ? scaled(w.y_bytes, share) : w.state_bytes) : 0;
    });
    return Status::ok();
  };
  auto replaced = [&](const std::string& name) { return rnns.count(name) > 0; };
  TANDEM_ASSIGN_OR_RETURN(Profile out, split_graph_profile(p, index, split, replaced, derive));
  out.notes.push_back("time chunks: costs of the split nodes derived from the whole nodes' measurements");
  return out;
}

Result<Profile> derive_direction_profile(const Graph& g, const Profile& p, const Graph& split) {
  const ProfileIndex index(p);
  const int threads_on_cpu = p.machine.threads;
  auto bytes_of = [&](ValueId v) { return index.bytes(g, v); };
  const std::map<std::string, double> fixed = fixed_cost_per_device(p);
  const double copy_rate = copy_bytes_per_us(p);
  // The whole bidirectional nodes the split replaced, by name.
  std::map<std::string, NodeId> whole;
  for (std::size_t i = 0; i < g.num_nodes(); ++i) {
    const Node& n = g.node(static_cast<NodeId>(i));
    if (is_recurrent(n) && n.attribute_string("direction", "forward") == "bidirectional" && !n.name.empty())
      whole[n.name] = static_cast<NodeId>(i);
  }
  // "<rnn>/forward", "<rnn>/reverse", "<rnn>/concat_Y...", "<rnn>/split_initial_..." -> "<rnn>".
  auto whole_of = [&](const std::string& name) -> std::string {
    for (const char* tail : {"/forward", "/reverse", "/concat_", "/split_initial_"}) {
      const auto at = name.rfind(tail);
      if (at != std::string::npos && whole.count(name.substr(0, at))) return name.substr(0, at);
    }
    return "";
  };

  auto derive = [&](const Node& n, NodeProfile& np, Profile& out) -> Status {
    const std::string w = whole_of(n.name);
    const NodeProfile* measured = w.empty() ? nullptr : index.node(w);
    if (!measured)
      return Status::error("split node '" + n.name + "' has no counterpart in the profile");
    const Node& rnn = g.node(whole.at(w));
    const bool direction = n.op_type == rnn.op_type;
    // What the added node moves: a Concat the whole output, a Split the whole initial state.
    int64_t moved = 0;
    if (n.op_type == "Concat" && !n.outputs.empty()) moved = bytes_of(g.find_value(split.value(n.outputs[0]).name));
    if (n.op_type == "Split" && !n.inputs.empty()) moved = bytes_of(g.find_value(split.value(n.inputs[0]).name));
    for (const auto& [key, d] : measured->devices) {
      NodeDeviceProfile c = d;
      const double f = fixed_on(fixed, key, d.median_us);
      if (direction) {
        // One direction: half the weights and outputs. Half the time too, except on a CPU of several
        // threads, whose kernel already ran the whole node's directions at once (runtime_cpu's fast path):
        // there one direction takes about what the whole node did. Each direction keeps a workspace of its
        // own (a GPU RNN holds its workspace for its lifetime), as large as the whole node's.
        const bool directions_were_concurrent = key == "cpu" && threads_on_cpu > 1;
        if (!directions_were_concurrent) scale_time(c, d, f, 0.5);
        c.weight_bytes = d.weight_bytes / 2;
        c.output_bytes = d.output_bytes / 2;
      } else {
        copy_cost(c, f, moved, copy_rate);
      }
      c.estimated = true;
      np.devices[key] = c;
    }
    // The values the split made: each direction's outputs (half the whole's), each half of a Split state.
    add_new_values(g, split, n, out, [&](std::size_t k) -> int64_t {
      if (direction) return bytes_of(k < rnn.outputs.size() ? rnn.outputs[k] : kNoValue) / 2;
      return n.op_type == "Split" ? moved / 2 : 0;
    });
    return Status::ok();
  };
  auto replaced = [&](const std::string& name) { return whole.count(name) > 0; };
  TANDEM_ASSIGN_OR_RETURN(Profile out, split_graph_profile(p, index, split, replaced, derive));
  out.notes.push_back("direction split: costs of the split nodes derived from the whole nodes' measurements");
  return out;
}

Result<TimeChunking> choose_time_chunks(const Graph& g, const Profile& p, const PartitionOptions& options,
                                        const std::vector<int>& candidates, double min_gain) {
  TimeChunking best;
  best.graph = std::make_shared<Graph>(g);
  best.profile = p;
  TANDEM_ASSIGN_OR_RETURN(TaskGraph whole_tasks, build_task_graph(g, p));
  TANDEM_ASSIGN_OR_RETURN(best.plan, partition(whole_tasks, options));
  best.trials.push_back({1, false, best.plan.predicted_latency_us, best.plan.predicted_peak_gpu_bytes, ""});
  const double whole_latency = best.plan.predicted_latency_us;
  const bool forced = min_gain < 0;  // --chunks N: the split is the user's choice

  // One candidate: the split graph (its nodes named in `split_nodes`), its derived profile, its plan.
  auto consider = [&](ChunkTrial trial, std::shared_ptr<Graph> split, const std::vector<std::string>& split_nodes,
                      Result<Profile> derived) {
    auto tasks = derived ? build_task_graph(*split, *derived) : Result<TaskGraph>(derived.status());
    auto plan = tasks ? partition(*tasks, options) : Result<Plan>(tasks.status());
    if (!plan) {
      trial.note = plan.status().message();
      best.trials.push_back(trial);
      return;
    }
    trial.predicted_latency_us = plan->predicted_latency_us;
    trial.predicted_peak_gpu_bytes = plan->predicted_peak_gpu_bytes;
    best.trials.push_back(trial);
    // A split must pay for itself: at least min_gain below the unsplit plan, and better than the best so far;
    // in memory mode the SLO must still hold.
    const bool meets = !options.slo_us || options.objective != Objective::kMemory || plan->slo_met;
    const bool better = options.objective == Objective::kMemory && (best.chunks > 1 || best.split_directions)
                            ? plan->predicted_peak_gpu_bytes < best.plan.predicted_peak_gpu_bytes
                            : plan->predicted_latency_us < best.plan.predicted_latency_us;
    if (forced || (meets && better && plan->predicted_latency_us <= whole_latency * (1 - min_gain))) {
      best.chunks = trial.chunks;
      best.split_directions = trial.directions;
      best.graph = std::move(split);
      best.profile = std::move(derived).value();
      best.plan = std::move(plan).value();
      best.split_nodes = split_nodes;
    }
  };

  for (int k : candidates) {
    if (k <= 1) continue;
    auto split = std::make_shared<Graph>(g);
    const TimeSplitReport report = split_rnns_in_time(*split, k);
    if (report.split.empty()) {
      best.trials.push_back({k, false, 0, 0, report.refused.empty() ? "no recurrent node to split" : report.refused.front()});
      continue;
    }
    consider({k, false, 0, 0, ""}, split, report.split, derive_split_profile(g, p, *split));
  }
  // The directions of bidirectional nodes apart (which a time split cannot cut), unless chunks are forced.
  if (!forced) {
    auto split = std::make_shared<Graph>(g);
    const DirectionSplitReport report = split_bidirectional_rnns(*split);
    if (!report.split.empty()) consider({1, true, 0, 0, ""}, split, report.split, derive_direction_profile(g, p, *split));
    else if (!report.refused.empty()) best.trials.push_back({1, true, 0, 0, report.refused.front()});
  }
  best.plan.time_chunks = best.chunks;
  best.plan.split_directions = best.split_directions;
  return best;
}

}  // namespace tandem::partition
