// The C ABI (include/mobilespeech.h): argument checks, struct versioning, error capture.
// Every entry point catches everything; no exception leaves this file.
#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <unordered_set>
#include <vector>

#include "common.h"
#include "engine.h"
#include "frontend/text_frontend.h"
#include "mobilespeech.h"
#include "request_limits.h"
#include "utf8.h"

#ifndef MS_EXECUTORCH_VERSION
#define MS_EXECUTORCH_VERSION "unknown"
#endif

// A handle carries a magic value, poisoned by ms_synth_destroy; every entry point also looks the
// pointer up among the live handles before reading it, so a destroyed handle is refused
// without touching freed memory (until the allocator hands the same address to a new handle).
constexpr uint64_t kHandleMagic = 0x6d7373796e746821ULL;  // "mssynth!"
constexpr uint64_t kHandleDead = 0xdeadbeefdeadbeefULL;

struct ms_synth {
  uint64_t magic = kHandleMagic;
  std::atomic<bool> busy{false};  // a call is running on this handle (MS_ERR_BUSY for others)
  std::unique_ptr<mobilespeech::Synthesizer> impl;
  std::string last_error;
};


namespace {

using mobilespeech::Error;
using mobilespeech::kMaxStructSize;

thread_local std::string t_last_error;

std::mutex g_handles_mu;
std::unordered_set<const ms_synth*>& Handles() {
  static auto* h = new std::unordered_set<const ms_synth*>();  // never destroyed: used at exit
  return *h;
}

bool Live(const ms_synth* s) {
  std::lock_guard<std::mutex> lock(g_handles_mu);
  return Handles().count(s) != 0 && s->magic == kHandleMagic;
}

// Records `message` on the handle (or thread-locally without one), never throwing.
ms_status Report(ms_synth* s, ms_status code, const char* message) noexcept {
  try {
    if (s) {
      s->last_error = message;
    } else {
      t_last_error = message;
    }
  } catch (...) {
  }
  return code;
}

// Runs `fn` and converts anything it throws into a status + message. (ExecuTorch's own
// allocation failures arrive as MS_ERR_NO_MEMORY already: engine.cc FailExecuTorch.)
template <typename Fn>
ms_status Guard(ms_synth* s, Fn&& fn) noexcept {
  try {
    if (s) s->last_error.clear();
    return fn();
  } catch (const Error& e) {
    return Report(s, e.code(), e.what());
  } catch (const std::bad_alloc&) {
    return Report(s, MS_ERR_NO_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    std::string m = std::string("internal error: ") + e.what();
    return Report(s, MS_ERR_INTERNAL, m.c_str());
  } catch (...) {
    return Report(s, MS_ERR_INTERNAL, "internal error: unknown exception");
  }
}

// Validates struct_size of an input struct whose first released layout is `min_size` bytes and
// whose current layout is `known` bytes; copies it into `*dst` (zero-extended).
template <typename T>
void ReadStruct(const T* src, size_t min_size, const char* what, T* dst) {
  size_t size;
  std::memcpy(&size, src, sizeof size);
  if (size < min_size || size > kMaxStructSize) {
    mobilespeech::Fail(MS_ERR_INVALID_ARGUMENT,
                       mobilespeech::Format("%s.struct_size is %zu; expected sizeof(%s) = %zu (call "
                                            "%s_init)", what, size, what, sizeof(T), what));
  }
  if (size > sizeof(T)) {
    const unsigned char* tail = reinterpret_cast<const unsigned char*>(src) + sizeof(T);
    for (size_t i = 0; i < size - sizeof(T); ++i) {
      if (tail[i]) {
        mobilespeech::Fail(MS_ERR_INVALID_ARGUMENT,
                           mobilespeech::Format("%s is newer than this library (struct_size %zu > "
                                                "%zu) and sets fields it does not know", what,
                                                size, sizeof(T)));
      }
    }
  }
  std::memset(dst, 0, sizeof(T));
  std::memcpy(dst, src, size < sizeof(T) ? size : sizeof(T));
}

std::vector<int> ReadSteps(const int32_t* steps, size_t n) {
  if (!steps) {
    if (n != 0) mobilespeech::Fail(MS_ERR_INVALID_ARGUMENT, "steps is NULL but n_steps is not 0");
    return {};
  }
  if (n == 0 || n > static_cast<size_t>(mobilespeech::kMaxCodebooks)) {
    mobilespeech::Fail(MS_ERR_INVALID_ARGUMENT,
                       mobilespeech::Format("n_steps is %zu; give one value per codec layer", n));
  }
  return std::vector<int>(steps, steps + n);
}

mobilespeech::CallOptions ReadStartOptions(const ms_start_options* opts) {
  mobilespeech::CallOptions c;
  if (!opts) return c;
  ms_start_options o;
  ReadStruct(opts, sizeof(ms_start_options), "ms_start_options", &o);
  c.use_seed = o.use_seed != 0;
  c.seed = o.seed;
  c.steps = ReadSteps(o.steps, o.n_steps);
  c.length_scale = o.length_scale;
  if (c.length_scale != 0.0f && !(c.length_scale >= mobilespeech::kMinLengthScale &&
                                  c.length_scale <= mobilespeech::kMaxLengthScale)) {
    mobilespeech::Fail(MS_ERR_INVALID_ARGUMENT,
                       mobilespeech::Format("length_scale must be 0 (default) or in [%g, %g], "
                                            "got %g",
                                            static_cast<double>(mobilespeech::kMinLengthScale),
                                            static_cast<double>(mobilespeech::kMaxLengthScale),
                                            static_cast<double>(c.length_scale)));
  }
  return c;
}

mobilespeech::PromptInput ReadPrompt(const float* pcm, size_t n_frames, int32_t sample_rate,
                                     int32_t channels) {
  mobilespeech::PromptInput p;
  if (!pcm) {
    if (n_frames != 0) {
      mobilespeech::Fail(MS_ERR_INVALID_ARGUMENT, "prompt_pcm is NULL but n_frames is not 0");
    }
    return p;  // default voice
  }
  if (n_frames == 0) mobilespeech::Fail(MS_ERR_INVALID_AUDIO, "prompt audio is empty");
  p.pcm = pcm;
  p.n_frames = n_frames;
  p.sample_rate = sample_rate;
  p.channels = channels;
  return p;
}

std::vector<std::vector<int64_t>> ReadPhonemes(const int32_t* ids, const size_t* lengths,
                                               size_t n_chunks) {
  if (!lengths || n_chunks == 0) {
    mobilespeech::Fail(MS_ERR_INVALID_ARGUMENT, "chunk_lengths is NULL or n_chunks is 0");
  }
  if (n_chunks > mobilespeech::kMaxPhonemeChunks) {
    mobilespeech::Fail(MS_ERR_INVALID_ARGUMENT, "too many phoneme chunks");
  }
  size_t total = 0;
  for (size_t i = 0; i < n_chunks; ++i) {
    if (lengths[i] > mobilespeech::kMaxChunkIds ||
        total + lengths[i] > mobilespeech::kMaxRequestIds) {
      mobilespeech::Fail(MS_ERR_INVALID_TEXT,
                         mobilespeech::Format("phoneme chunk %zu is too long (%zu ids)", i, lengths[i]));
    }
    total += lengths[i];
  }
  if (!ids && total > 0) mobilespeech::Fail(MS_ERR_INVALID_ARGUMENT, "ids is NULL");
  std::vector<std::vector<int64_t>> chunks(n_chunks);
  size_t pos = 0;
  for (size_t i = 0; i < n_chunks; ++i) {
    chunks[i].assign(ids + pos, ids + pos + lengths[i]);
    pos += lengths[i];
  }
  return chunks;
}

ms_status NullHandle() {
  return Report(nullptr, MS_ERR_INVALID_ARGUMENT, "synth is NULL");
}

// MS_OK for a live handle; else the status, with the message in ms_last_error(NULL).
ms_status CheckHandle(const ms_synth* s) {
  if (!s) return NullHandle();
  if (!Live(s)) {
    return Report(nullptr, MS_ERR_INVALID_ARGUMENT,
                  "synth is not a live handle (already destroyed, or not from ms_synth_create)");
  }
  return MS_OK;
}

// Holds a handle for one call: a second thread calling meanwhile gets MS_ERR_BUSY (its message
// in ms_last_error(NULL): the handle's own message belongs to the running call).
class Hold {
 public:
  explicit Hold(ms_synth* s) : s_(s), held_(!s->busy.exchange(true, std::memory_order_acquire)) {}
  ~Hold() {
    if (held_) s_->busy.store(false, std::memory_order_release);
  }
  Hold(const Hold&) = delete;
  Hold& operator=(const Hold&) = delete;
  bool held() const { return held_; }

 private:
  ms_synth* s_;
  bool held_;
};

ms_status Busy() {
  return Report(nullptr, MS_ERR_BUSY,
                "another thread is using this handle: a handle takes one call at a time (use "
                "one handle per thread)");
}

// Checks the handle and holds it for the rest of the calling scope, or returns the status.
#define MS_ENTER(synth)                          \
  if (ms_status st_ = CheckHandle(synth)) {      \
    return st_;                                  \
  }                                              \
  Hold hold_(const_cast<ms_synth*>(synth));      \
  if (!hold_.held()) return Busy()

// Concatenates a started synthesis into a malloc'ed buffer.
ms_status Drain(ms_synth* s, float** out, size_t* n_out) {
  std::vector<float> all;
  ms_audio_chunk c;
  while (s->impl->Next(&c)) all.insert(all.end(), c.samples, c.samples + c.n_samples);
  float* buf = static_cast<float*>(std::malloc((all.empty() ? 1 : all.size()) * sizeof(float)));
  if (!buf) throw std::bad_alloc();
  if (!all.empty()) std::memcpy(buf, all.data(), all.size() * sizeof(float));
  *out = buf;
  *n_out = all.size();
  return MS_OK;
}

}  // namespace

extern "C" {

const char* ms_version(void) {
  static const char* v = "0.1.0 (executorch " MS_EXECUTORCH_VERSION ")";
  return v;
}

const char* ms_status_string(ms_status status) {
  switch (status) {
    case MS_OK: return "MS_OK";
    case MS_DONE: return "MS_DONE";
    case MS_ERR_INVALID_ARGUMENT: return "MS_ERR_INVALID_ARGUMENT";
    case MS_ERR_MODEL: return "MS_ERR_MODEL";
    case MS_ERR_INVALID_TEXT: return "MS_ERR_INVALID_TEXT";
    case MS_ERR_INVALID_AUDIO: return "MS_ERR_INVALID_AUDIO";
    case MS_ERR_CANCELLED: return "MS_ERR_CANCELLED";
    case MS_ERR_STATE: return "MS_ERR_STATE";
    case MS_ERR_INTERNAL: return "MS_ERR_INTERNAL";
    case MS_ERR_NO_MEMORY: return "MS_ERR_NO_MEMORY";
    case MS_ERR_BUSY: return "MS_ERR_BUSY";
  }
  return "MS_UNKNOWN_STATUS";
}

ms_status ms_synth_options_init(ms_synth_options* opts) {
  if (!opts) return Report(nullptr, MS_ERR_INVALID_ARGUMENT, "opts is NULL");
  std::memset(opts, 0, sizeof *opts);
  opts->struct_size = sizeof *opts;
  opts->length_scale = 1.0f;
  opts->verify_checksums = 1;
  return MS_OK;
}

ms_status ms_start_options_init(ms_start_options* opts) {
  if (!opts) return Report(nullptr, MS_ERR_INVALID_ARGUMENT, "opts is NULL");
  std::memset(opts, 0, sizeof *opts);
  opts->struct_size = sizeof *opts;
  return MS_OK;
}

ms_synth* ms_synth_create(const ms_synth_options* opts, ms_status* err) {
  ms_synth* result = nullptr;
  ms_status st = Guard(nullptr, [&]() -> ms_status {
    if (!opts) mobilespeech::Fail(MS_ERR_INVALID_ARGUMENT, "opts is NULL");
    ms_synth_options o;
    ReadStruct(opts, sizeof(ms_synth_options), "ms_synth_options", &o);
    if (!o.bundle_dir || !o.bundle_dir[0]) {
      mobilespeech::Fail(MS_ERR_INVALID_ARGUMENT, "bundle_dir is NULL or empty");
    }
    if (o.num_threads < 0 || o.num_threads > mobilespeech::kMaxThreads) {
      mobilespeech::Fail(MS_ERR_INVALID_ARGUMENT,
                         mobilespeech::Format("num_threads must be in 0..%d, got %d",
                                              mobilespeech::kMaxThreads, o.num_threads));
    }
    if (!(o.length_scale >= mobilespeech::kMinLengthScale &&
          o.length_scale <= mobilespeech::kMaxLengthScale)) {
      mobilespeech::Fail(MS_ERR_INVALID_ARGUMENT,
                         mobilespeech::Format("length_scale must be in [%g, %g], got %g",
                                              static_cast<double>(mobilespeech::kMinLengthScale),
                                              static_cast<double>(mobilespeech::kMaxLengthScale),
                                              static_cast<double>(o.length_scale)));
    }
    mobilespeech::SynthOptions so;
    so.bundle_dir = o.bundle_dir;
    so.num_threads = o.num_threads;
    so.verify_checksums = o.verify_checksums != 0;
    so.use_seed = o.use_seed != 0;
    so.seed = o.seed;
    so.steps = ReadSteps(o.steps, o.n_steps);
    so.length_scale = o.length_scale;
    auto handle = std::unique_ptr<ms_synth>(new ms_synth());
    handle->impl = std::make_unique<mobilespeech::Synthesizer>(so);
    {
      std::lock_guard<std::mutex> lock(g_handles_mu);
      Handles().insert(handle.get());
    }
    result = handle.release();
    return MS_OK;
  });
  if (err) *err = st;
  return st == MS_OK ? result : nullptr;
}

void ms_synth_destroy(ms_synth* synth) {
  if (!synth) return;
  {
    // A handle destroyed twice (or never created) is not in the set: nothing happens.
    std::lock_guard<std::mutex> lock(g_handles_mu);
    if (Handles().erase(synth) == 0) return;
    synth->magic = kHandleDead;
  }
  try {
    delete synth;
  } catch (...) {
  }
}

const char* ms_last_error(const ms_synth* synth) {
  if (synth && CheckHandle(synth) != MS_OK) return t_last_error.c_str();
  return synth ? synth->last_error.c_str() : t_last_error.c_str();
}

}  // extern "C"

namespace {

// The calls behind the entry points, on a handle already checked and held.
ms_status Start(ms_synth* synth, const char* text, const float* prompt_pcm, size_t n_frames,
                int32_t sample_rate, int32_t channels, const ms_start_options* opts) {
  ms_status st = Guard(synth, [&]() -> ms_status {
    synth->impl->Abort();
    if (!text) mobilespeech::Fail(MS_ERR_INVALID_ARGUMENT, "text is NULL");
    mobilespeech::CallOptions co = ReadStartOptions(opts);
    mobilespeech::PromptInput p = ReadPrompt(prompt_pcm, n_frames, sample_rate, channels);
    synth->impl->StartText(text, p, co);
    return MS_OK;
  });
  if (st != MS_OK) synth->impl->Abort();
  return st;
}

ms_status StartPhonemes(ms_synth* synth, const int32_t* ids, const size_t* chunk_lengths,
                        size_t n_chunks, const float* prompt_pcm, size_t n_frames,
                        int32_t sample_rate, int32_t channels, const ms_start_options* opts) {
  ms_status st = Guard(synth, [&]() -> ms_status {
    synth->impl->Abort();
    mobilespeech::CallOptions co = ReadStartOptions(opts);
    auto chunks = ReadPhonemes(ids, chunk_lengths, n_chunks);
    mobilespeech::PromptInput p = ReadPrompt(prompt_pcm, n_frames, sample_rate, channels);
    synth->impl->StartPhonemes(std::move(chunks), p, co);
    return MS_OK;
  });
  if (st != MS_OK) synth->impl->Abort();
  return st;
}

ms_status StartResynth(ms_synth* synth, const float* pcm, size_t n_frames, int32_t sample_rate,
                       int32_t channels) {
  ms_status st = Guard(synth, [&]() -> ms_status {
    synth->impl->Abort();
    if (!pcm) mobilespeech::Fail(MS_ERR_INVALID_ARGUMENT, "pcm is NULL");
    if (n_frames == 0) mobilespeech::Fail(MS_ERR_INVALID_AUDIO, "input audio is empty");
    mobilespeech::PromptInput in;
    in.pcm = pcm;
    in.n_frames = n_frames;
    in.sample_rate = sample_rate;
    in.channels = channels;
    synth->impl->StartResynth(in);
    return MS_OK;
  });
  if (st != MS_OK) synth->impl->Abort();
  return st;
}

// After a successful start: every chunk into one malloc'ed buffer.
ms_status DrainAll(ms_synth* synth, float** out, size_t* n_out) {
  ms_status st = Guard(synth, [&]() -> ms_status { return Drain(synth, out, n_out); });
  if (st != MS_OK) synth->impl->Abort();
  return st;
}

}  // namespace

extern "C" {

ms_status ms_synth_start(ms_synth* synth, const char* text, const float* prompt_pcm,
                         size_t n_frames, int32_t sample_rate, int32_t channels,
                         const ms_start_options* opts) {
  MS_ENTER(synth);
  return Start(synth, text, prompt_pcm, n_frames, sample_rate, channels, opts);
}

ms_status ms_synth_start_phonemes(ms_synth* synth, const int32_t* ids, const size_t* chunk_lengths,
                                  size_t n_chunks, const float* prompt_pcm, size_t n_frames,
                                  int32_t sample_rate, int32_t channels,
                                  const ms_start_options* opts) {
  MS_ENTER(synth);
  return StartPhonemes(synth, ids, chunk_lengths, n_chunks, prompt_pcm, n_frames, sample_rate,
                       channels, opts);
}

ms_status ms_synth_next(ms_synth* synth, ms_audio_chunk* out) {
  MS_ENTER(synth);
  if (!out) return Report(synth, MS_ERR_INVALID_ARGUMENT, "out is NULL");
  ms_status st = Guard(synth, [&]() -> ms_status {
    return synth->impl->Next(out) ? MS_OK : MS_DONE;
  });
  if (st != MS_OK && st != MS_DONE) {
    std::memset(out, 0, sizeof *out);
    if (st != MS_ERR_STATE) synth->impl->Abort();
  }
  return st;
}

ms_status ms_synth_cancel(ms_synth* synth) {
  if (ms_status st = CheckHandle(synth)) return st;  // no hold: cancel is for other threads
  synth->impl->Cancel();
  return MS_OK;
}

ms_status ms_synth_speak(ms_synth* synth, const char* text, const float* prompt_pcm,
                         size_t n_frames, int32_t sample_rate, int32_t channels,
                         const ms_start_options* opts, float** out, size_t* n_out) {
  if (out) *out = nullptr;
  if (n_out) *n_out = 0;
  MS_ENTER(synth);
  if (!out || !n_out) return Report(synth, MS_ERR_INVALID_ARGUMENT, "out or n_out is NULL");
  ms_status st = Start(synth, text, prompt_pcm, n_frames, sample_rate, channels, opts);
  if (st != MS_OK) return st;
  return DrainAll(synth, out, n_out);
}

ms_status ms_synth_speak_phonemes(ms_synth* synth, const int32_t* ids, const size_t* chunk_lengths,
                                  size_t n_chunks, const float* prompt_pcm, size_t n_frames,
                                  int32_t sample_rate, int32_t channels,
                                  const ms_start_options* opts, float** out, size_t* n_out) {
  if (out) *out = nullptr;
  if (n_out) *n_out = 0;
  MS_ENTER(synth);
  if (!out || !n_out) return Report(synth, MS_ERR_INVALID_ARGUMENT, "out or n_out is NULL");
  ms_status st = StartPhonemes(synth, ids, chunk_lengths, n_chunks, prompt_pcm, n_frames,
                               sample_rate, channels, opts);
  if (st != MS_OK) return st;
  return DrainAll(synth, out, n_out);
}

ms_status ms_synth_start_resynth(ms_synth* synth, const float* pcm, size_t n_frames,
                                 int32_t sample_rate, int32_t channels) {
  MS_ENTER(synth);
  return StartResynth(synth, pcm, n_frames, sample_rate, channels);
}

ms_status ms_synth_resynthesize(ms_synth* synth, const float* pcm, size_t n_frames,
                                int32_t sample_rate, int32_t channels, float** out,
                                size_t* n_out) {
  if (out) *out = nullptr;
  if (n_out) *n_out = 0;
  MS_ENTER(synth);
  if (!out || !n_out) return Report(synth, MS_ERR_INVALID_ARGUMENT, "out or n_out is NULL");
  ms_status st = StartResynth(synth, pcm, n_frames, sample_rate, channels);
  if (st != MS_OK) return st;
  st = DrainAll(synth, out, n_out);
  if (st != MS_OK) return st;
  *n_out = std::min(*n_out, synth->impl->resynth_samples());  // drop the last frame's padding
  return MS_OK;
}

void ms_free_audio(float* samples) { std::free(samples); }

int32_t ms_synth_sample_rate(const ms_synth* synth) {
  return synth && Live(synth) ? static_cast<int32_t>(synth->impl->config().sample_rate) : 0;
}

ms_status ms_synth_limits(const ms_synth* synth, ms_limits* out) {
  MS_ENTER(synth);
  ms_synth* s = const_cast<ms_synth*>(synth);
  if (!out) return Report(s, MS_ERR_INVALID_ARGUMENT, "out is NULL");
  if (out->struct_size < sizeof(size_t) + sizeof(int32_t) || out->struct_size > kMaxStructSize) {
    return Report(s, MS_ERR_INVALID_ARGUMENT, "ms_limits.struct_size must be set to sizeof(ms_limits)");
  }
  synth->impl->FillLimits(out);  // cannot fail; leaves last_error alone
  return MS_OK;
}

ms_status ms_synth_timings(const ms_synth* synth, ms_timings* out) {
  MS_ENTER(synth);
  ms_synth* s = const_cast<ms_synth*>(synth);
  if (!out) return Report(s, MS_ERR_INVALID_ARGUMENT, "out is NULL");
  if (out->struct_size < sizeof(size_t) + sizeof(double) || out->struct_size > kMaxStructSize) {
    return Report(s, MS_ERR_INVALID_ARGUMENT, "ms_timings.struct_size must be set to sizeof(ms_timings)");
  }
  synth->impl->FillTimings(out);
  return MS_OK;
}

const char* ms_synth_symbol(const ms_synth* synth, int32_t id) {
  if (!synth || !Live(synth)) return nullptr;
  const auto& sym = synth->impl->symbols();
  if (id < 0 || static_cast<size_t>(id) >= sym.size()) return nullptr;
  return sym[static_cast<size_t>(id)].c_str();
}

ms_status ms_synth_text_to_phonemes(ms_synth* synth, const char* text, int32_t** ids,
                                    size_t* n_ids, size_t** chunk_lengths, size_t* n_chunks,
                                    uint32_t* flags) {
  if (ids) *ids = nullptr;
  if (n_ids) *n_ids = 0;
  if (chunk_lengths) *chunk_lengths = nullptr;
  if (n_chunks) *n_chunks = 0;
  if (flags) *flags = 0;
  MS_ENTER(synth);
  if (!ids || !n_ids || !chunk_lengths || !n_chunks) {
    return Report(synth, MS_ERR_INVALID_ARGUMENT, "ids, n_ids, chunk_lengths or n_chunks is NULL");
  }
  return Guard(synth, [&]() -> ms_status {
    if (!text) mobilespeech::Fail(MS_ERR_INVALID_ARGUMENT, "text is NULL");
    uint32_t f = 0;
    const std::vector<std::vector<int64_t>> chunks = synth->impl->TextToPhonemes(text, &f);
    size_t total = 0;
    for (const auto& c : chunks) total += c.size();
    // malloc'ed (ms_free_phonemes frees both); never 0 bytes, so NULL means failure
    auto* id_buf = static_cast<int32_t*>(std::malloc(std::max<size_t>(total, 1) * sizeof(int32_t)));
    auto* len_buf = static_cast<size_t*>(std::malloc(std::max<size_t>(chunks.size(), 1) *
                                                     sizeof(size_t)));
    if (!id_buf || !len_buf) {
      std::free(id_buf);
      std::free(len_buf);
      throw std::bad_alloc();
    }
    size_t pos = 0;
    for (size_t i = 0; i < chunks.size(); ++i) {
      len_buf[i] = chunks[i].size();
      for (int64_t id : chunks[i]) id_buf[pos++] = static_cast<int32_t>(id);  // < n_symbols
    }
    *ids = id_buf;
    *n_ids = total;
    *chunk_lengths = len_buf;
    *n_chunks = chunks.size();
    if (flags) *flags = f;
    return MS_OK;
  });
}

void ms_free_phonemes(int32_t* ids, size_t* chunk_lengths) {
  std::free(ids);
  std::free(chunk_lengths);
}

ms_status ms_normalize_text(const char* bundle_dir, const char* text, char** out) {
  if (out) *out = nullptr;
  return Guard(nullptr, [&]() -> ms_status {
    if (!bundle_dir || !bundle_dir[0]) {
      mobilespeech::Fail(MS_ERR_INVALID_ARGUMENT, "bundle_dir is NULL or empty");
    }
    if (!text) mobilespeech::Fail(MS_ERR_INVALID_ARGUMENT, "text is NULL");
    if (!out) mobilespeech::Fail(MS_ERR_INVALID_ARGUMENT, "out is NULL");
    std::string err;
    auto normalizer = mobilespeech::TextNormalizer::Load(bundle_dir, &err);
    if (!normalizer) {
      mobilespeech::Fail(err.rfind("out of memory", 0) == 0 ? MS_ERR_NO_MEMORY : MS_ERR_MODEL,
                         err.empty() ? "the text normalizer could not be loaded" : err);
    }
    // The checks of ms_synth_start before the frontend: length in bytes, then UTF-8.
    const size_t n = std::strlen(text), max_chars = normalizer->max_chars();
    if (n > static_cast<size_t>(mobilespeech::kMaxUtf8BytesPerChar) * max_chars) {
      mobilespeech::Fail(MS_ERR_INVALID_TEXT,
                         mobilespeech::Format("text is more than %zu characters long (%zu "
                                              "bytes); the limit is %zu characters per request: "
                                              "split it into shorter pieces", max_chars, n,
                                              max_chars));
    }
    if (!mobilespeech::utf8::Valid(text, n)) {
      mobilespeech::Fail(MS_ERR_INVALID_TEXT, "text is not valid UTF-8");
    }
    std::string words;
    if (!normalizer->Normalize(std::string(text, n), &words, &err)) {
      mobilespeech::Fail(err.rfind("out of memory", 0) == 0 ? MS_ERR_NO_MEMORY
                                                            : MS_ERR_INVALID_TEXT, err);
    }
    char* buf = static_cast<char*>(std::malloc(words.size() + 1));
    if (!buf) throw std::bad_alloc();
    std::memcpy(buf, words.c_str(), words.size() + 1);
    *out = buf;
    return MS_OK;
  });
}

void ms_free_string(char* s) { std::free(s); }

ms_status ms_get_request_limits(ms_request_limits* out) {
  namespace ms = mobilespeech;
  if (!out) return Report(nullptr, MS_ERR_INVALID_ARGUMENT, "out is NULL");
  if (out->struct_size < sizeof(size_t) + sizeof(int32_t) || out->struct_size > kMaxStructSize) {
    return Report(nullptr, MS_ERR_INVALID_ARGUMENT,
                  "ms_request_limits.struct_size must be set to sizeof(ms_request_limits)");
  }
  ms_request_limits l;
  std::memset(&l, 0, sizeof l);
  l.struct_size = out->struct_size;
  l.max_steps_per_layer = ms::kMaxStepsPerLayer;
  l.min_length_scale = ms::kMinLengthScale;
  l.max_length_scale = ms::kMaxLengthScale;
  l.max_threads = ms::kMaxThreads;
  l.max_channels = ms::kMaxChannels;
  l.min_sample_rate = ms::kMinSampleRate;
  l.max_sample_rate = ms::kMaxSampleRate;
  l.max_input_seconds = static_cast<float>(ms::kMaxPromptInputSeconds);
  l.max_input_frames = static_cast<int64_t>(ms::kMaxPromptInputFrames);
  l.phonemes_per_char = static_cast<float>(ms::kPhonemesPerChar);
  l.max_codebooks = ms::kMaxCodebooks;
  l.max_resynth_seconds = static_cast<float>(ms::kMaxResynthSeconds);
  l.max_utf8_bytes_per_char = ms::kMaxUtf8BytesPerChar;
  l.max_resynth_frames = static_cast<int64_t>(ms::kMaxResynthFrames);
  l.max_pipe_bytes = static_cast<int64_t>(ms::kMaxPipeBytes);
  l.max_audio_file_bytes = static_cast<int64_t>(ms::kMaxAudioFileBytes);
  std::memcpy(out, &l, std::min(out->struct_size, sizeof l));
  return MS_OK;
}

}  // extern "C"
