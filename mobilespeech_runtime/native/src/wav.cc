#include "wav.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace mobilespeech {
namespace {

uint32_t U32(const uint8_t* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}
uint16_t U16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

// "1 GiB", "64 MiB": a limit of request_limits.h as the messages say it.
std::string Bytes(size_t n) {
  return n % (size_t(1) << 30) == 0 ? std::to_string(n >> 30) + " GiB"
                                    : std::to_string(n >> 20) + " MiB";
}

// An input path: a regular file or a pipe; *err otherwise.
bool InputKind(const std::string& path, const std::string& what, struct stat* st, bool* fifo,
               std::string* err) {
  const std::string name = what.empty() ? path : what + " " + path;
  if (::stat(path.c_str(), st) != 0) {
    *err = errno == ENOENT ? name + " file not found"
                           : "cannot read " + name + ": " + std::strerror(errno);
    return false;
  }
  if (S_ISDIR(st->st_mode)) {
    *err = name + " is a directory, not a file";
    return false;
  }
  if (!S_ISREG(st->st_mode) && !S_ISFIFO(st->st_mode)) {
    *err = name + " is not a regular file or a pipe (a device or a socket)";
    return false;
  }
  *fifo = S_ISFIFO(st->st_mode);
  return true;
}

// open() that never waits for a FIFO's writer (with none, reads see end of file).
int OpenInput(const std::string& path, bool fifo) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (fifo ? O_NONBLOCK : 0));
  if (fd >= 0 && fifo) {
    const int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0 || ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
      const int e = errno;
      ::close(fd);
      errno = e;
      return -1;
    }
  }
  return fd;
}

