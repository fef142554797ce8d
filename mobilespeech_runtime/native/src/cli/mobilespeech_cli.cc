// mobilespeech_cli: text (+ prompt voice) -> wav through the C ABI, with timing.
//
//   mobilespeech_cli --bundle models/demo --text "Hello there." --out hello.wav
//   mobilespeech_cli --bundle DIR --text "..." --prompt voice.wav --out out.wav --seed 3
//                    --threads 2 --steps 8,2,1,1
//   mobilespeech_cli --bundle DIR --phonemes "HH AH0 L OW1 <sil>" --out out.wav
//   mobilespeech_cli --bundle DIR --text "..." --bench 10 --json   # one JSON line
//   mobilespeech_cli --bundle DIR --resynth speech.wav --out codec.wav  # the codec alone
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "mobilespeech.h"
#include "wav.h"

namespace {

using Clock = std::chrono::steady_clock;

const char* kUsage =
    "usage: mobilespeech_cli --bundle DIR (--text TEXT | --text-file FILE | --phonemes SYMS |\n"
    "                                      --resynth IN.wav)\n"
    "                        [--prompt voice.wav] [--out out.wav] [--float32]\n"
    "                        [--seed N] [--threads N] [--steps 8,2,1,1] [--length-scale X]\n"
    "                        [--bench N [--warmup K]] [--json] [--no-checksums] [--quiet]\n"
    "                        [--verbose]\n"
    "\n"
    "  --bundle DIR       model bundle folder (default: $MOBILESPEECH_BUNDLE)\n"
    "  --text TEXT        UTF-8 text (needs a build with the text frontend)\n"
    "  --text-file FILE   read the text from a file\n"
    "  --phonemes SYMS    phoneme symbols separated by spaces, chunks separated by '|'\n"
    "                     (e.g. \"HH AH0 L OW1 <sil>\"), for builds without a text frontend\n"
    "  --resynth WAV      no text: pass WAV through the bundle's codec alone (encode -> tokens\n"
    "                     -> decode) to hear what it keeps; prints tokens/s and bits/s\n"
    "  --prompt WAV       voice to clone (any rate, any channels); default: the bundle's voice\n"
    "  --out WAV          output file (16-bit PCM; --float32 for IEEE float)\n"
    "  --seed N           noise seed (default: the bundle's)\n"
    "  --threads N        ExecuTorch CPU threads (default 0: ExecuTorch's default)\n"
    "  --steps A,B,...    unmasking steps per codec layer (default: the bundle's schedule)\n"
    "  --length-scale X   speaking-rate factor in [0.25, 4] (>1 slower)\n"
    "  --bench N          synthesize N times (after --warmup K, default 1) and print the median,\n"
    "                     min and max of RTF and time to first audio\n"
    "  --json             print one JSON line instead of text\n"
    "  --verbose          also show ExecuTorch's info log (default: its errors only; the\n"
    "                     library reads MOBILESPEECH_LOG=none|error|info|debug)\n";

constexpr size_t kMaxTextFileBytes = size_t(1) << 20;

struct Args {
  std::string bundle, text, phonemes, prompt, out, resynth;
  bool have_text = false, have_phonemes = false, have_resynth = false;
  bool use_seed = false;
  uint64_t seed = 0;
  int threads = 0;
  std::vector<int32_t> steps;
  float length_scale = 1.0f;
  int bench = 0, warmup = 1;
  bool json = false, float32 = false, checksums = true, quiet = false;
};

[[noreturn]] void Usage(const char* msg) {
  if (msg) std::fprintf(stderr, "error: %s\n\n", msg);
  std::fputs(kUsage, stderr);
  std::exit(2);
}

bool ParseInt(const char* s, long long lo, long long hi, long long* out) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s, &end, 10);
  if (errno || !end || *end || end == s || v < lo || v > hi) return false;
  *out = v;
  return true;
}

