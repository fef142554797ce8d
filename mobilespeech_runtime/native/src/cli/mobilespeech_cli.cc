// mobilespeech_cli: text (+ prompt voice) -> wav through the C ABI, with timing.
//
//   mobilespeech_cli --bundle models/demo --text "Hello there." --out hello.wav
//   mobilespeech_cli --bundle DIR --text "..." --prompt voice.wav --out out.wav --seed 3
//                    --threads 2 --steps 8,2,1,1
//   mobilespeech_cli --bundle DIR --phonemes "HH AH0 L OW1 <sil>" --out out.wav
//   mobilespeech_cli --bundle DIR --text "..." --bench 10 --json   # one JSON line
//   mobilespeech_cli --bundle DIR --resynth speech.wav --out codec.wav  # the codec alone
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdarg>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "audio.h"
#include "mobilespeech.h"
#include "request_limits.h"
#include "wav.h"

namespace {

using Clock = std::chrono::steady_clock;

// printf into a std::string (the usage text and messages that name a limit).
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 1, 2)))
#endif
std::string Fmt(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

using mobilespeech::kMaxLengthScale;
using mobilespeech::kMaxStepsPerLayer;
using mobilespeech::kMaxThreads;
using mobilespeech::kMinLengthScale;

// The limits named in the usage text and its errors (request_limits.h), as they read there.
const std::string kThreadsRange = Fmt("0..%d", kMaxThreads);
const std::string kStepsRange = Fmt("1..%d", kMaxStepsPerLayer);
const std::string kLengthScaleRange = Fmt("[%g, %g]", static_cast<double>(kMinLengthScale),
                                          static_cast<double>(kMaxLengthScale));

const std::string kUsage =
    "usage: mobilespeech_cli --bundle DIR (--text TEXT | --text-file FILE | --phonemes SYMS |\n"
    "                                      --resynth IN.wav)\n"
    "                        [--prompt voice.wav] [--out out.wav] [--float32]\n"
    "                        [--seed N] [--threads N] [--steps 8,2,1,1] [--length-scale X]\n"
    "                        [--bench N [--warmup K]] [--json] [--no-checksums] [--quiet]\n"
    "                        [--progress] [--verbose]\n"
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
    "  --length-scale X   speaking-rate factor in " + kLengthScaleRange + " (>1 slower)\n"
    "  --bench N          synthesize N times (after --warmup K, default 1) and print the median,\n"
    "                     min and max of RTF and time to first audio\n"
    "  --json             print one JSON line instead of text\n"
    "  --progress         print progress to stderr as audio comes: the sentence (1-based) and\n"
    "                     the seconds of audio so far (one line per chunk; on a terminal one\n"
    "                     line updated in place)\n"
    "  --verbose          also show ExecuTorch's info log (default: its errors only; the\n"
    "                     library reads MOBILESPEECH_LOG=none|error|info|debug)\n"
    "\n"
    "Inputs are regular files or pipes; the output is written atomically (never inside the\n"
    "bundle folder, never over an input). Exit codes (as `mobilespeech`): 0 ok, 1 internal\n"
    "error, 2 usage, 3 bad text or audio, 4 bad bundle, 5 file I/O error, 6 out of memory.\n";

// Exit codes, the table of mobilespeech_runtime/errors.py (README "Errors and exit codes").
constexpr int kExitInternal = 1;
constexpr int kExitUsage = 2;
constexpr int kExitBadInput = 3;
constexpr int kExitBadBundle = 4;
constexpr int kExitIo = 5;
constexpr int kExitNoMemory = 6;
constexpr int kExitInterrupted = 130;

using mobilespeech::kMaxTextFileBytes;

struct Args {
  std::string bundle, text, phonemes, prompt, out, resynth, text_file;
  bool have_text = false, have_phonemes = false, have_resynth = false;
  bool use_seed = false;
  uint64_t seed = 0;
  int threads = 0;
  std::vector<int32_t> steps;
  float length_scale = 1.0f;
  int bench = 0, warmup = 1;
  bool json = false, float32 = false, checksums = true, quiet = false, progress = false;
};

[[noreturn]] void Usage(const char* msg) {
  if (msg) std::fprintf(stderr, "error: %s\n\n", msg);
  std::fputs(kUsage.c_str(), stderr);
  std::exit(kExitUsage);
}

[[noreturn]] void Die(int code, const std::string& msg) {
  std::fprintf(stderr, "error: %s\n", msg.c_str());
  std::exit(code);
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
      // Bounded: a huge file cannot eat memory (the ABI checks the exact limit); devices and
      // folders are refused, a FIFO without a writer reads as empty (wav.h ReadInputFile).
      a.text_file = val();
      std::string err;
      if (!mobilespeech::ReadInputFile(a.text_file, "--text-file", kMaxTextFileBytes, &a.text,
                                       &err)) {
        Die(kExitIo, err);
      }
      if (a.text.size() > kMaxTextFileBytes) {
        Die(kExitBadInput, "--text-file " + a.text_file + " is over " +
                               std::to_string(kMaxTextFileBytes) +
                               " bytes; a request is at most a few thousand characters: split it");
      }
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
      if (!ParseInt(val(), 0, kMaxThreads, &n)) {
        Usage(("--threads must be in " + kThreadsRange).c_str());
      }
      a.threads = static_cast<int>(n);
    } else if (k == "--steps") {
      std::string s = val();
      const std::string bad = "--steps are comma-separated integers " + kStepsRange;
      if (s.empty() || s.back() == ',') Usage(bad.c_str());
      std::stringstream ss(s);
      std::string part;
      while (std::getline(ss, part, ',')) {
        if (!ParseInt(part.c_str(), 1, kMaxStepsPerLayer, &n)) Usage(bad.c_str());
        a.steps.push_back(static_cast<int32_t>(n));
      }
    } else if (k == "--length-scale") {
      char* end = nullptr;
      const char* s = val();
      a.length_scale = std::strtof(s, &end);
      if (!end || *end || end == s) Usage("--length-scale must be a number");
      if (!(a.length_scale >= kMinLengthScale && a.length_scale <= kMaxLengthScale)) {
        Usage(("--length-scale must be in " + kLengthScaleRange).c_str());
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
    } else if (k == "--progress") {
      a.progress = true;
    } else if (k == "--verbose") {
      setenv("MOBILESPEECH_LOG", "info", 1);
    } else if (k == "-h" || k == "--help") {
      std::fputs(kUsage.c_str(), stdout);
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
    Die(kExitBadInput, "text contains a NUL character");
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

// The real path of `p` (symlinks resolved); for a path that does not exist yet, its folder's
// real path + its name. "" when the folder does not exist either.
std::string RealPath(const std::string& p) {
  if (char* rp = ::realpath(p.c_str(), nullptr)) {
    std::string r = rp;
    std::free(rp);
    return r;
  }
  const size_t slash = p.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : p.substr(0, slash);
  char* rd = ::realpath(dir.c_str(), nullptr);
  if (!rd) return "";
  std::string r = rd;
  std::free(rd);
  return r + (r == "/" ? "" : "/") + (slash == std::string::npos ? p : p.substr(slash + 1));
}

bool Inside(const std::string& path, const std::string& root) {
  return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                          (root == "/" || path[root.size()] == '/'));
}

// Whether a file under `dir` (recursively) is the file with this device and inode.
bool HoldsFile(const std::string& dir, dev_t dev, ino_t ino, int depth = 0) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return false;
  bool found = false;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = dir + "/" + name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISREG(st.st_mode) && st.st_dev == dev && st.st_ino == ino) found = true;
    if (S_ISDIR(st.st_mode) && depth < 8) found = HoldsFile(path, dev, ino, depth + 1);
    if (found) break;
  }
  ::closedir(d);
  return found;
}

