// normalize.to_ascii: Unicode text (decoded by utf8.h) -> ASCII (+ marker bytes for the currency
// and degree signs the normalizer reads), from the table export/frontend_assets.py writes.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace mobilespeech {
namespace fe {

// Python's str.isspace() (what str.strip() and re's \s remove or match).
bool IsPySpace(char32_t c);

class TextFold {
 public:
  // Reads text_fold.txt; false and *err on a missing or malformed file.
  bool Load(const std::string& path, std::string* err);

  // normalize.to_ascii: dashes between digits read "to", each code point replaced by its
  // table entry (or a space), ASCII control characters but newline a space.
  std::string ToAscii(const std::u32string& text) const;

  bool IsDecimalDigit(char32_t c) const;  // re's \d (Unicode category Nd)

 private:
  struct Entry {
    char32_t lo, hi;
    std::string rep;
  };
  const Entry* Find(char32_t c) const;

  std::vector<Entry> fold_;
  std::vector<std::pair<char32_t, char32_t>> digits_;
};

}  // namespace fe
}  // namespace mobilespeech