Args Parse(int argc, char** argv) {
  Args a;
  if (const char* env = std::getenv("MOBILESPEECH_BUNDLE")) a.bundle = env;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto val = [&]() -> const char* {
      if (i + 1 >= argc) Usage((k + " needs a value").c_str());
      return argv[++i];
    };
    long long n;
    if (k == "--bundle") {
      a.bundle = val();
    } else if (k == "--text") {
      a.text = val();
      a.have_text = true;
    } else if (k == "--text-file") {
      const char* path = val();
      FILE* f = std::fopen(path, "rb");
      if (!f) {
        std::fprintf(stderr, "error: cannot read --text-file %s: %s\n", path, std::strerror(errno));
        std::exit(2);
      }
      // Bounded: /dev/zero or a huge file cannot eat memory (the ABI checks the exact limit).
      std::vector<char> buf(kMaxTextFileBytes + 1);
      const size_t got = std::fread(buf.data(), 1, buf.size(), f);
      const bool read_error = std::ferror(f) != 0;
      std::fclose(f);
      if (read_error) {
        std::fprintf(stderr, "error: cannot read --text-file %s\n", path);
        std::exit(2);
      }
      if (got > kMaxTextFileBytes) {
        std::fprintf(stderr, "error: --text-file %s is over %zu bytes; a request is at most a "
                     "few thousand characters: split it\n", path, kMaxTextFileBytes);
        std::exit(2);
      }
      a.text.assign(buf.data(), got);
      a.have_text = true;
    } else if (k == "--resynth") {
      a.resynth = val();
      a.have_resynth = true;
    } else if (k == "--phonemes") {
      a.phonemes = val();
      a.have_phonemes = true;
    } else if (k == "--prompt") {
      a.prompt = val();
    } else if (k == "--out") {
      a.out = val();
    } else if (k == "--seed") {
      const char* s = val();
      char* end = nullptr;
      errno = 0;
      const bool digits = s[0] >= '0' && s[0] <= '9';  // no sign, no space, not empty
      a.seed = std::strtoull(s, &end, 10);
      if (!digits || errno || !end || *end) Usage("--seed must be an integer in 0..2^64-1");
      a.use_seed = true;
    } else if (k == "--threads") {
      if (!ParseInt(val(), 0, 256, &n)) Usage("--threads must be in 0..256");
      a.threads = static_cast<int>(n);
    } else if (k == "--steps") {
      std::string s = val();
      if (s.empty() || s.back() == ',') Usage("--steps are comma-separated integers 1..64");
      std::stringstream ss(s);
      std::string part;
      while (std::getline(ss, part, ',')) {
        if (!ParseInt(part.c_str(), 1, 64, &n)) Usage("--steps are comma-separated integers 1..64");
        a.steps.push_back(static_cast<int32_t>(n));
      }
    } else if (k == "--length-scale") {
      char* end = nullptr;
      const char* s = val();
      a.length_scale = std::strtof(s, &end);
      if (!end || *end || end == s) Usage("--length-scale must be a number");
      if (!(a.length_scale >= 0.25f && a.length_scale <= 4.0f)) {
        Usage("--length-scale must be in [0.25, 4]");
      }
    } else if (k == "--bench") {
      if (!ParseInt(val(), 1, 100000, &n)) Usage("--bench must be >= 1");
      a.bench = static_cast<int>(n);
    } else if (k == "--warmup") {
      if (!ParseInt(val(), 0, 1000, &n)) Usage("--warmup must be >= 0");
      a.warmup = static_cast<int>(n);
    } else if (k == "--json") {
      a.json = true;
    } else if (k == "--float32") {
      a.float32 = true;
    } else if (k == "--no-checksums") {
      a.checksums = false;
    } else if (k == "--quiet") {
      a.quiet = true;
    } else if (k == "--verbose") {
      setenv("MOBILESPEECH_LOG", "info", 1);
    } else if (k == "-h" || k == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else {
      Usage(("unknown argument " + k).c_str());
    }
  }
  if (a.bundle.empty()) Usage("--bundle is required (or set MOBILESPEECH_BUNDLE)");
  if (int(a.have_text) + int(a.have_phonemes) + int(a.have_resynth) != 1) {
    Usage("give exactly one of --text, --text-file, --phonemes, --resynth");
  }
  if (a.have_text && a.text.find('\0') != std::string::npos) {
    std::fprintf(stderr, "error: text contains a NUL character\n");
    std::exit(2);
  }
  if (a.out.empty() && a.bench == 0) Usage("--out is required (except with --bench)");
  return a;
}

