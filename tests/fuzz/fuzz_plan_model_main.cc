// libFuzzer's entry for the plan model target (tests/fuzz/README.md).
#include "tests/fuzz/fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  tandem::fuzz::fuzz_plan_model(data, size);
  return 0;
}
