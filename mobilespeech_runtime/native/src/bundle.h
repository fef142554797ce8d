// Reads and validates a bundle folder, mirroring mobilespeech_runtime/bundle.py: manifest format
// and schema version, the config the runtime needs, and every listed file's size and sha256.
// Program-level checks (methods, input bounds, baked-in constants) are in engine.cc.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "json.h"

namespace mobilespeech {

constexpr int64_t kSchemaVersion = 1;
constexpr const char* kManifest = "manifest.json";
constexpr const char* kFormat = "mobilespeech-bundle";

// The config fields the runtime uses (MobileSpeechConfig), read from manifest["config"].
struct BundleConfig {
  // codec
  int64_t sample_rate = 0;
  int64_t hop_length = 0;  // waveform samples per token: prod(ratios), or mel_hop * token_stride
  bool mel_codec = false;  // codec.kind == "mel": decoder.pte gives log-mel, vocoder.pte audio
  int64_t n_mels = 0;
  int64_t token_stride = 1;
  int64_t n_codebooks = 0;
  int64_t codebook_size = 0;
  int64_t decode_chunk_frames = 0;
  int64_t decode_context_frames = 0;
  // model
  int64_t d_model = 0;
  int64_t max_frames = 0;
  int64_t max_prompt_frames = 0;
  int64_t max_phonemes = 0;
  // schedule
  std::vector<int> steps;
  double temperature = 1.0;
  int64_t seed = 0;
  double mel_match = 0.0;       // mel codec: pull each sentence's spectrum toward the prompt's
  double mel_match_loud = 0.7;  // share of the loudest mel frames that define a spectrum
  // frontend
  int64_t frontend_max_chars = 2000;
  int64_t frontend_max_phonemes = 120;
  bool word_boundaries = false;
  bool leading_pause = false;
  // audio
  double min_prompt_seconds = 1.0;
  double max_prompt_seconds = 10.0;
  double silence_rms = 1e-3;
};

struct ProgramInputSpec {
  std::string name;
  std::vector<int64_t> max_shape;
};

struct Bundle {
  std::string root;
  json::Value manifest;
  BundleConfig config;
  std::vector<std::string> symbols;
  // constants the programs must report (manifest["constants"]), name -> integer values
  std::map<std::string, std::vector<int64_t>> constants;
  std::map<std::string, bool> constant_is_list;
  // program file -> method -> inputs (manifest["programs"][file]["methods"][m]["inputs"])
  std::map<std::string, std::map<std::string, std::vector<ProgramInputSpec>>> programs;
  std::string default_prompt;  // file name or ""
  // files found outside the folder: a program "built_from" a pinned wheel may live in the
  // content-addressed cache ($XDG_CACHE_HOME or ~/.cache)/mobilespeech/programs/<sha256>.pte
  std::map<std::string, std::string> located;

  std::string Path(const std::string& name) const;
};

// Opens and validates; throws Error(MS_ERR_MODEL) naming the file on any problem.
Bundle OpenBundle(const std::string& root, bool verify_checksums);

}  // namespace mobilespeech
