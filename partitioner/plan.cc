#include "partitioner/plan.h"

#include <cstdint>
#include <unordered_set>

#include "partitioner/json_fields.h"

namespace tandem::partition {

using json_fields::Fields;
using json_fields::json;

namespace {

constexpr const char* kSchemaName = "tandem.plan";

Status device_field(const Fields& f, const char* key, Device* out) {
  std::string s;
  TANDEM_RETURN_IF_ERROR(f.string(key, &s, true));
  auto d = parse_device(s);
  if (!d) return f.error(key, "unknown device '" + s + "' (expected \"cpu\" or \"cuda\")");
  *out = *d;
  return Status::ok();
}

Status int_field(const Fields& f, const char* key, int* out, bool required, int64_t min) {
  int64_t x = *out;
  TANDEM_RETURN_IF_ERROR(f.integer(key, &x, required, min));
  if (x > INT32_MAX) return f.error(key, "too large");
  *out = static_cast<int>(x);
  return Status::ok();
}

Status from_json(const json& root, Plan* p) {
  Fields top(root, "");
  TANDEM_RETURN_IF_ERROR(top.expect_object());
  std::string schema = kSchemaName;
  TANDEM_RETURN_IF_ERROR(top.string("schema", &schema, false));
  if (schema != kSchemaName)
    return top.error("schema", "this is a '" + schema + "' file, not a plan ('" + kSchemaName + "')");
  TANDEM_RETURN_IF_ERROR(int_field(top, "schema_version", &p->schema_version, true, 1));
  if (p->schema_version > kPlanSchemaVersion)
    return top.error("schema_version", std::to_string(p->schema_version) +
                                           " is newer than this build reads (" +
                                           std::to_string(kPlanSchemaVersion) + ")");
  std::string objective;
  TANDEM_RETURN_IF_ERROR(top.string("objective", &objective, true));
  auto o = parse_objective(objective);
  if (!o)
    return top.error("objective",
                     "unknown objective '" + objective + "' (expected \"latency\" or \"memory\")");
  p->objective = *o;
  TANDEM_RETURN_IF_ERROR(top.string("algorithm", &p->algorithm, false));
  TANDEM_RETURN_IF_ERROR(top.optional_number("slo_us", &p->slo_us));
  TANDEM_RETURN_IF_ERROR(top.optional_integer("gpu_budget_bytes", &p->gpu_budget_bytes));
  TANDEM_RETURN_IF_ERROR(top.boolean("slo_met", &p->slo_met, false));
  TANDEM_RETURN_IF_ERROR(int_field(top, "time_chunks", &p->time_chunks, false, 1));
  TANDEM_RETURN_IF_ERROR(top.boolean("split_directions", &p->split_directions, false));
  if (top.has("lanes")) {
    Fields l(top.at("lanes"), "lanes");
    TANDEM_RETURN_IF_ERROR(l.expect_object());
    TANDEM_RETURN_IF_ERROR(int_field(l, "cpu", &p->cpu_lanes, false, 1));
    TANDEM_RETURN_IF_ERROR(int_field(l, "cuda", &p->gpu_lanes, false, 1));
  }
  if (top.has("predicted")) {
    Fields pr(top.at("predicted"), "predicted");
    TANDEM_RETURN_IF_ERROR(pr.expect_object());
    TANDEM_RETURN_IF_ERROR(pr.number("latency_us", &p->predicted_latency_us, false));
    TANDEM_RETURN_IF_ERROR(pr.integer("peak_gpu_bytes", &p->predicted_peak_gpu_bytes, false));
    TANDEM_RETURN_IF_ERROR(pr.integer("gpu_weight_bytes", &p->gpu_weight_bytes, false));
    TANDEM_RETURN_IF_ERROR(pr.integer("gpu_activation_bytes", &p->gpu_activation_bytes, false));
    TANDEM_RETURN_IF_ERROR(pr.integer("gpu_workspace_bytes", &p->gpu_workspace_bytes, false));
  }

  if (!top.has("nodes")) return top.missing("nodes");
  const json& nodes = top.at("nodes");
  if (!nodes.is_array()) return top.error("nodes", "expected an array, got " + json_fields::describe(nodes));
  std::unordered_set<std::string> names;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    Fields n(nodes[i], "nodes[" + std::to_string(i) + "]");
    TANDEM_RETURN_IF_ERROR(n.expect_object());
    PlanNode pn;
    TANDEM_RETURN_IF_ERROR(n.string("name", &pn.name, true));
    if (!names.insert(pn.name).second) return n.error("name", "'" + pn.name + "' appears twice");
    TANDEM_RETURN_IF_ERROR(n.integer("index", &pn.node_index, false, -1));
    TANDEM_RETURN_IF_ERROR(device_field(n, "device", &pn.device));
    TANDEM_RETURN_IF_ERROR(int_field(n, "lane", &pn.lane, false, 0));
    TANDEM_RETURN_IF_ERROR(int_field(n, "order", &pn.order, true, 0));
    TANDEM_RETURN_IF_ERROR(n.number("start_us", &pn.start_us, false));
    TANDEM_RETURN_IF_ERROR(n.number("finish_us", &pn.finish_us, false));
    TANDEM_RETURN_IF_ERROR(n.string("reason", &pn.reason, false));
    const int lanes = pn.device == Device::kCpu ? p->cpu_lanes : p->gpu_lanes;
    if (pn.lane >= lanes)
      return n.error("lane", std::to_string(pn.lane) + " but " + std::string(device_name(pn.device)) +
                                 " has " + std::to_string(lanes) + " lane(s)");
    p->nodes.push_back(std::move(pn));
  }
  // `order` is what the runtime follows, so it must be a permutation.
  std::vector<bool> seen(p->nodes.size(), false);
  for (std::size_t i = 0; i < p->nodes.size(); ++i) {
    const std::size_t pos = static_cast<std::size_t>(p->nodes[i].order);
    if (pos >= seen.size() || seen[pos])
      return Status::error("nodes[" + std::to_string(i) + "].order: " + std::to_string(pos) +
                           (pos >= seen.size() ? " is out of range" : " appears twice") +
                           " (orders must be 0.." + std::to_string(seen.size() - 1) + ", each once)");
    seen[pos] = true;
  }

