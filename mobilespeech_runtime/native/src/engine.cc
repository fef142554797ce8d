#include "engine.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <utility>

#include <executorch/extension/module/module.h>
#include <executorch/extension/tensor/tensor.h>
#include <executorch/runtime/platform/platform.h>
#include <executorch/runtime/platform/runtime.h>

#include "common.h"
#include "et_threadpool.h"
#include "frontend/text_frontend.h"
#include "program_io.h"
#include "request_limits.h"
#include "rng.h"
#include "schedule.h"
#include "utf8.h"
#include "wav.h"

namespace mobilespeech {

namespace et = ::executorch;
using et::aten::ScalarType;
using et::extension::Module;
using et::runtime::EValue;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string Join(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", '" : "'") + v[i] + "'";
  return s + "]";
}

std::string ShapeString(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

// ---- ExecuTorch's log, filtered ---------------------------------------------------------------
// ExecuTorch logs at info level to stderr (e.g. five cpuinfo lines whenever its thread pool
// starts), which is noise inside an app. Messages below MOBILESPEECH_LOG's level (none | error,
// the default | info | debug) are dropped; the rest go to the PAL logger that was active
// before, so an app's own ExecuTorch logger keeps working. Process-wide, installed once.
::pal_emit_log_message_method g_prev_log = nullptr;
int g_log_rank = 2;

int LogRank(et_pal_log_level_t level) {
  switch (level) {
    case kDebug: return 0;
    case kInfo: return 1;
    case kError: return 2;
    case kFatal: return 3;
    default: return 1;
  }
}

void FilteredLog(et_timestamp_t timestamp, et_pal_log_level_t level, const char* filename,
                 const char* function, size_t line, const char* message, size_t length) {
  if (LogRank(level) >= g_log_rank && g_prev_log)
    g_prev_log(timestamp, level, filename, function, line, message, length);
}

void InstallLogFilter() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* env = std::getenv("MOBILESPEECH_LOG");
    const std::string v = env ? env : "error";
    g_log_rank = v == "none" ? 4 : v == "debug" ? 0 : v == "info" ? 1 : 2;
    const et::runtime::PalImpl* cur = et::runtime::get_pal_impl();
    g_prev_log = cur ? cur->emit_log_message : nullptr;
    if (g_prev_log)
      et::runtime::register_pal(et::runtime::PalImpl::create(FilteredLog, __FILE__));
  });
}

// ---- the process-wide ExecuTorch thread pool ------------------------------------------------
std::mutex g_pool_mu;
int g_live_handles = 0;

}  // namespace

// Counts live handles; the pool is resized only when no other handle holds programs that were
// prepared with the current pool (XNNPACK keeps a pointer to it).
struct PoolLease {
  explicit PoolLease(int requested) {
    std::lock_guard<std::mutex> lock(g_pool_mu);
    auto* pool = et::extension::threadpool::get_threadpool();
    if (pool && requested > 0 && g_live_handles == 0 &&
        pool->get_thread_count() != static_cast<size_t>(requested)) {
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
      pool->_unsafe_reset_threadpool(static_cast<uint32_t>(requested));
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif
    }
    threads = pool ? static_cast<int>(pool->get_thread_count()) : 1;
    ++g_live_handles;
  }
  ~PoolLease() {
    std::lock_guard<std::mutex> lock(g_pool_mu);
    --g_live_handles;
  }
  PoolLease(const PoolLease&) = delete;
  PoolLease& operator=(const PoolLease&) = delete;
  int threads = 1;
};

// A failed ExecuTorch call. Its allocation failures (Error::MemoryAllocationFailed 0x21,
// DelegateMemoryAllocationFailed 0x31) are a lack of memory, MS_ERR_NO_MEMORY, not a bad bundle;
// so is a failure that left errno at ENOMEM (`sys_errno`, cleared before the call): a failed
// mmap of the program comes back as AccessFailed (0x22), a failed allocation inside XNNPACK as
// Internal (0x1). Every other error is MS_ERR_MODEL.
[[noreturn]] static void FailExecuTorch(et::runtime::Error err, int sys_errno,
                                        const std::string& message) {
  if (err == et::runtime::Error::MemoryAllocationFailed ||
      err == et::runtime::Error::DelegateMemoryAllocationFailed || sys_errno == ENOMEM) {
    Fail(MS_ERR_NO_MEMORY, "out of memory: " + message);
  }
  Fail(MS_ERR_MODEL, message);
}

// The text frontend reports a failure as text alone; its allocation failures are worded
// "out of memory ..." (text_frontend.cc), and are MS_ERR_NO_MEMORY, not `otherwise`.
static ms_status FrontendStatus(const std::string& err, ms_status otherwise) {
  return err.rfind("out of memory", 0) == 0 ? MS_ERR_NO_MEMORY : otherwise;
}

static ScalarType ToScalarType(io::DType t) {
  return t == io::DType::kInt64 ? ScalarType::Long : ScalarType::Float;
}

// One .pte file through ExecuTorch's Module API.
class Program {
 public:
  Program(const std::string& path, std::string file)
      : file_(std::move(file)), module_(std::make_unique<Module>(path, Module::LoadMode::Mmap)) {}

  void Load() {
    errno = 0;
    auto err = module_->load();
    if (err != et::runtime::Error::Ok) {
      const int e = errno;
      FailExecuTorch(err, e, Format("ExecuTorch cannot load %s (error 0x%x)", file_.c_str(),
                                    static_cast<unsigned>(err)));
    }
    errno = 0;
    auto names = module_->method_names();
    if (!names.ok()) {
      const int e = errno;
      FailExecuTorch(names.error(), e,
                     Format("ExecuTorch cannot list the methods of %s (error 0x%x)", file_.c_str(),
                            static_cast<unsigned>(names.error())));
    }
    names_ = std::set<std::string>(names->begin(), names->end());
  }

  bool Has(const std::string& m) const { return names_.count(m) != 0; }
  std::vector<std::string> Names() const { return {names_.begin(), names_.end()}; }
  const std::string& file() const { return file_; }

