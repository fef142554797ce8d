// lexicon.bin (format: export/frontend_assets.py): CMUdict first pronunciations and the
// pronunciation each g2p-en homograph gets without a POS tag, searched in place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mobilespeech {
namespace fe {

class Lexicon {
 public:
  enum Section { kCmudict = 0, kHomographs = 1 };

  bool Load(const std::string& path, std::string* err);

  // Phone names, indexed by the bytes of a pronunciation.
  const std::vector<std::string>& phones() const { return phones_; }

  // Pronunciation of `word` in a section (phone indices), or false when absent.
  bool Find(Section section, const std::string& word, const std::uint8_t** pron,
            std::size_t* len) const;
  bool Contains(const std::string& word) const {
    const std::uint8_t* p;
    std::size_t n;
    return Find(kCmudict, word, &p, &n);
  }
  std::size_t size(Section section) const { return sections_[section].n; }

 private:
  struct Table {
    std::size_t n = 0;
    const std::uint8_t* word_off = nullptr;  // u32 LE [n + 1]
    const std::uint8_t* pron_off = nullptr;  // u32 LE [n + 1]
    const char* words = nullptr;
    const std::uint8_t* prons = nullptr;
  };
  std::vector<std::uint8_t> data_;
  std::vector<std::string> phones_;
  Table sections_[2];
};

}  // namespace fe
}  // namespace mobilespeech
