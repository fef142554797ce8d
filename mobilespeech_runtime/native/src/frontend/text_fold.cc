#include "text_fold.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "fe_text.h"
#include "utf8.h"

namespace mobilespeech {
namespace fe {
namespace {

bool ParseHex(const std::string& s, unsigned long* out) {
  if (s.empty() || s.size() > 8) return false;
  unsigned long v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    v = v * 16 + static_cast<unsigned long>(d);
  }
  *out = v;
  return true;
}

// A replacement's UTF-8 -> the folded byte form (ASCII, or a marker byte for a kept sign).
bool FoldedBytes(const std::string& utf8, std::string* out) {
  out->clear();
  for (char32_t c : utf8::Decode(utf8)) {
    if (c < 0x80) {
      *out += static_cast<char>(c);
    } else if (c == 0xA3) {
      *out += kPound;
    } else if (c == 0x20AC) {
      *out += kEuro;
    } else if (c == 0xA5) {
      *out += kYen;
    } else if (c == 0xA2) {
      *out += kCent;
    } else if (c == 0xB0) {
      *out += kDegree;
    } else {
      return false;
    }
  }
  return true;
}

bool IsDash(char32_t c) { return c == 0x2013 || c == 0x2014; }

// Invisible format characters (zero-width space and joiners, word joiner, BOM, soft hyphen,
// bidi marks): removed, whatever the bundle's table says (older tables made them a space, which
// split the word). normalize.py _CHAR_MAP: the same set.
bool IsFormatChar(char32_t c) {
  return c == 0xAD || c == 0x180E || (c >= 0x200B && c <= 0x200F) ||
         (c >= 0x202A && c <= 0x202E) || (c >= 0x2060 && c <= 0x2064) ||
         (c >= 0x2066 && c <= 0x206F) || c == 0xFEFF;
}

}  // namespace

bool IsPySpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

bool TextFold::Load(const std::string& path, std::string* err) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    *err = "cannot open " + path;
    return false;
  }
  fold_.clear();
  digits_.clear();
  std::string line;
  int lineno = 0;
  while (std::getline(f, line)) {
    ++lineno;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    std::string kind, lo_s, hi_s, rep_s;
    in >> kind >> lo_s >> hi_s;
    unsigned long lo = 0, hi = 0;
    bool ok = (kind == "F" || kind == "D") && ParseHex(lo_s, &lo) && ParseHex(hi_s, &hi) &&
              lo <= hi && hi <= 0x10FFFF;
    if (ok && kind == "F") {
      in >> rep_s;
      std::string utf8;
      if (rep_s != "-") {
        ok = !rep_s.empty() && rep_s.size() % 2 == 0;
        for (std::size_t k = 0; ok && k < rep_s.size(); k += 2) {
          unsigned long byte = 0;
          ok = ParseHex(rep_s.substr(k, 2), &byte);
          utf8 += static_cast<char>(byte);
        }
      }
      Entry e{static_cast<char32_t>(lo), static_cast<char32_t>(hi), std::string()};
      ok = ok && FoldedBytes(utf8, &e.rep);
      if (ok) fold_.push_back(std::move(e));
    } else if (ok) {
      digits_.emplace_back(static_cast<char32_t>(lo), static_cast<char32_t>(hi));
    }
    if (!ok) {
      *err = path + ":" + std::to_string(lineno) + ": malformed line";
      return false;
    }
  }
  auto by_lo = [](const Entry& a, const Entry& b) { return a.lo < b.lo; };
  std::sort(fold_.begin(), fold_.end(), by_lo);
  std::sort(digits_.begin(), digits_.end());
  if (fold_.empty() || digits_.empty()) {
    *err = path + ": empty table";
    return false;
  }
  return true;
}

const TextFold::Entry* TextFold::Find(char32_t c) const {
  auto it = std::upper_bound(fold_.begin(), fold_.end(), c,
                             [](char32_t v, const Entry& e) { return v < e.lo; });
  if (it == fold_.begin()) return nullptr;
  --it;
  return c <= it->hi ? &*it : nullptr;
}

bool TextFold::IsDecimalDigit(char32_t c) const {
  if (c >= '0' && c <= '9') return true;
  if (c < 0x80) return false;
  auto it = std::upper_bound(digits_.begin(), digits_.end(), std::make_pair(c, char32_t(0x110000)));
  if (it == digits_.begin()) return false;
  --it;
  return c >= it->first && c <= it->second;
}

std::string TextFold::ToAscii(const std::u32string& text) const {
  // (?<=\d)\s*[\u2013\u2014]\s*(?=\d) -> " to " (1990–1995)
  std::u32string s;
  s.reserve(text.size());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    if (i > 0 && IsDecimalDigit(text[i - 1]) && (IsPySpace(text[i]) || IsDash(text[i]))) {
      std::size_t j = i;
      while (j < n && IsPySpace(text[j])) ++j;
      if (j < n && IsDash(text[j])) {
        std::size_t k = j + 1;
        while (k < n && IsPySpace(text[k])) ++k;
        if (k < n && IsDecimalDigit(text[k])) {
          s += U" to ";
          i = k;
          continue;
        }
      }
    }
    s.push_back(text[i]);
    ++i;
  }
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) {
    if (c < 0x80) {
      out += (c >= 0x20 && c <= 0x7E) || c == '\n' ? static_cast<char>(c) : ' ';
    } else if (IsFormatChar(c)) {
      continue;
    } else if (const Entry* e = Find(c)) {
      out += e->rep;
    } else {
      out += ' ';
    }
  }
  return out;
}

}  // namespace fe
}  // namespace mobilespeech