  et::runtime::MethodMeta Meta(const std::string& m) {
    errno = 0;
    auto r = module_->method_meta(m);
    if (!r.ok()) {
      const int e = errno;
      FailExecuTorch(r.error(), e, Format("%s:%s has no readable metadata (error 0x%x)",
                                          file_.c_str(), m.c_str(),
                                          static_cast<unsigned>(r.error())));
    }
    return *r;
  }

  void LoadMethod(const std::string& m) {
    errno = 0;
    auto err = module_->load_method(m);
    if (err != et::runtime::Error::Ok) {
      const int e = errno;
      FailExecuTorch(err, e, Format("ExecuTorch cannot load %s:%s (error 0x%x)", file_.c_str(),
                                    m.c_str(), static_cast<unsigned>(err)));
    }
  }

  void UnloadMethod(const std::string& m) { module_->unload_method(m); }

  // A call of one of the methods of program_io.h: the inputs must be that table's (count, dtype
  // and rank), placed by its indices; anything else is a bug here, not a bad bundle.
  std::vector<EValue> Run(const io::Method& m, const std::vector<EValue>& inputs) {
    if (inputs.size() != m.n_inputs) {
      Fail(MS_ERR_INTERNAL, Format("%s called with %zu inputs, its table has %zu", m.name,
                                   inputs.size(), m.n_inputs));
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      const io::Input& want = m.inputs[i];
      if (!inputs[i].isTensor() || inputs[i].toTensor().dim() != want.rank ||
          inputs[i].toTensor().scalar_type() != ToScalarType(want.dtype)) {
        Fail(MS_ERR_INTERNAL, Format("%s input %s does not match its table entry", m.name,
                                     want.name));
      }
    }
    return Run(std::string(m.name), inputs);
  }

  std::vector<EValue> Run(const std::string& m, const std::vector<EValue>& inputs) {
    errno = 0;
    auto r = module_->execute(m, inputs);
    if (!r.ok()) {
      const int e = errno;
      FailExecuTorch(r.error(), e, Format("program method %s failed (ExecuTorch error 0x%x)",
                                          m.c_str(), static_cast<unsigned>(r.error())));
    }
    return std::move(*r);
  }

 private:
  std::string file_;
  std::unique_ptr<Module> module_;
  std::set<std::string> names_;
};

namespace {

// Copies a tensor output after checking dtype and element count.
template <typename T>
void CopyOut(const std::vector<EValue>& outs, size_t i, ScalarType dtype, size_t numel,
             const char* what, std::vector<T>* dst) {
  if (i >= outs.size() || !outs[i].isTensor()) {
    Fail(MS_ERR_MODEL, Format("program method %s returned no tensor output %zu", what, i));
  }
  const auto& t = outs[i].toTensor();
  if (t.scalar_type() != dtype || static_cast<size_t>(t.numel()) != numel) {
    Fail(MS_ERR_MODEL, Format("program method %s returned output %zu with %zu elements, %zu "
                              "expected (a bundle program does not match its manifest)",
                              what, i, static_cast<size_t>(t.numel()), numel));
  }
  const T* p = t.template const_data_ptr<T>();
  dst->assign(p, p + numel);
}

// The inputs of one call, each at its index of program_io.h (in[io::kStepNoise] = ...).
std::vector<EValue> Inputs(const io::Method& m) { return std::vector<EValue>(m.n_inputs); }

template <typename T>
et::extension::TensorPtr Blob(const T* data, std::vector<et::aten::SizesType> sizes,
                              ScalarType dtype) {
  return et::extension::from_blob(const_cast<T*>(data), std::move(sizes), dtype);
}

}  // namespace

struct Synthesizer::Job {
  std::vector<std::vector<int64_t>> chunks;
  std::vector<int> steps;
  float length_scale = 1.0f;
  uint64_t seed = 0;
  size_t sentence = 0;
  bool generated = false;
  bool sped_up = false;
  uint32_t prompt_flags = 0;
  uint32_t text_flags = 0;  // MS_CHUNK_TEXT_SKIPPED
  int64_t t = 0;
  std::vector<int64_t> tokens;  // [N, T]
  std::vector<Window> windows;
  size_t window = 0;
  Clock::time_point t_start;
  bool had_audio = false;
  // scratch
  std::vector<float> text;
  std::vector<int64_t> frames, index, win_tokens;
  std::vector<float> noise, keep, mel, wav;
  // mel_match: the sentence's window mels (decoded up front), their keep masks, the offset
  std::vector<std::vector<float>> mels, keeps;
  std::vector<float> offset;
};

Synthesizer::Synthesizer(const SynthOptions& opts) : opts_(opts) {
  InstallLogFilter();
  et::runtime::runtime_init();
  bundle_ = OpenBundle(opts.bundle_dir, opts.verify_checksums);
  const BundleConfig& c = bundle_.config;
  audio_limits_.min_prompt_seconds = c.min_prompt_seconds;
  audio_limits_.max_prompt_seconds = c.max_prompt_seconds;
  audio_limits_.silence_rms = c.silence_rms;
  // Handle-level defaults are checked like per-call ones.
  CallOptions defaults;
  defaults.steps = opts_.steps;
  defaults.length_scale = opts_.length_scale;
  std::vector<int> steps;
  float ls;
  uint64_t seed;
  opts_.steps.clear();
  opts_.length_scale = 1.0f;
  ValidateCall(defaults, &steps, &ls, &seed);
  opts_.steps = steps;
  opts_.length_scale = ls;
  lease_ = std::make_unique<PoolLease>(opts.num_threads);
  num_threads_ = lease_->threads;
  LoadPrograms();
  FrontendLimits fl;
  fl.max_chars = static_cast<size_t>(c.frontend_max_chars);
  fl.max_phonemes = static_cast<size_t>(c.frontend_max_phonemes);
  fl.word_boundaries = c.word_boundaries;
  fl.leading_pause = c.leading_pause;
  std::string err;
  frontend_ = TextFrontend::Load(bundle_.root, bundle_.symbols, fl, &err);
  if (!frontend_) frontend_error_ = err.empty() ? "the text frontend could not be loaded" : err;
  timings_.first_audio_s = -1.0;
}

Synthesizer::~Synthesizer() = default;

