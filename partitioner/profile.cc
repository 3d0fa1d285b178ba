#include "partitioner/profile.h"

#include <unordered_set>

#include "partitioner/json_fields.h"

namespace tandem::partition {

using json_fields::Fields;
using json_fields::json;

namespace {

constexpr const char* kSchemaName = "tandem.profile";

json device_to_json(const NodeDeviceProfile& d) {
  json j = json::object();
  j["supported"] = d.supported;
  if (!d.supported) j["reason"] = d.reason;
  j["median_us"] = d.median_us;
  j["p90_us"] = d.p90_us;
  j["weight_bytes"] = d.weight_bytes;
  j["output_bytes"] = d.output_bytes;
  j["workspace_bytes"] = d.workspace_bytes;
  j["estimated"] = d.estimated;
  if (d.workspace_held) j["workspace_held"] = true;
  if (d.shared_workspace_bytes) j["shared_workspace_bytes"] = d.shared_workspace_bytes;
  if (d.call_us > 0) j["call_us"] = d.call_us;
  return j;
}

Status device_from_json(const json& j, const std::string& path, NodeDeviceProfile* d) {
  Fields f(j, path);
  TANDEM_RETURN_IF_ERROR(f.expect_object());
  TANDEM_RETURN_IF_ERROR(f.boolean("supported", &d->supported, false));
  TANDEM_RETURN_IF_ERROR(f.string("reason", &d->reason, false));
  // An unsupported entry needs no costs; a supported one must say what it costs.
  TANDEM_RETURN_IF_ERROR(f.number("median_us", &d->median_us, d->supported));
  d->p90_us = d->median_us;
  TANDEM_RETURN_IF_ERROR(f.number("p90_us", &d->p90_us, false));
  if (d->p90_us < d->median_us)
    return f.error("p90_us", "is below median_us (" + std::to_string(d->median_us) + ")");
  TANDEM_RETURN_IF_ERROR(f.integer("weight_bytes", &d->weight_bytes, false));
  TANDEM_RETURN_IF_ERROR(f.integer("output_bytes", &d->output_bytes, false));
  TANDEM_RETURN_IF_ERROR(f.integer("workspace_bytes", &d->workspace_bytes, false));
  TANDEM_RETURN_IF_ERROR(f.boolean("estimated", &d->estimated, false));
  TANDEM_RETURN_IF_ERROR(f.boolean("workspace_held", &d->workspace_held, false));
  TANDEM_RETURN_IF_ERROR(f.integer("shared_workspace_bytes", &d->shared_workspace_bytes, false));
  // Not checked against median_us: a profile edited by hand may lower the time and keep the call cost;
  // the partitioner takes at most the node's time (partitioner/time_chunks.cc).
  TANDEM_RETURN_IF_ERROR(f.number("call_us", &d->call_us, false));
  return Status::ok();
}

Status from_json(const json& root, Profile* p) {
  Fields top(root, "");
  TANDEM_RETURN_IF_ERROR(top.expect_object());
  std::string schema = kSchemaName;
  TANDEM_RETURN_IF_ERROR(top.string("schema", &schema, false));
  if (schema != kSchemaName)
    return top.error("schema", "this is a '" + schema + "' file, not a profile ('" + kSchemaName + "')");
  int64_t version = 0;
  TANDEM_RETURN_IF_ERROR(top.integer("schema_version", &version, true, 1));
  if (version > kProfileSchemaVersion)
    return top.error("schema_version", std::to_string(version) + " is newer than this build reads (" +
                                           std::to_string(kProfileSchemaVersion) + ")");
  p->schema_version = static_cast<int>(version);

  if (top.has("machine")) {
    Fields m(top.at("machine"), "machine");
    TANDEM_RETURN_IF_ERROR(m.expect_object());
    TANDEM_RETURN_IF_ERROR(m.string("cpu_model", &p->machine.cpu_model, false));
    int64_t threads = 0;
    TANDEM_RETURN_IF_ERROR(m.integer("threads", &threads, false));
    p->machine.threads = static_cast<int>(threads);
    TANDEM_RETURN_IF_ERROR(m.string("gpu_name", &p->machine.gpu_name, false));
    TANDEM_RETURN_IF_ERROR(m.string("driver", &p->machine.driver, false));
  }
  TANDEM_RETURN_IF_ERROR(top.string("model_hash", &p->model_hash, false));

  if (top.has("input_shapes")) {
    const json& shapes = top.at("input_shapes");
    Fields s(shapes, "input_shapes");
    TANDEM_RETURN_IF_ERROR(s.expect_object());
    for (const auto& [symbol, v] : shapes.items()) {
      int64_t x = 0;
      TANDEM_RETURN_IF_ERROR(s.integer(symbol.c_str(), &x, true));
      p->input_shapes[symbol] = x;
    }
  }

  if (!top.has("nodes")) return top.missing("nodes");
  const json& nodes = top.at("nodes");
  if (!nodes.is_array()) return top.error("nodes", "expected an array, got " + json_fields::describe(nodes));
  std::unordered_set<int64_t> seen;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const std::string path = "nodes[" + std::to_string(i) + "]";
    Fields n(nodes[i], path);
    TANDEM_RETURN_IF_ERROR(n.expect_object());
    NodeProfile np;
    TANDEM_RETURN_IF_ERROR(n.integer("index", &np.index, true));
    TANDEM_RETURN_IF_ERROR(n.string("name", &np.name, true));
    TANDEM_RETURN_IF_ERROR(n.string("op_type", &np.op_type, false));
    if (!seen.insert(np.index).second) return n.error("index", std::to_string(np.index) + " appears twice");
    if (!n.has("devices")) return n.missing("devices");
    const json& devices = n.at("devices");
    Fields d(devices, n.path_of("devices"));
    TANDEM_RETURN_IF_ERROR(d.expect_object());
    for (const auto& [key, dj] : devices.items()) {
      if (key != "cpu" && key != "cuda")
        return d.error(key.c_str(), "unknown device (expected \"cpu\" or \"cuda\")");
      TANDEM_RETURN_IF_ERROR(device_from_json(dj, d.path_of(key.c_str()), &np.devices[key]));
    }
    p->nodes.push_back(std::move(np));
  }