// --out checked before anything runs (checks.py check_out_path): a .wav name, not a folder, not
// an input of the run, not inside or in the bundle folder (through symlinks and hard links),
// a folder that exists and takes a new file. Returns 0 or the exit code.
int CheckOut(const std::string& out, const std::string& bundle,
             const std::vector<std::string>& keep) {
  auto bad = [&](int code, const std::string& why) {
    std::fprintf(stderr, "error: --out %s: %s\n", out.c_str(), why.c_str());
    return code;
  };
  std::string lower = out;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (lower.size() < 5 || lower.compare(lower.size() - 4, 4, ".wav") != 0) {
    return bad(kExitUsage, "the output is a WAV file; give a name ending in .wav");
  }
  struct stat st;
  const bool exists = ::stat(out.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) {
    return bad(kExitUsage, "is a directory; give a file name ending in .wav");
  }
  const std::string real = RealPath(out);
  const std::string root = RealPath(bundle);
  if (!root.empty() && ((!real.empty() && Inside(real, root)) ||
                        (exists && HoldsFile(root, st.st_dev, st.st_ino)))) {
    return bad(kExitUsage, "is inside the model bundle " + bundle +
                               "; refusing to write there (it would break the bundle): pick "
                               "another folder");
  }
  for (const std::string& k : keep) {
    if (k.empty()) continue;
    struct stat sk;
    const bool same = exists && ::stat(k.c_str(), &sk) == 0 && sk.st_dev == st.st_dev &&
                      sk.st_ino == st.st_ino;
    if (same || (!real.empty() && real == RealPath(k))) {
      return bad(kExitUsage, "is an input of this run (" + k +
                                 "); refusing to overwrite it (pick another name)");
    }
  }
  if (real.empty()) {
    const size_t slash = out.find_last_of('/');
    const std::string dir = slash == 0 ? "/" : out.substr(0, slash);
    struct stat sd;
    return bad(kExitIo, "cannot write: the folder " + dir +
                            (::stat(dir.c_str(), &sd) == 0 ? " is not a directory"
                                                            : " does not exist"));
  }
  if (exists && !S_ISREG(st.st_mode)) {  // a device or a FIFO: written in place
    if (::access(real.c_str(), W_OK) != 0) {
      return bad(kExitIo, std::string("cannot write: ") + std::strerror(errno));
    }
    return 0;
  }
  // What WriteFileAtomic will do: a new file in the target's folder.
  const std::string probe = real.substr(0, real.find_last_of('/') + 1) + ".mobilespeech." +
                            std::to_string(::getpid()) + ".probe";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) return bad(kExitIo, std::string("cannot write: ") + std::strerror(errno));
  ::close(fd);
  ::unlink(probe.c_str());
  return 0;
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

