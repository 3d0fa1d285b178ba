// Sets TANDEM_RNN_KERNEL (nullptr: unsets it) while it lives, then puts back what was there: a CPU RNN
// kernel reads it when it is made, so tests pick the fast path or its reference twin for the kernels they
// create in its scope.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>

namespace tandem::test {

class RnnKernelChoice {
 public:
  explicit RnnKernelChoice(const char* value) {
    if (const char* old = std::getenv(kName)) old_ = old;
    if (value) setenv(kName, value, 1);
    else unsetenv(kName);
  }
  ~RnnKernelChoice() {
    if (old_) setenv(kName, old_->c_str(), 1);
    else unsetenv(kName);
  }
  RnnKernelChoice(const RnnKernelChoice&) = delete;
  RnnKernelChoice& operator=(const RnnKernelChoice&) = delete;

 private:
  static constexpr const char* kName = "TANDEM_RNN_KERNEL";
  std::optional<std::string> old_;
};

}  // namespace tandem::test
