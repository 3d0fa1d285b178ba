// Numbers and bools to and from strings, as Cast does it between a string tensor and any other type.
//
// To a string: integers in decimal; floats as the shortest decimal that reads back to the same value (what
// NumPy prints: positional from 1e-4 up to 1e16, with ".0" on whole numbers, scientific otherwise), and
// NaN, INF, -INF as ONNX names them; bools as "1" and "0" (as ONNX Runtime writes them). ONNX Runtime
// 1.30 prints floats as C's %.8g does ("0.30000001" for 0.3f, "3" for 3.0f, "1.2345679e+08"); tandem
// follows NumPy, which ONNX's test data and reference come from, and its text always reads back exactly.
// From a string: a decimal or scientific number, surrounding spaces ignored; "INF", "+INF", "-INF",
// "Infinity" and "NaN" in any case; "true" and "false" (any case) for bools besides numbers. A float read
// into an integer type truncates as Cast from a float does ("100.5" gives 100); an integer literal is read
// exactly and wraps into a narrower integer type as Cast between integers does. Anything else (ONNX leaves
// it undefined) is an error naming the string, rather than a silent 0.
#pragma once

#include <string>
#include <string_view>

#include "graph/status.h"
#include "runtime/tensor.h"

namespace tandem::cpu {

// Writes every element of `in` (a numeric or bool tensor) as a string into `out` (a string tensor of as
// many elements).
Status format_elements(const Tensor& in, Tensor& out);

// Reads every string of `in` into `out` (a numeric or bool tensor of as many elements); the error names
// the first string that is not a number of that type.
Status parse_elements(const Tensor& in, Tensor& out);

}  // namespace tandem::cpu
