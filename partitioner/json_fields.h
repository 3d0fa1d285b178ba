// Reading JSON objects field by field with errors that name the field's path ("nodes[3].devices.cuda"),
// shared by the Profile and Plan readers. Internal to the partitioner.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "graph/status.h"

namespace tandem::partition::json_fields {

using nlohmann::json;

// "a string", "an array", ...: how messages describe what was found.
std::string describe(const json& j);

// An object at `path`. Getters return an error naming `path.key` when the field has the wrong type or
// range; an absent optional field leaves *out as it is.
class Fields {
 public:
  Fields(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

  Status expect_object() const;
  bool has(const char* key) const { return j_.contains(key) && !j_.at(key).is_null(); }
  std::string path_of(const char* key) const { return path_.empty() ? key : path_ + "." + key; }
  const std::string& path() const { return path_; }
  const json& at(const char* key) const { return j_.at(key); }

  Status string(const char* key, std::string* out, bool required) const;
  Status boolean(const char* key, bool* out, bool required) const;
  Status integer(const char* key, int64_t* out, bool required, int64_t min = 0) const;
  Status number(const char* key, double* out, bool required, double min = 0) const;
  Status optional_number(const char* key, std::optional<double>* out, double min = 0) const;
  Status optional_integer(const char* key, std::optional<int64_t>* out, int64_t min = 0) const;

  Status missing(const char* key) const;
  Status error(const char* key, const std::string& what) const;

 private:
  const json& j_;
  std::string path_;
};

// Parses text into *out, or an error "not valid JSON: <where and why>".
Status parse(std::string_view text, json* out);

Result<std::string> read_file(const std::string& path, const char* what);
Status write_file(const std::string& path, const std::string& text, const char* what);

}  // namespace tandem::partition::json_fields
