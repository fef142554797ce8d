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

}  // namespace mobilespeech