void Synthesizer::LoadPrograms() {
  const BundleConfig& c = bundle_.config;
  // The constants every program must carry, and the config must agree with.
  const std::pair<const char*, std::vector<int64_t>> want[] = {
      {"schema_version", {kSchemaVersion}},
      {"sample_rate", {c.sample_rate}},
      {"hop_length", {c.hop_length}},
      {"n_codebooks", {c.n_codebooks}},
      {"codebook_size", {c.codebook_size}},
      {"d_model", {c.d_model}},
      {"max_frames", {c.max_frames}},
      {"max_phonemes", {c.max_phonemes}},
      {"max_prompt_frames", {c.max_prompt_frames}},
      {"decode_window", {c.decode_chunk_frames + 2 * c.decode_context_frames}},
      {"decode_context", {c.decode_context_frames}},
  };
  for (const auto& w : want) {
    auto it = bundle_.constants.find(w.first);
    if (it == bundle_.constants.end()) {
      Fail(MS_ERR_MODEL, Format("manifest constants lack '%s': exported by another version?", w.first));
    }
    if (it->second != w.second) {
      Fail(MS_ERR_MODEL, Format("manifest constant %s=%s disagrees with its config (%s)", w.first,
                                ShapeString(it->second).c_str(), ShapeString(w.second).c_str()));
    }
  }
  auto ss = bundle_.constants.find("schedule_steps");
  if (ss == bundle_.constants.end()) Fail(MS_ERR_MODEL, "manifest constants lack 'schedule_steps'");
  if (ss->second != std::vector<int64_t>(c.steps.begin(), c.steps.end())) {
    Fail(MS_ERR_MODEL, "manifest constant schedule_steps disagrees with its config");
  }

  const int64_t w = c.decode_chunk_frames + 2 * c.decode_context_frames;
  auto size = [&](io::Dim dim) -> int64_t {  // a bound's dimension, from the config
    switch (dim) {
      case io::Dim::kOne: return 1;
      case io::Dim::kCodebooks: return c.n_codebooks;
      case io::Dim::kMaxFrames: return c.max_frames;
      case io::Dim::kMaxPhonemes: return c.max_phonemes;
      case io::Dim::kMaxPromptFrames: return c.max_prompt_frames;
      case io::Dim::kPromptSamples: return c.max_prompt_frames * c.hop_length;
      case io::Dim::kDModel: return c.d_model;
      case io::Dim::kVocabPlusMask: return c.codebook_size + 1;
      case io::Dim::kDecodeWindow: return w;
      case io::Dim::kMels: return c.n_mels;
      case io::Dim::kMelWindow: return w * c.token_stride;
    }
    return -1;
  };
  struct FileSpec {
    const char* file;
    std::unique_ptr<Program>* slot;
    std::vector<const io::Method*> methods;
  };
  std::vector<FileSpec> files = {{"prompt.pte", &prompt_, {}},
                                 {"text.pte", &text_, {}},
                                 {"smd.pte", &smd_, {}},
                                 {"decoder.pte", &decoder_, {}},
                                 {"vocoder.pte", &vocoder_, {}}};
  for (FileSpec& f : files) {
    for (const io::Method* m : io::kMethods) {
      // decoder.pte gives the window's log-mel in a mel codec; vocoder.pte turns it into audio
      if (std::strcmp(m->file, f.file) == 0 && (c.mel_codec || !m->mel_codec_only)) {
        f.methods.push_back(m);
      }
    }
  }
  files.erase(std::remove_if(files.begin(), files.end(),
                             [](const FileSpec& f) { return f.methods.empty(); }),
              files.end());

  for (auto& f : files) {
    if (!bundle_.programs.count(f.file)) Fail(MS_ERR_MODEL, Format("bundle has no program '%s'", f.file));
    auto p = std::make_unique<Program>(bundle_.Path(f.file), f.file);
    p->Load();
    std::vector<std::string> missing;
    for (const io::Method* m : f.methods) {
      if (!p->Has(m->name)) missing.push_back(m->name);
    }
    if (!missing.empty()) {
      Fail(MS_ERR_MODEL, Format("%s lacks method(s) %s (found %s)", f.file, Join(missing).c_str(),
                                Join(p->Names()).c_str()));
    }
    CheckConstants(*p, f.file);
    for (const io::Method* mp : f.methods) {
      const io::Method& m = *mp;
      const auto& specs_by_method = bundle_.programs[f.file];
      auto sit = specs_by_method.find(m.name);
      if (sit == specs_by_method.end()) {
        Fail(MS_ERR_MODEL, Format("manifest has no entry for %s:%s", f.file, m.name));
      }
      const auto& specs = sit->second;
      auto meta = p->Meta(m.name);
      if (meta.num_inputs() != specs.size()) {
        Fail(MS_ERR_MODEL, Format("%s:%s takes %zu inputs, manifest says %zu", f.file, m.name,
                                  meta.num_inputs(), specs.size()));
      }
      if (meta.num_inputs() != m.n_inputs || meta.num_outputs() < m.n_outputs) {
        Fail(MS_ERR_MODEL, Format("%s:%s has %zu inputs and %zu outputs; this runtime expects %zu "
                                  "and %zu", f.file, m.name, meta.num_inputs(), meta.num_outputs(),
                                  m.n_inputs, m.n_outputs));
      }
      for (size_t i = 0; i < specs.size(); ++i) {
        const io::Input& want = m.inputs[i];
        if (specs[i].name != want.name) {
          Fail(MS_ERR_MODEL, Format("%s:%s input %zu is '%s' in the manifest; this runtime "
                                    "passes '%s' there (exported by another version?)", f.file,
                                    m.name, i, specs[i].name.c_str(), want.name));
        }
        std::vector<int64_t> expect;
        for (int k = 0; k < want.rank; ++k) expect.push_back(size(want.dims[k]));
        auto info = meta.input_tensor_meta(i);
        if (!info.ok()) {
          Fail(MS_ERR_MODEL, Format("%s:%s input %zu is not a tensor", f.file, m.name, i));
        }
        std::vector<int64_t> sizes(info->sizes().begin(), info->sizes().end());
        if (sizes != specs[i].max_shape) {
          Fail(MS_ERR_MODEL, Format("%s:%s input %s has bound %s, manifest says %s", f.file, m.name,
                                    specs[i].name.c_str(), ShapeString(sizes).c_str(),
                                    ShapeString(specs[i].max_shape).c_str()));
        }
        if (sizes != expect || info->scalar_type() != ToScalarType(want.dtype)) {
          Fail(MS_ERR_MODEL, Format("%s:%s input %s has bound %s (dtype %d); the config implies %s "
                                    "(dtype %d)", f.file, m.name, specs[i].name.c_str(),
                                    ShapeString(sizes).c_str(),
                                    static_cast<int>(info->scalar_type()),
                                    ShapeString(expect).c_str(),
                                    static_cast<int>(ToScalarType(want.dtype))));
        }
      }
      p->LoadMethod(m.name);
    }
    *f.slot = std::move(p);
  }
}

