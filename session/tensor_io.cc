#include "session/tensor_io.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

#include <onnx/onnx-data_pb.h>
#include <onnx/onnx_pb.h>

#include "graph/shape.h"
#include "graph/utf8.h"
#include "onnx_import/external_data.h"
#include "onnx_import/limits.h"
#include "onnx_import/tensor_import.h"

namespace tandem {
namespace {

const std::string kNpyMagic = "\x93NUMPY";

// NumPy descr strings for the types tandem reads and writes (little-endian, or byte-sized '|').
const std::map<std::string, DType>& npy_types() {
  static const std::map<std::string, DType> m = {
      {"<f4", DType::kFloat32}, {"<f8", DType::kFloat64}, {"<f2", DType::kFloat16}, {"<i8", DType::kInt64},
      {"<i4", DType::kInt32},   {"<i2", DType::kInt16},   {"|i1", DType::kInt8},    {"|u1", DType::kUInt8},
      {"<u2", DType::kUInt16},  {"<u4", DType::kUInt32},  {"<u8", DType::kUInt64},  {"|b1", DType::kBool}};
  return m;
}

// A fixed-width NumPy string type: `width` units of `unit` bytes (4: UTF-32 code points, 1: bytes).
struct NpyStrings {
  std::size_t width = 0;
  std::size_t unit = 0;
};

std::optional<NpyStrings> npy_strings(const std::string& descr) {
  if (descr.size() < 3 || !(descr.compare(0, 2, "<U") == 0 || descr.compare(0, 2, "|S") == 0)) return std::nullopt;
  std::size_t width = 0;
  for (std::size_t i = 2; i < descr.size(); ++i) {
    if (descr[i] < '0' || descr[i] > '9' || width > (std::size_t{1} << 30)) return std::nullopt;
    width = width * 10 + static_cast<std::size_t>(descr[i] - '0');
  }
  return NpyStrings{width, descr[0] == '<' ? std::size_t{4} : std::size_t{1}};
}

// Elements as tandem holds strings: UTF-8 (from '<U') or the bytes themselves ('|S'), trailing NULs cut.
Status decode_npy_strings(const char* data, int64_t count, const NpyStrings& type, std::string* out) {
  const std::size_t element_bytes = type.width * type.unit;
  for (int64_t i = 0; i < count; ++i) {
    const char* e = data + static_cast<std::size_t>(i) * element_bytes;
    std::string& s = out[i];
    if (type.unit == 1) {
      std::size_t n = type.width;
      while (n > 0 && e[n - 1] == '\0') --n;
      s.assign(e, n);
      continue;
    }
    std::size_t n = type.width;
    auto unit_at = [&](std::size_t k) {
      uint32_t c = 0;
      for (int b = 3; b >= 0; --b) c = c << 8 | static_cast<unsigned char>(e[k * 4 + static_cast<std::size_t>(b)]);
      return c;
    };
    while (n > 0 && unit_at(n - 1) == 0) --n;
    for (std::size_t k = 0; k < n; ++k) {
      const uint32_t c = unit_at(k);
      if (!is_code_point(static_cast<char32_t>(c)))
        return Status::error("element " + std::to_string(i) + " holds " + std::to_string(c) +
                             ", which is not a Unicode code point");
      append_utf8(s, static_cast<char32_t>(c));
    }
  }
  return Status::ok();
}

// The value of `key` in the header's Python dict literal, e.g. 'descr': '<f4' -> "'<f4'".
std::string dict_value(const std::string& header, const std::string& key) {
  const auto k = header.find("'" + key + "'");
  if (k == std::string::npos) return {};
  auto colon = header.find(':', k);
  if (colon == std::string::npos) return {};
  auto start = header.find_first_not_of(' ', colon + 1);
  if (start == std::string::npos) return {};
  const char open = header[start];
  const char close = open == '(' ? ')' : open == '\'' ? '\'' : ',';
  const auto end = header.find(close, start + 1);
  if (end == std::string::npos) return {};
  return header.substr(start, end - start + (close == ',' ? 0 : 1));
}

Result<Tensor> parse_npy(const std::string& bytes, const std::string& path) {
  const std::string what = "'" + path + "': ";
  if (bytes.size() < 10) return Status::error(what + "truncated .npy header");
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8;
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return Status::error(what + "truncated .npy header");
    for (int i = 0; i < 4; ++i) header_len |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    offset = 12;
  } else {
    return Status::error(what + ".npy version " + std::to_string(major) + " is not supported");
  }
  if (bytes.size() < offset + header_len) return Status::error(what + "truncated .npy header");
  const std::string header = bytes.substr(offset, header_len);
  std::string descr = dict_value(header, "descr");
  if (descr.size() < 2) return Status::error(what + ".npy header has no 'descr'");
  descr = descr.substr(1, descr.size() - 2);
  if (descr == "=f4") descr = "<f4";
  // Strings: NumPy's fixed-width '<U<n>' (n UTF-32 code points) and '|S<n>' (n bytes), NUL-padded.
  std::optional<NpyStrings> strings = npy_strings(descr);
  auto type = strings ? npy_types().end() : npy_types().find(descr);
  if (!strings && type == npy_types().end())
    return Status::error(what + ".npy element type '" + descr + "' is not supported (little-endian numbers, bool and " +
                         "fixed-width strings '<U' or '|S'" + (descr.find('O') != std::string::npos
                             ? "; an object array of strings saves as one with np.save(f, a.astype(str))" : "") + ")");
  if (dict_value(header, "fortran_order").rfind("True", 0) == 0)
    return Status::error(what + "Fortran-ordered .npy arrays are not supported; save with np.ascontiguousarray");
  std::string shape_text = dict_value(header, "shape");
  if (shape_text.size() < 2 || shape_text.front() != '(') return Status::error(what + ".npy header has no 'shape'");
  std::vector<int64_t> shape;
  std::stringstream ss(shape_text.substr(1, shape_text.size() - 2));
  std::string item;
  int64_t count = 1;
  while (std::getline(ss, item, ',')) {
    const auto first = item.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    // The whole item must be a number ("3", or Python 2's "3L"): stoll alone read "35]5" as 35.
    std::string digits = item.substr(first, item.find_last_not_of(' ') + 1 - first);
    if (digits.size() > 1 && digits.back() == 'L') digits.pop_back();
    int64_t d = -1;
    if (digits.find_first_not_of("0123456789") == std::string::npos && digits.size() <= 18) d = std::stoll(digits);
    if (d < 0 || d > onnx_import::kMaxDimension) return Status::error(what + ".npy shape " + shape_text + " is invalid");
    auto m = checked_mul(count, d);
    if (!m || *m > onnx_import::kMaxElements) return Status::error(what + ".npy shape " + shape_text + " is too large");
    count = *m;
    shape.push_back(d);
  }
  // The size check comes before the allocation: a header's shape alone must not make us allocate (a
  // corrupt one asked for 800 GB and ended as "internal error: std::bad_alloc"). Zero-width strings take
  // no bytes in the file, so their count is the header's word alone (a 128-byte '<U0' file of shape
  // (1000000000,) asked for 32 GB of empty strings): refused.
  if (strings && strings->width == 0 && count > 0)
    return Status::error(what + ".npy element type '" + descr + "' has zero width: its " + std::to_string(count) +
                         " strings would take no bytes in the file, and tandem reads strings only of width 1 or " +
                         "more (save with a.astype('<U1'))");
  const std::size_t data_at = offset + header_len;
  const std::size_t element_bytes = strings ? strings->width * strings->unit : dtype_size(type->second);
  std::size_t need = 0;
  const bool too_many = __builtin_mul_overflow(static_cast<std::size_t>(count), element_bytes, &need);
  if (too_many || bytes.size() - data_at != need)
    return Status::error(what + ".npy holds " + std::to_string(bytes.size() - data_at) + " bytes of data, its shape " +
                         shape_text + " needs " + (too_many ? std::string("more than 2^64") : std::to_string(need)) +
                         (strings ? " for '" + descr + "'" : std::string()));
  if (strings) {
    Tensor t = Tensor::empty(DType::kString, shape);
    auto r = decode_npy_strings(bytes.data() + data_at, count, *strings, t.data<std::string>());
    if (!r) return Status::error(what + r.message());
    return t;
  }
  Tensor t = Tensor::empty(type->second, shape);
  if (need) std::memcpy(t.raw(), bytes.data() + data_at, need);
  return t;
}

Result<Tensor> import_pb_tensor(const onnx::TensorProto& proto, const std::string& path, const std::string& what) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  onnx_import::ExternalDataReader external(dir.empty() ? "." : dir);
  TANDEM_ASSIGN_OR_RETURN(TensorDataPtr data, onnx_import::import_tensor(proto, external, "'" + path + "': " + what));
  return Tensor::from_constant(data);
}

