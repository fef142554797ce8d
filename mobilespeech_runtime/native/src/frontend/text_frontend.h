// Internal C++ interface between the C ABI runtime and the on-device text frontend.
// Contract: Encode() returns exactly what Python's mobilespeech_runtime.frontend.Frontend.encode()
// returns for the same text and config (phoneme ids per synthesis chunk), except where
// documented (homographs without a POS tagger take g2p-en's untagged default pronunciation;
// export can choose CMUdict's first instead: write_frontend_assets(homographs=...)).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mobilespeech {

struct FrontendLimits {
  std::size_t max_chars = 2000;     // FrontendConfig.max_chars
  std::size_t max_phonemes = 120;   // FrontendConfig.max_phonemes (chunk split limit)
  bool word_boundaries = false;     // FrontendConfig.word_boundaries: keep <wb> ids or not
  bool leading_pause = false;       // FrontendConfig.leading_pause: <sil> before every chunk
};

class TextFrontend {
 public:
  // Loads the frontend assets of a bundle folder (files named in manifest.json "frontend").
  // `symbols` is manifest.json "symbols" (id = position). Returns nullptr and sets *err on failure.
  static std::unique_ptr<TextFrontend> Load(const std::string& bundle_dir,
                                            const std::vector<std::string>& symbols,
                                            const FrontendLimits& limits, std::string* err);
  virtual ~TextFrontend() = default;

  // UTF-8 text -> phoneme id chunks. Returns false and a user-facing message in *err for
  // empty / too long / unpronounceable text. Never throws.
  virtual bool Encode(const std::string& utf8_text, std::vector<std::vector<int64_t>>* chunks,
                      std::string* err) const = 0;

  // What Encode left unread, as bits of *notices (frontend/__init__.py warns about the same):
  static constexpr uint32_t kTagsRemoved = 1;       // markup tags ("<speak>", "<break/>")
  static constexpr uint32_t kNonLatinSkipped = 2;   // words in scripts other than Latin
  // Encode() plus those notices (notices may be NULL).
  virtual bool EncodeWithNotices(const std::string& utf8_text,
                                 std::vector<std::vector<int64_t>>* chunks, std::string* err,
                                 uint32_t* notices) const {
    if (notices) *notices = 0;
    return Encode(utf8_text, chunks, err);
  }
};

// The normalizer alone (a bundle's fold table and lexicon; no g2p program): the words the
// frontend reads for a text, for ms_normalize_text.
class TextNormalizer {
 public:
  // Loads the assets named in the bundle's manifest.json "frontend" section; max_chars is the
  // bundle's config.frontend.max_chars (FrontendLimits' default when absent). Returns nullptr
  // and sets *err on failure.
  static std::unique_ptr<TextNormalizer> Load(const std::string& bundle_dir, std::string* err);
  virtual ~TextNormalizer() = default;

  virtual std::size_t max_chars() const = 0;
  // normalize.normalize_text after the frontend's tag removal: every sentence as
  // normalize.join_tokens writes it, joined by " " ("" when no word is left). False and a
  // user-facing message in *err for text over max_chars characters. Never throws.
  virtual bool Normalize(const std::string& utf8_text, std::string* out,
                         std::string* err) const = 0;
};

}  // namespace mobilespeech
