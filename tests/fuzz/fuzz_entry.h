// What each fuzz target does with one input, shared by the libFuzzer mains (fuzz_model_main.cc,
// fuzz_plan_model_main.cc, fuzz_tensor_file_main.cc) and the replay of the committed corpus (fuzz_replay_test.cc). Each takes any
// bytes and returns: a tandem::Error is the expected answer to bad bytes and is caught inside, so anything
// else (a crash, a sanitizer report, another exception, an abort, a hang) is a finding.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tandem::fuzz {

// Imports the bytes as an ONNX model through the public API and, when they import, compiles the model on
// the CPU and runs it once on small random inputs (inputs of more than kMaxInputElements elements are not
// run) under a time limit.
void fuzz_model(const uint8_t* data, std::size_t size);

// Imports the bytes as fuzz_model does and, when the model runs (or fails) on one CPU device within the time
// limit on two sets of inputs of the same shapes, runs it over two CPU devices with the PlanExecutor, on a
// random placement that a hash of the bytes picks: on the first set (recording the sizes), on the second
// (in the static memory plan's arenas), then on both at once (the bytes also pick, now and then, no static
// memory or one run in flight at a time). Each run must give the single-device run's outputs bit for bit
// (unless the model draws random numbers) and its per-device tallies must add up, or fail where that run
// fails; anything else throws, as a finding, an exception that is not a tandem::Error.
void fuzz_plan_model(const uint8_t* data, std::size_t size);

// Reads the bytes as a tensor file (.npy or TensorProto .pb, as `tandem run --input` does) and as a
// SequenceProto and an OptionalProto .pb; a tensor read writes back to .npy and must read back the same.
void fuzz_tensor_file(const uint8_t* data, std::size_t size);

inline constexpr int64_t kMaxInputElements = int64_t{1} << 16;

}  // namespace tandem::fuzz
