// Shapes whose dimensions may be known numbers, named symbols ("batch") or unknown, and whose rank may
// itself be unknown. Symbolic names are kept because they tie dimensions of different values together
// (every "batch" is the same number at run time).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace tandem {

struct Dim {
  int64_t value = -1;  // >= 0 when known
  std::string symbol;  // non-empty when symbolic (value is then -1)

  static Dim known(int64_t v) { return Dim{v, {}}; }
  static Dim symbolic(std::string name) { return Dim{-1, std::move(name)}; }
  static Dim unknown() { return Dim{}; }

  bool is_known() const { return value >= 0; }
  bool is_symbolic() const { return value < 0 && !symbol.empty(); }
  std::string to_string() const;  // "4", "batch" or "?"
  bool operator==(const Dim&) const = default;
};

class Shape {
 public:
  Shape() = default;  // unknown rank
  explicit Shape(std::vector<Dim> dims) : dims_(std::move(dims)), has_rank_(true) {}
  static Shape of(std::initializer_list<int64_t> dims);

  bool has_rank() const { return has_rank_; }
  std::size_t rank() const { return dims_.size(); }
  const std::vector<Dim>& dims() const { return dims_; }
  const Dim& operator[](std::size_t i) const { return dims_[i]; }
  Dim& operator[](std::size_t i) { return dims_[i]; }

  // True when the rank and every dimension are known numbers.
  bool is_static() const;
  // Element count when static and representable in int64, else nullopt.
  std::optional<int64_t> num_elements() const;
  // Element count with each symbolic or unknown dim taken as 1 (for estimates), nullopt without a rank.
  std::optional<int64_t> num_elements_symbols_as_one() const;

  std::string to_string() const;  // "[batch,3,?]", "[]" for a scalar, "?" for unknown rank
  bool operator==(const Shape&) const = default;

 private:
  std::vector<Dim> dims_;
  bool has_rank_ = false;
};

std::ostream& operator<<(std::ostream& os, const Dim& d);
std::ostream& operator<<(std::ostream& os, const Shape& s);

// Multiplies element counts, failing (nullopt) on negative factors or int64 overflow.
std::optional<int64_t> checked_mul(int64_t a, int64_t b);

}  // namespace tandem
