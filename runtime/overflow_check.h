// int64 arithmetic that remembers whether any step overflowed. Window and output sizes come from attributes
// (anything up to 2^63) and from zero-size inputs, whose other dimensions may be up to 2^40, so they are
// worked out with these and checked once at the end, instead of each step wrapping round (undefined
// behaviour) into a nonsense size.
#pragma once

#include <cstdint>

namespace tandem {

class OverflowCheck {
 public:
  int64_t add(int64_t x, int64_t y) {
    int64_t z = 0;
    overflowed_ = __builtin_add_overflow(x, y, &z) || overflowed_;
    return z;
  }
  int64_t mul(int64_t x, int64_t y) {
    int64_t z = 0;
    overflowed_ = __builtin_mul_overflow(x, y, &z) || overflowed_;
    return z;
  }
  // Whether any add or mul so far overflowed (then their results are meaningless).
  bool overflowed() const { return overflowed_; }

 private:
  bool overflowed_ = false;
};

}  // namespace tandem