Result<NamedTensor> parse_pb(const std::string& bytes, const std::string& path) {
  onnx::TensorProto proto;
  if (!proto.ParseFromString(bytes))
    return Status::error("'" + path + "': neither a .npy file nor an ONNX TensorProto");
  TANDEM_ASSIGN_OR_RETURN(Tensor t, import_pb_tensor(proto, path, "tensor"));
  return NamedTensor{proto.name(), std::move(t)};
}

Result<Tensor> import_pb_sequence(const onnx::SequenceProto& proto, const std::string& path) {
  if (proto.elem_type() != onnx::SequenceProto::TENSOR)
    return Status::error("'" + path + "': a sequence of elem_type " + std::to_string(proto.elem_type()) +
                         "; tandem holds sequences of tensors");
  std::vector<Tensor> elements;
  DType dtype = DType::kUndefined;
  for (int k = 0; k < proto.tensor_values_size(); ++k) {
    TANDEM_ASSIGN_OR_RETURN(Tensor t, import_pb_tensor(proto.tensor_values(k), path, "element " + std::to_string(k)));
    if (k > 0 && t.dtype() != dtype)
      return Status::error("'" + path + "': element " + std::to_string(k) + " is " + t.describe() + " but element 0 is " +
                           std::string(dtype_name(dtype)));
    dtype = t.dtype();
    elements.push_back(std::move(t));
  }
  return Tensor::sequence(dtype, std::move(elements));
}

