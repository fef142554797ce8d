// The program methods the runtime calls and the inputs of each, in ExecuTorch's order: one
// table for the checks at load (engine.cc LoadPrograms: every input's name against the
// manifest, its dtype and its bound against the program) and for the calls (Generate, Next,
// PreparePrompt, StartResynth fill their inputs by the indices below, and each call is checked
// against the table's dtypes and ranks). The names are the manifest's, which export/programs.py
// writes (mobilespeech_model SMD_STEP_INPUTS for the SMD step).
#pragma once

#include <cstddef>

namespace mobilespeech {
namespace io {

enum class DType { kFloat32, kInt64 };

// One dimension of an input's bound (largest shape), from the bundle's config.
enum class Dim {
  kOne,             // 1: the batch, or a scalar's one element
  kCodebooks,       // n_codebooks
  kMaxFrames,       // max_frames (T)
  kMaxPhonemes,     // max_phonemes (L)
  kMaxPromptFrames, // max_prompt_frames (P)
  kPromptSamples,   // max_prompt_frames * hop_length: the encoder's fixed window
  kDModel,          // d_model
  kVocabPlusMask,   // codebook_size + 1: every token and the mask
  kDecodeWindow,    // decode_chunk_frames + 2 * decode_context_frames (W)
  kMels,            // n_mels (mel codec)
  kMelWindow,       // W * token_stride: the mel frames of one decode window (mel codec)
};

constexpr int kMaxRank = 3;

struct Input {
  const char* name;  // as the manifest lists it
  DType dtype;
  int rank;
  Dim dims[kMaxRank];  // the first `rank` are used
};

struct Method {
  const char* file;
  const char* name;
  const Input* inputs;
  std::size_t n_inputs;
  std::size_t n_outputs;  // the outputs read (a program may have more)
  bool mel_codec_only;    // vocoder.pte exists only in mel-codec bundles
};

using D = Dim;
using T = DType;

// prompt.pte "encode": waveform window -> prompt tokens [1, N, P]
enum EncodeInput : std::size_t { kEncodeWav, kEncodeInputs };
inline constexpr Input kEncode[] = {{"wav", T::kFloat32, 3, {D::kOne, D::kOne, D::kPromptSamples}}};

// prompt.pte "memory": prompt tokens -> prompt memory [1, P, D]
enum MemoryInput : std::size_t { kMemoryPrompt, kMemoryInputs };
inline constexpr Input kMemory[] = {
    {"prompt", T::kInt64, 3, {D::kOne, D::kCodebooks, D::kMaxPromptFrames}}};

// text.pte "text_and_durations": phoneme ids + prompt tokens + rate -> text states, frames
enum TextInput : std::size_t { kTextPhonemes, kTextPrompt, kTextLengthScale, kTextInputs };
inline constexpr Input kText[] = {
    {"phonemes", T::kInt64, 2, {D::kOne, D::kMaxPhonemes}},
    {"prompt", T::kInt64, 3, {D::kOne, D::kCodebooks, D::kMaxPromptFrames}},
    {"length_scale", T::kFloat32, 1, {D::kOne}},
};

// smd.pte "step": one unmasking step of one codec layer -> tokens [1, N, T]
enum StepInput : std::size_t {
  kStepTokens,
  kStepLayer,
  kStepText,
  kStepIndex,
  kStepMemory,
  kStepNoise,
  kStepTemperature,
  kStepMaskedAfter,
  kStepInputs
};
inline constexpr Input kStep[] = {
    {"tokens", T::kInt64, 3, {D::kOne, D::kCodebooks, D::kMaxFrames}},
    {"layer", T::kInt64, 1, {D::kOne}},
    {"text", T::kFloat32, 3, {D::kOne, D::kMaxPhonemes, D::kDModel}},
    {"index", T::kInt64, 2, {D::kOne, D::kMaxFrames}},
    {"memory", T::kFloat32, 3, {D::kOne, D::kMaxPromptFrames, D::kDModel}},
    {"noise", T::kFloat32, 3, {D::kOne, D::kMaxFrames, D::kVocabPlusMask}},
    {"temperature", T::kFloat32, 1, {D::kOne}},
    {"n_masked_after", T::kInt64, 1, {D::kOne}},
};

// decoder.pte "decode": one window of tokens + its keep mask -> audio, or log-mel (mel codec)
enum DecodeInput : std::size_t { kDecodeTokens, kDecodeKeep, kDecodeInputs };
inline constexpr Input kDecode[] = {
    {"tokens", T::kInt64, 3, {D::kOne, D::kCodebooks, D::kDecodeWindow}},
    {"keep", T::kFloat32, 2, {D::kOne, D::kDecodeWindow}},
};

// vocoder.pte "vocode": one window's log-mel -> audio (mel codec)
enum VocodeInput : std::size_t { kVocodeMel, kVocodeInputs };
inline constexpr Input kVocode[] = {{"mel", T::kFloat32, 3, {D::kOne, D::kMels, D::kMelWindow}}};

static_assert(sizeof kEncode / sizeof kEncode[0] == kEncodeInputs, "encode inputs");
static_assert(sizeof kMemory / sizeof kMemory[0] == kMemoryInputs, "memory inputs");
static_assert(sizeof kText / sizeof kText[0] == kTextInputs, "text_and_durations inputs");
static_assert(sizeof kStep / sizeof kStep[0] == kStepInputs, "step inputs");
static_assert(sizeof kDecode / sizeof kDecode[0] == kDecodeInputs, "decode inputs");
static_assert(sizeof kVocode / sizeof kVocode[0] == kVocodeInputs, "vocode inputs");

// Every method, grouped by file in load order.
inline constexpr Method kEncodeMethod{"prompt.pte", "encode", kEncode, kEncodeInputs, 1, false};
inline constexpr Method kMemoryMethod{"prompt.pte", "memory", kMemory, kMemoryInputs, 1, false};
inline constexpr Method kTextMethod{"text.pte", "text_and_durations", kText, kTextInputs, 2, false};
inline constexpr Method kStepMethod{"smd.pte", "step", kStep, kStepInputs, 1, false};
inline constexpr Method kDecodeMethod{"decoder.pte", "decode", kDecode, kDecodeInputs, 1, false};
inline constexpr Method kVocodeMethod{"vocoder.pte", "vocode", kVocode, kVocodeInputs, 1, true};
inline constexpr const Method* kMethods[] = {&kEncodeMethod, &kMemoryMethod, &kTextMethod,
                                             &kStepMethod,   &kDecodeMethod, &kVocodeMethod};

}  // namespace io
}  // namespace mobilespeech
