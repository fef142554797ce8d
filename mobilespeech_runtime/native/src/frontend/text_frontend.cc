// TextFrontend: the C++ port of mobilespeech_runtime.frontend.Frontend.encode.
//
// normalize (normalizer.cc) -> g2p (lexicon.bin, g2p.pte) -> symbols with <wb> between words,
// <sp> at pauses, <sil> at each sentence end -> chunks of at most max_phonemes -> ids.
//
// Homographs: Python picks between g2p-en's two pronunciations with NLTK's perceptron POS
// tagger; there is no tagger here, so each homograph has one pronunciation chosen at export
// (lexicon.bin "homographs" section; export/frontend_assets.py HOMOGRAPH_DEFAULT: g2p-en's
// untagged default, which agrees with the tagged choice more often than CMUdict's first entry).
// This is the only intended difference from Python; tests/test_native_frontend.py measures it.
#include "text_frontend.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <mutex>
#include <new>
#include <unordered_map>

#include "g2p_model.h"
#include "json.h"
#include "lexicon.h"
#include "request_limits.h"
#include "normalizer.h"
#include "text_fold.h"
#include "utf8.h"

namespace mobilespeech {
namespace {

using fe::Tokens;

constexpr int kFormatVersion = 1;
constexpr std::size_t kPredictionCacheSize = 20000;

const char* const kVowels[] = {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER",
                               "EY", "IH", "IY", "OW", "OY", "UH", "UW"};
const char* const kConsonants[] = {"B", "CH", "D",  "DH", "F", "G", "HH", "JH",
                                   "K", "L",  "M",  "N",  "NG", "P", "R",  "S",
                                   "SH", "T", "TH", "V",  "W",  "Y", "Z",  "ZH"};
const char* const kSpecials[] = {"<pad>", "<sil>", "<sp>", "<wb>"};

// symbols.PHONEMES, in order.
std::vector<std::string> Phonemes() {
  std::vector<std::string> out;
  for (const char* v : kVowels) {
    for (char s : {'0', '1', '2'}) out.push_back(std::string(v) + s);
  }
  for (const char* c : kConsonants) out.push_back(c);
  return out;
}

bool IsVowel(const std::string& p) {
  for (const char* v : kVowels) {
    if (p == v) return true;
  }
  return false;
}

bool IsPauseToken(const std::string& t) { return t == "," || t == ";" || t == ":" || t == "-"; }

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return true;
}

// A bundle folder's manifest.json and its "frontend" section (the assets' names and sizes).
// *sec points into *manifest.
bool ReadFrontendSection(const std::string& dir, json::Value* manifest, const json::Value** sec,
                         std::string* err) {
  std::string text;
  if (!ReadFile(dir + "manifest.json", &text)) {
    *err = "cannot read " + dir + "manifest.json";
    return false;
  }
  if (!json::Parse(text, manifest, err)) {
    *err = dir + "manifest.json: " + *err;
    return false;
  }
  *sec = manifest->find("frontend");
  if (!*sec || !(*sec)->is_object()) {
    *err = "the bundle has no text frontend assets (manifest.json \"frontend\"): re-export it";
    return false;
  }
  return true;
}

// A file name of the "frontend" section (a plain name inside the bundle).
bool SectionFile(const json::Value& sec, const char* key, std::string* out, std::string* err) {
  const json::Value* v = sec.find(key);
  if (!v || !v->is_string() || v->as_string().empty() ||
      v->as_string().find('/') != std::string::npos) {
    *err = std::string("manifest.json \"frontend\" lacks a valid \"") + key + "\"";
    return false;
  }
  *out = v->as_string();
  return true;
}

// A number of the "frontend" section, 1..1e6.
bool SectionInt(const json::Value& sec, const char* key, int* out, std::string* err) {
  const json::Value* v = sec.find(key);
  if (!v || !v->is_number() || !(v->as_double() >= 1 && v->as_double() <= 1e6)) {
    *err = std::string("manifest.json \"frontend\" lacks a valid \"") + key + "\"";
    return false;
  }
  *out = static_cast<int>(v->as_double());
  return true;
}

bool CheckFormatVersion(int version, std::string* err) {
  if (version == kFormatVersion) return true;
  *err = "frontend assets have format version " + std::to_string(version) +
         ", this runtime reads version " + std::to_string(kFormatVersion);
  return false;
}

std::string PyList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += (i ? ", '" : "'") + items[i] + "'";
  }
  return out + "]";
}

