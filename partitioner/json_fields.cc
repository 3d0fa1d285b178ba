#include "partitioner/json_fields.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tandem::partition::json_fields {

std::string describe(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number with a fraction";
    default:
      return "something else";
  }
}

Status Fields::expect_object() const {
  if (j_.is_object()) return Status::ok();
  return Status::error((path_.empty() ? std::string("top level") : path_) + ": expected an object, got " +
                       describe(j_));
}

Status Fields::missing(const char* key) const {
  return Status::error((path_.empty() ? std::string("top level") : path_) + ": missing field '" + key + "'");
}

Status Fields::error(const char* key, const std::string& what) const {
  return Status::error(path_of(key) + ": " + what);
}

Status Fields::string(const char* key, std::string* out, bool required) const {
  if (!has(key)) return required ? missing(key) : Status::ok();
  const json& v = j_.at(key);
  if (!v.is_string()) return error(key, "expected a string, got " + describe(v));
  *out = v.get<std::string>();
  return Status::ok();
}

Status Fields::boolean(const char* key, bool* out, bool required) const {
  if (!has(key)) return required ? missing(key) : Status::ok();
  const json& v = j_.at(key);
  if (!v.is_boolean()) return error(key, "expected true or false, got " + describe(v));
  *out = v.get<bool>();
  return Status::ok();
}

Status Fields::integer(const char* key, int64_t* out, bool required, int64_t min) const {
  if (!has(key)) return required ? missing(key) : Status::ok();
  const json& v = j_.at(key);
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    return error(key, "too large");
  if (!v.is_number_integer()) return error(key, "expected an integer, got " + describe(v));
  const int64_t x = v.get<int64_t>();
  if (x < min) return error(key, "must be at least " + std::to_string(min) + ", got " + std::to_string(x));
  *out = x;
  return Status::ok();
}

Status Fields::number(const char* key, double* out, bool required, double min) const {
  if (!has(key)) return required ? missing(key) : Status::ok();
  const json& v = j_.at(key);
  if (!v.is_number()) return error(key, "expected a number, got " + describe(v));
  const double x = v.get<double>();
  if (x < min) {
    std::ostringstream os;
    os << "must be at least " << min << ", got " << x;
    return error(key, os.str());
  }
  *out = x;
  return Status::ok();
}

Status Fields::optional_number(const char* key, std::optional<double>* out, double min) const {
  if (!has(key)) {
    out->reset();
    return Status::ok();
  }
  double x = 0;
  TANDEM_RETURN_IF_ERROR(number(key, &x, true, min));
  *out = x;
  return Status::ok();
}

Status Fields::optional_integer(const char* key, std::optional<int64_t>* out, int64_t min) const {
  if (!has(key)) {
    out->reset();
    return Status::ok();
  }
  int64_t x = 0;
  TANDEM_RETURN_IF_ERROR(integer(key, &x, true, min));
  *out = x;
  return Status::ok();
}

Status parse(std::string_view text, json* out) {
  try {
    *out = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    // nlohmann's message already says where ("at line 3, column 5").
    std::string what = e.what();
    const auto pos = what.find("] ");
    return Status::error("not valid JSON: " + (pos == std::string::npos ? what : what.substr(pos + 2)));
  }
  return Status::ok();
}

Result<std::string> read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::error(std::string("cannot open ") + what + " file '" + path +
                         "': " + std::strerror(errno));
  std::ostringstream os;
  os << in.rdbuf();
  if (in.bad()) return Status::error(std::string("cannot read ") + what + " file '" + path + "'");
  return os.str();
}

Status write_file(const std::string& path, const std::string& text, const char* what) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out)
    return Status::error(std::string("cannot write ") + what + " file '" + path +
                         "': " + std::strerror(errno));
  out << text;
  out.close();
  if (!out) return Status::error(std::string("cannot write ") + what + " file '" + path + "'");
  return Status::ok();
}

}  // namespace tandem::partition::json_fields
