#include "schedule.h"

#include <algorithm>
#include <cmath>

namespace mobilespeech {

std::vector<Step> Plan(int64_t n_frames, const std::vector<int>& steps, double temperature) {
  // Python: left = ceil(cos(pi / 2 * (t + 1) / s) * n) if t + 1 < s else 0
  //         temp = temperature * (1.0 - (t + 1) / s)
  const double kPi = 3.141592653589793;  // math.pi
  std::vector<Step> out;
  for (size_t layer = 0; layer < steps.size(); ++layer) {
    const int s = steps[layer];
    for (int t = 0; t < s; ++t) {
      int64_t left = 0;
      if (t + 1 < s) {
        double x = kPi / 2 * static_cast<double>(t + 1) / static_cast<double>(s);
        left = static_cast<int64_t>(std::ceil(std::cos(x) * static_cast<double>(n_frames)));
      }
      double temp = temperature * (1.0 - static_cast<double>(t + 1) / static_cast<double>(s));
      out.push_back(Step{static_cast<int64_t>(layer), t, std::min(left, n_frames), temp});
    }
  }
  return out;
}

bool RegulateDurations(std::vector<int64_t>* frames, int64_t max_frames) {
  std::vector<int64_t>& f = *frames;
  int64_t total = 0;
  for (auto& x : f) {
    if (x < 0) x = 0;
    // Saturate: a corrupt program cannot overflow the sum.
    total = x > INT64_MAX - total ? INT64_MAX : total + x;
  }
  const bool scaled = total > max_frames;
  if (scaled) {
    const double ratio = static_cast<double>(max_frames) / static_cast<double>(total);
    for (auto& x : f) x = static_cast<int64_t>(std::floor(static_cast<double>(x) * ratio));
  }
  int64_t sum = 0;
  for (auto x : f) sum += x;
  if (sum == 0 && !f.empty()) f[f.size() / 2] = 1;
  return scaled;
}

std::vector<Window> DecodeWindows(int64_t n_frames, int64_t chunk) {
  std::vector<Window> out;
  for (int64_t s = 0; s < n_frames; s += chunk) out.push_back(Window{s, std::min(chunk, n_frames - s)});
  return out;
}

void WindowTokens(const std::vector<int64_t>& tokens, int64_t n, int64_t t, const Window& win,
                  int64_t chunk, int64_t context, std::vector<int64_t>* window,
                  std::vector<float>* keep) {
  const int64_t w = chunk + 2 * context;
  window->assign(static_cast<size_t>(n * w), 0);
  keep->assign(static_cast<size_t>(w), 0.0f);
  const int64_t lo = win.start - context;
  const int64_t a = std::max<int64_t>(lo, 0), b = std::min<int64_t>(lo + w, t);
  for (int64_t q = 0; q < n; ++q) {
    for (int64_t i = a; i < b; ++i) (*window)[q * w + (i - lo)] = tokens[q * t + i];
  }
  for (int64_t i = a; i < b; ++i) (*keep)[i - lo] = 1.0f;
}

std::vector<double> LoudMean(const std::vector<float>& mel, int64_t n_mels, int64_t frames,
                             double loud_fraction) {
  std::vector<double> out(static_cast<size_t>(std::max<int64_t>(n_mels, 0)), 0.0);
  if (n_mels < 1 || frames < 1 || mel.size() < static_cast<size_t>(n_mels * frames)) return out;
  std::vector<double> energy(static_cast<size_t>(frames), 0.0);
  for (int64_t b = 0; b < n_mels; ++b) {
    for (int64_t f = 0; f < frames; ++f) energy[f] += mel[static_cast<size_t>(b * frames + f)];
  }
  for (double& e : energy) e /= static_cast<double>(n_mels);
  std::vector<int64_t> order(static_cast<size_t>(frames));
  for (int64_t f = 0; f < frames; ++f) order[f] = f;
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return energy[a] < energy[b]; });
  const int64_t k = std::max<int64_t>(
      1, std::min<int64_t>(frames, static_cast<int64_t>(loud_fraction * static_cast<double>(frames))));
  std::vector<int64_t> loud(order.end() - k, order.end());
  std::sort(loud.begin(), loud.end());
  for (int64_t b = 0; b < n_mels; ++b) {
    double sum = 0.0;
    for (int64_t f : loud) sum += mel[static_cast<size_t>(b * frames + f)];
    out[b] = sum / static_cast<double>(k);
  }
  return out;
}

std::vector<float> MelOffset(const std::vector<double>& prompt, const std::vector<double>& sentence,
                             double strength) {
  std::vector<float> out(std::min(prompt.size(), sentence.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<float>(strength * (prompt[i] - sentence[i]));
  }
  return out;
}

}  // namespace mobilespeech