// One g2p-en output id after g2p.clean_pronunciation's rules.
struct NeuralPhone {
  enum Kind { kDrop, kPhoneme, kBareVowel } kind = kDrop;
  std::int64_t id = -1;        // kPhoneme
  std::int64_t unstressed = -1, primary = -1;  // kBareVowel: the "0" and "1" forms
  bool primary_stress = false;  // name ends with "1"
};

class TextFrontendImpl final : public TextFrontend {
 public:
  bool Init(const std::string& bundle_dir, const std::vector<std::string>& symbols,
            const FrontendLimits& limits, std::string* err);

  bool Encode(const std::string& utf8_text, std::vector<std::vector<std::int64_t>>* chunks,
              std::string* err) const override {
    return EncodeWithNotices(utf8_text, chunks, err, nullptr);
  }
  bool EncodeWithNotices(const std::string& utf8_text,
                         std::vector<std::vector<std::int64_t>>* chunks, std::string* err,
                         std::uint32_t* notices) const override;

 private:
  using Pron = std::vector<std::int64_t>;

  bool EncodeImpl(const std::string& utf8_text, std::vector<std::vector<std::int64_t>>* chunks,
                  std::string* err, std::uint32_t* notices) const;
  bool WordPron(const std::string& word, Pron* out, std::string* err) const;
  bool Predict(const std::string& word, Pron* out, std::string* err) const;
  bool PredictLetters(const std::string& letters, Pron* out, std::string* err) const;
  bool LexPron(fe::Lexicon::Section section, const std::string& word, Pron* out) const;
  std::vector<Pron> SplitSymbols(const Pron& symbols) const;

  FrontendLimits limits_;
  std::size_t max_neural_letters_ = 14;  // longer OOV words are split first
  fe::TextFold fold_;
  fe::Lexicon lexicon_;
  fe::G2PModel g2p_;
  std::unique_ptr<fe::Normalizer> normalizer_;
  std::vector<std::int64_t> lex_ids_;     // lexicon phone index -> symbol id
  std::vector<NeuralPhone> neural_;       // g2p-en output id -> symbol
  std::int64_t sp_ = 0, sil_ = 0, wb_ = 0;
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, Pron> predicted_;
};

