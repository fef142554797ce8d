// mobilespeech_jni.cc - JNI bridge from com.mobilespeech.NativeBridge to the C ABI
// (mobilespeech_runtime/native/include/mobilespeech.h).
//
// Thin on purpose: every native method maps to one or two C calls. The streaming loop, the
// cancellation flag and the timing of RTF / time to first audio live in the API class
// (MobileSpeech.kt, on Android and on the desktop JVM of tests/test_jni_bridge.py), and nothing
// here calls back into Java.
//
// Rules kept here:
//  - No C++ exception and no pending Java exception leaves a native method unnoticed: a failing
//    C call becomes com.mobilespeech.MobileSpeechException(status, ms_last_error message),
//    thrown with env->Throw, and the method returns at once.
//  - Strings cross as real UTF-8 both ways. JNI's GetStringUTFChars / NewStringUTF use
//    *modified* UTF-8 (surrogate pairs as two 3-byte sequences, U+0000 as C0 80), which is not
//    what the C ABI reads and which CheckJNI rejects for 4-byte sequences; so text is taken as
//    UTF-16 and converted here. Text with U+0000 is refused (the C ABI reads NUL-terminated text).
//  - Arrays are copied in and out (Get/Set*ArrayRegion): no pinned memory is held while a
//    program runs, so the GC is never blocked by a synthesis.
//  - The ms_synth* travels as a jlong; the API class guarantees it is alive and used by one
//    thread at a time (ms_synth_cancel excepted, which the header allows from any thread).
#include <jni.h>

#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "mobilespeech.h"
#include "utf8.h"  // mobilespeech_runtime/native/src

