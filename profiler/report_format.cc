#include "profiler/report_format.h"

#include <cctype>
#include <cmath>
#include <cstdio>

namespace tandem::profiler::report_format {

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string md_escape(std::string_view s) {
  auto word = [&](std::size_t i) { return i < s.size() && std::isalnum(static_cast<unsigned char>(s[i])) != 0; };
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    switch (const char c = s[i]) {
      case '\\': out += "\\\\"; break;
      case '|': out += "\\|"; break;
      case '`': out += "\\`"; break;
      case '*': out += "\\*"; break;
      // Inside a word `_` is plain text to CommonMark; only at a word's edge can it start emphasis.
      case '_': out += (i > 0 && word(i - 1) && word(i + 1)) ? "_" : "\\_"; break;
      // `<` could open a raw HTML tag and `&` an entity; `>` is harmless away from a line's start.
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '\n':
      case '\r': out += ' '; break;
      default: out += c;
    }
  }
  return out;
}

std::string fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

std::string duration(double us) {
  if (!std::isfinite(us)) return "?";
  const double a = std::fabs(us);
  if (a < 10) return fixed(us, 2) + " us";
  if (a < 1000) return fixed(us, 1) + " us";
  if (a < 1e6) return fixed(us / 1e3, 2) + " ms";
  return fixed(us / 1e6, 2) + " s";
}

std::string bytes(int64_t b) {
  const double a = std::fabs(static_cast<double>(b));
  if (a < 1024) return std::to_string(b) + " B";
  if (a < 1024.0 * 1024) return fixed(static_cast<double>(b) / 1024, 1) + " KiB";
  if (a < 1024.0 * 1024 * 1024) return fixed(static_cast<double>(b) / (1024.0 * 1024), 2) + " MiB";
  return fixed(static_cast<double>(b) / (1024.0 * 1024 * 1024), 2) + " GiB";
}

}  // namespace tandem::profiler::report_format
