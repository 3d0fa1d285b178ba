#include "runtime_cpu/kernels/random_source.h"

#include <bit>

namespace tandem::cpu {
namespace {

// SplitMix64's finaliser: spreads every input bit over the whole word.
uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t entropy() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace

RandomSource::RandomSource(std::optional<uint64_t> seed)
    : seeded_(seed.has_value()), base_(seed ? *seed : entropy()) {}

std::mt19937_64 RandomSource::engine() const {
  const uint64_t call = calls_.fetch_add(1, std::memory_order_relaxed);
  if (seeded_ && call == 0) return std::mt19937_64(base_);
  return std::mt19937_64(mix(base_ + call * 0x9e3779b97f4a7c15ULL));
}

uint64_t seed_from_float(float seed) { return std::bit_cast<uint32_t>(seed); }

}  // namespace tandem::cpu