  if (top.has("copies")) {
    const json& copies = top.at("copies");
    if (!copies.is_array())
      return top.error("copies", "expected an array, got " + json_fields::describe(copies));
    for (std::size_t i = 0; i < copies.size(); ++i) {
      Fields c(copies[i], "copies[" + std::to_string(i) + "]");
      TANDEM_RETURN_IF_ERROR(c.expect_object());
      PlanCopy pc;
      TANDEM_RETURN_IF_ERROR(c.string("value", &pc.value, true));
      TANDEM_RETURN_IF_ERROR(device_field(c, "from", &pc.from));
      TANDEM_RETURN_IF_ERROR(device_field(c, "to", &pc.to));
      if (pc.from == pc.to) return c.error("to", "is the same device as 'from'");
      TANDEM_RETURN_IF_ERROR(c.integer("bytes", &pc.bytes, false));
      TANDEM_RETURN_IF_ERROR(c.number("start_us", &pc.start_us, false));
      TANDEM_RETURN_IF_ERROR(c.number("finish_us", &pc.finish_us, false));
      p->copies.push_back(std::move(pc));
    }
  }
  if (top.has("notes")) {
    const json& notes = top.at("notes");
    if (!notes.is_array())
      return top.error("notes", "expected an array, got " + json_fields::describe(notes));
    for (std::size_t i = 0; i < notes.size(); ++i) {
      if (!notes[i].is_string())
        return Status::error("notes[" + std::to_string(i) + "]: expected a string, got " +
                             json_fields::describe(notes[i]));
      p->notes.push_back(notes[i].get<std::string>());
    }
  }
  return Status::ok();
}

}  // namespace

const PlanNode* Plan::find_node(const std::string& node_name) const {
  for (const PlanNode& n : nodes)
    if (n.name == node_name) return &n;
  return nullptr;
}

std::string plan_to_json(const Plan& p) {
  json root = json::object();
  root["schema"] = kSchemaName;
  root["schema_version"] = p.schema_version;
  root["objective"] = objective_name(p.objective);
  root["algorithm"] = p.algorithm;
  root["slo_us"] = p.slo_us ? json(*p.slo_us) : json(nullptr);
  root["gpu_budget_bytes"] = p.gpu_budget_bytes ? json(*p.gpu_budget_bytes) : json(nullptr);
  root["slo_met"] = p.slo_met;
  root["lanes"] = {{"cpu", p.cpu_lanes}, {"cuda", p.gpu_lanes}};
  root["time_chunks"] = p.time_chunks;
  root["split_directions"] = p.split_directions;
  root["predicted"] = {{"latency_us", p.predicted_latency_us},
                       {"peak_gpu_bytes", p.predicted_peak_gpu_bytes},
                       {"gpu_weight_bytes", p.gpu_weight_bytes},
                       {"gpu_activation_bytes", p.gpu_activation_bytes},
                       {"gpu_workspace_bytes", p.gpu_workspace_bytes}};
  json nodes = json::array();
  for (const PlanNode& n : p.nodes)
    nodes.push_back({{"name", n.name},
                     {"index", n.node_index},
                     {"device", device_name(n.device)},
                     {"lane", n.lane},
                     {"order", n.order},
                     {"start_us", n.start_us},
                     {"finish_us", n.finish_us},
                     {"reason", n.reason}});
  root["nodes"] = std::move(nodes);
  json copies = json::array();
  for (const PlanCopy& c : p.copies)
    copies.push_back({{"value", c.value},
                      {"from", device_name(c.from)},
                      {"to", device_name(c.to)},
                      {"bytes", c.bytes},
                      {"start_us", c.start_us},
                      {"finish_us", c.finish_us}});
  root["copies"] = std::move(copies);
  root["notes"] = p.notes;
  return root.dump(2) + "\n";
}

Result<Plan> plan_from_json(std::string_view text) {
  json root;
  TANDEM_RETURN_IF_ERROR(json_fields::parse(text, &root).with_context("plan: "));
  Plan p;
  TANDEM_RETURN_IF_ERROR(from_json(root, &p).with_context("plan: "));
  return p;
}

Status save_plan(const Plan& p, const std::string& path) {
  return json_fields::write_file(path, plan_to_json(p), "plan");
}

Result<Plan> load_plan(const std::string& path) {
  TANDEM_ASSIGN_OR_RETURN(std::string text, json_fields::read_file(path, "plan"));
  json root;
  const std::string where = "plan '" + path + "': ";
  TANDEM_RETURN_IF_ERROR(json_fields::parse(text, &root).with_context(where));
  Plan p;
  TANDEM_RETURN_IF_ERROR(from_json(root, &p).with_context(where));
  return p;
}

}  // namespace tandem::partition