namespace {

constexpr const char* kExceptionClass = "com/mobilespeech/MobileSpeechException";
jclass g_exception_class = nullptr;   // global ref, set in JNI_OnLoad
jmethodID g_exception_ctor = nullptr;  // MobileSpeechException(int status, String message)

ms_synth* Handle(jlong h) { return reinterpret_cast<ms_synth*>(static_cast<intptr_t>(h)); }

// ---- UTF-8 <-> UTF-16 -------------------------------------------------------------------------

// Java strings are UTF-16; the C ABI reads and writes UTF-8. The conversions are the core's own
// (mobilespeech_runtime/native/src/utf8.h, compiled into this library).
jstring NewJavaString(JNIEnv* env, const char* utf8) {
  const std::u16string u = mobilespeech::utf8::ToUtf16(utf8);
  return env->NewString(reinterpret_cast<const jchar*>(u.data()), static_cast<jsize>(u.size()));
}

// ---- exceptions -------------------------------------------------------------------------------

void Throw(JNIEnv* env, int status, const std::string& message) {
  if (env->ExceptionCheck()) return;  // keep the first (e.g. an OutOfMemoryError)
  jstring jmsg = NewJavaString(env, message.c_str());
  if (!jmsg) return;  // OutOfMemoryError pending
  jobject e = env->NewObject(g_exception_class, g_exception_ctor, static_cast<jint>(status), jmsg);
  env->DeleteLocalRef(jmsg);
  if (e) {
    env->Throw(static_cast<jthrowable>(e));
    env->DeleteLocalRef(e);
  }
}

// Throws for a failed C call on `synth` (NULL: a create failure, read from ms_last_error(NULL)).
// The message is copied at once: it is borrowed until the next call on the handle. MS_ERR_BUSY's
// is in ms_last_error(NULL) (the handle's belongs to the call that is running).
void ThrowStatus(JNIEnv* env, ms_status st, const ms_synth* synth) {
  std::string msg = ms_last_error(st == MS_ERR_BUSY ? nullptr : synth);
  if (msg.empty()) msg = ms_status_string(st);
  Throw(env, static_cast<int>(st), msg);
}

bool RequireHandle(JNIEnv* env, jlong h) {
  if (h != 0) return true;
  Throw(env, MS_ERR_INVALID_ARGUMENT, "the synthesizer is closed (null handle)");
  return false;
}

// Java String -> UTF-8. Returns false with an exception pending (null, NUL, OOM).
bool ToUtf8(JNIEnv* env, jstring s, const char* what, int nul_status, std::string* out) {
  if (!s) {
    Throw(env, MS_ERR_INVALID_ARGUMENT, std::string(what) + " is null");
    return false;
  }
  jsize n = env->GetStringLength(s);
  std::vector<jchar> buf(static_cast<size_t>(n));
  if (n > 0) env->GetStringRegion(s, 0, n, buf.data());
  if (env->ExceptionCheck()) return false;
  bool has_nul = false;
  *out = mobilespeech::utf8::FromUtf16(buf.data(), buf.size(), &has_nul);
  if (has_nul) {
    Throw(env, nul_status, std::string(what) + " contains a NUL character (U+0000)");
    return false;
  }
  return true;
}

// The prompt as the C ABI takes it. `pcm == nullptr` means the bundle's default voice.
struct Prompt {
  std::vector<float> samples;
  const float* pcm = nullptr;
  size_t n_frames = 0;
  int32_t sample_rate = 0;
  int32_t channels = 0;
};

bool ReadPrompt(JNIEnv* env, jfloatArray jpcm, jint sample_rate, jint channels, Prompt* p) {
  p->sample_rate = sample_rate;
  p->channels = channels;
  if (!jpcm) return true;  // default voice: rate and channels are not used
  if (channels < 1) {
    Throw(env, MS_ERR_INVALID_ARGUMENT, "prompt channels must be >= 1, got " + std::to_string(channels));
    return false;
  }
  jsize n = env->GetArrayLength(jpcm);
  if (n % channels != 0) {
    Throw(env, MS_ERR_INVALID_ARGUMENT,
          "prompt length " + std::to_string(n) + " is not a multiple of channels (" +
              std::to_string(channels) + "): samples must be interleaved frames");
    return false;
  }
  p->samples.resize(static_cast<size_t>(n) > 0 ? static_cast<size_t>(n) : 1);
  if (n > 0) env->GetFloatArrayRegion(jpcm, 0, n, p->samples.data());
  if (env->ExceptionCheck()) return false;
  p->pcm = p->samples.data();  // non-NULL even when empty: the C ABI then reports "empty"
  p->n_frames = static_cast<size_t>(n / channels);
  return true;
}

// Phoneme chunks: `ids` back to back, chunk i holding lengths[i] ids.
bool ReadPhonemes(JNIEnv* env, jintArray jids, jintArray jlengths, std::vector<int32_t>* ids,
                  std::vector<size_t>* lengths) {
  if (!jids || !jlengths) {
    Throw(env, MS_ERR_INVALID_ARGUMENT, "phoneme ids or chunk lengths are null");
    return false;
  }
  jsize n_ids = env->GetArrayLength(jids);
  jsize n_chunks = env->GetArrayLength(jlengths);
  ids->resize(static_cast<size_t>(n_ids));
  std::vector<jint> lens(static_cast<size_t>(n_chunks));
  if (n_ids > 0) env->GetIntArrayRegion(jids, 0, n_ids, reinterpret_cast<jint*>(ids->data()));
  if (n_chunks > 0) env->GetIntArrayRegion(jlengths, 0, n_chunks, lens.data());
  if (env->ExceptionCheck()) return false;
  int64_t total = 0;
  lengths->clear();
  for (jint l : lens) {
    if (l < 0) {
      Throw(env, MS_ERR_INVALID_ARGUMENT, "a phoneme chunk length is negative");
      return false;
    }
    total += l;
    lengths->push_back(static_cast<size_t>(l));
  }
  if (total != n_ids) {
    Throw(env, MS_ERR_INVALID_ARGUMENT,
          "chunk lengths add up to " + std::to_string(total) + " but there are " +
              std::to_string(n_ids) + " phoneme ids");
    return false;
  }
  return true;
}

jfloatArray ToJavaArray(JNIEnv* env, const float* samples, size_t n) {
  if (n > static_cast<size_t>(INT32_MAX)) {
    Throw(env, MS_ERR_NO_MEMORY, "audio too long for a Java array");
    return nullptr;
  }
  jfloatArray a = env->NewFloatArray(static_cast<jsize>(n));
  if (!a) return nullptr;  // OutOfMemoryError pending
  if (n > 0) env->SetFloatArrayRegion(a, 0, static_cast<jsize>(n), samples);
  return a;
}

// Everything below may meet std::bad_alloc (vectors, strings): never let it cross into the JVM.
template <typename F>
auto Guarded(JNIEnv* env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    Throw(env, MS_ERR_NO_MEMORY, "out of memory in the JNI bridge");
  } catch (...) {
    Throw(env, MS_ERR_INTERNAL, "unexpected C++ exception in the JNI bridge");
  }
  return decltype(f())();
}

}  // namespace