// Peak resident set size of this process. On Linux/Android VmHWM from /proc/self/status: the
// getrusage() maximum survives execve, so a CLI started by a large parent (a Python benchmark
// harness) would otherwise report the parent's size. Elsewhere getrusage().
double PeakRssMiB() {
  if (FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    double kib = -1.0;
    while (std::fgets(line, sizeof line, f)) {
      if (std::strncmp(line, "VmHWM:", 6) == 0) {
        kib = std::strtod(line + 6, nullptr);
        break;
      }
    }
    std::fclose(f);
    if (kib > 0) return kib / 1024.0;
  }
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0.0;
#if defined(__APPLE__)
  return static_cast<double>(ru.ru_maxrss) / (1024.0 * 1024.0);  // bytes
#else
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // KiB
#endif
}

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

struct Run {
  double elapsed = 0, first_audio = 0, audio = 0;
  std::vector<float> samples;
};

bool SameFile(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return !a.empty() && !b.empty() && ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 &&
         sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

// --out checked before anything runs (checks.py check_out_path): a .wav name, not a folder, not
// the input audio, and writable.
bool CheckOut(const std::string& out, const std::vector<std::string>& keep) {
  auto bad = [&](const std::string& why) {
    std::fprintf(stderr, "error: --out %s: %s\n", out.c_str(), why.c_str());
    return false;
  };
  std::string lower = out;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (lower.size() < 5 || lower.compare(lower.size() - 4, 4, ".wav") != 0) {
    return bad("the output is a WAV file; give a name ending in .wav");
  }
  struct stat st;
  const bool exists = ::stat(out.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) return bad("is a directory; give a file name ending in .wav");
  for (const std::string& k : keep) {
    if (SameFile(out, k) || (!k.empty() && k == out)) {
      return bad("is the input audio file; refusing to overwrite it (pick another name)");
    }
  }
  FILE* f = std::fopen(out.c_str(), "ab");
  if (!f) return bad(std::string("cannot write: ") + std::strerror(errno));
  std::fclose(f);
  if (!exists) ::unlink(out.c_str());
  return true;
}

// The notices Python prints as warnings (synthesizer.py / audio.py / frontend), from chunk flags.
void Notices(uint32_t flags, uint32_t* shown) {
  struct {
    uint32_t bit;
    const char* text;
  } const kinds[] = {
      {MS_CHUNK_PROMPT_TRIMMED, "the prompt is longer than the model takes; only its first "
                                "seconds were used"},
      {MS_CHUNK_SPED_UP, "a sentence was longer than the model's frame limit and was sped up; "
                         "split long sentences"},
      {MS_CHUNK_PROMPT_ONE_CHANNEL, "the prompt's channels cancel out when mixed (opposite "
                                    "phase); its loudest channel alone was used"},
      {MS_CHUNK_TEXT_SKIPPED, "markup tags or words in scripts other than Latin cannot be read "
                              "and were skipped"},
  };
  for (const auto& k : kinds) {
    if ((flags & k.bit) && !(*shown & k.bit)) {
      std::fprintf(stderr, "warning: %s\n", k.text);
      *shown |= k.bit;
    }
  }
}

int Fail(ms_synth* s, ms_status st, const char* what) {
  std::fprintf(stderr, "error: %s: %s (%s)\n", what, ms_last_error(s), ms_status_string(st));
  return st == MS_ERR_INVALID_ARGUMENT || st == MS_ERR_INVALID_TEXT || st == MS_ERR_INVALID_AUDIO
             ? 2
             : 1;
}

// Symbol names -> ids through ms_synth_symbol.
bool PhonemeIds(ms_synth* s, const std::string& text, std::vector<int32_t>* ids,
                std::vector<size_t>* lengths) {
  ms_limits lim;
  std::memset(&lim, 0, sizeof lim);
  lim.struct_size = sizeof lim;
  if (ms_synth_limits(s, &lim) != MS_OK) return false;
  std::stringstream chunks(text);
  std::string chunk;
  while (std::getline(chunks, chunk, '|')) {
    std::stringstream words(chunk);
    std::string sym;
    size_t n = 0;
    while (words >> sym) {
      int32_t id = -1;
      for (int32_t i = 0; i < lim.n_symbols; ++i) {
        const char* name = ms_synth_symbol(s, i);
        if (name && sym == name) {
          id = i;
          break;
        }
      }
      if (id < 0) {
        std::fprintf(stderr, "error: unknown phoneme symbol '%s'\n", sym.c_str());
        return false;
      }
      ids->push_back(id);
      ++n;
    }
    if (n) lengths->push_back(n);
  }
  if (lengths->empty()) {
    std::fprintf(stderr, "error: --phonemes has no symbols\n");
    return false;
  }
  return true;
}

std::string Stats(std::vector<double> v, double scale, const char* unit, bool json) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  char buf[256];
  if (json) {
    std::snprintf(buf, sizeof buf, "{\"median\": %.6g, \"min\": %.6g, \"max\": %.6g}", med * scale,
                  v.front() * scale, v.back() * scale);
  } else {
    std::snprintf(buf, sizeof buf, "median %.4g%s, min %.4g%s, max %.4g%s", med * scale, unit,
                  v.front() * scale, unit, v.back() * scale, unit);
  }
  return buf;
}

