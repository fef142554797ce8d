// Fallback when src/frontend/ has no sources: a build without the C++ text frontend. Synthesis
// from phoneme ids (ms_synth_start_phonemes) works; ms_synth_start(text) reports this message.
#include "frontend/text_frontend.h"

namespace mobilespeech {

std::unique_ptr<TextFrontend> TextFrontend::Load(const std::string& /*bundle_dir*/,
                                                 const std::vector<std::string>& /*symbols*/,
                                                 const FrontendLimits& /*limits*/,
                                                 std::string* err) {
  if (err) *err = "this build has no text frontend; use ms_synth_start_phonemes";
  return nullptr;
}

std::unique_ptr<TextNormalizer> TextNormalizer::Load(const std::string& /*bundle_dir*/,
                                                     std::string* err) {
  if (err) *err = "this build has no text frontend";
  return nullptr;
}

}  // namespace mobilespeech
