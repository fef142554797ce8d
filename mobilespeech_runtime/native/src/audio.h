// Prompt conditioning (mirrors mobilespeech_runtime/audio.py condition_prompt) and a
// band-limited (Kaiser-windowed sinc) resampler for any pair of integer rates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "request_limits.h"

namespace mobilespeech {

struct AudioLimits {
  double min_prompt_seconds = 1.0;
  double max_prompt_seconds = 10.0;
  double silence_rms = 1e-3;
};

// Rates, channels and input lengths accepted: request_limits.h (kMinSampleRate, ...).

struct ConditionedPrompt {
  std::vector<float> samples;  // mono at the target rate, peak-normalized if it clipped
  bool trimmed = false;
  int channel = -1;  // >= 0: the channels cancelled when mixed; this one alone was used
};

// RMS with the DC offset removed (audio.py ac_rms), in double.
double AcRms(const float* x, size_t n, size_t stride = 1);

// Interleaved PCM [n_frames x channels] at `rate` -> conditioned mono at `target_rate`.
// Throws Error(MS_ERR_INVALID_AUDIO) for empty / non-finite / too short / silent audio or a bad
// rate or channel count. Order of checks and arithmetic follow audio.py.
ConditionedPrompt ConditionPrompt(const float* pcm, size_t n_frames, int32_t rate,
                                  int32_t channels, int32_t target_rate, const AudioLimits& lim);

// Resynthesis input (synthesizer.py resynthesize): checked, mixed to mono, resampled to
// `target_rate`, peak-normalized if it clips. Throws Error(MS_ERR_INVALID_AUDIO).
std::vector<float> PrepareResynthInput(const float* pcm, size_t n_frames, int32_t rate,
                                       int32_t channels, int32_t target_rate);

// Band-limited resampling of mono audio; output length round(n * dst / src).
std::vector<float> Resample(const std::vector<float>& x, int32_t src_rate, int32_t dst_rate);

}  // namespace mobilespeech
