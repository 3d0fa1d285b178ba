#include "profiler/profile_merge.h"

#include <map>

namespace tandem::profiler {

using partition::Profile;

namespace {

std::string shapes_text(const std::map<std::string, int64_t>& shapes) {
  std::string s;
  for (const auto& [k, v] : shapes) s += (s.empty() ? "" : ", ") + k + "=" + std::to_string(v);
  return s.empty() ? "(none)" : s;
}

// Takes `from` into `into` unless `into` has a measured one; both measured is an error.
template <typename T>
Status take(T& into, const T& from, bool into_present, const std::string& what) {
  if (!into_present || into.estimated) {
    into = from;
    return Status::ok();
  }
  if (!from.estimated) return Status::error(what + " is measured in both profiles; keep one of them");
  return Status::ok();  // measured beats estimated
}

}  // namespace

Result<Profile> merge_profiles(const Profile& a, const Profile& b) {
  const std::string prefix = "cannot merge profiles: ";
  if (a.model_hash.empty() || b.model_hash.empty())
    return Status::error(prefix + "a profile without a model hash cannot be matched to the other");
  if (a.model_hash != b.model_hash)
    return Status::error(prefix + "they were taken of different models (model hash " + a.model_hash.substr(0, 12) +
                         "... vs " + b.model_hash.substr(0, 12) + "...)");
  if (a.input_shapes != b.input_shapes)
    return Status::error(prefix + "they were taken at different input shapes (" + shapes_text(a.input_shapes) +
                         " vs " + shapes_text(b.input_shapes) + ")");
  if (a.nodes.size() != b.nodes.size())
    return Status::error(prefix + "they list " + std::to_string(a.nodes.size()) + " and " +
                         std::to_string(b.nodes.size()) + " nodes");
  Profile m = a;
  for (std::size_t i = 0; i < m.nodes.size(); ++i) {
    auto& into = m.nodes[i];
    const auto& from = b.nodes[i];
    if (into.index != from.index || into.name != from.name)
      return Status::error(prefix + "node " + std::to_string(i) + " is #" + std::to_string(into.index) + " '" +
                           into.name + "' in one and #" + std::to_string(from.index) + " '" + from.name +
                           "' in the other");
    for (const auto& [key, d] : from.devices) {
      const bool present = into.devices.count(key) > 0;
      TANDEM_RETURN_IF_ERROR(take(into.devices[key], d, present, "node '" + into.name + "' on " + key)
                                 .with_context(prefix));
    }
  }
  for (const auto& [key, l] : b.links) {
    const bool present = m.links.count(key) > 0;
    TANDEM_RETURN_IF_ERROR(take(m.links[key], l, present, "link " + key).with_context(prefix));
  }
  std::map<std::string, int64_t> sizes;
  for (const auto& v : m.values) sizes[v.name] = v.bytes;
  for (const auto& v : b.values) {
    auto it = sizes.find(v.name);
    if (it == sizes.end()) m.values.push_back(v);
    else if (it->second != v.bytes)
      return Status::error(prefix + "value '" + v.name + "' is " + std::to_string(it->second) + " bytes in one and " +
                           std::to_string(v.bytes) + " in the other");
  }
  // The machine: the CPU of the profile that measured the CPU, the GPU of the one that measured the GPU.
  auto measured = [](const Profile& p, const char* key) {
    for (const auto& n : p.nodes)
      if (auto it = n.devices.find(key); it != n.devices.end() && it->second.supported && !it->second.estimated)
        return true;
    return false;
  };
  if (!measured(a, "cpu") && measured(b, "cpu")) {
    m.machine.cpu_model = b.machine.cpu_model;
    m.machine.threads = b.machine.threads;
  }
  if (!measured(a, "cuda") && measured(b, "cuda")) {
    m.machine.gpu_name = b.machine.gpu_name;
    m.machine.driver = b.machine.driver;
  }
  for (const std::string& note : b.notes) m.notes.push_back(note);
  // A note that GPU costs were estimated no longer holds once measured ones replaced them all.
  bool any_estimated = false;
  for (const auto& n : m.nodes)
    for (const auto& [key, d] : n.devices) any_estimated = any_estimated || d.estimated;
  for (const auto& [key, l] : m.links) any_estimated = any_estimated || l.estimated;
  if (!any_estimated)
    std::erase_if(m.notes, [](const std::string& note) { return note.find("estimated") != std::string::npos; });
  m.notes.push_back("merged from two profiles of the same model and shapes");
  return m;
}

}  // namespace tandem::profiler