bool TextFrontendImpl::Init(const std::string& bundle_dir,
                            const std::vector<std::string>& symbols,
                            const FrontendLimits& limits, std::string* err) {
  limits_ = limits;
  const std::size_t min_phonemes = limits.leading_pause ? 3 : 2;
  if (limits.max_phonemes < min_phonemes) {
    *err = "max_phonemes must be at least " + std::to_string(min_phonemes) + ", got " +
           std::to_string(limits.max_phonemes);
    return false;
  }
  if (limits.max_chars < 1) {
    *err = "max_chars must be at least 1, got " + std::to_string(limits.max_chars);
    return false;
  }
  std::unordered_map<std::string, std::int64_t> ids;
  for (std::size_t i = 0; i < symbols.size(); ++i) {
    ids.emplace(symbols[i], static_cast<std::int64_t>(i));
  }
  std::vector<std::string> missing;
  std::vector<std::string> emitted(std::begin(kSpecials), std::end(kSpecials));
  for (const std::string& p : Phonemes()) emitted.push_back(p);
  for (const std::string& s : emitted) {
    if (!ids.count(s)) missing.push_back(s);
  }
  if (!missing.empty()) {
    *err = "the symbol table lacks symbols the frontend emits: " + PyList(missing);
    return false;
  }
  sp_ = ids["<sp>"];
  sil_ = ids["<sil>"];
  wb_ = ids["<wb>"];

  const std::string dir = bundle_dir.empty() || bundle_dir.back() == '/' ? bundle_dir
                                                                          : bundle_dir + "/";
  json::Value manifest;
  const json::Value* sec = nullptr;
  if (!ReadFrontendSection(dir, &manifest, &sec, err)) return false;
  int version = 0, max_letters = 0, max_steps = 0, hidden = 0;
  std::string lexicon_file, g2p_file, fold_file;
  if (!SectionInt(*sec, "version", &version, err) ||
      !SectionFile(*sec, "lexicon", &lexicon_file, err) ||
      !SectionFile(*sec, "g2p", &g2p_file, err) || !SectionFile(*sec, "fold", &fold_file, err) ||
      !SectionInt(*sec, "g2p_max_letters", &max_letters, err) ||
      !SectionInt(*sec, "g2p_max_steps", &max_steps, err) ||
      !SectionInt(*sec, "g2p_hidden", &hidden, err) || !CheckFormatVersion(version, err)) {
    return false;
  }
  // g2p._MAX_NEURAL_LETTERS of the exporting Python; the split needs at least 7 letters.
  if (max_letters < 7) {
    *err = "manifest.json \"frontend\" has an invalid \"g2p_max_letters\"";
    return false;
  }
  max_neural_letters_ = static_cast<std::size_t>(max_letters);
  const json::Value* vocab = sec->find("g2p_phonemes");
  if (!vocab || !vocab->is_array() || vocab->items().size() < 4) {
    *err = "manifest.json \"frontend\" lacks \"g2p_phonemes\"";
    return false;
  }
  const std::vector<std::string> phonemes = Phonemes();
  auto is_phoneme = [&](const std::string& p) {
    return std::find(phonemes.begin(), phonemes.end(), p) != phonemes.end();
  };
  for (const json::Value& v : vocab->items()) {
    NeuralPhone np;
    if (v.is_string()) {
      const std::string& name = v.as_string();
      np.primary_stress = !name.empty() && name.back() == '1';
      if (is_phoneme(name)) {
        np.kind = NeuralPhone::kPhoneme;
        np.id = ids[name];
      } else if (IsVowel(name)) {
        np.kind = NeuralPhone::kBareVowel;
        np.unstressed = ids[name + "0"];
        np.primary = ids[name + "1"];
      }
    }
    neural_.push_back(np);
  }

  if (!fold_.Load(dir + fold_file, err) || !lexicon_.Load(dir + lexicon_file, err) ||
      !g2p_.Load(dir + g2p_file, hidden, max_steps, err)) {
    return false;
  }
  for (const std::string& p : lexicon_.phones()) {
    if (!is_phoneme(p)) {
      *err = "lexicon phone '" + p + "' is not an ARPAbet phoneme with stress";
      return false;
    }
    lex_ids_.push_back(ids[p]);
  }
  normalizer_ = std::make_unique<fe::Normalizer>(
      &fold_, [this](const std::string& w) { return lexicon_.Contains(w); });
  return true;
}

bool TextFrontendImpl::LexPron(fe::Lexicon::Section section, const std::string& word,
                               Pron* out) const {
  const std::uint8_t* p;
  std::size_t n;
  if (!lexicon_.Find(section, word, &p, &n)) return false;
  for (std::size_t i = 0; i < n; ++i) out->push_back(lex_ids_[p[i]]);
  return true;
}

// g2p._Backend._predict_letters: long words are split (compound, else near the middle).
bool TextFrontendImpl::PredictLetters(const std::string& letters, Pron* out,
                                      std::string* err) const {
  const std::size_t n = letters.size();
  if (n <= max_neural_letters_) {
    std::vector<int> raw;
    if (!g2p_.Predict(letters, &raw, err)) return false;
    bool has_primary = false;
    for (int id : raw) {
      if (id >= 0 && static_cast<std::size_t>(id) < neural_.size() &&
          neural_[static_cast<std::size_t>(id)].primary_stress) {
        has_primary = true;
      }
    }
    for (int id : raw) {
      if (id < 0 || static_cast<std::size_t>(id) >= neural_.size()) continue;
      const NeuralPhone& np = neural_[static_cast<std::size_t>(id)];
      if (np.kind == NeuralPhone::kPhoneme) {
        out->push_back(np.id);
      } else if (np.kind == NeuralPhone::kBareVowel) {
        out->push_back(has_primary ? np.unstressed : np.primary);
        has_primary = true;
      }
    }
    return true;
  }
  // Compounds: the cut with the longest shorter half, first on ties (Python's max).
  std::size_t best = 0, best_key = 0;
  for (std::size_t i = 3; i + 2 < n; ++i) {
    if (lexicon_.Contains(letters.substr(0, i)) && lexicon_.Contains(letters.substr(i))) {
      const std::size_t key = std::min(i, n - i);
      if (best == 0 || key > best_key) {
        best = i;
        best_key = key;
      }
    }
  }
  if (best) {
    LexPron(fe::Lexicon::kCmudict, letters.substr(0, best), out);
    LexPron(fe::Lexicon::kCmudict, letters.substr(best), out);
    return true;
  }
  auto vowel = [](char c) {
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
  };
  const std::size_t mid = n / 2;
  std::size_t cut = mid, best_dist = n;
  for (std::size_t i = mid - 3; i < mid + 4; ++i) {
    if (vowel(letters[i - 1]) && !vowel(letters[i])) {
      const std::size_t dist = i > mid ? i - mid : mid - i;
      if (dist < best_dist) {  // Python's min: the first of equals
        best_dist = dist;
        cut = i;
      }
    }
  }
  return PredictLetters(letters.substr(0, cut), out, err) &&
         PredictLetters(letters.substr(cut), out, err);
}

