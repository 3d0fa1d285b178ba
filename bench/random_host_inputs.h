// Random inputs of a model's declared shapes for the benchmark programs, through the public API alone:
// symbolic dimensions taken as 1, float32 uniform in [-1, 1], uint8 uniform over its range (a fixed seed,
// so every run of a program feeds the same); inputs with a default are left out. Other types are refused.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <tandem/tandem.h>

namespace tandem_bench {

inline std::map<std::string, tandem::HostTensor> random_inputs(const tandem::Model& model) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::map<std::string, tandem::HostTensor> out;
  for (const tandem::TensorSpec& spec : model.inputs()) {
    if (spec.has_default) continue;
    std::vector<int64_t> dims;
    for (int64_t d : spec.dims) dims.push_back(d < 0 ? 1 : d);
    if (spec.dtype == "float32") {
      tandem::HostTensor t(tandem::ElementType::kFloat32, dims);
      for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
      out.emplace(spec.name, t);
    } else if (spec.dtype == "uint8") {
      tandem::HostTensor t(tandem::ElementType::kUInt8, dims);
      for (int64_t i = 0; i < t.numel(); ++i) t.data<uint8_t>()[i] = static_cast<uint8_t>(rng() & 0xff);
      out.emplace(spec.name, t);
    } else {
      throw tandem::Error("input '" + spec.name + "' is " + spec.dtype + ": only float32 and uint8 are fed here");
    }
  }
  return out;
}

}  // namespace tandem_bench
