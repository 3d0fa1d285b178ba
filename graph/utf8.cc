#include "graph/utf8.h"

#include <cstdint>

namespace tandem {

namespace {

// The code point whose UTF-8 starts at s[i], and its length in bytes; length 0 when no valid one does.
int next_code_point(const std::string& s, std::size_t i, char32_t& out) {
  const auto b = static_cast<unsigned char>(s[i]);
  const int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + static_cast<std::size_t>(len) > s.size()) return 0;
  uint32_t c = len == 1 ? b : len == 2 ? b & 0x1Fu : len == 3 ? b & 0x0Fu : b & 0x07u;
  for (int k = 1; k < len; ++k) {
    const auto t = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((t >> 6) != 0x2) return 0;
    c = c << 6 | (t & 0x3Fu);
  }
  static constexpr uint32_t kLeast[] = {0, 0, 0x80, 0x800, 0x10000};  // below it: an overlong form
  if (c < kLeast[len] || !is_code_point(static_cast<char32_t>(c))) return 0;
  out = static_cast<char32_t>(c);
  return len;
}

}  // namespace

std::optional<std::u32string> decode_utf8(const std::string& s) {
  std::u32string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    char32_t c = 0;
    const int len = next_code_point(s, i, c);
    if (len == 0) return std::nullopt;
    out += c;
    i += static_cast<std::size_t>(len);
  }
  return out;
}

std::string quoted(const std::string& s, std::size_t max_chars) {
  static const char* kHex = "0123456789abcdef";
  const auto hex = [](unsigned char b) { return std::string("\\x") + kHex[b >> 4] + kHex[b & 0xF]; };
  std::string out = "\"";
  std::size_t chars = 0, i = 0;
  for (; i < s.size() && chars < max_chars; ++chars) {
    char32_t c = 0;
    const int len = next_code_point(s, i, c);
    if (len == 0) {
      out += hex(static_cast<unsigned char>(s[i++]));
      continue;
    }
    if (c == '"' || c == '\\') out += '\\', out += static_cast<char>(c);
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c < 0x20 || c == 0x7F) out += hex(static_cast<unsigned char>(c));
    else out.append(s, i, static_cast<std::size_t>(len));
    i += static_cast<std::size_t>(len);
  }
  out += '"';
  if (i < s.size()) out += "...";
  return out;
}

void append_utf8(std::string& out, char32_t ch) {
  const auto c = static_cast<uint32_t>(ch);
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

std::string encode_utf8(const std::u32string& s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) append_utf8(out, c);
  return out;
}

}  // namespace tandem
