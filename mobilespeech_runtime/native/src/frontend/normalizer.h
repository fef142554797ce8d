// English text normalization, a line-by-line port of mobilespeech_runtime/frontend/normalize.py:
// Unicode text -> sentences of lower-case words and punctuation tokens ("," ";" ":" "-" and one
// final "." "!" or "?"). Each of Python's regular-expression rewrites is a hand-written scanner
// with the same match semantics (leftmost match, greedy with the backtracking that can matter,
// one left-to-right pass per rule over the result of the previous rule): std::regex has no
// look-behind and would be slower.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "text_fold.h"

namespace mobilespeech {
namespace fe {

using Tokens = std::vector<std::string>;
using IsWordFn = std::function<bool(const std::string&)>;

class Normalizer {
 public:
  // `fold` (the to_ascii table) must outlive this; `is_word` is CMUdict membership.
  Normalizer(const TextFold* fold, IsWordFn is_word) : fold_(fold), is_word_(std::move(is_word)) {}

  // normalize.normalize_text
  std::vector<Tokens> Normalize(const std::u32string& text) const;
  // normalize.expand on one paragraph of folded text: each rule one pass, in Python's order
  std::string Expand(const std::string& text) const;

 private:
  bool CamelParts(const std::string& tok, Tokens* parts) const;
  Tokens WordTokens(const std::string& tok) const;
  Tokens TokenizeParagraph(const std::string& paragraph) const;

  const TextFold* fold_;
  IsWordFn is_word_;
};

// normalize.join_tokens: punctuation attached, dashes spaced.
std::string JoinTokens(const Tokens& tokens);

}  // namespace fe
}  // namespace mobilespeech
