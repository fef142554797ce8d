// Small string helpers shared by the frontend sources (ASCII classes as Python's re sees them
// on the folded text, where only ASCII and five marker bytes for currency/degree signs remain).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace mobilespeech {
namespace fe {

// Marker bytes for the non-ASCII characters normalize.to_ascii keeps.
constexpr char kPound = '\x80';
constexpr char kEuro = '\x81';
constexpr char kYen = '\x82';
constexpr char kCent = '\x83';
constexpr char kDegree = '\x84';

inline bool IsDigitC(char c) { return c >= '0' && c <= '9'; }
inline bool IsUpperC(char c) { return c >= 'A' && c <= 'Z'; }
inline bool IsLowerC(char c) { return c >= 'a' && c <= 'z'; }
inline bool IsAlphaC(char c) { return IsUpperC(c) || IsLowerC(c); }
inline bool IsWordC(char c) { return IsAlphaC(c) || IsDigitC(c) || c == '_'; }  // re \w
inline bool IsSpaceC(char c) {  // re \s on ASCII
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
inline char ToLowerC(char c) { return IsUpperC(c) ? static_cast<char>(c - 'A' + 'a') : c; }

// s[i], or '\0' past the end (the folded text never holds a NUL).
inline char At(const std::string& s, std::size_t i) { return i < s.size() ? s[i] : '\0'; }

// re \b at position p.
inline bool Boundary(const std::string& s, std::size_t p) {
  const bool before = p > 0 && p <= s.size() && IsWordC(s[p - 1]);
  const bool after = p < s.size() && IsWordC(s[p]);
  return before != after;
}

inline std::string Lower(std::string s) {
  for (char& c : s) c = ToLowerC(c);
  return s;
}

// Case-insensitive (ASCII) test that s[p..] starts with `lit` (lit in lower case).
inline bool StartsWithCI(const std::string& s, std::size_t p, const char* lit) {
  for (std::size_t i = 0; lit[i] != '\0'; ++i) {
    if (ToLowerC(At(s, p + i)) != lit[i]) return false;
  }
  return true;
}

inline bool StartsWith(const std::string& s, std::size_t p, const std::string& lit) {
  return p <= s.size() && s.compare(p, lit.size(), lit) == 0;
}

// Python's str.split() on ASCII whitespace.
inline std::vector<std::string> SplitWords(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsSpaceC(s[i])) ++i;
    std::size_t j = i;
    while (j < s.size() && !IsSpaceC(s[j])) ++j;
    if (j > i) out.emplace_back(s, i, j - i);
    i = j;
  }
  return out;
}

inline std::string Join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

}  // namespace fe
}  // namespace mobilespeech
