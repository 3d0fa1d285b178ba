#include "profiler/profile_summary.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <vector>

namespace tandem::profiler {

using partition::NodeDeviceProfile;
using partition::NodeProfile;
using partition::Profile;

namespace {

std::string fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() > width) s = s.substr(0, width - 3) + "...";
  s.resize(width, ' ');
  return s;
}

std::string node_name(const NodeProfile& n) { return n.name.empty() ? "#" + std::to_string(n.index) : n.name; }

const NodeDeviceProfile* on(const NodeProfile& n, const std::string& key) {
  auto it = n.devices.find(key);
  return it != n.devices.end() && it->second.supported ? &it->second : nullptr;
}

}  // namespace

std::string profile_summary(const Profile& p, int top_n) {
  std::ostringstream o;
  std::vector<std::string> keys;
  for (const NodeProfile& n : p.nodes)
    for (const auto& [key, d] : n.devices)
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());  // "cpu" before "cuda"

  o << "model " << (p.model_hash.empty() ? "(no hash)" : p.model_hash.substr(0, 16)) << ", " << p.nodes.size()
    << " nodes";
  if (!p.input_shapes.empty()) {
    o << ", shapes";
    for (const auto& [k, v] : p.input_shapes) o << " " << k << "=" << v;
  }
  o << "\nmachine " << (p.machine.cpu_model.empty() ? "?" : p.machine.cpu_model) << ", " << p.machine.threads
    << " threads; GPU " << (p.machine.gpu_name.empty() ? "none" : p.machine.gpu_name) << "\n";

  for (const std::string& key : keys) {
    std::vector<const NodeProfile*> nodes;
    double total = 0;
    bool estimated = false;
    int unsupported = 0;
    for (const NodeProfile& n : p.nodes) {
      if (const NodeDeviceProfile* d = on(n, key)) {
        nodes.push_back(&n);
        total += d->median_us;
        estimated = estimated || d->estimated;
      } else {
        ++unsupported;
      }
    }
    std::sort(nodes.begin(), nodes.end(), [&](const NodeProfile* a, const NodeProfile* b) {
      return on(*a, key)->median_us > on(*b, key)->median_us;
    });
    o << "\n" << key << (estimated ? " (estimated)" : "") << ": " << nodes.size() << " nodes run there, "
      << unsupported << " cannot; sum of node medians " << fixed(total, 1) << " us\n";
    o << "  " << pad("slowest nodes", 32) << pad("op", 12) << pad("median us", 12) << pad("p90 us", 12) << "share\n";
    for (int i = 0; i < top_n && i < static_cast<int>(nodes.size()); ++i) {
      const NodeDeviceProfile& d = *on(*nodes[static_cast<std::size_t>(i)], key);
      o << "  " << pad(node_name(*nodes[static_cast<std::size_t>(i)]), 32)
        << pad(nodes[static_cast<std::size_t>(i)]->op_type, 12) << pad(fixed(d.median_us, 2), 12)
        << pad(fixed(d.p90_us, 2), 12) << fixed(total > 0 ? 100 * d.median_us / total : 0, 1) << "%\n";
    }
  }

  if (keys.size() >= 2) {
    // Ratios for the nodes that cost most on the first device.
    const std::string& a = keys[0];
    const std::string& b = keys[1];
    std::vector<const NodeProfile*> nodes;
    for (const NodeProfile& n : p.nodes)
      if (on(n, a)) nodes.push_back(&n);
    std::sort(nodes.begin(), nodes.end(), [&](const NodeProfile* x, const NodeProfile* y) {
      return on(*x, a)->median_us > on(*y, a)->median_us;
    });
    o << "\n  " << pad("node", 32) << pad(a + " us", 12) << pad(b + " us", 14) << a << "/" << b << "\n";
    for (int i = 0; i < top_n && i < static_cast<int>(nodes.size()); ++i) {
      const NodeProfile& n = *nodes[static_cast<std::size_t>(i)];
      const NodeDeviceProfile* db = on(n, b);
      o << "  " << pad(node_name(n), 32) << pad(fixed(on(n, a)->median_us, 2), 12)
        << pad(db ? fixed(db->median_us, 2) + (db->estimated ? " est" : "") : "-", 14)
        << (db && db->median_us > 0 ? fixed(on(n, a)->median_us / db->median_us, 2) + "x" : "cannot run") << "\n";
    }
  }

  if (!p.links.empty()) o << "\nlinks (alpha + bytes/beta)\n";
  for (const auto& [key, l] : p.links)
    o << "  " << pad(key, 11) << fixed(l.alpha_us, 2) << " us + " << fixed(l.beta_bytes_per_us / 1e3, 2)
      << " GB/s" << (l.estimated ? " (estimated)"
                                 : ", residual rms " + fixed(l.residual_us, 2) + " us, max " +
                                       fixed(l.max_residual_us, 2) + " us over " + std::to_string(l.samples.size()) +
                                       " sizes")
      << "\n";
  for (const std::string& note : p.notes) o << "note: " << note << "\n";
  return o.str();
}

}  // namespace tandem::profiler