// read() until `want` bytes or end of file; -1 on error (errno set).
ssize_t ReadSome(int fd, uint8_t* buf, size_t want) {
  size_t got = 0;
  while (got < want) {
    const ssize_t r = ::read(fd, buf + got, want - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(got);
}

}  // namespace

HeaderStatus ParseWavHeader(const uint8_t* data, size_t size, bool complete, WavHeader* h,
                            std::string* err) {
  auto fail = [&](const char* msg) {
    if (err) *err = msg;
    return HeaderStatus::kBad;
  };
  if (size < 12) {
    if (!complete) return HeaderStatus::kNeedMore;
    return fail("not a RIFF/WAVE file");
  }
  if (std::memcmp(data, "RIFF", 4) != 0 || std::memcmp(data + 8, "WAVE", 4) != 0) {
    return fail("not a RIFF/WAVE file");
  }
  size_t pos = 12;
  bool have_fmt = false, have_data = false;
  *h = WavHeader();
  while (true) {
    if (pos + 8 > size) {
      if (!complete) return HeaderStatus::kNeedMore;
      break;
    }
    const uint8_t* chunk = data + pos;
    uint32_t len = U32(chunk + 4);
    size_t body = pos + 8;
    size_t avail = size - body;
    if (std::memcmp(chunk, "fmt ", 4) == 0) {
      if (len < 16) return fail("malformed fmt chunk");
      if (len > avail) {
        if (!complete) return HeaderStatus::kNeedMore;
        return fail("malformed fmt chunk");
      }
      h->format = U16(data + body);
      h->channels = U16(data + body + 2);
      h->rate = U32(data + body + 4);
      h->block_align = U16(data + body + 12);
      h->bits = U16(data + body + 14);
      if (h->format == 0xFFFE) {  // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the tag
        if (len < 40) return fail("malformed extensible fmt chunk");
        h->format = U16(data + body + 24);
      }
      have_fmt = true;
    } else if (std::memcmp(chunk, "data", 4) == 0) {
      h->data_offset = body;
      h->data_length = len;
      have_data = true;
      break;
    }
    size_t next = body + static_cast<size_t>(len) + (len & 1u);
    if (next <= pos) break;
    if (next > size) {
      if (!complete) return HeaderStatus::kNeedMore;
      break;
    }
    pos = next;
  }
  if (!have_fmt) return fail("no fmt chunk");
  if (!have_data) return fail("no data chunk");
  if (h->channels == 0 || h->channels > kMaxChannels) return fail("unsupported channel count");
  if (h->rate == 0 || h->rate > 10000000) return fail("invalid sample rate");
  const bool is_float = h->format == 3;
  if (!(h->format == 1 || is_float)) return fail("unsupported WAV encoding (PCM or float only)");
  const uint16_t bits = h->bits;
  if (is_float ? !(bits == 32 || bits == 64)
               : !(bits == 8 || bits == 16 || bits == 24 || bits == 32)) {
    return fail("unsupported bits per sample");
  }
  if (h->block_align != bits / 8 * h->channels) return fail("inconsistent block alignment");
  return HeaderStatus::kOk;
}

bool ParseWav(const uint8_t* data, size_t size, WavData* out, std::string* err) {
  WavHeader h;
  if (ParseWavHeader(data, size, true, &h, err) != HeaderStatus::kOk) return false;
  const uint8_t* pcm = data + h.data_offset;
  const size_t avail = size - h.data_offset;
  // Some writers leave the data length at 0 or 0xFFFFFFFF when streaming: take what is there.
  const size_t pcm_bytes = (h.data_length == 0 || h.data_length > avail) ? avail : h.data_length;
  const bool is_float = h.format == 3;
  const uint16_t bits = h.bits, channels = h.channels;
  const size_t bytes = bits / 8;
  const size_t n = pcm_bytes / bytes / channels * channels;
  out->samples.resize(n);
  out->sample_rate = static_cast<int32_t>(h.rate);
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

bool ReadInputFile(const std::string& path, const std::string& what, size_t max_bytes,
                   std::string* data, std::string* err) {
  struct stat st;
  bool fifo = false;
  if (!InputKind(path, what, &st, &fifo, err)) return false;
  const std::string name = what.empty() ? path : what + " " + path;
  const int fd = OpenInput(path, fifo);
  if (fd < 0) {
    *err = "cannot read " + name + ": " + std::strerror(errno);
    return false;
  }
  data->assign(max_bytes + 1, '\0');
  const ssize_t got = ReadSome(fd, reinterpret_cast<uint8_t*>(&(*data)[0]), max_bytes + 1);
  const int e = errno;
  ::close(fd);
  if (got < 0) {
    data->clear();
    *err = "cannot read " + name + ": " + std::strerror(e);
    return false;
  }
  data->resize(static_cast<size_t>(got));
  if (fifo && data->empty()) {
    *err = name + " is a pipe with no data (start its writer first)";
    return false;
  }
  return true;
}

bool ReadWav(const std::string& path, WavData* out, std::string* err,
             const WavReadLimits& limits, bool* io_error) {
  auto fail = [&](bool io, const std::string& msg) {
    if (io_error) *io_error = io;
    if (err) *err = msg;
    return false;
  };
  struct stat st;
  bool fifo = false;
  std::string e;
  if (!InputKind(path, "", &st, &fifo, &e)) return fail(true, e);
  if (!fifo && static_cast<uint64_t>(st.st_size) > kMaxAudioFileBytes) {
    return fail(false, path + ": file is over " + Bytes(kMaxAudioFileBytes));
  }
  const size_t cap = fifo ? kMaxPipeBytes : kMaxAudioFileBytes;
  const int fd = OpenInput(path, fifo);
  if (fd < 0) return fail(true, "cannot open " + path + ": " + std::strerror(errno));
  std::vector<uint8_t> bytes;
  if (!fifo) bytes.reserve(static_cast<size_t>(st.st_size));
  constexpr size_t kPiece = size_t(1) << 16;
  bool header_ok = false, eof = false;
  while (!eof && bytes.size() <= cap) {
    const size_t old = bytes.size();
    bytes.resize(old + kPiece);
    const ssize_t got = ReadSome(fd, bytes.data() + old, kPiece);
    if (got < 0) {
      const int er = errno;
      ::close(fd);
      return fail(true, "cannot read " + path + ": " + std::strerror(er));
    }
    bytes.resize(old + static_cast<size_t>(got));
    eof = static_cast<size_t>(got) < kPiece;
    if (header_ok) continue;
    WavHeader h;
    const HeaderStatus hs = ParseWavHeader(bytes.data(), bytes.size(), eof, &h, &e);
    if (hs == HeaderStatus::kNeedMore) continue;
    if (hs == HeaderStatus::kBad) break;  // ParseWav below gives the message
    header_ok = true;
    // The declared length, bounded by the file's size; unknown for a streamed pipe.
    const bool open_ended = h.data_length == 0 || h.data_length == 0xFFFFFFFFu;
    size_t data_len = 0;
    bool known = true;
    if (!fifo) {
      const size_t rest = static_cast<size_t>(st.st_size) > h.data_offset
                              ? static_cast<size_t>(st.st_size) - h.data_offset
                              : 0;
      data_len = open_ended ? rest : std::min<size_t>(h.data_length, rest);
    } else if (!open_ended) {
      data_len = h.data_length;
    } else {
      known = false;
    }
    const size_t frames = data_len / h.block_align;
    const double seconds = static_cast<double>(frames) / h.rate;
    if (known && ((limits.max_seconds > 0 && seconds > limits.max_seconds) ||
                  (limits.max_frames > 0 && frames > limits.max_frames))) {
      ::close(fd);
      char msg[256];
      std::snprintf(msg, sizeof msg, ": declares %.0f s (%zu frames) of audio; at most %.0f s and "
                    "%zu frames are accepted", seconds, frames, limits.max_seconds,
                    limits.max_frames);
      return fail(false, path + msg);
    }
  }
  ::close(fd);
  if (bytes.size() > cap) {
    return fail(false, path + (fifo ? ": a pipe with over " + Bytes(kMaxPipeBytes)
                                    : ": file is over " + Bytes(kMaxAudioFileBytes)));
  }
  if (fifo && bytes.empty()) return fail(true, path + " is a pipe with no data (start its writer first)");
  if (!ParseWav(bytes.data(), bytes.size(), out, &e)) return fail(false, path + ": " + e);
  return true;
}

bool WriteFileAtomic(const std::string& path, const void* data, size_t n, std::string* err) {
  auto fail = [&](int e) {
    if (err) *err = "cannot write " + path + ": " + std::strerror(e);
    return false;
  };
  // The real target: symlinks resolved, so a link keeps pointing at the new file.
  std::string target;
  if (char* rp = ::realpath(path.c_str(), nullptr)) {
    target = rp;
    std::free(rp);
  } else {
    const size_t slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    char* rd = ::realpath(dir.c_str(), nullptr);
    if (!rd) return fail(errno);
    target = std::string(rd) + (std::string(rd) == "/" ? "" : "/") + base;
    std::free(rd);
  }
  const auto* p = static_cast<const uint8_t*>(data);
  auto write_all = [&](int fd) {
    size_t done = 0;
    while (done < n) {
      const ssize_t w = ::write(fd, p + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return false;
      done += static_cast<size_t>(w);
    }
    return true;
  };
  struct stat st;
  const bool exists = ::stat(target.c_str(), &st) == 0;
  if (exists && !S_ISREG(st.st_mode)) {  // a device or a FIFO: nothing to rename over
    const int fd = ::open(target.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return fail(errno);
    const bool ok = write_all(fd);
    const int e = errno;
    if (::close(fd) != 0 && ok) return fail(errno);
    return ok ? true : fail(e);
  }
  const size_t slash = target.find_last_of('/');
  const std::string dir = target.substr(0, slash == 0 ? 1 : slash);
  static std::atomic<unsigned> counter{0};
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0 && attempt < 1000; ++attempt) {
    tmp = dir + (dir == "/" ? "." : "/.") + target.substr(slash + 1) + "." +
          std::to_string(::getpid()) + "." + std::to_string(counter++) + ".tmp";
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) return fail(errno);
  }
  if (fd < 0) return fail(EEXIST);
  bool ok = write_all(fd) && ::fsync(fd) == 0;
  int e = errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    e = errno;
  }
  if (ok && exists && ::chmod(tmp.c_str(), st.st_mode & 07777) != 0) {
    ok = false;
    e = errno;
  }
  if (ok && ::rename(tmp.c_str(), target.c_str()) != 0) {
    ok = false;
    e = errno;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return fail(e);
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_CLOEXEC);  // the rename itself, durable
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
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
  std::vector<uint8_t> buf;
  buf.reserve(44 + static_cast<size_t>(n) * bytes_per);
  auto raw = [&](const char* s) { buf.insert(buf.end(), s, s + std::strlen(s)); };
  auto u32 = [&](uint32_t v) {
    for (int k = 0; k < 4; ++k) buf.push_back(static_cast<uint8_t>(v >> (8 * k)));
  };
  auto u16 = [&](uint16_t v) {
    buf.push_back(static_cast<uint8_t>(v));
    buf.push_back(static_cast<uint8_t>(v >> 8));
  };
  const uint32_t data_bytes = static_cast<uint32_t>(n) * bytes_per;
  raw("RIFF");
  u32(36 + data_bytes);
  raw("WAVEfmt ");
  u32(16);
  u16(float32 ? 3 : 1);
  u16(1);
  u32(static_cast<uint32_t>(sample_rate));
  u32(static_cast<uint32_t>(sample_rate) * bytes_per);
  u16(static_cast<uint16_t>(bytes_per));
  u16(static_cast<uint16_t>(bytes_per * 8));
  raw("data");
  u32(data_bytes);
  for (size_t i = 0; i < n; ++i) {
    float x = samples[i];
    if (!(x == x)) x = 0.0f;
    x = std::min(1.0f, std::max(-1.0f, x));
    if (float32) {
      uint32_t u;
      std::memcpy(&u, &x, 4);
      u32(u);
    } else {
      int16_t s = static_cast<int16_t>(std::lrint(x * 32767.0f));
      u16(static_cast<uint16_t>(s));
    }
  }
  return WriteFileAtomic(path, buf.data(), buf.size(), err);
}

}  // namespace mobilespeech