int ExitCode(ms_status st) {
  switch (st) {
    case MS_ERR_INVALID_ARGUMENT: return kExitUsage;
    case MS_ERR_INVALID_TEXT:
    case MS_ERR_INVALID_AUDIO: return kExitBadInput;
    case MS_ERR_MODEL: return kExitBadBundle;
    case MS_ERR_NO_MEMORY: return kExitNoMemory;
    case MS_ERR_CANCELLED: return kExitInterrupted;
    default: return kExitInternal;
  }
}

int Fail(ms_synth* s, ms_status st, const char* what) {
  std::fprintf(stderr, "error: %s: %s (%s)\n", what, ms_last_error(s), ms_status_string(st));
  return ExitCode(st);
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

static int Main(int argc, char** argv) {
  // A file-size limit (ulimit -f) makes write() fail with EFBIG ("File too large") instead of
  // killing the process halfway through the output.
  std::signal(SIGXFSZ, SIG_IGN);
  Args a = Parse(argc, argv);

  if (!a.out.empty()) {
    const int rc = CheckOut(a.out, a.bundle, {a.prompt, a.resynth, a.text_file});
    if (rc != 0) return rc;
  }
  mobilespeech::WavData prompt;
  const std::string& audio_in = a.have_resynth ? a.resynth : a.prompt;
  if (!audio_in.empty()) {
    std::string err;
    bool io = false;
    // The header's declared length is checked before any sample is read.
    mobilespeech::WavReadLimits lim;
    lim.max_seconds = a.have_resynth ? mobilespeech::kMaxResynthSeconds
                                     : mobilespeech::kMaxPromptInputSeconds;
    lim.max_frames = a.have_resynth ? mobilespeech::kMaxResynthFrames
                                    : mobilespeech::kMaxPromptInputFrames;
    if (!mobilespeech::ReadWav(audio_in, &prompt, &err, lim, &io)) {
      std::fprintf(stderr, "error: cannot read the %s: %s\n", a.have_resynth ? "input" : "prompt",
                   err.c_str());
      return io ? kExitIo : kExitBadInput;
    }
    if (prompt.frames() == 0) {
      std::fprintf(stderr, "error: the %s %s holds no samples\n",
                   a.have_resynth ? "input" : "prompt", audio_in.c_str());
      return kExitBadInput;
    }
  }

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
    // MS_ERR_NO_MEMORY's message says "out of memory" itself
    return Fail(nullptr, st, st == MS_ERR_NO_MEMORY || st == MS_ERR_MODEL || st == MS_ERR_INTERNAL
                                 ? "cannot load the bundle"
                                 : "invalid options");
  }

  std::vector<int32_t> ids;
  std::vector<size_t> lengths;
  if (a.have_phonemes && !PhonemeIds(s, a.phonemes, &ids, &lengths)) {
    ms_synth_destroy(s);
    return kExitBadInput;
  }
  const float* pcm = audio_in.empty() ? nullptr : prompt.samples.data();
  const size_t frames = audio_in.empty() ? 0 : prompt.frames();
  uint32_t shown = 0;
  const bool progress_tty = a.progress && isatty(STDERR_FILENO);

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
    bool progress_open = false;  // a progress line without its newline is on the terminal
    while ((rs = ms_synth_next(s, &c)) == MS_OK) {
      if (first) {
        r->first_audio = Seconds(t0, Clock::now());
        first = false;
      }
      r->samples.insert(r->samples.end(), c.samples, c.samples + c.n_samples);
      if (a.progress) {
        // The ABI gives each chunk's sentence index, not the number of sentences.
        std::fprintf(stderr, "%sprogress: sentence %d, %.2f s of audio%s",
                     progress_tty ? "\r" : "", static_cast<int>(c.sentence) + 1,
                     static_cast<double>(r->samples.size()) / c.sample_rate,
                     progress_tty ? "" : "\n");
        std::fflush(stderr);
        progress_open = progress_tty;
      }
      if (!a.quiet && !a.json) {
        constexpr uint32_t kNoticeBits = MS_CHUNK_PROMPT_TRIMMED | MS_CHUNK_SPED_UP |
                                         MS_CHUNK_PROMPT_ONE_CHANNEL | MS_CHUNK_TEXT_SKIPPED;
        if (progress_open && (c.flags & kNoticeBits & ~shown)) {  // a warning comes: end the line
          std::fputc('\n', stderr);
          progress_open = false;
        }
        Notices(c.flags, &shown);
      }
    }
    if (progress_open) std::fputc('\n', stderr);
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
      return kExitIo;
    }
  }
  const double rss = PeakRssMiB();
  if (a.json) {
    std::printf("{\"tool\": \"mobilespeech_cli\", \"version\": %s, \"bundle\": %s, \"threads\": %d, "
                "\"runs\": %zu, \"warmup\": %d, \"audio_s\": %.6g, \"sample_rate\": %d, "
                "\"rtf\": %s, \"first_audio_ms\": %s, \"load_ms\": %.6g, \"peak_rss_mib\": %.6g, "
                "\"stages_s\": {\"frontend\": %.6g, \"prompt\": %.6g, \"text\": %.6g, "
                "\"smd\": %.6g, \"decoder\": %.6g, \"vocoder\": %.6g}, \"smd_calls\": %lld, "
                "\"frames\": %lld}\n",
                JsonString(ms_version()).c_str(), JsonString(a.bundle).c_str(), lim.num_threads,
                rtf.size(), warmup, r.audio, sr, Stats(rtf, 1.0, "", true).c_str(),
                Stats(first, 1000.0, "", true).c_str(), load_s * 1000.0, rss, tm.frontend_s,
                tm.prompt_s, tm.text_s, tm.smd_s, tm.decoder_s, tm.vocoder_s,
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

// A failed allocation in the tool itself (the audio it collects, the WAV it builds) is "out of
// memory", exit code 6, like one inside the library, not an abort.
int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::bad_alloc&) {
    std::fputs("error: out of memory (MS_ERR_NO_MEMORY)\n", stderr);
    return kExitNoMemory;
  }
}
