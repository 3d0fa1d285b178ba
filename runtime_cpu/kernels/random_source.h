// Where the random ops (random_ops.cc) and training-mode Dropout get their numbers. A kernel holds one
// RandomSource, made when the kernel is; each call takes a fresh engine from it, numbered by an atomic
// count of the kernel's calls, so `run` stays const and safe to call from many threads at once, and no two
// calls (concurrent ones, successive runs, a Loop's iterations) draw alike:
//  - with a seed, call 0 starts std::mt19937_64 from that seed and call k from the seed mixed with k, so a
//    kernel's sequence of draws is the same session after session and on any standard library (the engine
//    is specified bit for bit, and the distributions below are ours: std's uniform_real_distribution and
//    normal_distribution are not). ONNX Runtime too advances a seeded generator from call to call; a seed
//    that repeated each call's draws would give a Loop's every iteration the same sample or dropout mask;
//  - without one, the count is mixed with std::random_device entropy taken when the kernel was made.
#pragma once

#include <atomic>
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>

namespace tandem::cpu {

class RandomSource {
 public:
  explicit RandomSource(std::optional<uint64_t> seed);
  RandomSource(const RandomSource&) = delete;
  RandomSource& operator=(const RandomSource&) = delete;

  // The engine for one call.
  std::mt19937_64 engine() const;

 private:
  bool seeded_;
  uint64_t base_;
  mutable std::atomic<uint64_t> calls_{0};
};

// The engine seed for a float `seed` attribute (RandomUniform, RandomNormal, their Like forms, Bernoulli,
// Multinomial): its bit pattern, so seeds that differ in any bit (0.5 and 0.7) draw differently.
uint64_t seed_from_float(float seed);

// Uniform on [0, 1): 53 random bits.
inline double uniform01(std::mt19937_64& g) { return static_cast<double>(g() >> 11) * 0x1.0p-53; }

// Standard normal draws by the Box-Muller transform, two per pair of uniforms.
class StandardNormal {
 public:
  double operator()(std::mt19937_64& g) {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = 1.0 - uniform01(g);  // (0, 1]: the logarithm stays finite
    const double u2 = uniform01(g);
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double a = 6.283185307179586476925 * u2;
    spare_ = r * std::sin(a);
    has_spare_ = true;
    return r * std::cos(a);
  }

 private:
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace tandem::cpu