void Synthesizer::CheckConstants(Program& p, const std::string& file) {
  for (const auto& kv : bundle_.constants) {
    const std::string& key = kv.first;
    if (!p.Has(key)) {
      Fail(MS_ERR_MODEL, Format("%s lacks metadata '%s': exported by another version?",
                                file.c_str(), key.c_str()));
    }
    std::vector<EValue> outs = p.Run(key, {});
    std::vector<int64_t> got;
    for (const EValue& e : outs) {
      if (e.isInt()) {
        got.push_back(e.toInt());
      } else if (e.isBool()) {
        got.push_back(e.toBool() ? 1 : 0);
      } else if (e.isDouble()) {
        got.push_back(static_cast<int64_t>(e.toDouble()));
      } else if (e.isTensor() && e.toTensor().numel() == 1 &&
                 e.toTensor().scalar_type() == ScalarType::Long) {
        got.push_back(e.toTensor().const_data_ptr<int64_t>()[0]);
      } else {
        Fail(MS_ERR_MODEL, Format("%s: metadata '%s' has an unexpected type", file.c_str(),
                                  key.c_str()));
      }
    }
    p.UnloadMethod(key);
    if (key == "schema_version" && got != std::vector<int64_t>{kSchemaVersion}) {
      Fail(MS_ERR_MODEL, Format("%s has schema %s, runtime reads %lld", file.c_str(),
                                ShapeString(got).c_str(), static_cast<long long>(kSchemaVersion)));
    }
    if (got != kv.second) {
      Fail(MS_ERR_MODEL, Format("%s was exported for %s=%s, the manifest says %s: programs from "
                                "different bundles were mixed", file.c_str(), key.c_str(),
                                ShapeString(got).c_str(), ShapeString(kv.second).c_str()));
    }
  }
}

void Synthesizer::ValidateCall(const CallOptions& opts, std::vector<int>* steps, float* length_scale,
                               uint64_t* seed) const {
  const BundleConfig& c = bundle_.config;
  if (opts.steps.empty()) {
    *steps = opts_.steps.empty() ? c.steps : opts_.steps;
  } else {
    bool ok = static_cast<int64_t>(opts.steps.size()) == c.n_codebooks;
    for (int s : opts.steps) ok = ok && s >= 1 && s <= kMaxStepsPerLayer;
    if (!ok) {
      Fail(MS_ERR_INVALID_ARGUMENT, Format("steps must give 1..%d steps for each of the %lld codec "
                                           "layers", kMaxStepsPerLayer,
                                           static_cast<long long>(c.n_codebooks)));
    }
    *steps = opts.steps;
  }
  float ls = opts.length_scale == 0.0f ? opts_.length_scale : opts.length_scale;
  if (!(ls >= kMinLengthScale && ls <= kMaxLengthScale)) {
    Fail(MS_ERR_INVALID_ARGUMENT, Format("length_scale must be in [%g, %g], got %g",
                                         static_cast<double>(kMinLengthScale),
                                         static_cast<double>(kMaxLengthScale),
                                         static_cast<double>(ls)));
  }
  *length_scale = ls;
  if (opts.use_seed) {
    *seed = opts.seed;
  } else if (opts_.use_seed) {
    *seed = opts_.seed;
  } else {
    *seed = static_cast<uint64_t>(c.seed);
  }
}

void Synthesizer::Abort() {
  job_.reset();
  state_ = State::Idle;
}

void Synthesizer::CheckCancel() const {
  if (cancel_.load(std::memory_order_relaxed)) Fail(MS_ERR_CANCELLED, "synthesis was cancelled");
}

void Synthesizer::StartText(const char* text, const PromptInput& prompt, const CallOptions& opts) {
  const auto t_start = Clock::now();
  cancel_.store(false, std::memory_order_relaxed);
  Abort();
  std::vector<int> steps;
  float ls;
  uint64_t seed;
  ValidateCall(opts, &steps, &ls, &seed);
  uint32_t text_flags = 0;
  std::vector<std::vector<int64_t>> chunks = TextToPhonemes(text, &text_flags);
  CallOptions resolved;
  resolved.use_seed = true;
  resolved.seed = seed;
  resolved.steps = steps;
  resolved.length_scale = ls;
  Begin(std::move(chunks), prompt, resolved, Seconds(t_start, Clock::now()), t_start);
  job_->text_flags = text_flags;
}

std::vector<std::vector<int64_t>> Synthesizer::TextToPhonemes(const char* text,
                                                              uint32_t* flags) const {
  *flags = 0;
  if (!frontend_) Fail(FrontendStatus(frontend_error_, MS_ERR_MODEL), frontend_error_);
  const size_t n = std::strlen(text);
  const size_t max_chars = static_cast<size_t>(bundle_.config.frontend_max_chars);
  if (n > static_cast<size_t>(kMaxUtf8BytesPerChar) * max_chars) {
    Fail(MS_ERR_INVALID_TEXT, Format("text is more than %zu characters long (%zu bytes); the "
                                     "limit is %zu characters per request: split it into "
                                     "shorter pieces", max_chars, n, max_chars));
  }
  if (!utf8::Valid(text, n)) Fail(MS_ERR_INVALID_TEXT, "text is not valid UTF-8");
  std::vector<std::vector<int64_t>> chunks;
  std::string err;
  uint32_t notices = 0;
  if (!frontend_->EncodeWithNotices(std::string(text, n), &chunks, &err, &notices)) {
    Fail(FrontendStatus(err, MS_ERR_INVALID_TEXT),
         err.empty() ? "text has nothing to pronounce" : err);
  }
  if (chunks.empty()) Fail(MS_ERR_INVALID_TEXT, "text has nothing to pronounce");
  CheckChunks(chunks);  // what Begin checks: the model's chunk length and symbol range
  if (notices) *flags = MS_CHUNK_TEXT_SKIPPED;
  return chunks;
}

