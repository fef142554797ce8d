#include "utf8.h"

#include <cstring>

namespace mobilespeech {
namespace utf8 {
namespace {

bool IsSurrogate(char32_t c) { return c >= 0xD800 && c <= 0xDFFF; }

template <typename Unit>
std::string FromUtf16Units(const Unit* s, std::size_t n, bool* has_nul) {
  std::string out;
  out.reserve(n + n / 2);
  bool nul = false;
  for (std::size_t i = 0; i < n; ++i) {
    char32_t c = static_cast<char32_t>(s[i]);
    if (c == 0) nul = true;
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
      c = 0x10000 + ((c - 0xD800) << 10) + (static_cast<char32_t>(s[i + 1]) - 0xDC00);
      ++i;
    }
    Append(&out, c);  // a lone surrogate becomes U+FFFD there
  }
  if (has_nul) *has_nul = nul;
  return out;
}

}  // namespace

std::size_t DecodeOne(const char* s, std::size_t n, char32_t* cp) {
  if (n == 0) return 0;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s);
  const unsigned char b = p[0];
  std::size_t len;
  char32_t c;
  if (b < 0x80) {
    *cp = b;
    return 1;
  } else if ((b & 0xE0) == 0xC0) {
    len = 2;
    c = b & 0x1F;
  } else if ((b & 0xF0) == 0xE0) {
    len = 3;
    c = b & 0x0F;
  } else if ((b & 0xF8) == 0xF0) {
    len = 4;
    c = b & 0x07;
  } else {
    return 0;
  }
  if (len > n) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((p[k] & 0xC0) != 0x80) return 0;
    c = (c << 6) | (p[k] & 0x3F);
  }
  static const char32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < kMin[len] || c > 0x10FFFF || IsSurrogate(c)) return 0;
  *cp = c;
  return len;
}

bool Valid(const char* s, std::size_t n) {
  std::size_t i = 0;
  char32_t c;
  while (i < n) {
    const std::size_t len = DecodeOne(s + i, n - i, &c);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::u32string Decode(const std::string& s) {
  std::u32string out;
  out.reserve(s.size());
  std::size_t i = 0;
  const std::size_t n = s.size();
  char32_t c;
  while (i < n) {
    const std::size_t len = DecodeOne(s.data() + i, n - i, &c);
    out.push_back(len ? c : kReplacement);
    i += len ? len : 1;
  }
  return out;
}

void Append(std::string* out, char32_t cp) {
  if (cp > 0x10FFFF || IsSurrogate(cp)) cp = kReplacement;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string Encode(const std::u32string& s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) Append(&out, c);
  return out;
}

std::string FromUtf16(const char16_t* s, std::size_t n, bool* has_nul) {
  return FromUtf16Units(s, n, has_nul);
}

std::string FromUtf16(const std::uint16_t* s, std::size_t n, bool* has_nul) {
  return FromUtf16Units(s, n, has_nul);
}

std::u16string ToUtf16(const char* s) { return s ? ToUtf16(s, std::strlen(s)) : std::u16string(); }

std::u16string ToUtf16(const char* s, std::size_t n) {
  std::u16string out;
  if (!s) return out;
  out.reserve(n);
  std::size_t i = 0;
  char32_t c;
  while (i < n) {
    const std::size_t len = DecodeOne(s + i, n - i, &c);
    i += len ? len : 1;
    if (!len) c = kReplacement;
    if (c >= 0x10000) {
      c -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (c >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (c & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(c));
    }
  }
  return out;
}

}  // namespace utf8
}  // namespace mobilespeech
