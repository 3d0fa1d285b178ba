// Text helpers shared by the HTML and Markdown reports: escaping for each target and readable numbers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tandem::profiler::report_format {

// For HTML text and attribute values (double-quoted) alike, inline SVG included: & < > " '.
std::string html_escape(std::string_view s);
// For a Markdown table cell: | \ ` * and word-edge _ escaped, < and & as entities (Markdown renderers pass
// raw HTML through), line breaks as spaces.
std::string md_escape(std::string_view s);

// 0.42 us, 12.3 us, 1.25 ms, 2.50 s.
std::string duration(double us);
// 512 B, 1.5 KiB, 3.00 MiB, 1.20 GiB.
std::string bytes(int64_t b);
// printf("%.*f").
std::string fixed(double x, int digits);

}  // namespace tandem::profiler::report_format
