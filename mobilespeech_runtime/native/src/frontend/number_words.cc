#include "number_words.h"

#include <vector>

#include "fe_text.h"

namespace mobilespeech {
namespace fe {
namespace {

constexpr int kMaxDigits = 15;  // normalize._MAX_DIGITS: longer numbers are read digit by digit

const char* const kDigitWords[] = {"zero", "one", "two",   "three", "four",
                                   "five", "six", "seven", "eight", "nine"};
const char* const kUnder20[] = {"zero",    "one",     "two",       "three",    "four",
                                "five",    "six",     "seven",     "eight",    "nine",
                                "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
const char* const kTens[] = {"",      "",      "twenty",  "thirty", "forty",
                             "fifty", "sixty", "seventy", "eighty", "ninety"};
const char* const kScales[] = {"", "thousand", "million", "billion", "trillion"};

bool AllDigits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigitC(c)) return false;
  }
  return true;
}

std::string RemoveCommas(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c != ',') out += c;
  }
  return out;
}

void Under1000(int n, std::vector<std::string>* out) {
  if (n >= 100) {
    out->push_back(kUnder20[n / 100]);
    out->push_back("hundred");
    n %= 100;
  }
  if (n >= 20) {
    out->push_back(kTens[n / 10]);
    if (n % 10) out->push_back(kUnder20[n % 10]);
  } else if (n > 0) {
    out->push_back(kUnder20[n]);
  }
}

std::vector<std::string> CardinalWords(std::int64_t n) {
  std::vector<std::string> words;
  if (n <= 0) {
    words.push_back("zero");
    return words;
  }
  int groups[5] = {0, 0, 0, 0, 0};
  for (int i = 0; i < 5 && n > 0; ++i) {
    groups[i] = static_cast<int>(n % 1000);
    n /= 1000;
  }
  for (int i = 4; i >= 0; --i) {
    if (groups[i] == 0) continue;
    Under1000(groups[i], &words);
    if (i > 0) words.push_back(kScales[i]);
  }
  return words;
}

std::string OrdinalWord(const std::string& w) {
  if (w == "one") return "first";
  if (w == "two") return "second";
  if (w == "three") return "third";
  if (w == "five") return "fifth";
  if (w == "eight") return "eighth";
  if (w == "nine") return "ninth";
  if (w == "twelve") return "twelfth";
  if (!w.empty() && w.back() == 'y') return w.substr(0, w.size() - 1) + "ieth";
  return w + "th";
}

}  // namespace

std::int64_t ParseCapped(const std::string& digits, std::int64_t cap) {
  std::int64_t v = 0;
  for (char c : digits) {
    if (!IsDigitC(c)) continue;
    v = v * 10 + (c - '0');
    if (v >= cap) return cap;
  }
  return v;
}

std::string DigitsToWords(const std::string& digits) {
  std::vector<std::string> out;
  for (char c : digits) {
    if (IsDigitC(c)) out.push_back(kDigitWords[c - '0']);
  }
  return Join(out, " ");
}

std::string CardinalInt(std::int64_t n) { return Join(CardinalWords(n), " "); }

std::string Cardinal(const std::string& in) {
  std::string s = RemoveCommas(in);
  bool neg = !s.empty() && s[0] == '-';
  std::size_t k = 0;
  while (k < s.size() && s[k] == '-') ++k;
  s = s.substr(k);
  if (!AllDigits(s)) return DigitsToWords(s);
  std::string words;
  if (static_cast<int>(s.size()) > kMaxDigits || (s.size() > 1 && s[0] == '0')) {
    words = DigitsToWords(s);
  } else {
    words = CardinalInt(ParseCapped(s, INT64_MAX));
  }
  return neg ? "minus " + words : words;
}

std::string Ordinal(const std::string& in) {
  const std::string s = RemoveCommas(in);
  if (static_cast<int>(s.size()) > kMaxDigits) return DigitsToWords(s);
  std::vector<std::string> words = CardinalWords(ParseCapped(s, INT64_MAX));
  words.back() = OrdinalWord(words.back());
  return Join(words, " ");
}

std::string Decimal(const std::string& in) {
  const bool neg = !in.empty() && in[0] == '-';
  std::size_t k = 0;
  while (k < in.size() && in[k] == '-') ++k;
  const std::string s = RemoveCommas(in.substr(k));
  const std::size_t dot = s.find('.');
  const std::string whole = dot == std::string::npos ? s : s.substr(0, dot);
  const std::string frac = dot == std::string::npos ? std::string() : s.substr(dot + 1);
  std::string words = whole.empty() ? std::string() : Cardinal(whole);
  if (!frac.empty()) {
    words = words.empty() ? "point " + DigitsToWords(frac)
                          : words + " point " + DigitsToWords(frac);
    // Python strips the joined string: only matters when DigitsToWords is empty.
    while (!words.empty() && words.back() == ' ') words.pop_back();
  }
  return neg ? "minus " + words : words;
}

std::string Year(std::int64_t n) {
  if (n % 1000 == 0 || !(n >= 1000 && n <= 2099) || (n >= 2000 && n <= 2009)) {
    return CardinalInt(n);
  }
  const std::int64_t hi = n / 100, lo = n % 100;
  if (lo == 0) return CardinalInt(hi) + " hundred";
  if (lo < 10) return CardinalInt(hi) + " oh " + CardinalInt(lo);
  return CardinalInt(hi) + " " + CardinalInt(lo);
}

std::string Plural(const std::string& words) {
  const std::size_t sp = words.rfind(' ');
  const std::string head = sp == std::string::npos ? std::string() : words.substr(0, sp);
  std::string last = sp == std::string::npos ? words : words.substr(sp + 1);
  if (!last.empty() && last.back() == 'y') {
    last = last.substr(0, last.size() - 1) + "ies";
  } else {
    last += "s";
  }
  if (head.empty()) return last;
  return head + " " + last;
}

std::string Spell(const std::string& s) {
  std::vector<std::string> out;
  for (char c : s) {
    const char l = ToLowerC(c);
    if (l == 'a') {
      out.push_back("ay");  // 'a' alone is the article AH0 in CMUdict
    } else if (IsLowerC(l)) {
      out.push_back(std::string(1, l));
    } else if (IsDigitC(l)) {
      out.push_back(kDigitWords[l - '0']);
    }
  }
  return Join(out, " ");
}

}  // namespace fe
}  // namespace mobilespeech