extern "C" {

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM* vm, void* /*reserved*/) {
  JNIEnv* env = nullptr;
  if (vm->GetEnv(reinterpret_cast<void**>(&env), JNI_VERSION_1_6) != JNI_OK) return JNI_ERR;
  jclass local = env->FindClass(kExceptionClass);
  if (!local) return JNI_ERR;  // NoClassDefFoundError is pending and reported by loadLibrary
  g_exception_class = static_cast<jclass>(env->NewGlobalRef(local));
  env->DeleteLocalRef(local);
  g_exception_ctor = env->GetMethodID(g_exception_class, "<init>", "(ILjava/lang/String;)V");
  if (!g_exception_class || !g_exception_ctor) return JNI_ERR;
  return JNI_VERSION_1_6;
}

JNIEXPORT jstring JNICALL Java_com_mobilespeech_NativeBridge_nativeVersion(JNIEnv* env, jclass) {
  return NewJavaString(env, ms_version());
}

JNIEXPORT jstring JNICALL Java_com_mobilespeech_NativeBridge_nativeStatusName(JNIEnv* env, jclass,
                                                                             jint status) {
  return NewJavaString(env, ms_status_string(static_cast<ms_status>(status)));
}

JNIEXPORT jlong JNICALL Java_com_mobilespeech_NativeBridge_nativeCreate(
    JNIEnv* env, jclass, jstring jbundle, jint num_threads, jboolean use_seed, jlong seed,
    jintArray jsteps, jfloat length_scale, jboolean verify_checksums) {
  return Guarded(env, [&]() -> jlong {
    std::string bundle;
    if (!ToUtf8(env, jbundle, "bundleDir", MS_ERR_INVALID_ARGUMENT, &bundle)) return 0;
    std::vector<int32_t> steps;
    if (jsteps) {
      jsize n = env->GetArrayLength(jsteps);
      steps.resize(static_cast<size_t>(n));
      if (n > 0) env->GetIntArrayRegion(jsteps, 0, n, reinterpret_cast<jint*>(steps.data()));
      if (env->ExceptionCheck()) return 0;
    }
    ms_synth_options o;
    ms_synth_options_init(&o);
    o.bundle_dir = bundle.c_str();
    o.num_threads = num_threads;
    o.use_seed = use_seed ? 1 : 0;
    o.seed = static_cast<uint64_t>(seed);
    // An empty array is passed as a non-NULL pointer with n_steps 0 so that the library rejects
    // it ("n_steps must equal n_codebooks") instead of silently using the bundle's schedule.
    static const int32_t kNoSteps[1] = {0};
    o.steps = jsteps ? (steps.empty() ? kNoSteps : steps.data()) : nullptr;
    o.n_steps = steps.size();
    o.length_scale = length_scale;
    o.verify_checksums = verify_checksums ? 1 : 0;
    ms_status st = MS_OK;
    ms_synth* s = ms_synth_create(&o, &st);
    if (!s) {
      ThrowStatus(env, st, nullptr);  // same thread: ms_last_error(NULL) is ours
      return 0;
    }
    return static_cast<jlong>(reinterpret_cast<intptr_t>(s));
  });
}

JNIEXPORT void JNICALL Java_com_mobilespeech_NativeBridge_nativeDestroy(JNIEnv*, jclass, jlong h) {
  ms_synth_destroy(Handle(h));  // NULL is accepted
}

JNIEXPORT jint JNICALL Java_com_mobilespeech_NativeBridge_nativeSampleRate(JNIEnv*, jclass, jlong h) {
  return ms_synth_sample_rate(Handle(h));
}

