// The one table of request limits: every bound a request (text, prompt audio, options, input
// files) is checked against, and why it exists. engine.cc, c_api.cc, bundle.cc, audio.cc, wav.cc
// and mobilespeech_cli.cc use these names, never the numbers; the C ABI hands the same values to
// every binding (ms_get_request_limits; Python's mobilespeech_runtime/limits.py reads them there,
// so checks.py has no copy). Limits of one bundle (characters and phonemes per request, frames,
// prompt seconds) are manifest fields instead (ms_synth_limits).
#pragma once

#include <cstddef>
#include <cstdint>

namespace mobilespeech {

// ---- options --------------------------------------------------------------------------------
// Unmasking steps per codec layer. A schedule is a few steps per layer (8, 2, 1, 1, ...);
// 64 already costs 64 SMD program calls per layer, and more would only burn time.
constexpr int32_t kMaxStepsPerLayer = 64;
// Codec layers (the length of a steps array). Bundles have 1..16; the bound keeps a bad
// n_steps or manifest from sizing a huge array.
constexpr int32_t kMaxCodebooks = 64;
// Speaking-rate factor (durations are multiplied by it). Outside 4x slower .. 4x faster the
// duration model's output is no longer speech.
constexpr float kMinLengthScale = 0.25f;
constexpr float kMaxLengthScale = 4.0f;
// ExecuTorch CPU threads. Phones have 4..12 cores; the bound stops a typo from spawning
// thousands of threads.
constexpr int32_t kMaxThreads = 256;

// ---- prompt and resynthesis audio -----------------------------------------------------------
// Channels of interleaved PCM (a mix is made of them); 64 is more than any real recording.
constexpr int32_t kMaxChannels = 64;
// Sample rates the resampler accepts: 1 kHz (below it nothing of a voice is left) to 768 kHz
// (the highest rate audio hardware offers). Also the bounds of a bundle's own rate.
constexpr int32_t kMinSampleRate = 1000;
constexpr int32_t kMaxSampleRate = 768000;
// Prompt input before trimming: only the first max_prompt_seconds (a manifest field) are used,
// so longer input is refused rather than resampled in full (time and memory).
constexpr double kMaxPromptInputSeconds = 300.0;
constexpr size_t kMaxPromptInputFrames = size_t(1) << 24;
// Resynthesis input (the codec alone, window by window): ten minutes; twice the prompt frames.
constexpr double kMaxResynthSeconds = 600.0;
constexpr size_t kMaxResynthFrames = 2 * kMaxPromptInputFrames;

// ---- text -----------------------------------------------------------------------------------
// A request may read as at most this many phoneme ids per allowed character (English reads as
// about one): long digit strings and the like cannot turn a 2,000-character request into twenty
// minutes of audio. The frontend applies it (text_frontend.cc), Python's frontend too.
constexpr double kPhonemesPerChar = 1.5;
// UTF-8 takes at most 4 bytes a character: text longer than 4 * max_chars bytes is refused
// before it is decoded; a text file is read up to that many bytes.
constexpr int32_t kMaxUtf8BytesPerChar = 4;
// Phoneme input (ms_synth_start_phonemes) before the bundle's own checks: chunks, ids in one
// chunk, ids in all; they bound the copy made of the caller's arrays.
constexpr size_t kMaxPhonemeChunks = size_t(1) << 20;
constexpr size_t kMaxChunkIds = size_t(1) << 24;
constexpr size_t kMaxRequestIds = size_t(1) << 26;

// ---- files ----------------------------------------------------------------------------------
// A pipe (FIFO, /dev/fd/N, <(...)) has no size to check first: it is read up to 64 MiB.
constexpr size_t kMaxPipeBytes = size_t(1) << 26;
// An audio file: 1 GiB (over an hour of 48 kHz stereo float), refused before it is read.
constexpr size_t kMaxAudioFileBytes = size_t(1) << 30;
// mobilespeech_cli --text-file: a request is a few thousand characters; 1 MiB is plenty.
constexpr size_t kMaxTextFileBytes = size_t(1) << 20;
// manifest.json: a few kB in practice; the bound keeps a wrong file from being read whole.
constexpr size_t kMaxManifestBytes = size_t(16) << 20;

// ---- the ABI --------------------------------------------------------------------------------
// struct_size of a versioned struct: anything larger is a caller's bug, not a newer layout.
constexpr size_t kMaxStructSize = 4096;

}  // namespace mobilespeech