void Synthesizer::StartPhonemes(std::vector<std::vector<int64_t>> chunks, const PromptInput& prompt,
                                const CallOptions& opts) {
  const auto t_start = Clock::now();
  cancel_.store(false, std::memory_order_relaxed);
  Abort();
  std::vector<int> steps;
  float ls;
  uint64_t seed;
  ValidateCall(opts, &steps, &ls, &seed);
  CallOptions resolved;
  resolved.use_seed = true;
  resolved.seed = seed;
  resolved.steps = steps;
  resolved.length_scale = ls;
  Begin(std::move(chunks), prompt, resolved, 0.0, t_start);
}

void Synthesizer::CheckChunks(const std::vector<std::vector<int64_t>>& chunks) const {
  const BundleConfig& c = bundle_.config;
  if (chunks.empty()) Fail(MS_ERR_INVALID_TEXT, "no phoneme chunks to speak");
  const int64_t n_symbols = static_cast<int64_t>(bundle_.symbols.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    const auto& ch = chunks[i];
    if (ch.empty()) Fail(MS_ERR_INVALID_TEXT, Format("phoneme chunk %zu is empty", i));
    if (static_cast<int64_t>(ch.size()) > c.max_phonemes) {
      Fail(MS_ERR_INVALID_TEXT, Format("%zu phonemes in one chunk; the model takes at most %lld",
                                       ch.size(), static_cast<long long>(c.max_phonemes)));
    }
    for (int64_t id : ch) {
      if (id < 0 || id >= n_symbols) {
        Fail(MS_ERR_INVALID_TEXT, Format("phoneme id %lld in chunk %zu is outside 0..%lld",
                                         static_cast<long long>(id), i,
                                         static_cast<long long>(n_symbols - 1)));
      }
    }
  }
}

void Synthesizer::Begin(std::vector<std::vector<int64_t>> chunks, const PromptInput& prompt,
                        const CallOptions& opts, double frontend_s, Clock::time_point t_start) {
  CheckChunks(chunks);
  timings_ = ms_timings{};
  timings_.first_audio_s = -1.0;
  timings_.frontend_s = frontend_s;
  const auto t0 = Clock::now();
  PreparePrompt(prompt);
  timings_.prompt_s = Seconds(t0, Clock::now());
  auto job = std::make_unique<Job>();
  job->chunks = std::move(chunks);
  job->steps = opts.steps;
  job->length_scale = opts.length_scale;
  job->seed = opts.seed;
  job->t_start = t_start;
  job->prompt_flags = (prompt_trimmed_ ? MS_CHUNK_PROMPT_TRIMMED : 0u) |
                      (prompt_one_channel_ ? MS_CHUNK_PROMPT_ONE_CHANNEL : 0u);
  job_ = std::move(job);
  state_ = State::Running;
}

void Synthesizer::PreparePrompt(const PromptInput& in) {
  const BundleConfig& c = bundle_.config;
  const int32_t sr = static_cast<int32_t>(c.sample_rate);
  ConditionedPrompt cond;
  if (in.pcm == nullptr) {
    if (!default_prompt_loaded_) {
      if (bundle_.default_prompt.empty()) {
        Fail(MS_ERR_INVALID_AUDIO, "no prompt voice given and this model has no default one");
      }
      WavData wav;
      std::string err;
      if (!ReadWav(bundle_.Path(bundle_.default_prompt), &wav, &err)) {
        Fail(MS_ERR_MODEL, "the bundle's default prompt cannot be read: " + err);
      }
      ConditionedPrompt d = ConditionPrompt(wav.samples.data(), wav.frames(), wav.sample_rate,
                                            wav.channels, sr, audio_limits_);
      default_prompt_ = std::move(d.samples);
      default_prompt_trimmed_ = d.trimmed;
      default_prompt_loaded_ = true;
    }
    cond.samples = default_prompt_;
    cond.trimmed = default_prompt_trimmed_;
  } else {
    cond = ConditionPrompt(in.pcm, in.n_frames, in.sample_rate, in.channels, sr, audio_limits_);
  }
  prompt_one_channel_ = cond.channel >= 0;
  if (!prompt_tokens_.empty() && cond.samples == prompt_samples_) {
    prompt_trimmed_ = cond.trimmed;
    return;  // cached
  }
  // The encoder program has one fixed window (max_prompt_frames); pad, then keep the frames the
  // real audio covers.
  const int64_t hop = c.hop_length, pmax = c.max_prompt_frames, n = c.n_codebooks,
                v = c.codebook_size, d = c.d_model;
  const int64_t frames = std::min<int64_t>(static_cast<int64_t>(cond.samples.size()) / hop, pmax);
  if (frames < 1) Fail(MS_ERR_INVALID_AUDIO, "prompt is shorter than one codec frame");
  std::vector<float> window(static_cast<size_t>(pmax * hop), 0.0f);
  std::copy(cond.samples.begin(), cond.samples.begin() + frames * hop, window.begin());
  CheckCancel();
  auto wav_t = Blob(window.data(), {1, 1, static_cast<int32_t>(pmax * hop)}, ScalarType::Float);
  std::vector<int64_t> all;
  std::vector<EValue> enc = Inputs(io::kEncodeMethod);
  enc[io::kEncodeWav] = EValue(*wav_t);
  CopyOut(prompt_->Run(io::kEncodeMethod, enc), 0, ScalarType::Long,
          static_cast<size_t>(n * pmax), io::kEncodeMethod.name, &all);
  std::vector<int64_t> tokens(static_cast<size_t>(n * frames));
  for (int64_t q = 0; q < n; ++q) {
    for (int64_t i = 0; i < frames; ++i) {
      int64_t tok = all[q * pmax + i];
      if (tok < 0 || tok >= v) Fail(MS_ERR_MODEL, "the prompt encoder returned an invalid token");
      tokens[q * frames + i] = tok;
    }
  }
  CheckCancel();
  auto tok_t = Blob(tokens.data(), {1, static_cast<int32_t>(n), static_cast<int32_t>(frames)},
                    ScalarType::Long);
  std::vector<float> memory;
  std::vector<EValue> mem = Inputs(io::kMemoryMethod);
  mem[io::kMemoryPrompt] = EValue(*tok_t);
  CopyOut(prompt_->Run(io::kMemoryMethod, mem), 0, ScalarType::Float,
          static_cast<size_t>(frames * d), io::kMemoryMethod.name, &memory);
  prompt_samples_ = std::move(cond.samples);
  prompt_trimmed_ = cond.trimmed;
  prompt_tokens_ = std::move(tokens);
  prompt_frames_ = frames;
  prompt_memory_ = std::move(memory);
  prompt_spectrum_.clear();
  if (c.mel_codec && c.mel_match > 0.0) {  // synthesizer.py _prompt_spectrum
    std::vector<std::vector<float>> mels, keeps;
    std::vector<float> own;
    DecodeMels(prompt_tokens_, prompt_frames_, &mels, &keeps, &own);
    prompt_spectrum_ = LoudMean(own, c.n_mels, static_cast<int64_t>(own.size()) / c.n_mels,
                                c.mel_match_loud);
  }
}