Result<std::string> read_bytes(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return Status::error("'" + path + "': file not found");
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Result<NamedTensor> read_tensor_file(const std::string& path) {
  TANDEM_ASSIGN_OR_RETURN(const std::string bytes, read_bytes(path));
  return parse_tensor_bytes(bytes, path);
}

Result<NamedTensor> read_value_file(const std::string& path, ValueForm form, DType dtype) {
  TANDEM_ASSIGN_OR_RETURN(const std::string bytes, read_bytes(path));
  return parse_value_bytes(bytes, path, form, dtype);
}

Result<NamedTensor> parse_tensor_bytes(const std::string& bytes, const std::string& path) {
  if (bytes.rfind(kNpyMagic, 0) == 0) {
    TANDEM_ASSIGN_OR_RETURN(Tensor t, parse_npy(bytes, path));
    return NamedTensor{"", std::move(t)};
  }
  return parse_pb(bytes, path);
}

Result<NamedTensor> parse_value_bytes(const std::string& bytes, const std::string& path, ValueForm form, DType dtype) {
  if (form == ValueForm::kTensor) return parse_tensor_bytes(bytes, path);
  // Protobuf parses most messages as most others: a TensorProto read as a SequenceProto (or OptionalProto)
  // was an empty one (its data_type taken for elem_type, the rest left over as unknown fields), a wrong
  // answer from the wrong file. Fields neither message has are refused.
  const auto not_a = [&](const std::string& what) {
    return Status::error("'" + path + "': not an ONNX " + what + " (it holds fields that no " + what +
                         " has; a TensorProto?)");
  };
  if (form == ValueForm::kSequence) {
    onnx::SequenceProto proto;
    if (!proto.ParseFromString(bytes)) return Status::error("'" + path + "': not an ONNX SequenceProto");
    if (!proto.unknown_fields().empty()) return not_a("SequenceProto");
    TANDEM_ASSIGN_OR_RETURN(Tensor t, import_pb_sequence(proto, path));
    if (t.dtype() == DType::kUndefined) t = Tensor::sequence(dtype, {});  // an empty one says no element type
    return NamedTensor{proto.name(), std::move(t)};
  }
  onnx::OptionalProto proto;
  if (!proto.ParseFromString(bytes)) return Status::error("'" + path + "': not an ONNX OptionalProto");
  if (!proto.unknown_fields().empty()) return not_a("OptionalProto");
  const bool of_sequence = form == ValueForm::kOptionalSequence;
  if (proto.has_tensor_value()) {
    if (of_sequence) return Status::error("'" + path + "': holds a tensor where a sequence is expected");
    TANDEM_ASSIGN_OR_RETURN(Tensor t, import_pb_tensor(proto.tensor_value(), path, "tensor"));
    return NamedTensor{proto.name(), std::move(t)};
  }
  if (proto.has_sequence_value()) {
    if (!of_sequence) return Status::error("'" + path + "': holds a sequence where a tensor is expected");
    TANDEM_ASSIGN_OR_RETURN(Tensor t, import_pb_sequence(proto.sequence_value(), path));
    if (t.dtype() == DType::kUndefined) t = Tensor::sequence(dtype, {});
    return NamedTensor{proto.name(), std::move(t)};
  }
  return NamedTensor{proto.name(), Tensor::none(dtype, of_sequence)};
}

Status write_npy(const std::string& path, const Tensor& t) {
  TANDEM_ASSIGN_OR_RETURN(const std::string bytes, npy_bytes(t));
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) return Status::error("cannot write '" + path + "'");
  return Status::ok();
}

