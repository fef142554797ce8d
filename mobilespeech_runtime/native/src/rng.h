// Counter-based noise (SplitMix64), bit for bit the same as mobilespeech_runtime/rng.py.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mobilespeech {
namespace rng {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kM1 = 0xBF58476D1CE4E5B9ull;
constexpr uint64_t kM2 = 0x94D049BB133111EBull;

inline uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * kM1;
  z = (z ^ (z >> 27)) * kM2;
  return z ^ (z >> 31);
}

// Key of the noise stream for one schedule step (rng.stream_key).
inline uint64_t StreamKey(uint64_t seed, int64_t layer, int64_t step) {
  uint64_t k = Mix(seed + kGolden);
  k = Mix(k ^ static_cast<uint64_t>(layer + 1));
  k = Mix(k ^ (static_cast<uint64_t>(step + 1) << 16));
  return k;
}

// `count` float32 values strictly inside (0, 1): element i = mix(key + (i+1) * golden) >> 40,
// then (bits + 0.5) / 2^24 rounded to float32 (rng.uniform).
inline void Uniform(uint64_t seed, int64_t layer, int64_t step, float* out, size_t count) {
  const uint64_t key = StreamKey(seed, layer, step);
  for (size_t i = 0; i < count; ++i) {
    uint64_t bits = Mix(static_cast<uint64_t>(i + 1) * kGolden + key) >> 40;
    out[i] = static_cast<float>((static_cast<double>(bits) + 0.5) / 16777216.0);
  }
}

}  // namespace rng
}  // namespace mobilespeech