// synthesizer.py _decode_mels: every decoder window's log-mel [n_mels, W * stride] and keep mask,
// and the frames each window owns concatenated ([n_mels, T * stride], row-major).
void Synthesizer::DecodeMels(const std::vector<int64_t>& tokens, int64_t t,
                             std::vector<std::vector<float>>* mels,
                             std::vector<std::vector<float>>* keeps, std::vector<float>* own) {
  const BundleConfig& c = bundle_.config;
  const int64_t chunk = c.decode_chunk_frames, ctx = c.decode_context_frames, n = c.n_codebooks,
                s = c.token_stride, w = chunk + 2 * ctx, nm = c.n_mels, wm = w * s;
  const std::vector<Window> windows = DecodeWindows(t, chunk);
  mels->assign(windows.size(), {});
  keeps->assign(windows.size(), {});
  std::vector<int64_t> win_tokens;
  for (size_t i = 0; i < windows.size(); ++i) {
    CheckCancel();
    WindowTokens(tokens, n, t, windows[i], chunk, ctx, &win_tokens, &(*keeps)[i]);
    auto tok_t = Blob(win_tokens.data(), {1, static_cast<int32_t>(n), static_cast<int32_t>(w)},
                      ScalarType::Long);
    auto keep_t = Blob((*keeps)[i].data(), {1, static_cast<int32_t>(w)}, ScalarType::Float);
    std::vector<EValue> in = Inputs(io::kDecodeMethod);
    in[io::kDecodeTokens] = EValue(*tok_t);
    in[io::kDecodeKeep] = EValue(*keep_t);
    CopyOut(decoder_->Run(io::kDecodeMethod, in), 0, ScalarType::Float,
            static_cast<size_t>(nm * wm), io::kDecodeMethod.name, &(*mels)[i]);
  }
  const int64_t total = t * s;
  own->assign(static_cast<size_t>(nm * total), 0.0f);
  for (size_t i = 0; i < windows.size(); ++i) {
    const int64_t a = ctx * s, f = windows[i].frames * s, at = windows[i].start * s;
    for (int64_t b = 0; b < nm; ++b) {
      std::copy_n((*mels)[i].begin() + b * wm + a, f, own->begin() + b * total + at);
    }
  }
}

