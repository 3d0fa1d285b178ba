// build_task_graph: a model's main graph plus its Profile as a TaskGraph.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "graph/graph_edit.h"
#include "graph/topo_order.h"
#include "partitioner/task_graph.h"

namespace tandem::partition {

namespace {

DeviceCost cost_from(const NodeProfile& np, Device d) {
  auto it = np.devices.find(std::string(device_name(d)));
  if (it == np.devices.end())
    return DeviceCost::unsupported("not profiled on " + std::string(device_name(d)));
  const NodeDeviceProfile& p = it->second;
  if (!p.supported)
    return DeviceCost::unsupported(p.reason.empty() ? "unsupported (no reason given)" : p.reason);
  return DeviceCost::runs(p.median_us, p.weight_bytes, p.workspace_bytes, p.workspace_held, p.shared_workspace_bytes);
}

// Size of a value at the profiled shapes: the profile's figure, else a static shape, else (for a node's only
// output) the node's output_bytes, else 0.
int64_t value_bytes(const Graph& g, ValueId v, const std::unordered_map<std::string, int64_t>& profiled,
                    const NodeProfile* producer_profile) {
  const Value& val = g.value(v);
  if (auto it = profiled.find(val.name); it != profiled.end()) return it->second;
  if (auto n = val.shape.num_elements(); n && dtype_size(val.dtype) > 0)
    return *n * static_cast<int64_t>(dtype_size(val.dtype));
  if (producer_profile && val.producer != kNoNode && g.node(val.producer).outputs.size() == 1) {
    int64_t most = 0;
    for (const auto& [key, d] : producer_profile->devices) most = std::max(most, d.output_bytes);
    return most;
  }
  return 0;
}

// ONNX Runtime keeps shape arithmetic on the CPU: Shape and Size, and int64 nodes fed only by such nodes
// and constants. The fallback baseline copies that policy.
bool is_shape_arithmetic(const Graph& g, const Node& n, const std::vector<bool>& host_preferred) {
  if (n.domain.empty() && (n.op_type == "Shape" || n.op_type == "Size")) return true;
  bool fed_by_shape = false;
  for (ValueId v : n.inputs) {
    if (v == kNoValue) continue;
    const Value& val = g.value(v);
    if (val.kind == ValueKind::kInitializer) continue;
    if (val.kind != ValueKind::kNodeOutput || !host_preferred[static_cast<std::size_t>(val.producer)])
      return false;
    fed_by_shape = true;
  }
  if (!fed_by_shape || !n.implicit_inputs.empty()) return false;
  for (ValueId v : n.outputs)
    if (v != kNoValue && g.value(v).dtype != DType::kInt64) return false;
  return true;
}

bool same_attribute(const Attribute& a, const Attribute& b) {
  return a.kind == b.kind && a.f == b.f && a.i == b.i && a.s == b.s && a.t == b.t && a.g == b.g &&
         a.floats == b.floats && a.ints == b.ints && a.strings == b.strings && a.tensors == b.tensors &&
         a.graphs == b.graphs;
}

// The weight group of each node (-1: none). Recurrent nodes of one op and the same attributes that read
// the same constant W, R, B and P tensors share one prepared copy of them on each device (the runtimes'
// PreparedConstantsCache: the time chunks of one split layer): a group of two or more.
std::vector<int> weight_groups(const Graph& g) {
  struct Member {
    NodeId first;
    std::vector<const TensorData*> weights;
    int group = -1;
  };
  std::vector<Member> seen;
  std::vector<int> group(g.num_nodes(), -1);
  int next = 0;
  for (std::size_t i = 0; i < g.num_nodes(); ++i) {
    const Node& n = g.node(static_cast<NodeId>(i));
    if (!is_recurrent(n)) continue;
    std::vector<const TensorData*> weights;
    bool constant = true;
    for (std::size_t slot : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7}}) {
      const ValueId v = slot < n.inputs.size() ? n.inputs[slot] : kNoValue;
      const TensorData* d = v == kNoValue ? nullptr : g.value(v).data.get();
      if (v != kNoValue && !d) constant = false;
      weights.push_back(d);
    }
    if (!constant || !weights[0] || !weights[1]) continue;
    auto same = [&](const Member& m) {
      const Node& o = g.node(m.first);
      if (m.weights != weights || o.op_type != n.op_type || o.attributes.size() != n.attributes.size()) return false;
      for (const auto& [name, attr] : n.attributes) {
        const Attribute* other = o.attribute(name);
        if (!other || !same_attribute(attr, *other)) return false;
      }
      return true;
    };
    auto it = std::find_if(seen.begin(), seen.end(), same);
    if (it == seen.end()) {
      seen.push_back({static_cast<NodeId>(i), std::move(weights), -1});
      continue;
    }
    if (it->group < 0) group[static_cast<std::size_t>(it->first)] = it->group = next++;
    group[i] = it->group;
  }
  return group;
}

}  // namespace

