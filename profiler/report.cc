#include "profiler/report.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace tandem::profiler {

Status write_report_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::error("cannot write report file '" + path + "': " + std::strerror(errno));
  out << text;
  out.close();
  if (!out) return Status::error("cannot write report file '" + path + "'");
  return Status::ok();
}

}  // namespace tandem::profiler
