// Reading a node's attributes in kernel factories, with ONNX's defaults and checked types.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/status.h"
#include "runtime/kernel.h"

namespace tandem::cpu {

int64_t attr_int(const Node& n, const std::string& name, int64_t fallback);
float attr_float(const Node& n, const std::string& name, float fallback);
std::string attr_string(const Node& n, const std::string& name, const std::string& fallback);
std::vector<int64_t> attr_ints(const Node& n, const std::string& name, std::vector<int64_t> fallback = {});
std::vector<float> attr_floats(const Node& n, const std::string& name, std::vector<float> fallback = {});
std::vector<std::string> attr_strings(const Node& n, const std::string& name,
                                      std::vector<std::string> fallback = {});
bool has_attr(const Node& n, const std::string& name);

// An axis in [-rank, rank-1] made non-negative, or an error naming it.
Result<int64_t> normalize_axis(int64_t axis, int64_t rank, const std::string& what);

// A shape seen around one axis: the elements before it (outer), along it (n) and after it (inner).
struct AxisLayout {
  int64_t outer = 1, n = 1, inner = 1;
};
// The layout around `axis` (already non-negative); coerce_2d folds every dimension from axis on into n.
AxisLayout layout_around(const std::vector<int64_t>& shape, int64_t axis, bool coerce_2d = false);

// The int64 (or int32) elements of a small 1-D shape-like tensor (axes, shape, pads...).
Result<std::vector<int64_t>> read_int_list(const Tensor& t, const std::string& what);

}  // namespace tandem::cpu