bool npy_can_hold(DType t) {
  if (t == DType::kString) return true;
  return std::any_of(npy_types().begin(), npy_types().end(), [&](const auto& e) { return e.second == t; });
}

Status write_tensor_pb(const std::string& path, const std::string& name, const Tensor& t) {
  if (!t.is_tensor() || t.dtype() == DType::kString)
    return Status::error("cannot write a " + t.describe() + " as a TensorProto of raw data");
  onnx::TensorProto proto;
  proto.set_name(name);
  proto.set_data_type(static_cast<int32_t>(t.dtype()));  // DType numbers are ONNX's
  for (std::size_t d = 0; d < t.rank(); ++d) proto.add_dims(t.dim(d));
  proto.set_raw_data(static_cast<const char*>(t.raw()), t.nbytes());
  std::ofstream out(path, std::ios::binary);
  if (!out || !proto.SerializeToOstream(&out)) return Status::error("cannot write '" + path + "'");
  return Status::ok();
}

Result<std::string> npy_bytes(const Tensor& t) {
  if (!t.is_tensor()) return Status::error("cannot write a " + t.describe() + " as one .npy");
  std::string descr;
  for (const auto& [d, type] : npy_types())
    if (type == t.dtype()) descr = d;
  // Strings as '<U<n>' (what np.array(['a']) is), or as bytes, '|S<n>', when one is not valid UTF-8.
  std::string string_data;
  if (t.dtype() == DType::kString) {
    const std::string* s = t.data<std::string>();
    std::vector<std::u32string> points;
    bool utf8 = true;
    std::size_t width = 1;
    for (int64_t i = 0; i < t.numel() && utf8; ++i) {
      auto p = decode_utf8(s[i]);  // not UTF-8: written as bytes, '|S'
      utf8 = p.has_value();
      if (utf8) width = std::max(width, p->size()), points.push_back(std::move(*p));
    }
    if (!utf8) {
      width = 1;
      for (int64_t i = 0; i < t.numel(); ++i) width = std::max(width, s[i].size());
      string_data.assign(static_cast<std::size_t>(t.numel()) * width, '\0');
      for (int64_t i = 0; i < t.numel(); ++i) s[i].copy(string_data.data() + static_cast<std::size_t>(i) * width, s[i].size());
      descr = "|S" + std::to_string(width);
    } else {
      string_data.assign(static_cast<std::size_t>(t.numel()) * width * 4, '\0');
      for (std::size_t i = 0; i < points.size(); ++i)
        for (std::size_t k = 0; k < points[i].size(); ++k)
          for (int b = 0; b < 4; ++b)
            string_data[(i * width + k) * 4 + static_cast<std::size_t>(b)] =
                static_cast<char>(static_cast<uint32_t>(points[i][k]) >> (8 * b) & 0xFF);
      descr = "<U" + std::to_string(width);
    }
  }
  if (descr.empty())
    return Status::error("cannot write " + t.describe() + " as .npy: NumPy has no " +
                         std::string(dtype_name(t.dtype())) + " type");
  std::string shape = "(";  // as NumPy writes it: (), (3,), (2, 2)
  for (std::size_t d = 0; d < t.rank(); ++d) shape += (d ? ", " : "") + std::to_string(t.dim(d));
  if (t.rank() == 1) shape += ",";
  shape += ")";
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad with spaces so the data starts on a 64-byte boundary, ending the header with a newline. Version 1.0
  // says the header's length in 2 bytes; a longer header (a shape of some 22,000 dimensions or more) needs
  // version 2.0's 4 bytes, as NumPy writes it (a 2-byte length cut it, and the file read back as garbage).
  std::size_t preamble = 10, total = (preamble + header.size() + 1 + 63) / 64 * 64;
  const bool v2 = total - preamble > 0xFFFF;
  if (v2) preamble = 12, total = (preamble + header.size() + 1 + 63) / 64 * 64;
  header.append(total - preamble - header.size() - 1, ' ');
  header += '\n';
  std::string out = kNpyMagic + (v2 ? '\x02' : '\x01') + '\x00';
  for (std::size_t b = 0; b < preamble - 8; ++b) out += static_cast<char>(header.size() >> (8 * b) & 0xff);
  out += header;
  if (t.dtype() == DType::kString)
    out += string_data;
  else
    out.append(static_cast<const char*>(t.raw()), t.nbytes());
  return out;
}

}  // namespace tandem
