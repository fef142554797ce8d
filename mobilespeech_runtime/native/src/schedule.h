// The plans the runtime follows, mirroring mobilespeech_runtime/schedule.py line for line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mobilespeech {

struct Step {
  int64_t layer;
  int64_t step;
  int64_t n_masked_after;  // positions of `layer` still masked after this step
  double temperature;      // Gumbel noise scale; 0 = greedy
};

// Every SMD forward pass for one utterance, in order (schedule.plan).
std::vector<Step> Plan(int64_t n_frames, const std::vector<int>& steps, double temperature);

// Integer frames per phoneme -> frames with 1 <= total <= max_frames (schedule.regulate_durations).
// Returns whether the durations were compressed.
bool RegulateDurations(std::vector<int64_t>* frames, int64_t max_frames);

struct Window {
  int64_t start;   // first output frame of this chunk
  int64_t frames;  // output frames kept (== chunk except at the end)
};

std::vector<Window> DecodeWindows(int64_t n_frames, int64_t chunk);

// tokens [N, T] (row-major) -> window [N, chunk + 2 context] and keep [chunk + 2 context]
// (schedule.window_tokens): frames outside the utterance are token 0 with keep 0.
void WindowTokens(const std::vector<int64_t>& tokens, int64_t n, int64_t t, const Window& win,
                  int64_t chunk, int64_t context, std::vector<int64_t>* window,
                  std::vector<float>* keep);

// mel_match.py loud_mean: mel [n_mels, frames] row-major -> per-bin mean (float64) over the
// int(loud_fraction * frames) (at least 1) loudest frames; loudness = a frame's mean log-mel,
// ties in frame order (stable sort).
std::vector<double> LoudMean(const std::vector<float>& mel, int64_t n_mels, int64_t frames,
                             double loud_fraction);

// mel_match.py mel_offset: float32(strength * (prompt - sentence)).
std::vector<float> MelOffset(const std::vector<double>& prompt, const std::vector<double>& sentence,
                             double strength);

}  // namespace mobilespeech