  if (top.has("values")) {
    const json& values = top.at("values");
    if (!values.is_array())
      return top.error("values", "expected an array, got " + json_fields::describe(values));
    for (std::size_t i = 0; i < values.size(); ++i) {
      Fields v(values[i], "values[" + std::to_string(i) + "]");
      TANDEM_RETURN_IF_ERROR(v.expect_object());
      ValueProfile vp;
      TANDEM_RETURN_IF_ERROR(v.string("name", &vp.name, true));
      TANDEM_RETURN_IF_ERROR(v.integer("bytes", &vp.bytes, true));
      TANDEM_RETURN_IF_ERROR(v.string("view_of", &vp.view_of, false));
      TANDEM_RETURN_IF_ERROR(v.boolean("allocated", &vp.allocated, false));
      p->values.push_back(std::move(vp));
    }
  }

  if (top.has("links")) {
    const json& links = top.at("links");
    Fields l(links, "links");
    TANDEM_RETURN_IF_ERROR(l.expect_object());
    for (const auto& [key, lj] : links.items()) {
      if (key != "cpu->cuda" && key != "cuda->cpu" && key != "cpu->cpu")
        return l.error(key.c_str(), "unknown link (expected \"cpu->cuda\", \"cuda->cpu\" or \"cpu->cpu\")");
      Fields f(lj, l.path_of(key.c_str()));
      TANDEM_RETURN_IF_ERROR(f.expect_object());
      LinkProfile lp;
      TANDEM_RETURN_IF_ERROR(f.number("alpha_us", &lp.alpha_us, true));
      TANDEM_RETURN_IF_ERROR(f.number("beta_bytes_per_us", &lp.beta_bytes_per_us, true));
      if (!(lp.beta_bytes_per_us > 0)) return f.error("beta_bytes_per_us", "must be above 0");
      TANDEM_RETURN_IF_ERROR(f.number("residual_us", &lp.residual_us, false));
      TANDEM_RETURN_IF_ERROR(f.number("max_residual_us", &lp.max_residual_us, false));
      TANDEM_RETURN_IF_ERROR(f.boolean("estimated", &lp.estimated, false));
      if (f.has("samples")) {
        const json& samples = f.at("samples");
        if (!samples.is_array())
          return f.error("samples", "expected an array, got " + json_fields::describe(samples));
        for (std::size_t i = 0; i < samples.size(); ++i) {
          Fields sf(samples[i], f.path_of("samples") + "[" + std::to_string(i) + "]");
          TANDEM_RETURN_IF_ERROR(sf.expect_object());
          LinkSample sample;
          TANDEM_RETURN_IF_ERROR(sf.integer("bytes", &sample.bytes, true));
          TANDEM_RETURN_IF_ERROR(sf.number("us", &sample.us, true));
          lp.samples.push_back(sample);
        }
      }
      p->links[key] = std::move(lp);
    }
  }
  if (top.has("notes")) {
    const json& notes = top.at("notes");
    if (!notes.is_array()) return top.error("notes", "expected an array, got " + json_fields::describe(notes));
    for (std::size_t i = 0; i < notes.size(); ++i) {
      if (!notes[i].is_string())
        return top.error("notes", "entry " + std::to_string(i) + " is " + json_fields::describe(notes[i]) +
                                      ", expected a string");
      p->notes.push_back(notes[i].get<std::string>());
    }
  }
  return Status::ok();
}

}  // namespace

