#include "runtime_cpu/kernels/attributes.h"

namespace tandem::cpu {

bool has_attr(const Node& n, const std::string& name) { return n.attribute(name) != nullptr; }

int64_t attr_int(const Node& n, const std::string& name, int64_t fallback) { return n.attribute_int(name, fallback); }

float attr_float(const Node& n, const std::string& name, float fallback) { return n.attribute_float(name, fallback); }

std::string attr_string(const Node& n, const std::string& name, const std::string& fallback) {
  return n.attribute_string(name, fallback);
}

std::vector<int64_t> attr_ints(const Node& n, const std::string& name, std::vector<int64_t> fallback) {
  const Attribute* a = n.attribute(name);
  return a && a->kind == Attribute::Kind::kInts ? a->ints : fallback;
}

std::vector<float> attr_floats(const Node& n, const std::string& name, std::vector<float> fallback) {
  const Attribute* a = n.attribute(name);
  return a && a->kind == Attribute::Kind::kFloats ? a->floats : fallback;
}

std::vector<std::string> attr_strings(const Node& n, const std::string& name, std::vector<std::string> fallback) {
  const Attribute* a = n.attribute(name);
  return a && a->kind == Attribute::Kind::kStrings ? a->strings : fallback;
}

Result<int64_t> normalize_axis(int64_t axis, int64_t rank, const std::string& what) {
  if (axis < -rank || axis >= rank)
    return Status::error(what + " " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

AxisLayout layout_around(const std::vector<int64_t>& shape, int64_t axis, bool coerce_2d) {
  AxisLayout l;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    const auto i = static_cast<int64_t>(d);
    if (i < axis)
      l.outer *= shape[d];
    else if (i == axis || coerce_2d)
      l.n *= shape[d];
    else
      l.inner *= shape[d];
  }
  return l;
}

Result<std::vector<int64_t>> read_int_list(const Tensor& t, const std::string& what) {
  if (t.rank() > 1) return Status::error(what + " must be 1-D, got " + t.describe());
  std::vector<int64_t> out(static_cast<std::size_t>(t.numel()));
  if (t.dtype() == DType::kInt64) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = t.data<int64_t>()[i];
  } else if (t.dtype() == DType::kInt32) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = t.data<int32_t>()[i];
  } else {
    return Status::error(what + " must be int64 or int32, got " + t.describe());
  }
  return out;
}

}  // namespace tandem::cpu