void Synthesizer::Generate() {
  Job& j = *job_;
  const BundleConfig& c = bundle_.config;
  const int64_t n = c.n_codebooks, v = c.codebook_size, d = c.d_model;
  const auto& ids = j.chunks[j.sentence];
  const int32_t l = static_cast<int32_t>(ids.size());
  const int32_t pf = static_cast<int32_t>(prompt_frames_), n32 = static_cast<int32_t>(n),
                d32 = static_cast<int32_t>(d);
  auto t0 = Clock::now();
  CheckCancel();
  auto ids_t = Blob(ids.data(), {1, l}, ScalarType::Long);
  auto prompt_t = Blob(prompt_tokens_.data(), {1, n32, pf}, ScalarType::Long);
  float ls = j.length_scale;
  auto ls_t = Blob(&ls, {1}, ScalarType::Float);
  {
    std::vector<EValue> in = Inputs(io::kTextMethod);
    in[io::kTextPhonemes] = EValue(*ids_t);
    in[io::kTextPrompt] = EValue(*prompt_t);
    in[io::kTextLengthScale] = EValue(*ls_t);
    auto outs = text_->Run(io::kTextMethod, in);
    CopyOut(outs, 0, ScalarType::Float, static_cast<size_t>(l) * d, io::kTextMethod.name, &j.text);
    CopyOut(outs, 1, ScalarType::Long, static_cast<size_t>(l), io::kTextMethod.name, &j.frames);
  }
  j.sped_up = RegulateDurations(&j.frames, c.max_frames);
  timings_.text_s += Seconds(t0, Clock::now());
  t0 = Clock::now();
  j.index.clear();
  for (int32_t i = 0; i < l; ++i) j.index.insert(j.index.end(), static_cast<size_t>(j.frames[i]), i);
  const int64_t t = static_cast<int64_t>(j.index.size());
  const int32_t t32 = static_cast<int32_t>(t);
  j.t = t;
  j.tokens.assign(static_cast<size_t>(n * t), v);
  j.noise.resize(static_cast<size_t>(t * (v + 1)));
  const uint64_t seed = j.seed + static_cast<uint64_t>(j.sentence);
  auto text_t = Blob(j.text.data(), {1, l, d32}, ScalarType::Float);
  auto index_t = Blob(j.index.data(), {1, t32}, ScalarType::Long);
  auto memory_t = Blob(prompt_memory_.data(), {1, pf, d32}, ScalarType::Float);
  auto noise_t = Blob(j.noise.data(), {1, t32, static_cast<int32_t>(v + 1)}, ScalarType::Float);
  std::vector<int64_t> next;
  for (const Step& st : Plan(t, j.steps, c.temperature)) {
    CheckCancel();
    rng::Uniform(seed, st.layer, st.step, j.noise.data(), j.noise.size());
    int64_t layer = st.layer, n_masked = st.n_masked_after;
    float temp = static_cast<float>(st.temperature);
    auto tokens_t = Blob(j.tokens.data(), {1, n32, t32}, ScalarType::Long);
    auto layer_t = Blob(&layer, {1}, ScalarType::Long);
    auto temp_t = Blob(&temp, {1}, ScalarType::Float);
    auto nm_t = Blob(&n_masked, {1}, ScalarType::Long);
    std::vector<EValue> in = Inputs(io::kStepMethod);
    in[io::kStepTokens] = EValue(*tokens_t);
    in[io::kStepLayer] = EValue(*layer_t);
    in[io::kStepText] = EValue(*text_t);
    in[io::kStepIndex] = EValue(*index_t);
    in[io::kStepMemory] = EValue(*memory_t);
    in[io::kStepNoise] = EValue(*noise_t);
    in[io::kStepTemperature] = EValue(*temp_t);
    in[io::kStepMaskedAfter] = EValue(*nm_t);
    CopyOut(smd_->Run(io::kStepMethod, in), 0, ScalarType::Long, static_cast<size_t>(n * t),
            io::kStepMethod.name, &next);
    j.tokens.swap(next);
    timings_.smd_calls += 1;
  }
  for (int64_t tok : j.tokens) {
    if (tok < 0 || tok >= v) Fail(MS_ERR_MODEL, "the SMD program left masked or invalid tokens");
  }
  j.windows = DecodeWindows(t, c.decode_chunk_frames);
  j.window = 0;
  j.generated = true;
  timings_.smd_s += Seconds(t0, Clock::now());
  timings_.frames += t;
  j.mels.clear();
  if (c.mel_codec && c.mel_match > 0.0) {  // synthesizer.py _decode_matched
    const auto t1 = Clock::now();
    std::vector<float> own;
    DecodeMels(j.tokens, t, &j.mels, &j.keeps, &own);
    j.offset = MelOffset(prompt_spectrum_, LoudMean(own, c.n_mels, t * c.token_stride,
                                                    c.mel_match_loud), c.mel_match);
    timings_.decoder_s += Seconds(t1, Clock::now());
  }
}

bool Synthesizer::Next(ms_audio_chunk* out) {
  std::memset(out, 0, sizeof *out);
  if (state_ == State::Idle) {
    Fail(MS_ERR_STATE, "no synthesis in progress: call ms_synth_start first (a failed or "
                       "cancelled synthesis must be started again)");
  }
  if (state_ == State::Done) return false;
  CheckCancel();  // a cancel ends a running synthesis even when only MS_DONE was left
  Job& j = *job_;
  if (j.sentence >= j.chunks.size()) {
    Abort();
    state_ = State::Done;
    return false;
  }
  if (!j.generated) Generate();
  CheckCancel();
  const BundleConfig& c = bundle_.config;
  const auto t0 = Clock::now();
  const int64_t chunk = c.decode_chunk_frames, ctx = c.decode_context_frames, hop = c.hop_length,
                n = c.n_codebooks, w = chunk + 2 * ctx;
  const Window& win = j.windows[j.window];
  WindowTokens(j.tokens, n, j.t, win, chunk, ctx, &j.win_tokens, &j.keep);
  auto tok_t = Blob(j.win_tokens.data(), {1, static_cast<int32_t>(n), static_cast<int32_t>(w)},
                    ScalarType::Long);
  auto keep_t = Blob(j.keep.data(), {1, static_cast<int32_t>(w)}, ScalarType::Float);
  std::vector<EValue> decode_in = Inputs(io::kDecodeMethod);
  decode_in[io::kDecodeTokens] = EValue(*tok_t);
  decode_in[io::kDecodeKeep] = EValue(*keep_t);
  if (c.mel_codec) {
    const int64_t mel_frames = w * c.token_stride;
    if (!j.mels.empty()) {  // mel_match: decoded in Generate(); shift the frames inside
      j.mel = j.mels[j.window];
      const std::vector<float>& keep = j.keeps[j.window];
      for (int64_t b = 0; b < c.n_mels; ++b) {
        for (int64_t f = 0; f < mel_frames; ++f) {
          j.mel[static_cast<size_t>(b * mel_frames + f)] +=
              j.offset[static_cast<size_t>(b)] * keep[static_cast<size_t>(f / c.token_stride)];
        }
      }
    } else {
      CopyOut(decoder_->Run(io::kDecodeMethod, decode_in), 0, ScalarType::Float,
              static_cast<size_t>(c.n_mels * mel_frames), io::kDecodeMethod.name, &j.mel);
    }
    auto mel_t = Blob(j.mel.data(),
                      {1, static_cast<int32_t>(c.n_mels), static_cast<int32_t>(mel_frames)},
                      ScalarType::Float);
    const auto t_voc = Clock::now();
    timings_.decoder_s += Seconds(t0, t_voc);
    std::vector<EValue> voc = Inputs(io::kVocodeMethod);
    voc[io::kVocodeMel] = EValue(*mel_t);
    CopyOut(vocoder_->Run(io::kVocodeMethod, voc), 0, ScalarType::Float,
            static_cast<size_t>(w * hop), io::kVocodeMethod.name, &j.wav);
    timings_.vocoder_s += Seconds(t_voc, Clock::now());
  } else {
    CopyOut(decoder_->Run(io::kDecodeMethod, decode_in), 0, ScalarType::Float,
            static_cast<size_t>(w * hop), io::kDecodeMethod.name, &j.wav);
  }
  chunk_.assign(j.wav.begin() + ctx * hop, j.wav.begin() + (ctx + win.frames) * hop);
  for (float& x : chunk_) x = std::min(1.0f, std::max(-1.0f, x));  // np.clip (NaN stays NaN)
  if (!c.mel_codec) timings_.decoder_s += Seconds(t0, Clock::now());
  timings_.audio_s += static_cast<double>(chunk_.size()) / static_cast<double>(c.sample_rate);
  out->samples = chunk_.data();
  out->n_samples = chunk_.size();
  out->sample_rate = static_cast<int32_t>(c.sample_rate);
  out->sentence = static_cast<int32_t>(j.sentence);
  out->flags = j.prompt_flags | j.text_flags | (j.sped_up ? MS_CHUNK_SPED_UP : 0u);
  j.window += 1;
  if (j.window == j.windows.size()) {
    out->flags |= MS_CHUNK_END_OF_SENTENCE;
    j.sentence += 1;
    j.generated = false;
  }
  if (!j.had_audio) {
    j.had_audio = true;
    timings_.first_audio_s = Seconds(j.t_start, Clock::now());
  }
  return true;
}

