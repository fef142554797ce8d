#include "lexicon.h"

#include <cstring>
#include <fstream>
#include <iterator>

namespace mobilespeech {
namespace fe {
namespace {

std::uint32_t U32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

class Reader {
 public:
  Reader(const std::vector<std::uint8_t>& d) : d_(d) {}
  bool Need(std::size_t n) const { return pos_ <= d_.size() && d_.size() - pos_ >= n; }
  bool U8(std::uint8_t* v) {
    if (!Need(1)) return false;
    *v = d_[pos_++];
    return true;
  }
  bool U32v(std::uint32_t* v) {
    if (!Need(4)) return false;
    *v = U32(&d_[pos_]);
    pos_ += 4;
    return true;
  }
  bool Bytes(std::size_t n, const std::uint8_t** p) {
    if (!Need(n)) return false;
    *p = d_.data() + pos_;
    pos_ += n;
    return true;
  }

 private:
  const std::vector<std::uint8_t>& d_;
  std::size_t pos_ = 0;
};

constexpr char kMagic[8] = {'M', 'S', 'L', 'E', 'X', '1', '\0', '\0'};

}  // namespace

bool Lexicon::Load(const std::string& path, std::string* err) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    *err = "cannot open " + path;
    return false;
  }
  data_.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  auto bad = [&](const char* what) {
    *err = path + ": " + what;
    return false;
  };
  Reader r(data_);
  const std::uint8_t* magic;
  if (!r.Bytes(8, &magic) || std::memcmp(magic, kMagic, 8) != 0) {
    return bad("not a lexicon file (bad magic)");
  }
  std::uint32_t n_phones;
  if (!r.U32v(&n_phones) || n_phones == 0 || n_phones > 255) return bad("bad phone table");
  phones_.clear();
  for (std::uint32_t i = 0; i < n_phones; ++i) {
    std::uint8_t len;
    const std::uint8_t* p;
    if (!r.U8(&len) || !r.Bytes(len, &p)) return bad("truncated phone table");
    phones_.emplace_back(reinterpret_cast<const char*>(p), len);
  }
  std::uint32_t n_sections;
  if (!r.U32v(&n_sections) || n_sections < 2) return bad("missing sections");
  const char* const names[2] = {"cmudict", "homographs"};
  for (std::uint32_t s = 0; s < n_sections; ++s) {
    std::uint8_t name_len;
    const std::uint8_t* name;
    std::uint32_t n, wbytes, pbytes;
    if (!r.U8(&name_len) || !r.Bytes(name_len, &name) || !r.U32v(&n) || !r.U32v(&wbytes) ||
        !r.U32v(&pbytes)) {
      return bad("truncated section header");
    }
    Table t;
    t.n = n;
    const std::uint8_t *words, *prons;
    const std::size_t offs = (static_cast<std::size_t>(n) + 1) * 4;
    if (!r.Bytes(offs, &t.word_off) || !r.Bytes(offs, &t.pron_off) || !r.Bytes(wbytes, &words) ||
        !r.Bytes(pbytes, &prons)) {
      return bad("truncated section");
    }
    t.words = reinterpret_cast<const char*>(words);
    t.prons = prons;
    // Offsets must rise within their blobs, phones index the table: check once here so that
    // lookups need no bounds checks.
    if (U32(t.word_off) != 0 || U32(t.pron_off) != 0 || U32(t.word_off + 4 * n) != wbytes ||
        U32(t.pron_off + 4 * n) != pbytes) {
      return bad("bad offsets");
    }
    for (std::uint32_t i = 0; i < n; ++i) {
      if (U32(t.word_off + 4 * i) > U32(t.word_off + 4 * (i + 1)) ||
          U32(t.pron_off + 4 * i) > U32(t.pron_off + 4 * (i + 1))) {
        return bad("bad offsets");
      }
    }
    for (std::uint32_t i = 0; i < pbytes; ++i) {
      if (prons[i] >= n_phones) return bad("phone index out of range");
    }
    const std::string sname(reinterpret_cast<const char*>(name), name_len);
    for (int k = 0; k < 2; ++k) {
      if (sname == names[k]) sections_[k] = t;
    }
  }
  if (sections_[kCmudict].n == 0) return bad("empty cmudict section");
  return true;
}

bool Lexicon::Find(Section section, const std::string& word, const std::uint8_t** pron,
                   std::size_t* len) const {
  const Table& t = sections_[section];
  std::size_t lo = 0, hi = t.n;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    const std::uint32_t a = U32(t.word_off + 4 * mid), b = U32(t.word_off + 4 * (mid + 1));
    const int c = word.compare(0, std::string::npos, t.words + a, b - a);
    if (c == 0) {
      const std::uint32_t pa = U32(t.pron_off + 4 * mid), pb = U32(t.pron_off + 4 * (mid + 1));
      *pron = t.prons + pa;
      *len = pb - pa;
      return true;
    }
    if (c < 0) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return false;
}

}  // namespace fe
}  // namespace mobilespeech
