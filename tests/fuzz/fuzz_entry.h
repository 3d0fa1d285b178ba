// What each fuzz target does with one input, shared by the libFuzzer mains (fuzz_model_main.cc,
// fuzz_tensor_file_main.cc) and the replay of the committed corpus (fuzz_replay_test.cc). Each takes any
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

// Reads the bytes as a tensor file (.npy or TensorProto .pb, as `tandem run --input` does) and as a
// SequenceProto and an OptionalProto .pb; a tensor read writes back to .npy and must read back the same.
void fuzz_tensor_file(const uint8_t* data, std::size_t size);

inline constexpr int64_t kMaxInputElements = int64_t{1} << 16;

}  // namespace tandem::fuzz
