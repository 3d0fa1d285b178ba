// UTF-8 to and from Unicode code points, for string tensors (whose elements are UTF-8 by ONNX's convention,
// though any bytes may be stored): changing case, and NumPy's UTF-32 string arrays.
#pragma once

#include <optional>
#include <string>

namespace tandem {

// The code points of `s`; nullopt when it is not valid UTF-8 (overlong forms, surrogates and values past
// U+10FFFF are invalid).
std::optional<std::u32string> decode_utf8(const std::string& s);

// Appends code point `c` (at most U+10FFFF, not a surrogate: callers check) to `out` as UTF-8.
void append_utf8(std::string& out, char32_t c);
std::string encode_utf8(const std::u32string& s);

// `s` in double quotes for an error message on one line: quotes, backslashes and control characters
// escaped (\n, \t, \xNN), bytes that are not UTF-8 as \xNN, cut after `max_chars` characters with "...".
std::string quoted(const std::string& s, std::size_t max_chars = 64);

// Whether `c` is a code point that UTF-8 can carry.
inline bool is_code_point(char32_t c) { return c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF); }

}  // namespace tandem
