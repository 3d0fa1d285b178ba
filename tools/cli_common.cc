#include "tools/cli_common.h"

#include <charconv>
#include <cstdio>

namespace tandem::cli {

std::map<std::string, int64_t> parse_dims(const std::vector<std::string>& specs) {
  std::map<std::string, int64_t> dims;
  for (const std::string& s : specs) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
      throw UsageError{"--dim expects NAME=VALUE, got '" + s + "'"};
    int64_t v = 0;
    const char* first = s.data() + eq + 1;
    const char* last = s.data() + s.size();
    auto [end, ec] = std::from_chars(first, last, v);
    if (ec != std::errc() || end != last || v < 0)
      throw UsageError{"--dim " + s + ": the value must be a non-negative integer"};
    dims[s.substr(0, eq)] = v;
  }
  return dims;
}

std::string with_thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

namespace {
std::string scaled(double v, const char* const* units, int count, double step) {
  int u = 0;
  while (v >= step && u + 1 < count) {
    v /= step;
    ++u;
  }
  char buf[48];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", v, units[u]);
  return buf;
}
}  // namespace

std::string human_bytes(int64_t bytes) {
  static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  return scaled(static_cast<double>(bytes), units, 5, 1024.0);
}

std::string human_flops(double flops) {
  static const char* const units[] = {"FLOP", "kFLOP", "MFLOP", "GFLOP", "TFLOP"};
  return scaled(flops, units, 5, 1000.0);
}

}  // namespace tandem::cli