const NodeProfile* Profile::find_node(int64_t node_index) const {
  for (const NodeProfile& n : nodes)
    if (n.index == node_index) return &n;
  return nullptr;
}

const ValueProfile* Profile::find_value(const std::string& value_name) const {
  for (const ValueProfile& v : values)
    if (v.name == value_name) return &v;
  return nullptr;
}

std::string profile_to_json(const Profile& p) {
  json root = json::object();
  root["schema"] = kSchemaName;
  root["schema_version"] = p.schema_version;
  root["machine"] = {{"cpu_model", p.machine.cpu_model},
                     {"threads", p.machine.threads},
                     {"gpu_name", p.machine.gpu_name},
                     {"driver", p.machine.driver}};
  root["model_hash"] = p.model_hash;
  root["input_shapes"] = json::object();
  for (const auto& [symbol, v] : p.input_shapes) root["input_shapes"][symbol] = v;
  json nodes = json::array();
  for (const NodeProfile& n : p.nodes) {
    json nj = {{"index", n.index}, {"name", n.name}};
    if (!n.op_type.empty()) nj["op_type"] = n.op_type;
    nj["devices"] = json::object();
    for (const auto& [key, d] : n.devices) nj["devices"][key] = device_to_json(d);
    nodes.push_back(std::move(nj));
  }
  root["nodes"] = std::move(nodes);
  json values = json::array();
  for (const ValueProfile& v : p.values) {
    json value = {{"name", v.name}, {"bytes", v.bytes}};
    if (!v.view_of.empty()) value["view_of"] = v.view_of;
    if (!v.allocated) value["allocated"] = false;
    values.push_back(std::move(value));
  }
  root["values"] = std::move(values);
  root["links"] = json::object();
  for (const auto& [key, l] : p.links) {
    json lj = {{"alpha_us", l.alpha_us},
               {"beta_bytes_per_us", l.beta_bytes_per_us},
               {"residual_us", l.residual_us},
               {"max_residual_us", l.max_residual_us},
               {"estimated", l.estimated}};
    json samples = json::array();
    for (const LinkSample& sample : l.samples) samples.push_back({{"bytes", sample.bytes}, {"us", sample.us}});
    lj["samples"] = std::move(samples);
    root["links"][key] = std::move(lj);
  }
  root["notes"] = p.notes;
  return root.dump(2) + "\n";
}

Result<Profile> profile_from_json(std::string_view text) {
  json root;
  TANDEM_RETURN_IF_ERROR(json_fields::parse(text, &root).with_context("profile: "));
  Profile p;
  TANDEM_RETURN_IF_ERROR(from_json(root, &p).with_context("profile: "));
  return p;
}

Status save_profile(const Profile& p, const std::string& path) {
  return json_fields::write_file(path, profile_to_json(p), "profile");
}

Result<Profile> load_profile(const std::string& path) {
  TANDEM_ASSIGN_OR_RETURN(std::string text, json_fields::read_file(path, "profile"));
  json root;
  const std::string where = "profile '" + path + "': ";
  TANDEM_RETURN_IF_ERROR(json_fields::parse(text, &root).with_context(where));
  Profile p;
  TANDEM_RETURN_IF_ERROR(from_json(root, &p).with_context(where));
  return p;
}

}  // namespace tandem::partition
