#include "onnx_import/external_data.h"

#include <charconv>
#include <filesystem>
#include <fstream>

#include <onnx/onnx_pb.h>

namespace tandem::onnx_import {
namespace fs = std::filesystem;
namespace {

Result<int64_t> parse_count(const std::string& key, const std::string& text) {
  int64_t v = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0)
    return Status::error("external data entry '" + key + "' is '" + text + "', not a non-negative integer");
  return v;
}

// True when `inner` (canonical) lies in folder `outer` (canonical).
bool is_inside(const fs::path& inner, const fs::path& outer) {
  auto o = outer.begin(), i = inner.begin();
  for (; o != outer.end(); ++o, ++i)
    if (i == inner.end() || *o != *i) return false;
  return true;
}

}  // namespace

Result<std::vector<std::byte>> ExternalDataReader::read(const onnx::TensorProto& t,
                                                        std::size_t expected_bytes) const {
  std::string location;
  int64_t offset = 0, length = -1;
  bool has_location = false;
  for (const auto& kv : t.external_data()) {
    if (kv.key() == "location") {
      location = kv.value();
      has_location = true;
    } else if (kv.key() == "offset") {
      TANDEM_ASSIGN_OR_RETURN(offset, parse_count(kv.key(), kv.value()));
    } else if (kv.key() == "length") {
      TANDEM_ASSIGN_OR_RETURN(length, parse_count(kv.key(), kv.value()));
    }
    // "checksum" and any other key are advisory: nothing to verify them against here.
  }
  if (!has_location || location.empty()) return Status::error("external data has no 'location' entry");
  if (model_dir_.empty())
    return Status::error("external data file '" + location +
                         "' cannot be resolved: the model was loaded from bytes, not from a file in a folder");

  const fs::path rel(location);
  if (rel.is_absolute() || rel.has_root_name() || rel.has_root_directory())
    return Status::error("external data location '" + location + "' is an absolute path; it must be relative "
                         "to the model's folder");
  for (const auto& part : rel)
    if (part == "..")
      return Status::error("external data location '" + location + "' contains '..' and would leave the "
                           "model's folder");

  std::error_code ec;
  const fs::path dir = fs::canonical(model_dir_, ec);
  if (ec) return Status::error("model folder '" + model_dir_ + "' cannot be resolved: " + ec.message());
  const fs::path file = fs::canonical(dir / rel, ec);
  if (ec) return Status::error("external data file '" + location + "' not found in the model's folder");
  if (!is_inside(file, dir))
    return Status::error("external data location '" + location + "' resolves to '" + file.string() +
                         "', outside the model's folder (through a symbolic link)");
  if (!fs::is_regular_file(file, ec))
    return Status::error("external data location '" + location + "' is not a regular file");
  const auto file_size = static_cast<int64_t>(fs::file_size(file, ec));
  if (ec) return Status::error("external data file '" + location + "': " + ec.message());

  const auto want = static_cast<int64_t>(expected_bytes);
  if (length >= 0 && length != want)
    return Status::error("external data for '" + location + "' has length " + std::to_string(length) +
                         " but the tensor's shape and type need " + std::to_string(want) + " bytes");
  if (offset > file_size || want > file_size - offset)
    return Status::error("external data file '" + location + "' has " + std::to_string(file_size) +
                         " bytes; reading " + std::to_string(want) + " bytes at offset " + std::to_string(offset) +
                         " would run past its end");

  std::vector<std::byte> bytes(expected_bytes);
  std::ifstream in(file, std::ios::binary);
  in.seekg(offset);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), want))
    return Status::error("external data file '" + location + "' could not be read");
  return bytes;
}

}  // namespace tandem::onnx_import