Result<TaskGraph> build_task_graph(const Graph& g, const Profile& p) {
  std::unordered_map<int64_t, const NodeProfile*> by_index;
  for (const NodeProfile& np : p.nodes) {
    if (np.index < 0 || np.index >= static_cast<int64_t>(g.num_nodes()))
      return Status::error("profile: node #" + std::to_string(np.index) + " ('" + np.name +
                           "') is not in the model (" + std::to_string(g.num_nodes()) +
                           " nodes); was the profile taken of another model, or before tandem folded its " +
                           "constants? profile it again");
    by_index[np.index] = &np;
  }
  std::unordered_map<std::string, int64_t> value_sizes;
  std::unordered_map<std::string, const ValueProfile*> value_profiles;
  for (const ValueProfile& vp : p.values) {
    value_sizes[vp.name] = vp.bytes;
    value_profiles[vp.name] = &vp;
  }
  TANDEM_ASSIGN_OR_RETURN(std::vector<NodeId> order, topological_order(g));
  std::vector<bool> host_preferred(g.num_nodes(), false);
  for (NodeId id : order)
    host_preferred[static_cast<std::size_t>(id)] = is_shape_arithmetic(g, g.node(id), host_preferred);

  const std::vector<int> groups = weight_groups(g);
  TaskGraph tg;
  std::unordered_set<std::string> names;
  bool any_gpu = false;
  for (std::size_t i = 0; i < g.num_nodes(); ++i) {
    const Node& n = g.node(static_cast<NodeId>(i));
    auto it = by_index.find(static_cast<int64_t>(i));
    if (it == by_index.end())
      return Status::error("profile: no entry for node " + n.label(static_cast<NodeId>(i)) + " (#" +
                           std::to_string(i) + ")");
    const NodeProfile& np = *it->second;
    if (np.name != n.name)
      return Status::error("profile: node #" + std::to_string(i) + " is '" + np.name +
                           "' in the profile but " + n.label(static_cast<NodeId>(i)) +
                           " in the model; was the profile taken of another model, or before tandem folded its " +
                           "constants? profile it again");
    Task t;
    // Plans and pins need unique names; ONNX does not promise them.
    t.name = n.name.empty() ? "#" + std::to_string(i) : n.name;
    if (names.count(t.name)) t.name += "#" + std::to_string(i);
    names.insert(t.name);
    t.op_type = n.op_type;
    t.node_index = static_cast<int64_t>(i);
    t.cost = {cost_from(np, Device::kCpu), cost_from(np, Device::kGpu)};
    t.host_preferred = host_preferred[i];
    t.weight_group = groups[i];
    any_gpu = any_gpu || t.supports(Device::kGpu);
    tg.add_task(std::move(t));
  }

  std::unordered_map<std::string, int> data_of;  // value name -> data item
  for (std::size_t v = 0; v < g.num_values(); ++v) {
    const Value& val = g.value(static_cast<ValueId>(v));
    const bool output = g.is_graph_output(static_cast<ValueId>(v));
    int producer = kHost;
    if (val.kind == ValueKind::kNodeOutput && val.producer != kNoNode) {
      producer = val.producer;
    } else if (val.kind != ValueKind::kGraphInput) {
      continue;  // initializers are weights (in weight_bytes); outer-scope values do not occur in a main
                 // graph
    }
    if (producer == kHost && val.consumers.empty()) continue;  // an unread input moves nothing
    const NodeProfile* pp = producer == kHost ? nullptr : by_index[producer];
    const int d = tg.add_data(val.name, value_bytes(g, static_cast<ValueId>(v), value_sizes, pp), producer);
    for (NodeId c : val.consumers) tg.add_use(d, c);
    if (output) tg.mark_output(d);
    data_of[val.name] = d;
  }
  // Views and unallocated values, for the static memory plan's prediction. A view of something that is
  // no data item (a constant) holds no bytes the run allocated.
  for (const auto& [name, d] : data_of) {
    auto it = value_profiles.find(name);
    if (it == value_profiles.end()) continue;
    if (it->second->view_of.empty()) {
      if (!it->second->allocated) tg.mark_unplanned(d);
      continue;
    }
    auto viewed = data_of.find(it->second->view_of);
    if (viewed == data_of.end()) tg.mark_unplanned(d);
    else tg.set_view_of(d, viewed->second);
  }

  for (Device from : kDevices) {
    const std::string key = std::string(device_name(from)) + "->" + std::string(device_name(other(from)));
    auto it = p.links.find(key);
    if (it != p.links.end()) {
      tg.set_link(from, Link{it->second.alpha_us, it->second.beta_bytes_per_us});
    } else if (any_gpu) {
      return Status::error("profile: links.\"" + key + "\" is missing, and some nodes can run on cuda");
    }
  }
  TANDEM_RETURN_IF_ERROR(tg.finalize());
  return tg;
}

}  // namespace tandem::partition
