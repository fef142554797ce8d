#include "audio.h"

#include <algorithm>
#include <cmath>
#include <mutex>

#include "common.h"

namespace mobilespeech {
namespace {

// Windowed-sinc table: kZeros zero crossings on each side, kRes points per crossing.
constexpr int kZeros = 24;
constexpr int kRes = 512;
constexpr double kKaiserBeta = 9.0;  // ~90 dB stop band
constexpr double kRolloff = 0.94;     // pass band edge as a fraction of the lower Nyquist

double BesselI0(double x) {
  double sum = 1.0, term = 1.0, q = x * x / 4.0;
  for (int k = 1; k < 64; ++k) {
    term *= q / (static_cast<double>(k) * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

const std::vector<double>& SincTable() {
  static std::vector<double> table;
  static std::once_flag once;
  std::call_once(once, [] {
    const int n = kZeros * kRes + 2;
    table.resize(n);
    const double denom = BesselI0(kKaiserBeta);
    for (int i = 0; i < n; ++i) {
      double x = static_cast<double>(i) / kRes;  // in zero crossings
      double sinc = i == 0 ? 1.0 : std::sin(M_PI * x) / (M_PI * x);
      double r = x / kZeros;
      double w = r >= 1.0 ? 0.0 : BesselI0(kKaiserBeta * std::sqrt(1.0 - r * r)) / denom;
      table[i] = sinc * w;
    }
  });
  return table;
}

int64_t Gcd(int64_t a, int64_t b) {
  while (b) {
    int64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// numpy's pairwise_sum for float32 (n <= 128: eight partial sums, then the rest in order).
float PairwiseSum(const float* a, size_t n) {
  if (n < 8) {
    float res = 0.0f;
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n > 128) {
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return PairwiseSum(a, n2) + PairwiseSum(a + n2, n - n2);
  }
  float r[8];
  for (int j = 0; j < 8; ++j) r[j] = a[j];
  size_t i = 8;
  for (; i < n - (n % 8); i += 8) {
    for (int j = 0; j < 8; ++j) r[j] += a[i + j];
  }
  float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
  for (; i < n; ++i) res += a[i];
  return res;
}

// to_mono: numpy's float32 mean over channels, bit for bit (0 + pairwise sum, then divide).
std::vector<float> MixToMono(const float* pcm, size_t n_frames, int32_t channels) {
  std::vector<float> x(n_frames);
  const size_t c = static_cast<size_t>(channels);
  for (size_t i = 0; i < n_frames; ++i) {
    const float* frame = pcm + i * c;
    x[i] = c == 1 ? frame[0] : (0.0f + PairwiseSum(frame, c)) / static_cast<float>(channels);
  }
  return x;
}

void CheckFormat(const float* pcm, size_t n_frames, int32_t rate, int32_t channels,
                 const char* what) {
  if (channels < 1 || channels > kMaxChannels) {
    Fail(MS_ERR_INVALID_AUDIO, Format("%s has %d channels; 1..%d are supported", what, channels,
                                      kMaxChannels));
  }
  if (rate < kMinSampleRate || rate > kMaxSampleRate) {
    Fail(MS_ERR_INVALID_AUDIO, Format("invalid %s sample rate %d Hz (supported: %d..%d)", what,
                                      rate, kMinSampleRate, kMaxSampleRate));
  }
  if (n_frames == 0 || pcm == nullptr) Fail(MS_ERR_INVALID_AUDIO, Format("%s audio is empty", what));
}

}  // namespace

double AcRms(const float* x, size_t n, size_t stride) {
  if (n == 0) return 0.0;
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<double>(x[i * stride]);
  const double mean = sum / static_cast<double>(n);
  double sq = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(x[i * stride]) - mean;
    sq += d * d;
  }
  return std::sqrt(sq / static_cast<double>(n));
}

std::vector<float> PrepareResynthInput(const float* pcm, size_t n_frames, int32_t rate,
                                       int32_t channels, int32_t target_rate) {
  CheckFormat(pcm, n_frames, rate, channels, "input");
  const double seconds = static_cast<double>(n_frames) / static_cast<double>(rate);
  if (seconds > kMaxResynthSeconds || n_frames > kMaxResynthFrames) {
    Fail(MS_ERR_INVALID_AUDIO, Format("input is %.0f s long; resynthesis takes at most %.0f s: "
                                      "cut it into pieces", seconds, kMaxResynthSeconds));
  }
  std::vector<float> x = MixToMono(pcm, n_frames, channels);
  for (float v : x) {
    if (!std::isfinite(v)) Fail(MS_ERR_INVALID_AUDIO, "input audio contains NaN or infinite samples");
  }
  if (rate != target_rate) x = Resample(x, rate, target_rate);
  float peak = 0.0f;
  for (float v : x) peak = std::max(peak, std::fabs(v));
  if (peak > 1.0f) {
    for (float& v : x) v = v / peak;
  }
  return x;
}

std::vector<float> Resample(const std::vector<float>& x, int32_t src_rate, int32_t dst_rate) {
  if (src_rate == dst_rate) return x;
  const std::vector<double>& table = SincTable();
  const int64_t g = Gcd(src_rate, dst_rate);
  const int64_t up = dst_rate / g, down = src_rate / g;  // t_out(n) = n * down / up (input units)
  const int64_t n_in = static_cast<int64_t>(x.size());
  const int64_t n_out = (n_in * dst_rate + src_rate / 2) / src_rate;
  // Cut-off relative to the input Nyquist; the kernel is h(t) = beta * sinc(beta * t) * w.
  const double beta = kRolloff * std::min(1.0, static_cast<double>(dst_rate) / src_rate);
  const double half_width = kZeros / beta;  // in input samples
  std::vector<float> y(static_cast<size_t>(n_out));
  for (int64_t n = 0; n < n_out; ++n) {
    const int64_t num = n * down;
    const int64_t center = num / up;
    const double frac = static_cast<double>(num % up) / static_cast<double>(up);
    const double t0 = static_cast<double>(center) + frac;
    int64_t lo = static_cast<int64_t>(std::ceil(t0 - half_width));
    int64_t hi = static_cast<int64_t>(std::floor(t0 + half_width));
    lo = std::max<int64_t>(lo, 0);
    hi = std::min<int64_t>(hi, n_in - 1);
    double acc = 0.0;
    for (int64_t k = lo; k <= hi; ++k) {
      double pos = std::fabs(t0 - static_cast<double>(k)) * beta * kRes;
      int64_t i = static_cast<int64_t>(pos);
      if (i >= kZeros * kRes) continue;
      double f = pos - static_cast<double>(i);
      double h = table[i] + f * (table[i + 1] - table[i]);
      acc += h * x[static_cast<size_t>(k)];
    }
    y[static_cast<size_t>(n)] = static_cast<float>(acc * beta);
  }
  return y;
}

ConditionedPrompt ConditionPrompt(const float* pcm, size_t n_frames, int32_t rate,
                                  int32_t channels, int32_t target_rate, const AudioLimits& lim) {
  CheckFormat(pcm, n_frames, rate, channels, "prompt");
  const double seconds = static_cast<double>(n_frames) / static_cast<double>(rate);
  if (seconds > kMaxPromptInputSeconds || n_frames > kMaxPromptInputFrames) {
    Fail(MS_ERR_INVALID_AUDIO,
         Format("prompt is %.0f s (%zu frames) long; at most %.0f s and %zu frames of input are "
                "accepted (only the first %.0f s are used)", seconds, n_frames,
                kMaxPromptInputSeconds, kMaxPromptInputFrames, lim.max_prompt_seconds));
  }
  std::vector<float> x = MixToMono(pcm, n_frames, channels);
  for (size_t i = 0; i < n_frames; ++i) {
    if (!std::isfinite(x[i])) Fail(MS_ERR_INVALID_AUDIO, "prompt audio contains NaN or infinite samples");
  }
  if (seconds < lim.min_prompt_seconds) {
    Fail(MS_ERR_INVALID_AUDIO, Format("prompt is %.2f s long; at least %.1f s is needed", seconds,
                                      lim.min_prompt_seconds));
  }
  ConditionedPrompt out;
  if (channels > 1 && !(AcRms(x.data(), x.size()) >= lim.silence_rms)) {
    // The mix cancelled (channels in opposite phase): use the loudest channel alone.
    int best = 0;
    double best_rms = -1.0;
    for (int ch = 0; ch < channels; ++ch) {
      const double r = AcRms(pcm + ch, n_frames, static_cast<size_t>(channels));
      if (r > best_rms) {
        best_rms = r;
        best = ch;
      }
    }
    if (best_rms >= lim.silence_rms) {
      out.channel = best;
      for (size_t i = 0; i < n_frames; ++i) x[i] = pcm[i * static_cast<size_t>(channels) + best];
    }
  }
  if (rate != target_rate) x = Resample(x, rate, target_rate);
  float peak = 0.0f;
  for (float v : x) peak = std::max(peak, std::fabs(v));
  if (peak > 1.0f) {
    for (float& v : x) v = v / peak;
  }
  const double rms = AcRms(x.data(), x.size());
  if (!(rms >= lim.silence_rms)) {
    Fail(MS_ERR_INVALID_AUDIO, Format("prompt is silent (RMS %.2e < %.0e after removing any DC "
                                      "offset)", rms, lim.silence_rms));
  }
  const size_t limit = static_cast<size_t>(lim.max_prompt_seconds * target_rate);
  out.trimmed = x.size() > limit;
  if (out.trimmed) x.resize(limit);
  out.samples = std::move(x);
  return out;
}

}  // namespace mobilespeech
