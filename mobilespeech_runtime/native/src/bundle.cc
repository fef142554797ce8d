#include "bundle.h"

#include <cstdlib>

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "common.h"
#include "request_limits.h"
#include "sha256.h"

namespace mobilespeech {
namespace {

using json::Value;

[[noreturn]] void Bad(const std::string& msg) { Fail(MS_ERR_MODEL, msg); }

const Value& Member(const Value& obj, const char* key, const std::string& where) {
  const Value* v = obj.find(key);
  if (!v) Bad(where + ": malformed manifest (missing '" + key + "')");
  return *v;
}

int64_t Int(const Value& obj, const char* key, const std::string& where, int64_t lo, int64_t hi) {
  const Value& v = Member(obj, key, where);
  if (!v.is_integer() || v.as_int() < lo || v.as_int() > hi) {
    Bad(Format("%s: malformed manifest ('%s' must be an integer in [%lld, %lld])", where.c_str(),
               key, static_cast<long long>(lo), static_cast<long long>(hi)));
  }
  return v.as_int();
}

double Num(const Value& obj, const char* key, const std::string& where, double lo, double hi) {
  const Value& v = Member(obj, key, where);
  if (!v.is_number() || !(v.as_double() >= lo && v.as_double() <= hi)) {
    Bad(Format("%s: malformed manifest ('%s' must be a number in [%g, %g])", where.c_str(), key, lo,
               hi));
  }
  return v.as_double();
}

bool ReadFile(const std::string& path, size_t limit, std::string* out, std::string* err) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    *err = std::strerror(errno);
    return false;
  }
  char buf[1 << 15];
  size_t n;
  out->clear();
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    if (out->size() + n > limit) {
      std::fclose(f);
      *err = "file is too large";
      return false;
    }
    out->append(buf, n);
  }
  bool ok = !std::ferror(f);
  std::fclose(f);
  if (!ok) *err = "read error";
  return ok;
}

bool IsPlainName(const std::string& name) {
  // Path(name).name == name in bundle.py: no directory part, not "." or "..".
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\\') == std::string::npos && name.find('\0') == std::string::npos;
}

