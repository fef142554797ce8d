// Unit tests of the runtime's internals: JSON reader, SHA-256, SplitMix64, schedule, resampler,
// WAV I/O. No ExecuTorch needed.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "audio.h"
#include "json.h"
#include "rng.h"
#include "schedule.h"
#include "sha256.h"
#include "utf8.h"
#include "wav.h"

using namespace mobilespeech;

static int failures = 0;
#define CHECK(cond)                                                                   \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                                     \
    }                                                                                 \
  } while (0)

static void TestSha() {
  Sha256 a;
  a.Update("abc", 3);
  CHECK(a.HexDigest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 b;
  CHECK(b.HexDigest() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 c;
  std::string m(1000000, 'a');
  for (size_t i = 0; i < m.size(); i += 777) c.Update(m.data() + i, std::min<size_t>(777, m.size() - i));
  CHECK(c.HexDigest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void TestJson() {
  json::Value v;
  std::string err;
  CHECK(json::Parse(R"({"a": [1, 2.5, -3e2, true, null, "x\u00e9\ud83d\ude00"], "a": 7, "n": NaN})", &v, &err));
  CHECK(v.find("a") && v.find("a")->is_integer() && v.find("a")->as_int() == 7);  // last wins
  CHECK(v.find("n") && std::isnan(v.find("n")->as_double()));
  CHECK(json::Parse("[1.0, 1e3, 12345678901234567890, -Infinity]", &v, &err));
  CHECK(v.items()[0].is_integer() && v.items()[1].as_int() == 1000 && !v.items()[2].is_integer());
  CHECK(std::isinf(v.items()[3].as_double()));
  CHECK(json::Parse("0.1", &v, &err) && v.as_double() == 0.1);
  const char* bad[] = {"", "{", "[1,]", "{\"a\" 1}", "01", "\"\\x\"", "\"\x01\"", "[1] x",
                       "\"\\ud800\"", "\"\xff\"", "tru", "-", "1.", "1e", "{1: 2}"};
  for (const char* b : bad) CHECK(!json::Parse(b, &v, &err));
  std::string deep(100, '[');
  CHECK(!json::Parse(deep, &v, &err));
}

static void TestUtf8() {
  const std::string ok = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";  // a e-acute euro emoji
  CHECK(utf8::Valid(ok));
  CHECK(utf8::Decode(ok) == std::u32string({U'a', 0xE9, 0x20AC, 0x1F600}));
  CHECK(utf8::Encode(utf8::Decode(ok)) == ok);
  // overlong, surrogate, above U+10FFFF, truncated, stray continuation, bad lead byte
  const char* bad[] = {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82",
                       "\x80", "\xff", "ab\xc3"};
  for (const char* b : bad) CHECK(!utf8::Valid(b, std::strlen(b)));
  CHECK(utf8::Decode("a\xff" "b\xe2\x82") == std::u32string({U'a', 0xFFFD, U'b', 0xFFFD, 0xFFFD}));
  char32_t cp = 0;
  CHECK(utf8::DecodeOne("", 0, &cp) == 0 && utf8::DecodeOne("\xe2\x82\xac", 3, &cp) == 3);
  CHECK(cp == 0x20AC);
  std::string s;
  utf8::Append(&s, 0xD800);  // not a scalar value
  utf8::Append(&s, 0x110000);
  CHECK(s == "\xef\xbf\xbd\xef\xbf\xbd");
  // UTF-16 both ways: a pair, a lone surrogate (U+FFFD), U+0000 reported
  const char16_t u16[] = {u'h', 0xD83D, 0xDE00, 0xDC00, 0};
  bool nul = false;
  CHECK(utf8::FromUtf16(u16, 4, &nul) == "h\xf0\x9f\x98\x80\xef\xbf\xbd" && !nul);
  CHECK(utf8::FromUtf16(u16, 5, &nul).size() == 9 && nul);
  const uint16_t jchars[] = {0x48, 0x49};
  CHECK(utf8::FromUtf16(jchars, 2, nullptr) == "HI");
  CHECK(utf8::ToUtf16(ok.c_str()) == std::u16string({u'a', 0xE9, 0x20AC, 0xD83D, 0xDE00}));
  CHECK(utf8::ToUtf16(nullptr).empty() && utf8::ToUtf16("\xff") == std::u16string(1, 0xFFFD));
}

static void TestRng() {
  // Values from mobilespeech_runtime.rng.uniform(0, 0, 0, 3) and (2**64 - 1, 3, 7, 2).
  float out[3];
  rng::Uniform(0, 0, 0, out, 3);
  for (float x : out) CHECK(x > 0.0f && x < 1.0f);
  float again[3];
  rng::Uniform(0, 0, 0, again, 3);
  CHECK(std::memcmp(out, again, sizeof out) == 0);
  rng::Uniform(1, 0, 0, again, 3);
  CHECK(std::memcmp(out, again, sizeof out) != 0);
}

static void TestSchedule() {
  auto p = Plan(100, {4, 1}, 1.0);
  CHECK(p.size() == 5);
  CHECK(p[0].n_masked_after == 93 && p[3].n_masked_after == 0 && p[4].layer == 1);
  CHECK(p[3].temperature == 0.0 && p[0].temperature == 0.75);
  std::vector<int64_t> f = {3, -2, 5};
  CHECK(!RegulateDurations(&f, 100) && f[1] == 0);
  f = {300, 300};
  CHECK(RegulateDurations(&f, 400) && f[0] == 200 && f[1] == 200);
  f = {0, 0, 0};
  RegulateDurations(&f, 10);
  CHECK(f[1] == 1);
  auto w = DecodeWindows(120, 50);
  CHECK(w.size() == 3 && w[2].start == 100 && w[2].frames == 20);
  std::vector<int64_t> tokens = {1, 2, 3, 4, 5, 6};  // N=2, T=3
  std::vector<int64_t> win;
  std::vector<float> keep;
  WindowTokens(tokens, 2, 3, Window{0, 3}, 4, 1, &win, &keep);
  CHECK(win.size() == 12 && win[0] == 0 && win[1] == 1 && win[3] == 3 && win[6 + 1] == 4);
  CHECK(keep[0] == 0.0f && keep[1] == 1.0f && keep[3] == 1.0f && keep[4] == 0.0f);
}

static void TestResample() {
  for (int src : {44100, 48000, 8000, 22050}) {
    const int dst = 16000;
    const double f = 440.0;
    std::vector<float> x(static_cast<size_t>(src));
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(0.5 * std::sin(2 * M_PI * f * i / src));
    auto y = Resample(x, src, dst);
    CHECK(y.size() == static_cast<size_t>(dst));
    double err = 0.0;
    for (size_t i = 2000; i < y.size() - 2000; ++i) {
      err = std::max(err, std::fabs(y[i] - 0.5 * std::sin(2 * M_PI * f * i / dst)));
    }
    if (err > 2e-3) std::fprintf(stderr, "resample %d -> %d: max error %g\n", src, dst, err);
    CHECK(err < 2e-3);
  }
  // Content above the new Nyquist is removed.
  std::vector<float> x(48000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(0.5 * std::sin(2 * M_PI * 12000.0 * i / 48000));
  auto y = Resample(x, 48000, 16000);
  double peak = 0.0;
  for (size_t i = 1000; i < y.size() - 1000; ++i) peak = std::max(peak, std::fabs(double(y[i])));
  CHECK(peak < 1e-3);
}

static void TestWav() {
  std::vector<float> x = {0.0f, 0.5f, -0.5f, 1.0f, -1.0f, 0.25f};
  const char* path = "unit_test_tmp.wav";
  std::string err;
  CHECK(WriteWav(path, x.data(), x.size(), 16000, false, &err));
  WavData w;
  CHECK(ReadWav(path, &w, &err));
  CHECK(w.sample_rate == 16000 && w.channels == 1 && w.samples.size() == x.size());
  for (size_t i = 0; i < x.size() && i < w.samples.size(); ++i) CHECK(std::fabs(w.samples[i] - x[i]) < 1e-4);
  CHECK(WriteWav(path, x.data(), x.size(), 22050, true, &err));
  CHECK(ReadWav(path, &w, &err) && w.samples == x && w.sample_rate == 22050);
  std::remove(path);
  const uint8_t junk[] = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' ', 255, 255, 255, 255};
  CHECK(!ParseWav(junk, sizeof junk, &w, &err));
  CHECK(!ParseWav(junk, 3, &w, &err));
}

// The vectors of tests/test_mel_match.py (mel_match.py's loud_mean / mel_offset).
static void TestMelMatch() {
  const std::vector<float> mel = {0, 10, 2, 8, 0, 2, 4, 6};  // [2, 4]: loudness 0, 6, 3, 7
  std::vector<double> m = LoudMean(mel, 2, 4, 0.5);
  CHECK(m.size() == 2 && m[0] == 9.0 && m[1] == 4.0);
  m = LoudMean(mel, 2, 4, 0.01);  // at least one frame
  CHECK(m[0] == 8.0 && m[1] == 6.0);
  std::vector<float> ties(15, 1.0f);  // [3, 5], frame 2 louder, the rest tie
  for (int b = 0; b < 3; ++b) ties[b * 5 + 2] = 2.0f;
  m = LoudMean(ties, 3, 5, 0.4);
  CHECK(m[0] == 1.5 && m[1] == 1.5 && m[2] == 1.5);
  std::vector<float> off = MelOffset({1.0, -2.0}, {0.0, 0.0}, 0.5);
  CHECK(off.size() == 2 && off[0] == 0.5f && off[1] == -1.0f);
  CHECK(LoudMean(mel, 2, 0, 0.5).size() == 2);  // no frames: zeros, no read
}

int main() {
  TestSha();
  TestJson();
  TestUtf8();
  TestRng();
  TestSchedule();
  TestMelMatch();
  TestResample();
  TestWav();
  if (failures) {
    std::fprintf(stderr, "unit_test: %d failure(s)\n", failures);
    return 1;
  }
  std::printf("unit_test: OK\n");
  return 0;
}
