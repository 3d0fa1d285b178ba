#include "graph/shape.h"

#include <limits>

namespace tandem {

std::string Dim::to_string() const {
  if (is_known()) return std::to_string(value);
  return symbol.empty() ? "?" : symbol;
}

Shape Shape::of(std::initializer_list<int64_t> dims) {
  std::vector<Dim> d;
  for (int64_t v : dims) d.push_back(Dim::known(v));
  return Shape(std::move(d));
}

bool Shape::is_static() const {
  if (!has_rank_) return false;
  for (const Dim& d : dims_)
    if (!d.is_known()) return false;
  return true;
}

std::optional<int64_t> checked_mul(int64_t a, int64_t b) {
  if (a < 0 || b < 0) return std::nullopt;
  if (a != 0 && b > std::numeric_limits<int64_t>::max() / a) return std::nullopt;
  return a * b;
}

std::optional<int64_t> Shape::num_elements() const {
  if (!is_static()) return std::nullopt;
  int64_t n = 1;
  for (const Dim& d : dims_) {
    auto m = checked_mul(n, d.value);
    if (!m) return std::nullopt;
    n = *m;
  }
  return n;
}

std::optional<int64_t> Shape::num_elements_symbols_as_one() const {
  if (!has_rank_) return std::nullopt;
  int64_t n = 1;
  for (const Dim& d : dims_) {
    auto m = checked_mul(n, d.is_known() ? d.value : 1);
    if (!m) return std::nullopt;
    n = *m;
  }
  return n;
}

std::string Shape::to_string() const {
  if (!has_rank_) return "?";
  std::string s = "[";
  for (std::size_t i = 0; i < dims_.size(); ++i) {
    if (i) s += ",";
    s += dims_[i].to_string();
  }
  return s + "]";
}

std::ostream& operator<<(std::ostream& os, const Dim& d) { return os << d.to_string(); }
std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.to_string(); }

}  // namespace tandem