BundleConfig ReadConfig(const Value& cfg, const std::string& where) {
  if (!cfg.is_object()) Bad(where + ": malformed manifest ('config' is not an object)");
  BundleConfig c;
  const std::string w = where + " config";
  const Value& codec = Member(cfg, "codec", w);
  const Value& model = Member(cfg, "model", w);
  const Value& sched = Member(cfg, "schedule", w);
  if (!codec.is_object() || !model.is_object() || !sched.is_object()) {
    Bad(where + ": malformed manifest (config sections must be objects)");
  }
  c.sample_rate = Int(codec, "sample_rate", w + ".codec", kMinSampleRate, kMaxSampleRate);
  // codec.kind: "mel" (mel codec + vocoder) or "encodec"; bundles older than the mel codec
  // have no kind and are EnCodec-family (as config.py's from_dict reads them).
  if (const Value* kind = codec.find("kind")) {
    if (!kind->is_string() || (kind->as_string() != "mel" && kind->as_string() != "encodec")) {
      Bad(where + ": malformed manifest (codec.kind must be \"mel\" or \"encodec\")");
    }
    c.mel_codec = kind->as_string() == "mel";
  }
  if (c.mel_codec) {
    c.n_mels = Int(codec, "n_mels", w + ".codec", 1, 1024);
    c.token_stride = Int(codec, "token_stride", w + ".codec", 1, 64);
    c.hop_length = Int(codec, "mel_hop", w + ".codec", 1, 65536) * c.token_stride;
  } else {
    const Value& ratios = Member(codec, "ratios", w + ".codec");
    if (!ratios.is_array() || ratios.items().empty() || ratios.items().size() > 16) {
      Bad(where + ": malformed manifest (codec.ratios)");
    }
    c.hop_length = 1;
    for (const Value& r : ratios.items()) {
      if (!r.is_integer() || r.as_int() < 1 || r.as_int() > 64) Bad(where + ": malformed manifest (codec.ratios)");
      c.hop_length *= r.as_int();
      if (c.hop_length > 65536) Bad(where + ": malformed manifest (codec hop length too large)");
    }
  }
  c.n_codebooks = Int(codec, "n_codebooks", w + ".codec", 1, kMaxCodebooks);
  c.codebook_size = Int(codec, "codebook_size", w + ".codec", 2, 1 << 20);
  c.decode_chunk_frames = Int(codec, "decode_chunk_frames", w + ".codec", 1, 1 << 16);
  c.decode_context_frames = Int(codec, "decode_context_frames", w + ".codec", 0, 1 << 16);
  c.d_model = Int(model, "d_model", w + ".model", 1, 1 << 16);
  c.max_frames = Int(model, "max_frames", w + ".model", 1, 1 << 20);
  c.max_prompt_frames = Int(model, "max_prompt_frames", w + ".model", 1, 1 << 20);
  c.max_phonemes = Int(model, "max_phonemes", w + ".model", 1, 1 << 20);
  const Value& steps = Member(sched, "steps", w + ".schedule");
  if (!steps.is_array()) Bad(where + ": malformed manifest (schedule.steps)");
  for (const Value& s : steps.items()) {
    if (!s.is_integer() || s.as_int() < 1 || s.as_int() > kMaxStepsPerLayer) {
      Bad(Format("%s: malformed manifest (schedule.steps must be integers in 1..%d)",
                 where.c_str(), kMaxStepsPerLayer));
    }
    c.steps.push_back(static_cast<int>(s.as_int()));
  }
  if (static_cast<int64_t>(c.steps.size()) != c.n_codebooks) {
    Bad(Format("%s: schedule has %zu layers, codec has %lld", where.c_str(), c.steps.size(),
               static_cast<long long>(c.n_codebooks)));
  }
  c.temperature = Num(sched, "temperature", w + ".schedule", 0.0, 1e6);
  const Value* seed = sched.find("seed");
  if (seed) {
    if (!seed->is_integer()) Bad(where + ": malformed manifest (schedule.seed)");
    c.seed = seed->as_int();
  }
  // schedule.mel_match / mel_match_loud (config.py ScheduleConfig); absent in older bundles: off.
  if (sched.find("mel_match")) c.mel_match = Num(sched, "mel_match", w + ".schedule", 0.0, 2.0);
  if (sched.find("mel_match_loud")) {
    c.mel_match_loud = Num(sched, "mel_match_loud", w + ".schedule", 0.0, 1.0);
    if (!(c.mel_match_loud > 0.0)) Bad(where + ": malformed manifest (schedule.mel_match_loud must be in (0, 1])");
  }
  if (c.mel_match > 0.0 && !c.mel_codec) {
    Bad(where + ": malformed manifest (schedule.mel_match needs the mel codec)");
  }
  if (const Value* fe = cfg.find("frontend")) {
    if (!fe->is_object()) Bad(where + ": malformed manifest (config.frontend)");
    if (fe->find("max_chars")) c.frontend_max_chars = Int(*fe, "max_chars", w + ".frontend", 1, 1 << 24);
    if (fe->find("max_phonemes")) {
      c.frontend_max_phonemes = Int(*fe, "max_phonemes", w + ".frontend", 2, 1 << 20);
    }
    if (const Value* wb = fe->find("word_boundaries")) {
      if (!wb->is_bool()) Bad(where + ": malformed manifest (frontend.word_boundaries)");
      c.word_boundaries = wb->as_bool();
    }
    if (const Value* lp = fe->find("leading_pause")) {
      if (!lp->is_bool()) Bad(where + ": malformed manifest (frontend.leading_pause)");
      c.leading_pause = lp->as_bool();
    }
  }
  if (const Value* au = cfg.find("audio")) {
    if (!au->is_object()) Bad(where + ": malformed manifest (config.audio)");
    if (au->find("min_prompt_seconds")) {
      c.min_prompt_seconds = Num(*au, "min_prompt_seconds", w + ".audio", 0.0, 3600.0);
    }
    if (au->find("max_prompt_seconds")) {
      c.max_prompt_seconds = Num(*au, "max_prompt_seconds", w + ".audio", 0.0, 3600.0);
    }
    if (au->find("silence_rms")) c.silence_rms = Num(*au, "silence_rms", w + ".audio", 0.0, 1.0);
  }
  return c;
}

}  // namespace

std::string Bundle::Path(const std::string& name) const {
  auto it = located.find(name);
  return it != located.end() ? it->second : root + "/" + name;
}

namespace {
// bundle.py's program_cache_dir(): where `python -m export.vocoder` puts built programs.
std::string ProgramCachePath(const std::string& sha256) {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  std::string base;
  if (xdg && *xdg) {
    base = xdg;
  } else if (home && *home) {
    base = std::string(home) + "/.cache";
  } else {
    return "";
  }
  return base + "/mobilespeech/programs/" + sha256 + ".pte";
}
}  // namespace

