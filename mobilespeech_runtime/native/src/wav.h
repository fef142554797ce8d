// Tiny RIFF/WAVE reader and writer: PCM 8/16/24/32-bit and IEEE float 32/64, plain or
// WAVE_FORMAT_EXTENSIBLE. Integer samples become float the way libsndfile (soundfile) reads
// them: x / 2^(bits-1) (8-bit: (x - 128) / 128).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mobilespeech {

struct WavData {
  std::vector<float> samples;  // interleaved
  int32_t sample_rate = 0;
  int32_t channels = 0;
  size_t frames() const { return channels > 0 ? samples.size() / static_cast<size_t>(channels) : 0; }
};

// Parses a WAV file held in memory; false with *err on malformed or unsupported input.
bool ParseWav(const uint8_t* data, size_t size, WavData* out, std::string* err);
bool ReadWav(const std::string& path, WavData* out, std::string* err);

// Mono float samples -> 16-bit PCM (clipped to [-1, 1]) or 32-bit float WAV.
bool WriteWav(const std::string& path, const float* samples, size_t n, int32_t sample_rate,
              bool float32, std::string* err);

}  // namespace mobilespeech
