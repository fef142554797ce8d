#include "wav.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace mobilespeech {
namespace {

uint32_t U32(const uint8_t* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}
uint16_t U16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

constexpr size_t kMaxWavBytes = size_t(1) << 30;

}  // namespace

bool ParseWav(const uint8_t* data, size_t size, WavData* out, std::string* err) {
  auto fail = [&](const char* msg) {
    if (err) *err = msg;
    return false;
  };
  if (size < 12 || std::memcmp(data, "RIFF", 4) != 0 || std::memcmp(data + 8, "WAVE", 4) != 0) {
    return fail("not a RIFF/WAVE file");
  }
  size_t pos = 12;
  bool have_fmt = false;
  uint16_t format = 0, channels = 0, bits = 0, block_align = 0;
  uint32_t rate = 0;
  const uint8_t* pcm = nullptr;
  size_t pcm_bytes = 0;
  while (pos + 8 <= size) {
    const uint8_t* chunk = data + pos;
    uint32_t len = U32(chunk + 4);
    size_t body = pos + 8;
    size_t avail = size - body;
    if (std::memcmp(chunk, "fmt ", 4) == 0) {
      if (len < 16 || len > avail) return fail("malformed fmt chunk");
      format = U16(data + body);
      channels = U16(data + body + 2);
      rate = U32(data + body + 4);
      block_align = U16(data + body + 12);
      bits = U16(data + body + 14);
      if (format == 0xFFFE) {  // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the tag
        if (len < 40) return fail("malformed extensible fmt chunk");
        format = U16(data + body + 24);
      }
      have_fmt = true;
    } else if (std::memcmp(chunk, "data", 4) == 0) {
      // Some writers leave the data length at 0 or 0xFFFFFFFF when streaming: take what is there.
      pcm = data + body;
      pcm_bytes = (len == 0 || len > avail) ? avail : len;
      break;
    }
    size_t next = body + static_cast<size_t>(len) + (len & 1u);
    if (next <= pos || next > size) break;
    pos = next;
  }
  if (!have_fmt) return fail("no fmt chunk");
  if (!pcm) return fail("no data chunk");
  if (channels == 0 || channels > 64) return fail("unsupported channel count");
  if (rate == 0 || rate > 10000000) return fail("invalid sample rate");
  const bool is_float = format == 3;
  if (!(format == 1 || is_float)) return fail("unsupported WAV encoding (PCM or float only)");
  if (is_float ? !(bits == 32 || bits == 64) : !(bits == 8 || bits == 16 || bits == 24 || bits == 32)) {
    return fail("unsupported bits per sample");
  }
  const size_t bytes = bits / 8;
  if (block_align != bytes * channels) return fail("inconsistent block alignment");
  const size_t n = pcm_bytes / bytes / channels * channels;
  out->samples.resize(n);
  out->sample_rate = static_cast<int32_t>(rate);
  out->channels = channels;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = pcm + i * bytes;
    float v;
    if (is_float) {
      if (bits == 32) {
        uint32_t u = U32(p);
        float f;
        std::memcpy(&f, &u, 4);
        v = f;
      } else {
        uint64_t u = uint64_t(U32(p)) | (uint64_t(U32(p + 4)) << 32);
        double d;
        std::memcpy(&d, &u, 8);
        v = static_cast<float>(d);
      }
    } else if (bits == 8) {
      v = (static_cast<float>(p[0]) - 128.0f) / 128.0f;
    } else if (bits == 16) {
      v = static_cast<float>(static_cast<int16_t>(U16(p))) / 32768.0f;
    } else if (bits == 24) {
      int32_t s = static_cast<int32_t>((uint32_t(p[0]) << 8) | (uint32_t(p[1]) << 16) |
                                       (uint32_t(p[2]) << 24)) >> 8;
      v = static_cast<float>(s) / 8388608.0f;
    } else {
      v = static_cast<float>(static_cast<double>(static_cast<int32_t>(U32(p))) / 2147483648.0);
    }
    out->samples[i] = v;
  }
  return true;
}

bool ReadWav(const std::string& path, WavData* out, std::string* err) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    if (err) *err = std::string("cannot open ") + path + ": " + std::strerror(errno);
    return false;
  }
  std::vector<uint8_t> bytes;
  uint8_t buf[1 << 15];
  size_t n;
  bool too_big = false;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    if (bytes.size() + n > kMaxWavBytes) {
      too_big = true;
      break;
    }
    bytes.insert(bytes.end(), buf, buf + n);
  }
  std::fclose(f);
  if (too_big) {
    if (err) *err = path + ": file is over 1 GiB";
    return false;
  }
  std::string e;
  if (!ParseWav(bytes.data(), bytes.size(), out, &e)) {
    if (err) *err = path + ": " + e;
    return false;
  }
  return true;
}

bool WriteWav(const std::string& path, const float* samples, size_t n, int32_t sample_rate,
              bool float32, std::string* err) {
  const uint32_t bytes_per = float32 ? 4 : 2;
  if (n > (0xFFFFFFFFu - 64) / bytes_per) {
    if (err) *err = "too much audio for one WAV file";
    return false;
  }
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    if (err) *err = std::string("cannot write ") + path + ": " + std::strerror(errno);
    return false;
  }
  auto u32 = [&](uint32_t v) {
    uint8_t b[4] = {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
    std::fwrite(b, 1, 4, f);
  };
  auto u16 = [&](uint16_t v) {
    uint8_t b[2] = {uint8_t(v), uint8_t(v >> 8)};
    std::fwrite(b, 1, 2, f);
  };
  const uint32_t data_bytes = static_cast<uint32_t>(n) * bytes_per;
  std::fwrite("RIFF", 1, 4, f);
  u32(36 + data_bytes);
  std::fwrite("WAVEfmt ", 1, 8, f);
  u32(16);
  u16(float32 ? 3 : 1);
  u16(1);
  u32(static_cast<uint32_t>(sample_rate));
  u32(static_cast<uint32_t>(sample_rate) * bytes_per);
  u16(static_cast<uint16_t>(bytes_per));
  u16(static_cast<uint16_t>(bytes_per * 8));
  std::fwrite("data", 1, 4, f);
  u32(data_bytes);
  std::vector<uint8_t> buf;
  buf.reserve(static_cast<size_t>(n) * bytes_per);
  for (size_t i = 0; i < n; ++i) {
    float x = samples[i];
    if (!(x == x)) x = 0.0f;
    x = std::min(1.0f, std::max(-1.0f, x));
    if (float32) {
      uint32_t u;
      std::memcpy(&u, &x, 4);
      for (int k = 0; k < 4; ++k) buf.push_back(static_cast<uint8_t>(u >> (8 * k)));
    } else {
      int16_t s = static_cast<int16_t>(std::lrint(x * 32767.0f));
      uint16_t u = static_cast<uint16_t>(s);
      buf.push_back(static_cast<uint8_t>(u));
      buf.push_back(static_cast<uint8_t>(u >> 8));
    }
  }
  std::fwrite(buf.data(), 1, buf.size(), f);
  bool ok = !std::ferror(f);
  ok = (std::fclose(f) == 0) && ok;
  if (!ok && err) *err = "write error on " + path;
  return ok;
}

}  // namespace mobilespeech
