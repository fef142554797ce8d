// Tiny RIFF/WAVE reader and writer: PCM 8/16/24/32-bit and IEEE float 32/64, plain or
// WAVE_FORMAT_EXTENSIBLE. Integer samples become float the way libsndfile (soundfile) reads
// them: x / 2^(bits-1) (8-bit: (x - 128) / 128).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "request_limits.h"

namespace mobilespeech {

struct WavData {
  std::vector<float> samples;  // interleaved
  int32_t sample_rate = 0;
  int32_t channels = 0;
  size_t frames() const { return channels > 0 ? samples.size() / static_cast<size_t>(channels) : 0; }
};

// Parses a WAV file held in memory; false with *err on malformed or unsupported input.
bool ParseWav(const uint8_t* data, size_t size, WavData* out, std::string* err);

// What a WAV header declares, read before any sample (a huge file is refused at once).
struct WavHeader {
  uint16_t format = 0, channels = 0, bits = 0, block_align = 0;
  uint32_t rate = 0;
  size_t data_offset = 0;   // first byte of the samples
  uint32_t data_length = 0; // as declared; 0 or 0xFFFFFFFF: "until the end" (streaming writers)
};
enum class HeaderStatus { kOk, kNeedMore, kBad };
// Header of the first `size` bytes of a file; kNeedMore when they end before the data chunk
// and `complete` is false (more of the file can be read).
HeaderStatus ParseWavHeader(const uint8_t* data, size_t size, bool complete, WavHeader* h,
                            std::string* err);

// Limits checked from the header before the samples are read; 0: none.
struct WavReadLimits {
  double max_seconds = 0;
  size_t max_frames = 0;
};

// Inputs are regular files or pipes (a FIFO, /dev/fd/N, a process substitution); anything else
// (a device such as /dev/zero, a socket, a folder) is refused with "not a regular file or a
// pipe". A named pipe is opened without waiting for a writer: with none it is empty. Pipes
// are read up to kMaxPipeBytes (request_limits.h). Same rule as mobilespeech_runtime/checks.py.
// Reads at most max_bytes + 1 bytes (the caller reports "too long"); every failure is the
// file's (missing, unreadable, not a regular file or pipe, an empty pipe).
bool ReadInputFile(const std::string& path, const std::string& what, size_t max_bytes,
                   std::string* data, std::string* err);

// *io_error (may be NULL) is set true when the failure is the file's (missing, unreadable,
// not a regular file or pipe) and false when its content is bad.
bool ReadWav(const std::string& path, WavData* out, std::string* err,
             const WavReadLimits& limits = WavReadLimits(), bool* io_error = nullptr);

// Writes `n` bytes so that `path` is either the whole new file or untouched: a temporary file
// in the same folder, fsync, rename over `path` (through a symlink: over the file it names);
// on failure the temporary file is removed. A target that is not a regular file (/dev/full, a
// FIFO) is written in place. *err: "cannot write PATH: <strerror>" ("No space left on device",
// "File too large": ignore SIGXFSZ to get the latter rather than a kill).
bool WriteFileAtomic(const std::string& path, const void* data, size_t n, std::string* err);

// Mono float samples -> 16-bit PCM (clipped to [-1, 1]) or 32-bit float WAV, atomically
// (WriteFileAtomic).
bool WriteWav(const std::string& path, const float* samples, size_t n, int32_t sample_rate,
              bool float32, std::string* err);

}  // namespace mobilespeech