// g2p._Backend.predict: the neural model on the word's letters, letter names as a fallback.
bool TextFrontendImpl::Predict(const std::string& word, Pron* out, std::string* err) const {
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = predicted_.find(word);
    if (it != predicted_.end()) {
      out->insert(out->end(), it->second.begin(), it->second.end());
      return true;
    }
  }
  std::string letters;
  for (char c : word) {
    if (c >= 'a' && c <= 'z') letters += c;
  }
  Pron pron;
  if (!letters.empty() && !PredictLetters(letters, &pron, err)) return false;
  if (pron.empty()) {
    for (char c : letters) LexPron(fe::Lexicon::kCmudict, std::string(1, c), &pron);
  }
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (predicted_.size() >= kPredictionCacheSize) predicted_.clear();
    predicted_.emplace(word, pron);
  }
  out->insert(out->end(), pron.begin(), pron.end());
  return true;
}

// g2p._Backend.__call__ for one word (homographs without a POS tag: see the file comment).
bool TextFrontendImpl::WordPron(const std::string& word, Pron* out, std::string* err) const {
  bool has_letter = false;
  for (char c : word) has_letter = has_letter || (c >= 'a' && c <= 'z');
  if (!has_letter) return true;
  if (LexPron(fe::Lexicon::kHomographs, word, out)) return true;
  if (LexPron(fe::Lexicon::kCmudict, word, out)) return true;
  return Predict(word, out, err);
}

// frontend.split_symbols
std::vector<TextFrontendImpl::Pron> TextFrontendImpl::SplitSymbols(const Pron& symbols) const {
  // a leading <sil> takes one place of the chunk
  const std::size_t limit = limits_.max_phonemes - (limits_.leading_pause ? 1 : 0);
  std::vector<Pron> pieces;
  std::size_t start = 0;
  while (symbols.size() - start > limit) {
    std::size_t last_pause = 0, last_any = 0;
    for (std::size_t i = 1; i < limit; ++i) {
      const std::int64_t s = symbols[start + i];
      if (s == sp_) last_pause = i;
      if (s == sp_ || s == wb_) last_any = i;
    }
    std::size_t cut;
    if (last_pause && last_pause >= limit / 2) {
      cut = last_pause;
    } else if (last_any) {
      cut = last_any;
    } else {
      Pron piece(symbols.begin() + static_cast<std::ptrdiff_t>(start),
                 symbols.begin() + static_cast<std::ptrdiff_t>(start + limit - 1));
      piece.push_back(sp_);
      pieces.push_back(std::move(piece));
      start += limit - 1;
      continue;
    }
    Pron piece(symbols.begin() + static_cast<std::ptrdiff_t>(start),
               symbols.begin() + static_cast<std::ptrdiff_t>(start + cut));
    piece.push_back(sp_);
    pieces.push_back(std::move(piece));
    start += cut + 1;
  }
  pieces.emplace_back(symbols.begin() + static_cast<std::ptrdiff_t>(start), symbols.end());
  return pieces;
}