// ints: sample_rate, n_codebooks, max_steps_per_layer, max_chars, max_phonemes, max_frames,
//       max_prompt_frames, n_symbols, has_text_frontend, num_threads (10 values)
// floats: frame_rate, min_prompt_seconds, max_prompt_seconds (3 values)
JNIEXPORT void JNICALL Java_com_mobilespeech_NativeBridge_nativeLimits(JNIEnv* env, jclass, jlong h,
                                                                      jintArray jints,
                                                                      jfloatArray jfloats) {
  if (!RequireHandle(env, h)) return;
  if (!jints || !jfloats || env->GetArrayLength(jints) < 10 || env->GetArrayLength(jfloats) < 3) {
    Throw(env, MS_ERR_INVALID_ARGUMENT, "nativeLimits needs int[10] and float[3]");
    return;
  }
  ms_limits l;
  std::memset(&l, 0, sizeof l);
  l.struct_size = sizeof l;
  ms_status st = ms_synth_limits(Handle(h), &l);
  if (st != MS_OK) return ThrowStatus(env, st, Handle(h));
  const jint ints[10] = {l.sample_rate,  l.n_codebooks,      l.max_steps_per_layer, l.max_chars,
                         l.max_phonemes, l.max_frames,       l.max_prompt_frames,   l.n_symbols,
                         l.has_text_frontend, l.num_threads};
  const jfloat floats[3] = {l.frame_rate, l.min_prompt_seconds, l.max_prompt_seconds};
  env->SetIntArrayRegion(jints, 0, 10, ints);
  env->SetFloatArrayRegion(jfloats, 0, 3, floats);
}

// out: frontend_s, prompt_s, text_s, smd_s, decoder_s, first_audio_s, audio_s, smd_calls,
//      frames (9 values)
JNIEXPORT void JNICALL Java_com_mobilespeech_NativeBridge_nativeTimings(JNIEnv* env, jclass,
                                                                       jlong h, jdoubleArray jout) {
  if (!RequireHandle(env, h)) return;
  if (!jout || env->GetArrayLength(jout) < 9) {
    Throw(env, MS_ERR_INVALID_ARGUMENT, "nativeTimings needs double[9]");
    return;
  }
  ms_timings t;
  std::memset(&t, 0, sizeof t);
  t.struct_size = sizeof t;
  ms_status st = ms_synth_timings(Handle(h), &t);
  if (st != MS_OK) return ThrowStatus(env, st, Handle(h));
  const jdouble v[9] = {t.frontend_s, t.prompt_s, t.text_s,
                        t.smd_s,      t.decoder_s, t.first_audio_s,
                        t.audio_s,    static_cast<double>(t.smd_calls), static_cast<double>(t.frames)};
  env->SetDoubleArrayRegion(jout, 0, 9, v);
}

JNIEXPORT jstring JNICALL Java_com_mobilespeech_NativeBridge_nativeSymbol(JNIEnv* env, jclass,
                                                                         jlong h, jint id) {
  if (!RequireHandle(env, h)) return nullptr;
  const char* s = ms_synth_symbol(Handle(h), id);
  return s ? NewJavaString(env, s) : nullptr;
}

JNIEXPORT void JNICALL Java_com_mobilespeech_NativeBridge_nativeStart(JNIEnv* env, jclass, jlong h,
                                                                     jstring jtext,
                                                                     jfloatArray jprompt,
                                                                     jint sample_rate,
                                                                     jint channels) {
  Guarded(env, [&]() -> int {
    if (!RequireHandle(env, h)) return 0;
    std::string text;
    if (!ToUtf8(env, jtext, "text", MS_ERR_INVALID_TEXT, &text)) return 0;
    Prompt p;
    if (!ReadPrompt(env, jprompt, sample_rate, channels, &p)) return 0;
    ms_status st = ms_synth_start(Handle(h), text.c_str(), p.pcm, p.n_frames, p.sample_rate,
                                  p.channels, nullptr);
    if (st != MS_OK) ThrowStatus(env, st, Handle(h));
    return 0;
  });
}

JNIEXPORT void JNICALL Java_com_mobilespeech_NativeBridge_nativeStartPhonemes(
    JNIEnv* env, jclass, jlong h, jintArray jids, jintArray jlengths, jfloatArray jprompt,
    jint sample_rate, jint channels) {
  Guarded(env, [&]() -> int {
    if (!RequireHandle(env, h)) return 0;
    std::vector<int32_t> ids;
    std::vector<size_t> lengths;
    if (!ReadPhonemes(env, jids, jlengths, &ids, &lengths)) return 0;
    Prompt p;
    if (!ReadPrompt(env, jprompt, sample_rate, channels, &p)) return 0;
    static const int32_t kNoIds[1] = {0};
    ms_status st = ms_synth_start_phonemes(Handle(h), ids.empty() ? kNoIds : ids.data(),
                                           lengths.data(), lengths.size(), p.pcm, p.n_frames,
                                           p.sample_rate, p.channels, nullptr);
    if (st != MS_OK) ThrowStatus(env, st, Handle(h));
    return 0;
  });
}