std::string JsonString(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += static_cast<char>(c);
    } else if (c < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o += static_cast<char>(c);
    }
  }
  return o + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  Args a = Parse(argc, argv);

  mobilespeech::WavData prompt;
  const std::string& audio_in = a.have_resynth ? a.resynth : a.prompt;
  if (!audio_in.empty()) {
    std::string err;
    if (!mobilespeech::ReadWav(audio_in, &prompt, &err)) {
      std::fprintf(stderr, "error: cannot read the %s: %s\n", a.have_resynth ? "input" : "prompt",
                   err.c_str());
      return 2;
    }
    if (prompt.frames() == 0) {
      std::fprintf(stderr, "error: the %s %s holds no samples\n",
                   a.have_resynth ? "input" : "prompt", audio_in.c_str());
      return 2;
    }
  }
  if (!a.out.empty() && !CheckOut(a.out, {a.prompt, a.resynth})) return 2;

  ms_synth_options o;
  ms_synth_options_init(&o);
  o.bundle_dir = a.bundle.c_str();
  o.num_threads = a.threads;
  o.use_seed = a.use_seed;
  o.seed = a.seed;
  o.steps = a.steps.empty() ? nullptr : a.steps.data();
  o.n_steps = a.steps.size();
  o.length_scale = a.length_scale;
  o.verify_checksums = a.checksums;
  ms_status st;
  const auto t_load = Clock::now();
  ms_synth* s = ms_synth_create(&o, &st);
  const double load_s = Seconds(t_load, Clock::now());
  if (!s) {
    return Fail(nullptr, st, st == MS_ERR_MODEL || st == MS_ERR_NO_MEMORY || st == MS_ERR_INTERNAL
                                 ? "cannot load the bundle"
                                 : "invalid options");
  }

  std::vector<int32_t> ids;
  std::vector<size_t> lengths;
  if (a.have_phonemes && !PhonemeIds(s, a.phonemes, &ids, &lengths)) {
    ms_synth_destroy(s);
    return 2;
  }
  const float* pcm = audio_in.empty() ? nullptr : prompt.samples.data();
  const size_t frames = audio_in.empty() ? 0 : prompt.frames();
  uint32_t shown = 0;

  auto once = [&](Run* r) -> ms_status {
    r->samples.clear();
    const auto t0 = Clock::now();
    ms_status rs = a.have_resynth
                       ? ms_synth_start_resynth(s, pcm, frames, prompt.sample_rate, prompt.channels)
                   : a.have_phonemes
                       ? ms_synth_start_phonemes(s, ids.data(), lengths.data(), lengths.size(), pcm,
                                                 frames, prompt.sample_rate, prompt.channels, nullptr)
                       : ms_synth_start(s, a.text.c_str(), pcm, frames, prompt.sample_rate,
                                        prompt.channels, nullptr);
    if (rs != MS_OK) return rs;
    ms_audio_chunk c;
    bool first = true;
    while ((rs = ms_synth_next(s, &c)) == MS_OK) {
      if (first) {
        r->first_audio = Seconds(t0, Clock::now());
        first = false;
      }
      r->samples.insert(r->samples.end(), c.samples, c.samples + c.n_samples);
      if (!a.quiet && !a.json) Notices(c.flags, &shown);
    }
    if (a.have_resynth && rs == MS_DONE && pcm) {
      // the output lasts as long as the input (the last frame's padding is dropped)
      const double sr_out = ms_synth_sample_rate(s);
      const size_t want = static_cast<size_t>(
          std::llround(static_cast<double>(frames) * sr_out / prompt.sample_rate));
      if (r->samples.size() > want) r->samples.resize(want);
    }
    r->elapsed = Seconds(t0, Clock::now());
    r->audio = static_cast<double>(r->samples.size()) / ms_synth_sample_rate(s);
    return rs == MS_DONE ? MS_OK : rs;
  };

  const int runs = a.bench > 0 ? a.bench : 1;
  const int warmup = a.bench > 0 ? a.warmup : 0;
  std::vector<double> rtf, first;
  Run r;
  for (int i = 0; i < warmup + runs; ++i) {
    st = once(&r);
    if (st != MS_OK) {
      int rc = Fail(s, st, "synthesis failed");
      ms_synth_destroy(s);
      return rc;
    }
    if (i >= warmup) {
      rtf.push_back(r.elapsed / std::max(r.audio, 1e-9));
      first.push_back(r.first_audio);
    }
  }
  ms_limits lim;
  std::memset(&lim, 0, sizeof lim);
  lim.struct_size = sizeof lim;
  ms_synth_limits(s, &lim);
  ms_timings tm;
  std::memset(&tm, 0, sizeof tm);
  tm.struct_size = sizeof tm;
  ms_synth_timings(s, &tm);
  const int sr = ms_synth_sample_rate(s);

  if (!a.out.empty()) {
    std::string err;
    if (!mobilespeech::WriteWav(a.out, r.samples.data(), r.samples.size(), sr, a.float32, &err)) {
      std::fprintf(stderr, "error: %s\n", err.c_str());
      ms_synth_destroy(s);
      return 1;
    }
  }
  const double rss = PeakRssMiB();
  if (a.json) {
    std::printf("{\"tool\": \"mobilespeech_cli\", \"version\": %s, \"bundle\": %s, \"threads\": %d, "
                "\"runs\": %zu, \"warmup\": %d, \"audio_s\": %.6g, \"sample_rate\": %d, "
                "\"rtf\": %s, \"first_audio_ms\": %s, \"load_ms\": %.6g, \"peak_rss_mib\": %.6g, "
                "\"stages_s\": {\"frontend\": %.6g, \"prompt\": %.6g, \"text\": %.6g, "
                "\"smd\": %.6g, \"decoder\": %.6g}, \"smd_calls\": %lld, \"frames\": %lld}\n",
                JsonString(ms_version()).c_str(), JsonString(a.bundle).c_str(), lim.num_threads,
                rtf.size(), warmup, r.audio, sr, Stats(rtf, 1.0, "", true).c_str(),
                Stats(first, 1000.0, "", true).c_str(), load_s * 1000.0, rss, tm.frontend_s,
                tm.prompt_s, tm.text_s, tm.smd_s, tm.decoder_s,
                static_cast<long long>(tm.smd_calls), static_cast<long long>(tm.frames));
  } else if (!a.quiet) {
    if (!a.out.empty()) {
      std::printf("wrote %s: %.2f s at %d Hz\n", a.out.c_str(), r.audio, sr);
    }
    if (a.have_resynth) {
      const double fr = lim.frame_rate;
      std::printf("codec: %lld frames; %.2f frames/s x %d codebooks = %.1f tokens/s; %.0f bits/s "
                  "(%d x log2(%d) bits x %.2f/s)\n", static_cast<long long>(tm.frames), fr,
                  lim.n_codebooks, fr * lim.n_codebooks, static_cast<double>(lim.bits_per_second),
                  lim.n_codebooks, lim.codebook_size, fr);
    }
    if (a.bench > 0) {
      std::printf("bench: %d runs after %d warm-up, %d threads, %.2f s of audio each\n", runs,
                  warmup, lim.num_threads, r.audio);
      std::printf("RTF: %s\n", Stats(rtf, 1.0, "", false).c_str());
      std::printf("first audio: %s\n", Stats(first, 1000.0, " ms", false).c_str());
    } else {
      std::printf("RTF: %.3f/%.3f = %.3f (first audio %.0f ms; SMD calls %lld; %d threads)\n",
                  r.elapsed, r.audio, rtf[0], first[0] * 1000.0,
                  static_cast<long long>(tm.smd_calls), lim.num_threads);
    }
    std::printf("load: %.0f ms; peak RSS: %.1f MiB\n", load_s * 1000.0, rss);
  }
  ms_synth_destroy(s);
  return 0;
}