// frontend/__init__.py TAG: <[A-Za-z/!?][^<>]*> -> " " (leftmost, non-overlapping).
std::u32string StripTags(const std::u32string& s, bool* changed) {
  std::u32string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const char32_t c = s[i];
    const char32_t n = i + 1 < s.size() ? s[i + 1] : 0;
    const bool opens = c == U'<' && ((n >= U'A' && n <= U'Z') || (n >= U'a' && n <= U'z') ||
                                     n == U'/' || n == U'!' || n == U'?');
    if (opens) {
      std::size_t j = i + 2;
      while (j < s.size() && s[j] != U'<' && s[j] != U'>') ++j;
      if (j < s.size() && s[j] == U'>') {
        out.push_back(U' ');
        *changed = true;
        i = j + 1;
        continue;
      }
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

// frontend/__init__.py NON_LATIN: letters of scripts the frontend cannot read.
bool IsNonLatin(char32_t c) {
  return (c >= 0x0370 && c <= 0x1CFF) || (c >= 0x1F00 && c <= 0x1FFF) ||
         (c >= 0x2C00 && c <= 0x2C5F) || (c >= 0x2C80 && c <= 0x2DFF) ||
         (c >= 0x3040 && c <= 0x31FF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
         (c >= 0xAC00 && c <= 0xD7AF);
}

// A request reads as at most kPhonemesPerChar ids per allowed character (request_limits.h;
// Python's checks.max_request_phonemes reads the same value through the C ABI).
std::size_t MaxRequestPhonemes(std::size_t max_chars) {
  return static_cast<std::size_t>(kPhonemesPerChar * static_cast<double>(max_chars));
}

bool TextFrontendImpl::EncodeImpl(const std::string& utf8_text,
                                  std::vector<std::vector<std::int64_t>>* chunks,
                                  std::string* err, std::uint32_t* notices) const {
  const std::u32string raw = utf8::Decode(utf8_text);  // bad bytes: U+FFFD, folded to a space
  const std::u32string& text = raw;
  if (std::all_of(text.begin(), text.end(), fe::IsPySpace)) {
    *err = "text is empty: give at least one word to speak";
    return false;
  }
  if (text.size() > limits_.max_chars) {
    *err = "text is " + std::to_string(text.size()) + " characters long; the limit is " +
           std::to_string(limits_.max_chars) +
           " characters per request: split it into shorter pieces";
    return false;
  }
  bool tags = false;
  const std::u32string stripped = StripTags(raw, &tags);
  const bool non_latin = std::any_of(stripped.begin(), stripped.end(), IsNonLatin);
  if (notices) {
    *notices = (tags ? kTagsRemoved : 0u) | (non_latin ? kNonLatinSkipped : 0u);
  }
  const std::vector<Tokens> sentences = normalizer_->Normalize(stripped);
  if (sentences.empty()) {
    *err = "text has nothing to pronounce: no English letters or numbers were left after "
           "removing unsupported characters (emoji, symbols, non-Latin scripts)";
    return false;
  }
  std::vector<Pron> phonemized;
  for (const Tokens& tokens : sentences) {
    Pron syms;
    std::int64_t gap = wb_;
    for (const std::string& tok : tokens) {
      Pron pron;
      if (!WordPron(tok, &pron, err)) return false;
      if (IsPauseToken(tok)) {
        gap = sp_;
      } else if (!pron.empty()) {
        if (!syms.empty()) syms.push_back(gap);
        syms.insert(syms.end(), pron.begin(), pron.end());
        gap = wb_;
      }
    }
    if (!syms.empty()) {
      syms.push_back(sil_);
      phonemized.push_back(std::move(syms));
    }
  }
  if (phonemized.empty()) {
    *err = "text has nothing to pronounce";
    return false;
  }
  for (const Pron& sentence : phonemized) {
    for (Pron& piece : SplitSymbols(sentence)) {
      if (!limits_.word_boundaries) {
        piece.erase(std::remove(piece.begin(), piece.end(), wb_), piece.end());
      }
      if (limits_.leading_pause) piece.insert(piece.begin(), sil_);
      chunks->push_back(std::move(piece));
    }
  }
  std::size_t total = 0;
  for (const Pron& c : *chunks) total += c.size();
  const std::size_t limit = MaxRequestPhonemes(limits_.max_chars);
  if (total > limit) {
    *err = "text reads as " + std::to_string(total) + " phonemes (long numbers and the like); a "
           "request may read as at most " + std::to_string(limit) +
           ": split it into shorter pieces";
    chunks->clear();
    return false;
  }
  return true;
}

bool TextFrontendImpl::EncodeWithNotices(const std::string& utf8_text,
                                         std::vector<std::vector<std::int64_t>>* chunks,
                                         std::string* err, std::uint32_t* notices) const {
  std::string local_err;
  std::string* e = err ? err : &local_err;
  std::vector<std::vector<std::int64_t>> local_chunks;
  auto* out = chunks ? chunks : &local_chunks;
  out->clear();
  try {
    if (EncodeImpl(utf8_text, out, e, notices)) return true;
  } catch (const std::bad_alloc&) {
    *e = "out of memory while reading the text";
  } catch (...) {
    *e = "internal error in the text frontend";
  }
  out->clear();
  return false;
}

// The words said: sentences of the normalizer after the frontend's tag removal, each as
// normalize.join_tokens writes it, joined by " ".
std::string NormalizedWords(const fe::Normalizer& normalizer, const std::u32string& text) {
  bool tags = false;
  std::string out;
  for (const Tokens& sentence : normalizer.Normalize(StripTags(text, &tags))) {
    if (!out.empty()) out += ' ';
    out += fe::JoinTokens(sentence);
  }
  return out;
}

class TextNormalizerImpl final : public TextNormalizer {
 public:
  bool Init(const std::string& bundle_dir, std::string* err) {
    const std::string dir = bundle_dir.empty() || bundle_dir.back() == '/' ? bundle_dir
                                                                            : bundle_dir + "/";
    json::Value manifest;
    const json::Value* sec = nullptr;
    if (!ReadFrontendSection(dir, &manifest, &sec, err)) return false;
    int version = 0;
    std::string lexicon_file, fold_file;
    if (!SectionInt(*sec, "version", &version, err) ||
        !SectionFile(*sec, "lexicon", &lexicon_file, err) ||
        !SectionFile(*sec, "fold", &fold_file, err) || !CheckFormatVersion(version, err) ||
        !fold_.Load(dir + fold_file, err) || !lexicon_.Load(dir + lexicon_file, err)) {
      return false;
    }
    // config.frontend.max_chars, as bundle.cc reads it (absent: FrontendConfig's default)
    const json::Value* cfg = manifest.find("config");
    const json::Value* fe_cfg = cfg ? cfg->find("frontend") : nullptr;
    const json::Value* mc = fe_cfg ? fe_cfg->find("max_chars") : nullptr;
    if (mc && mc->is_integer() && mc->as_int() >= 1 && mc->as_int() <= (1 << 24)) {
      max_chars_ = static_cast<std::size_t>(mc->as_int());
    }
    normalizer_ = std::make_unique<fe::Normalizer>(
        &fold_, [this](const std::string& w) { return lexicon_.Contains(w); });
    return true;
  }

  std::size_t max_chars() const override { return max_chars_; }

  bool Normalize(const std::string& utf8_text, std::string* out,
                 std::string* err) const override {
    try {
      const std::u32string text = utf8::Decode(utf8_text);
      if (text.size() > max_chars_) {
        *err = "text is " + std::to_string(text.size()) + " characters long; the limit is " +
               std::to_string(max_chars_) +
               " characters per request: split it into shorter pieces";
        return false;
      }
      *out = NormalizedWords(*normalizer_, text);
      return true;
    } catch (const std::bad_alloc&) {
      *err = "out of memory while reading the text";
    } catch (...) {
      *err = "internal error in the text normalizer";
    }
    return false;
  }

 private:
  std::size_t max_chars_ = FrontendLimits().max_chars;
  fe::TextFold fold_;
  fe::Lexicon lexicon_;
  std::unique_ptr<fe::Normalizer> normalizer_;
};

}  // namespace

std::unique_ptr<TextNormalizer> TextNormalizer::Load(const std::string& bundle_dir,
                                                     std::string* err) {
  std::string local_err;
  std::string* e = err ? err : &local_err;
  try {
    auto n = std::make_unique<TextNormalizerImpl>();
    if (!n->Init(bundle_dir, e)) return nullptr;
    return n;
  } catch (const std::bad_alloc&) {
    *e = "out of memory while loading the text normalizer";
  } catch (...) {
    *e = "internal error while loading the text normalizer";
  }
  return nullptr;
}

std::unique_ptr<TextFrontend> TextFrontend::Load(const std::string& bundle_dir,
                                                 const std::vector<std::string>& symbols,
                                                 const FrontendLimits& limits,
                                                 std::string* err) {
  std::string local_err;
  std::string* e = err ? err : &local_err;
  try {
    auto fe = std::make_unique<TextFrontendImpl>();
    if (!fe->Init(bundle_dir, symbols, limits, e)) return nullptr;
    return fe;
  } catch (const std::bad_alloc&) {
    *e = "out of memory while loading the text frontend";
  } catch (...) {
    *e = "internal error while loading the text frontend";
  }
  return nullptr;
}

}  // namespace mobilespeech