Bundle OpenBundle(const std::string& root_in, bool verify_checksums) {
  Bundle b;
  b.root = root_in;
  while (b.root.size() > 1 && b.root.back() == '/') b.root.pop_back();
  struct stat st;
  if (b.root.empty() || ::stat(b.root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    Bad("bundle folder not found: " + root_in);
  }
  const std::string path = b.Path(kManifest);
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    Bad(path + " is missing: not a MobileSpeech bundle");
  }
  std::string text, err;
  if (!ReadFile(path, kMaxManifestBytes, &text, &err)) Bad(path + " cannot be read: " + err);
  if (!json::Parse(text, &b.manifest, &err)) Bad(path + " is not valid JSON: " + err);
  const Value& m = b.manifest;
  const Value* format = m.find("format");
  if (!m.is_object() || !format || !format->is_string() || format->as_string() != kFormat) {
    Bad(path + ": 'format' is not '" + kFormat + "'");
  }
  const Value* version = m.find("schema_version");
  if (!version || !version->is_integer() || version->as_int() != kSchemaVersion) {
    Bad(Format("%s: schema_version %s; this runtime reads %lld (re-export the bundle with this "
               "version)", path.c_str(),
               version && version->is_number() ? Format("%g", version->as_double()).c_str() : "?",
               static_cast<long long>(kSchemaVersion)));
  }
  b.config = ReadConfig(Member(m, "config", path), path);
  const Value& symbols = Member(m, "symbols", path);
  if (!symbols.is_array() || symbols.items().empty()) Bad(path + ": malformed manifest (symbols)");
  for (const Value& s : symbols.items()) {
    if (!s.is_string()) Bad(path + ": malformed manifest (symbols must be strings)");
    b.symbols.push_back(s.as_string());
  }
  const Value& files = Member(m, "files", path);
  const Value& programs = Member(m, "programs", path);
  if (!files.is_object() || !programs.is_object()) Bad(path + ": malformed manifest (files/programs)");
  for (const auto& kv : programs.members()) {
    if (!files.find(kv.first)) Bad(path + ": program " + kv.first + " has no checksum entry");
    const Value* methods = kv.second.find("methods");
    if (!methods || !methods->is_object()) Bad(path + ": malformed manifest (programs." + kv.first + ")");
    auto& pm = b.programs[kv.first];
    for (const auto& mm : methods->members()) {
      const Value* inputs = mm.second.find("inputs");
      if (!inputs || !inputs->is_array()) Bad(path + ": malformed manifest (inputs of " + mm.first + ")");
      auto& specs = pm[mm.first];
      for (const Value& in : inputs->items()) {
        ProgramInputSpec spec;
        const Value* name = in.find("name");
        const Value* shape = in.find("max_shape");
        if (!name || !name->is_string() || !shape || !shape->is_array()) {
          Bad(path + ": malformed manifest (inputs of " + mm.first + ")");
        }
        spec.name = name->as_string();
        for (const Value& d : shape->items()) {
          if (!d.is_integer()) Bad(path + ": malformed manifest (max_shape of " + mm.first + ")");
          spec.max_shape.push_back(d.as_int());
        }
        specs.push_back(std::move(spec));
      }
    }
  }
  if (const Value* consts = m.find("constants")) {
    if (!consts->is_object()) Bad(path + ": malformed manifest (constants)");
    for (const auto& kv : consts->members()) {
      std::vector<int64_t> vals;
      bool is_list = kv.second.is_array();
      if (is_list) {
        for (const Value& x : kv.second.items()) {
          if (!x.is_integer()) Bad(path + ": malformed manifest (constants." + kv.first + ")");
          vals.push_back(x.as_int());
        }
      } else if (kv.second.is_integer()) {
        vals.push_back(kv.second.as_int());
      } else {
        Bad(path + ": malformed manifest (constants." + kv.first + ")");
      }
      b.constants[kv.first] = vals;
      b.constant_is_list[kv.first] = is_list;
    }
  }
  if (const Value* dp = m.find("default_prompt")) {
    if (dp->is_string()) {
      if (!IsPlainName(dp->as_string())) Bad(path + ": default_prompt names a file outside the bundle");
      b.default_prompt = dp->as_string();
    } else if (!dp->is_null()) {
      Bad(path + ": malformed manifest (default_prompt)");
    }
  }
  // verify_files(): every listed file, in manifest order.
  for (const auto& kv : files.members()) {
    const std::string& name = kv.first;
    if (!IsPlainName(name)) Bad("manifest names a file outside the bundle: '" + name + "'");
    std::string p = b.Path(name);
    const Value* bytes = kv.second.find("bytes");
    const Value* sha = kv.second.find("sha256");
    const Value* built = kv.second.find("built_from");
    if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      const bool buildable = built && built->is_string() && sha && sha->is_string() &&
                             IsPlainName(sha->as_string());
      const std::string cached = buildable ? ProgramCachePath(sha->as_string()) : "";
      if (cached.empty() || ::stat(cached.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        if (buildable) {
          Bad("bundle file missing: " + p + " (built from " + built->as_string() +
              ", not shipped: run `python -m export.vocoder build --bundle " + b.root + "`)");
        }
        Bad("bundle file missing: " + p);
      }
      b.located[name] = cached;
      p = cached;
    }
    if (!bytes || !bytes->is_integer() || static_cast<int64_t>(st.st_size) != bytes->as_int()) {
      Bad(Format("bundle file %s is %lld bytes, manifest says %s (truncated or replaced)",
                 name.c_str(), static_cast<long long>(st.st_size),
                 bytes && bytes->is_number() ? Format("%.0f", bytes->as_double()).c_str() : "?"));
    }
    if (verify_checksums) {
      std::string hex;
      if (!Sha256File(p, &hex, &err)) Bad("bundle file " + name + " cannot be read: " + err);
      if (!sha || !sha->is_string() || sha->as_string() != hex) {
        Bad("bundle file " + name + " fails its sha256 check (corrupt or tampered)");
      }
    }
  }
  return b;
}

}  // namespace mobilespeech