// Next chunk as a new float[] (the C chunk is borrowed, so it is copied now), or null at the end.
// info (int[3]) receives: sentence, flags, sample_rate.
JNIEXPORT jfloatArray JNICALL Java_com_mobilespeech_NativeBridge_nativeNext(JNIEnv* env, jclass,
                                                                           jlong h,
                                                                           jintArray jinfo) {
  if (!RequireHandle(env, h)) return nullptr;
  if (!jinfo || env->GetArrayLength(jinfo) < 3) {
    Throw(env, MS_ERR_INVALID_ARGUMENT, "nativeNext needs int[3]");
    return nullptr;
  }
  ms_audio_chunk c;
  ms_status st = ms_synth_next(Handle(h), &c);
  if (st == MS_DONE) return nullptr;
  if (st != MS_OK) {
    ThrowStatus(env, st, Handle(h));
    return nullptr;
  }
  const jint info[3] = {c.sentence, static_cast<jint>(c.flags), c.sample_rate};
  env->SetIntArrayRegion(jinfo, 0, 3, info);
  return ToJavaArray(env, c.samples, c.n_samples);
}

JNIEXPORT void JNICALL Java_com_mobilespeech_NativeBridge_nativeCancel(JNIEnv*, jclass, jlong h) {
  if (h != 0) ms_synth_cancel(Handle(h));  // any thread (see THREADS in mobilespeech.h)
}

JNIEXPORT jfloatArray JNICALL Java_com_mobilespeech_NativeBridge_nativeSpeak(JNIEnv* env, jclass,
                                                                            jlong h, jstring jtext,
                                                                            jfloatArray jprompt,
                                                                            jint sample_rate,
                                                                            jint channels) {
  return Guarded(env, [&]() -> jfloatArray {
    if (!RequireHandle(env, h)) return nullptr;
    std::string text;
    if (!ToUtf8(env, jtext, "text", MS_ERR_INVALID_TEXT, &text)) return nullptr;
    Prompt p;
    if (!ReadPrompt(env, jprompt, sample_rate, channels, &p)) return nullptr;
    float* out = nullptr;
    size_t n = 0;
    ms_status st = ms_synth_speak(Handle(h), text.c_str(), p.pcm, p.n_frames, p.sample_rate,
                                  p.channels, nullptr, &out, &n);
    if (st != MS_OK) {
      ThrowStatus(env, st, Handle(h));
      return nullptr;
    }
    jfloatArray a = ToJavaArray(env, out, n);
    ms_free_audio(out);
    return a;
  });
}

JNIEXPORT jfloatArray JNICALL Java_com_mobilespeech_NativeBridge_nativeSpeakPhonemes(
    JNIEnv* env, jclass, jlong h, jintArray jids, jintArray jlengths, jfloatArray jprompt,
    jint sample_rate, jint channels) {
  return Guarded(env, [&]() -> jfloatArray {
    if (!RequireHandle(env, h)) return nullptr;
    std::vector<int32_t> ids;
    std::vector<size_t> lengths;
    if (!ReadPhonemes(env, jids, jlengths, &ids, &lengths)) return nullptr;
    Prompt p;
    if (!ReadPrompt(env, jprompt, sample_rate, channels, &p)) return nullptr;
    static const int32_t kNoIds[1] = {0};
    float* out = nullptr;
    size_t n = 0;
    ms_status st = ms_synth_speak_phonemes(Handle(h), ids.empty() ? kNoIds : ids.data(),
                                           lengths.data(), lengths.size(), p.pcm, p.n_frames,
                                           p.sample_rate, p.channels, nullptr, &out, &n);
    if (st != MS_OK) {
      ThrowStatus(env, st, Handle(h));
      return nullptr;
    }
    jfloatArray a = ToJavaArray(env, out, n);
    ms_free_audio(out);
    return a;
  });
}

}  // extern "C"
