#include "runtime_cpu/kernels/string_elements.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <type_traits>

#include "graph/utf8.h"
#include "runtime_cpu/kernels/element_types.h"

namespace tandem::cpu {
namespace {

using StringCastTypes = NumericAndBoolTypes;

std::string numpy_layout(const std::string& sci, double a);

// Shortest round-trip digits (to_chars) laid out as NumPy does: positional for 1e-4 <= |v| < 1e16, with
// ".0" on whole numbers and zeros after the digits rather than more digits (float32 123456789 prints
// "123456790.0", as its shortest digits are 12345679); scientific otherwise.
template <typename F>
std::string format_float(F v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v < 0 ? "-INF" : "INF";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  return numpy_layout(std::string(buf, r.ptr), std::fabs(static_cast<double>(v)));
}

// A 16-bit float's shortest digits are its own, not those of the float holding it: the fewest significant
// digits that read back, rounded to the 16-bit type, as the same value (NumPy prints float16(0.1) as "0.1";
// float32's shortest digits of the same value are 0.099975586). bfloat16 likewise.
template <typename T>
std::string format_narrow_float(T v) {
  const float f = ElementTraits<T>::load(v);
  if (std::isnan(f) || std::isinf(f)) return format_float(f);
  char buf[64];
  for (int precision = 0;; ++precision) {  // digits after the first; 8 always suffice (float32's)
    const auto r = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific, precision);
    double back = 0;
    std::from_chars(buf, r.ptr, back, std::chars_format::scientific);
    const T again = std::is_same_v<T, Half> ? T{half_from_double(back).bits} : T{bfloat16_from_double(back).bits};
    if (again.bits == v.bits || precision >= 8)
      return numpy_layout(std::string(buf, r.ptr), std::fabs(static_cast<double>(f)));
  }
}

// Scientific digits [-]d[.ddd]e(+|-)XX of a value of magnitude `a`, laid out as NumPy prints.
std::string numpy_layout(const std::string& sci, double a) {
  // NumPy's bounds, compared exactly (float32(1e-4) < 1e-4)
  if (!(a == 0 || (a >= 1e-4 && a < 1e16))) return sci;
  // sci is [-]d[.ddd]e(+|-)XX
  const std::size_t e = sci.find('e');
  const bool negative = sci[0] == '-';
  std::string digits;
  for (std::size_t i = negative ? 1 : 0; i < e; ++i)
    if (sci[i] != '.') digits += sci[i];
  const int exponent = std::stoi(sci.substr(e + 1));
  std::string out = negative ? "-" : "";
  if (exponent < 0) {
    out += "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
  } else {
    const auto whole = static_cast<std::size_t>(exponent) + 1;
    if (digits.size() <= whole) {
      out += digits + std::string(whole - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, whole) + "." + digits.substr(whole);
    }
  }
  return out;
}

template <typename T>
std::string format_element(T v) {
  if constexpr (std::is_same_v<T, Bool>) {
    return v.byte ? "1" : "0";
  } else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
    return format_narrow_float(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    return format_float(v);
  } else {
    return std::to_string(v);
  }
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool equals_lower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if ((s[i] >= 'A' && s[i] <= 'Z' ? static_cast<char>(s[i] - 'A' + 'a') : s[i]) != lower[i]) return false;
  return true;
}

// The whole of `s` as a float of type F (float or double); nullopt when it is not one. Values beyond F's
// range read as infinity, values below its smallest as zero (from_chars refuses both; strtod gives them).
template <typename F>
std::optional<F> read_float(std::string_view s) {
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) return std::nullopt;
  }
  F v{};
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
  if (r.ptr != s.data() + s.size()) return std::nullopt;
  if (r.ec == std::errc::result_out_of_range) {
    const std::string copy(s);
    if constexpr (std::is_same_v<F, float>)
      return std::strtof(copy.c_str(), nullptr);
    else
      return std::strtod(copy.c_str(), nullptr);
  }
  if (r.ec != std::errc()) return std::nullopt;
  return v;
}

// An integer literal (optional sign, digits only) that fits 64 bits: its value as int64 or, above that
// (positive only), uint64. False for anything else, which is then read as a float.
struct IntegerLiteral {
  bool is_unsigned = false;
  int64_t i = 0;
  uint64_t u = 0;
};

bool read_integer(std::string_view s, IntegerLiteral& out) {
  std::string_view digits = s;
  if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) digits.remove_prefix(1);
  if (digits.empty()) return false;
  for (char c : digits)
    if (c < '0' || c > '9') return false;
  if (s.front() == '-') return std::from_chars(s.data(), s.data() + s.size(), out.i).ec == std::errc();
  if (std::from_chars(digits.data(), digits.data() + digits.size(), out.u).ec != std::errc()) return false;
  out.is_unsigned = out.u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  out.i = static_cast<int64_t>(out.u);
  return true;
}

template <typename T>
std::optional<T> parse_element(const std::string& text) {
  const std::string_view s = trimmed(text);
  if constexpr (std::is_same_v<T, Bool>) {
    if (equals_lower(s, "true")) return Bool{1};
    if (equals_lower(s, "false")) return Bool{0};
  }
  if constexpr (!is_floating_v<T>) {
    // Integer types and bool: an integer literal exactly, wrapping as Cast between integers does.
    IntegerLiteral lit;
    // Beyond 64 bits it reads as a float below, and saturates as a float does.
    if (read_integer(s, lit))
      return lit.is_unsigned ? convert_element<T>(lit.u) : convert_element<T>(lit.i);
  }
  if constexpr (std::is_same_v<T, float>) {
    return read_float<float>(s);
  } else {
    const std::optional<double> d = read_float<double>(s);
    if (!d) return std::nullopt;
    return convert_element<T>(*d);
  }
}

Status count_check(const Tensor& in, const Tensor& out) {
  if (in.numel() != out.numel())
    return Status::error("cast of " + in.describe() + " into " + out.describe() + ": element counts differ");
  return Status::ok();
}

}  // namespace

Status format_elements(const Tensor& in, Tensor& out) {
  TANDEM_RETURN_IF_ERROR(count_check(in, out));
  if (out.dtype() != DType::kString) return Status::error("format_elements: the output is " + out.describe());
  std::string* q = out.data<std::string>();
  const bool known = dispatch(in.dtype(), StringCastTypes{}, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = in.data<T>();
    for (int64_t i = 0, n = in.numel(); i < n; ++i) q[i] = format_element(p[i]);
  });
  if (!known) return Status::error("cannot cast " + std::string(dtype_name(in.dtype())) + " to string");
  return Status::ok();
}

Status parse_elements(const Tensor& in, Tensor& out) {
  TANDEM_RETURN_IF_ERROR(count_check(in, out));
  if (in.dtype() != DType::kString) return Status::error("parse_elements: the input is " + in.describe());
  const std::string* p = in.data<std::string>();
  Status status = Status::ok();
  const bool known = dispatch(out.dtype(), StringCastTypes{}, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* q = out.data<T>();
    for (int64_t i = 0, n = in.numel(); i < n; ++i) {
      const std::optional<T> v = parse_element<T>(p[i]);
      if (!v) {
        status = Status::error("element " + std::to_string(i) + ", " + quoted(p[i]) + ", is not " +
                               (std::is_same_v<T, Bool> ? "a bool (true, false or a number)" : "a number") +
                               " (casting to " + std::string(dtype_name(dtype_v<T>)) + ")");
        return;
      }
      q[i] = *v;
    }
  });
  if (!known) return Status::error("cannot cast string to " + std::string(dtype_name(out.dtype())));
  return status;
}

}  // namespace tandem::cpu
