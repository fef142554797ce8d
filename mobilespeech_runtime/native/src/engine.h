// The runtime: a bundle's four ExecuTorch programs plus the loop of
// mobilespeech_runtime/synthesizer.py (prompt window, schedule plan, duration regulation,
// SplitMix64 noise, decode windows), as a pull iterator. Not thread-safe except Cancel().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "audio.h"
#include "bundle.h"
#include "mobilespeech.h"

namespace mobilespeech {

class TextFrontend;
class Program;
struct PoolLease;

struct SynthOptions {
  std::string bundle_dir;
  int num_threads = 0;
  bool verify_checksums = true;
  bool use_seed = false;
  uint64_t seed = 0;
  std::vector<int> steps;  // empty: the bundle's
  float length_scale = 1.0f;
};

struct CallOptions {
  bool use_seed = false;
  uint64_t seed = 0;
  std::vector<int> steps;     // empty: the handle's
  float length_scale = 0.0f;  // 0: the handle's
};

struct PromptInput {
  const float* pcm = nullptr;  // nullptr + 0 frames: the bundle's default voice
  size_t n_frames = 0;
  int32_t sample_rate = 0;
  int32_t channels = 1;
};

class Synthesizer {
 public:
  explicit Synthesizer(const SynthOptions& opts);  // throws Error
  ~Synthesizer();
  Synthesizer(const Synthesizer&) = delete;
  Synthesizer& operator=(const Synthesizer&) = delete;

  void StartText(const char* text, const PromptInput& prompt, const CallOptions& opts);
  // Text -> the phoneme id chunks StartText would synthesize, with the same checks and errors;
  // *flags gets MS_CHUNK_TEXT_SKIPPED when the frontend left something unread. Leaves any
  // synthesis in progress alone.
  std::vector<std::vector<int64_t>> TextToPhonemes(const char* text, uint32_t* flags) const;
  void StartPhonemes(std::vector<std::vector<int64_t>> chunks, const PromptInput& prompt,
                     const CallOptions& opts);
  // Audio through the codec alone (encode -> tokens -> the decoder windows of Next()).
  void StartResynth(const PromptInput& audio);
  // Samples of the last resynthesis input at the bundle's rate (the output is trimmed to it).
  size_t resynth_samples() const { return resynth_samples_; }
  // True with *out filled, or false when the utterance is complete. Throws on error.
  bool Next(ms_audio_chunk* out);
  void Cancel() { cancel_.store(true, std::memory_order_relaxed); }
  // Ends the synthesis in progress (after an error) and releases its buffers.
  void Abort();

  const BundleConfig& config() const { return bundle_.config; }
  const std::vector<std::string>& symbols() const { return bundle_.symbols; }
  bool has_frontend() const { return frontend_ != nullptr; }
  int num_threads() const { return num_threads_; }
  void FillLimits(ms_limits* out) const noexcept;
  void FillTimings(ms_timings* out) const noexcept;

 private:
  struct Job;

  void ValidateCall(const CallOptions& opts, std::vector<int>* steps, float* length_scale,
                    uint64_t* seed) const;
  void CheckChunks(const std::vector<std::vector<int64_t>>& chunks) const;
  void Begin(std::vector<std::vector<int64_t>> chunks, const PromptInput& prompt,
             const CallOptions& opts, double frontend_s,
             std::chrono::steady_clock::time_point t_start);
  void PreparePrompt(const PromptInput& prompt);
  void Generate();
  void DecodeMels(const std::vector<int64_t>& tokens, int64_t t,
                  std::vector<std::vector<float>>* mels, std::vector<std::vector<float>>* keeps,
                  std::vector<float>* own);
  void CheckCancel() const;
  void LoadPrograms();
  void CheckConstants(Program& p, const std::string& file);
  void CheckInputs(Program& p, const std::string& file, const std::string& method);

  std::unique_ptr<PoolLease> lease_;  // first: released after the programs are gone
  Bundle bundle_;
  SynthOptions opts_;
  int num_threads_ = 0;
  std::unique_ptr<Program> prompt_, text_, smd_, decoder_, vocoder_;  // vocoder_: mel codec
  std::unique_ptr<TextFrontend> frontend_;
  std::string frontend_error_;
  AudioLimits audio_limits_;

  // prompt cache: conditioned samples -> tokens [N, Pf] and memory [Pf, D]
  std::vector<float> prompt_samples_;
  bool prompt_trimmed_ = false;
  bool prompt_one_channel_ = false;
  size_t resynth_samples_ = 0;
  std::vector<int64_t> prompt_tokens_;
  int64_t prompt_frames_ = 0;
  std::vector<float> prompt_memory_;
  std::vector<double> prompt_spectrum_;  // mel_match: the prompt's loud-frame log-mel mean
  std::vector<float> default_prompt_;  // conditioned default voice (lazy)
  bool default_prompt_loaded_ = false;
  bool default_prompt_trimmed_ = false;

  std::unique_ptr<Job> job_;
  enum class State { Idle, Running, Done } state_ = State::Idle;
  std::vector<float> chunk_;  // borrowed by ms_audio_chunk
  std::atomic<bool> cancel_{false};
  ms_timings timings_{};
};

}  // namespace mobilespeech