// synthesizer.py resynthesize/encode_audio: the codec alone. The input is encoded window by
// window (max_prompt_frames tokens each, zero-padded at the end), then decoded by Next() exactly
// as a synthesized sentence (a job whose tokens are already generated).
void Synthesizer::StartResynth(const PromptInput& in) {
  const auto t_start = Clock::now();
  cancel_.store(false, std::memory_order_relaxed);
  Abort();
  const BundleConfig& c = bundle_.config;
  std::vector<float> y = PrepareResynthInput(in.pcm, in.n_frames, in.sample_rate, in.channels,
                                             static_cast<int32_t>(c.sample_rate));
  const int64_t hop = c.hop_length, pmax = c.max_prompt_frames, n = c.n_codebooks,
                v = c.codebook_size;
  const int64_t frames = (static_cast<int64_t>(y.size()) + hop - 1) / hop;
  if (frames < 1) {
    Fail(MS_ERR_INVALID_AUDIO, Format("input is shorter than one codec frame (%lld samples at "
                                      "%lld Hz)", static_cast<long long>(hop),
                                      static_cast<long long>(c.sample_rate)));
  }
  timings_ = ms_timings{};
  timings_.first_audio_s = -1.0;
  auto job = std::make_unique<Job>();
  job->tokens.assign(static_cast<size_t>(n * frames), 0);
  std::vector<float> window(static_cast<size_t>(pmax * hop));
  std::vector<int64_t> all;
  for (int64_t start = 0; start < frames; start += pmax) {
    CheckCancel();
    const int64_t len = std::min(pmax, frames - start);
    std::fill(window.begin(), window.end(), 0.0f);
    const size_t a = static_cast<size_t>(start * hop);
    const size_t b = std::min(y.size(), static_cast<size_t>((start + len) * hop));
    std::copy(y.begin() + static_cast<std::ptrdiff_t>(a), y.begin() + static_cast<std::ptrdiff_t>(b),
              window.begin());
    auto wav_t = Blob(window.data(), {1, 1, static_cast<int32_t>(pmax * hop)}, ScalarType::Float);
    std::vector<EValue> enc = Inputs(io::kEncodeMethod);
    enc[io::kEncodeWav] = EValue(*wav_t);
    CopyOut(prompt_->Run(io::kEncodeMethod, enc), 0, ScalarType::Long,
            static_cast<size_t>(n * pmax), io::kEncodeMethod.name, &all);
    for (int64_t q = 0; q < n; ++q) {
      for (int64_t i = 0; i < len; ++i) {
        const int64_t tok = all[static_cast<size_t>(q * pmax + i)];
        if (tok < 0 || tok >= v) Fail(MS_ERR_MODEL, "the codec encoder returned an invalid token");
        job->tokens[static_cast<size_t>(q * frames + start + i)] = tok;
      }
    }
  }
  timings_.prompt_s = Seconds(t_start, Clock::now());
  timings_.frames = frames;
  job->chunks.assign(1, {});  // one "sentence" whose tokens are already there
  job->t = frames;
  job->windows = DecodeWindows(frames, c.decode_chunk_frames);
  job->window = 0;
  job->generated = true;
  job->t_start = t_start;
  job->seed = 0;
  resynth_samples_ = y.size();
  job_ = std::move(job);
  state_ = State::Running;
}

void Synthesizer::FillLimits(ms_limits* out) const noexcept {
  const BundleConfig& c = bundle_.config;
  ms_limits l{};
  l.struct_size = out->struct_size;
  l.sample_rate = static_cast<int32_t>(c.sample_rate);
  l.n_codebooks = static_cast<int32_t>(c.n_codebooks);
  l.max_steps_per_layer = kMaxStepsPerLayer;
  l.max_chars = static_cast<int32_t>(c.frontend_max_chars);
  l.max_phonemes = static_cast<int32_t>(c.max_phonemes);
  l.max_frames = static_cast<int32_t>(c.max_frames);
  l.max_prompt_frames = static_cast<int32_t>(c.max_prompt_frames);
  l.n_symbols = static_cast<int32_t>(bundle_.symbols.size());
  l.frame_rate = static_cast<float>(static_cast<double>(c.sample_rate) / static_cast<double>(c.hop_length));
  l.min_prompt_seconds = static_cast<float>(c.min_prompt_seconds);
  l.max_prompt_seconds = static_cast<float>(c.max_prompt_seconds);
  l.has_text_frontend = frontend_ ? 1 : 0;
  l.num_threads = num_threads_;
  l.hop_length = static_cast<int32_t>(c.hop_length);
  l.codebook_size = static_cast<int32_t>(c.codebook_size);
  l.bits_per_second = static_cast<float>(static_cast<double>(c.n_codebooks) *
                                         std::log2(static_cast<double>(c.codebook_size)) *
                                         static_cast<double>(c.sample_rate) /
                                         static_cast<double>(c.hop_length));
  l.max_resynth_seconds = static_cast<float>(kMaxResynthSeconds);
  std::memcpy(out, &l, std::min(out->struct_size, sizeof l));
}

void Synthesizer::FillTimings(ms_timings* out) const noexcept {
  ms_timings t = timings_;
  t.struct_size = out->struct_size;
  std::memcpy(out, &t, std::min(out->struct_size, sizeof t));
}

}  // namespace mobilespeech
