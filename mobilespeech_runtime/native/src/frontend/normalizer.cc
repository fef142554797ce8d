#include "normalizer.h"

#include <cstdint>
#include <utility>

#include "fe_text.h"
#include "number_words.h"

namespace mobilespeech {
namespace fe {
namespace {

constexpr std::size_t npos = std::string::npos;

// One re.sub pass: at each position `match(s, p, &end, &rep)` may claim s[p, end) (end > p)
// and give its replacement; otherwise s[p] is copied. Matches never overlap.
template <class F>
std::string Sub(const std::string& s, F&& match) {
  std::string out;
  out.reserve(s.size() + 32);
  std::string rep;
  std::size_t p = 0;
  while (p < s.size()) {
    std::size_t end = npos;
    rep.clear();
    if (match(s, p, &end, &rep) && end != npos && end > p) {
      out += rep;
      p = end;
    } else {
      out += s[p];
      ++p;
    }
  }
  return out;
}

std::size_t DigitRun(const std::string& s, std::size_t i) {
  while (i < s.size() && IsDigitC(s[i])) ++i;
  return i;
}

std::size_t SpaceRun(const std::string& s, std::size_t i) {
  while (i < s.size() && IsSpaceC(s[i])) ++i;
  return i;
}

// End of alternative `alt` of _NUM = \d+(?:,\d{3})+(?:\.\d+)?|\d*\.\d+|\d+ at p, or npos.
// Each alternative's greedy end is the only one a following \s?<sign> can accept.
std::size_t NumAlt(const std::string& s, std::size_t p, int alt) {
  const std::size_t d = DigitRun(s, p);
  if (alt == 0) {
    if (d == p) return npos;
    std::size_t j = d;
    int reps = 0;
    while (At(s, j) == ',' && IsDigitC(At(s, j + 1)) && IsDigitC(At(s, j + 2)) &&
           IsDigitC(At(s, j + 3))) {
      j += 4;
      ++reps;
    }
    if (reps == 0) return npos;
    if (At(s, j) == '.' && IsDigitC(At(s, j + 1))) j = DigitRun(s, j + 1);
    return j;
  }
  if (alt == 1) {
    if (At(s, d) == '.' && IsDigitC(At(s, d + 1))) return DigitRun(s, d + 1);
    return npos;
  }
  return d > p ? d : npos;
}

// _NUM as re.match at p: the first alternative that matches.
std::size_t NumAt(const std::string& s, std::size_t p) {
  for (int alt = 0; alt < 3; ++alt) {
    const std::size_t e = NumAlt(s, p, alt);
    if (e != npos) return e;
  }
  return npos;
}

// _NUM followed by a required continuation `cont(s, end) -> match end or npos`.
template <class C>
bool NumThen(const std::string& s, std::size_t p, C&& cont, std::size_t* num_end,
             std::size_t* end) {
  for (int alt = 0; alt < 3; ++alt) {
    const std::size_t e = NumAlt(s, p, alt);
    if (e == npos) continue;
    const std::size_t c = cont(s, e);
    if (c != npos) {
      *num_end = e;
      *end = c;
      return true;
    }
  }
  return false;
}

bool IsCurrencySign(char c) { return c == '$' || c == kPound || c == kEuro || c == kYen; }

struct Currency {
  const char *one, *many, *sub_one, *sub_many;
};

Currency CurrencyOf(char sym) {
  switch (sym) {
    case '$': return {"dollar", "dollars", "cent", "cents"};
    case kPound: return {"pound", "pounds", "penny", "pence"};
    case kEuro: return {"euro", "euros", "cent", "cents"};
    default: return {"yen", "yen", "sen", "sen"};
  }
}

std::string ScaleWord(const std::string& scale) {
  const std::string l = Lower(scale);
  if (l == "k") return "thousand";
  if (l == "m" || l == "mn") return "million";
  if (l == "b" || l == "bn") return "billion";
  if (l == "t" || l == "tn") return "trillion";
  return l;  // thousand / million / billion / trillion
}

std::string RemoveCommas(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c != ',') out += c;
  }
  return out;
}

bool AllZero(const std::string& digits) {
  for (char c : digits) {
    if (c != '0') return false;
  }
  return true;
}

bool IsOne(const std::string& digits) {  // int(digits) == 1
  std::size_t i = 0;
  while (i + 1 < digits.size() && digits[i] == '0') ++i;
  return digits.compare(i, npos, "1") == 0;
}

// normalize._CODES and their _CURRENCIES entries.
struct Code {
  const char* code;
  Currency c;
};
const Code kCodes[] = {
    {"USD", {"dollar", "dollars", "cent", "cents"}},
    {"EUR", {"euro", "euros", "cent", "cents"}},
    {"GBP", {"pound", "pounds", "penny", "pence"}},
    {"JPY", {"yen", "yen", "sen", "sen"}},
    {"CAD", {"canadian dollar", "canadian dollars", "cent", "cents"}},
    {"AUD", {"australian dollar", "australian dollars", "cent", "cents"}},
    {"CHF", {"swiss franc", "swiss francs", "centime", "centimes"}},
    {"INR", {"rupee", "rupees", "paisa", "paise"}},
    {"CNY", {"yuan", "yuan", "fen", "fen"}},
};

// A currency code at p (no boundary checks), or nullptr.
const Code* CodeAt(const std::string& s, std::size_t p) {
  for (const Code& c : kCodes) {
    if (StartsWith(s, p, c.code)) return &c;
  }
  return nullptr;
}

// normalize._SCALE = (?:\s?(thousand|million|billion|trillion|[KkMmBb]n?|[Tt]n)\b)? after a
// number ending at n1: the scale word (empty when none) and the match end.
std::size_t ScaleAt(const std::string& t, std::size_t n1, std::string* scale) {
  scale->clear();
  const std::size_t s0 = IsSpaceC(At(t, n1)) ? n1 + 1 : n1;
  for (const char* w : {"thousand", "million", "billion", "trillion"}) {
    const std::string ws(w);
    if (StartsWith(t, s0, ws) && Boundary(t, s0 + ws.size())) {
      *scale = ws;
      return s0 + ws.size();
    }
  }
  const char c = At(t, s0);
  if (std::string("KkMmBb").find(c) != npos && c != '\0') {
    if (At(t, s0 + 1) == 'n' && Boundary(t, s0 + 2)) {
      *scale = t.substr(s0, 2);
    } else if (Boundary(t, s0 + 1)) {
      *scale = t.substr(s0, 1);
    }
  } else if ((c == 'T' || c == 't') && At(t, s0 + 1) == 'n' && Boundary(t, s0 + 2)) {
    *scale = t.substr(s0, 2);
  }
  return scale->empty() ? n1 : s0 + scale->size();
}

const char* const kMonths[] = {"january", "february", "march",     "april",   "may",      "june",
                               "july",    "august",   "september", "october", "november",
                               "december"};

// normalize._date_words; "" for an impossible month or day.
std::string DateWords(std::int64_t month, std::int64_t day, const std::string& y) {
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= 31)) return "";
  std::string said;
  if (y.size() == 4) {
    said = Year(ParseCapped(y, 10000));
  } else {
    said = y[0] == '0' ? "oh " + Cardinal(y.substr(1, 1)) : Cardinal(y);
  }
  return std::string(" ") + kMonths[month - 1] + " " + Ordinal(std::to_string(day)) + " " + said +
         " ";
}

// (?<![\w./-]) at p and (?![\w/]|[.-]\d) at e, around a numeric date.
bool DateStartOk(const std::string& t, std::size_t p) {
  if (p == 0) return true;
  const char b = t[p - 1];
  return !(IsWordC(b) || b == '.' || b == '/' || b == '-');
}
bool DateEndOk(const std::string& t, std::size_t e) {
  const char c = At(t, e);
  return !(IsWordC(c) || c == '/' || ((c == '.' || c == '-') && IsDigitC(At(t, e + 1))));
}

// normalize.roman_value: a well-formed numeral's value (1..3999), else 0. Well-formed means
// canonical, as normalize._ROMAN accepts: the value written back gives the same letters.
int RomanValue(const std::string& s) {
  auto v = [](char c) {
    switch (c) {
      case 'I': return 1;
      case 'V': return 5;
      case 'X': return 10;
      case 'L': return 50;
      case 'C': return 100;
      case 'D': return 500;
      case 'M': return 1000;
      default: return 0;
    }
  };
  if (s.empty() || s.size() > 15) return 0;
  int total = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const int a = v(s[i]), b = i + 1 < s.size() ? v(s[i + 1]) : 0;
    if (a == 0) return 0;
    total += a < b ? -a : a;
  }
  if (total < 1 || total > 3999) return 0;
  static const int kVal[] = {1000, 900, 500, 400, 100, 90, 50, 40, 10, 9, 5, 4, 1};
  static const char* const kSym[] = {"M", "CM", "D", "CD", "C", "XC", "L", "XL", "X", "IX", "V",
                                     "IV", "I"};
  std::string canon;
  int rest = total;
  for (int i = 0; i < 13; ++i) {
    while (rest >= kVal[i]) {
      canon += kSym[i];
      rest -= kVal[i];
    }
  }
  return canon == s ? total : 0;
}

const char* const kRomanWords[] = {"Chapter", "Part",    "Volume", "Book",  "Act",
                                   "Scene",   "Section", "Article", "Phase", "Episode",
                                   "Round",   "Level",   "Type",   "Class", "Stage",
                                   "War",     "Bowl",    "Appendix", "Psalm", "Canto"};

bool IsRomanLetter(char c, bool all) {
  return c == 'I' || c == 'V' || c == 'X' ||
         (all && (c == 'L' || c == 'C' || c == 'D' || c == 'M'));
}

// normalize._money
std::string Money(bool neg, const Currency& c, const std::string& num_in,
                  const std::string& scale) {
  const std::string sign = neg ? "minus " : "";
  const std::string num = RemoveCommas(num_in);
  if (!scale.empty()) {
    return " " + sign + Decimal(num) + " " + ScaleWord(scale) + " " + c.many + " ";
  }
  const std::size_t dot = num.find('.');
  std::string whole = dot == npos ? num : num.substr(0, dot);
  const std::string frac = dot == npos ? std::string() : num.substr(dot + 1);
  if (whole.empty()) whole = "0";
  if (frac.size() > 2) return " " + sign + Decimal(num) + " " + c.many + " ";
  const int cents = frac.empty() ? 0 : static_cast<int>(ParseCapped(frac + std::string(2 - frac.size(), '0'), 1000));
  std::vector<std::string> parts;
  if (!AllZero(whole) || cents == 0) {
    parts.push_back(Cardinal(whole) + " " + (IsOne(whole) ? c.one : c.many));
  }
  if (cents) {
    parts.push_back(CardinalInt(cents) + " " + (cents == 1 ? c.sub_one : c.sub_many));
  }
  return " " + sign + Join(parts, " ") + " ";
}

std::string Money(bool neg, char sym, const std::string& num_in, const std::string& scale) {
  return Money(neg, CurrencyOf(sym), num_in, scale);
}

// normalize._AMPM = (?:\s*([AaPp])\.?\s?[Mm]\b\.?) at p: its end and letter, or npos.
std::size_t AmPm(const std::string& s, std::size_t p, char* letter) {
  std::size_t j = SpaceRun(s, p);
  const char l = At(s, j);
  if (l != 'A' && l != 'a' && l != 'P' && l != 'p') return npos;
  ++j;
  if (At(s, j) == '.') ++j;
  if (IsSpaceC(At(s, j))) ++j;
  if (At(s, j) != 'M' && At(s, j) != 'm') return npos;
  ++j;
  if (!Boundary(s, j)) return npos;
  if (At(s, j) == '.') ++j;
  *letter = l;
  return j;
}

std::string AmPmWords(char letter) {  // normalize._ampm
  return letter ? " " + Spell(std::string(1, ToLowerC(letter)) + "m") : std::string();
}

// (\s+(?=[A-Z]))? at p: end of the group, or npos when it does not match.
std::size_t SpacesBeforeCapital(const std::string& s, std::size_t p) {
  const std::size_t j = SpaceRun(s, p);
  return j > p && IsUpperC(At(s, j)) ? j : npos;
}

// normalize._tokens' `[A-Za-z]+(?:'[A-Za-z]+)*` end at p (p is a letter).
std::size_t WordEnd(const std::string& s, std::size_t p) {
  std::size_t j = p;
  while (IsAlphaC(At(s, j))) ++j;
  while (At(s, j) == '\'' && IsAlphaC(At(s, j + 1))) {
    j += 1;
    while (IsAlphaC(At(s, j))) ++j;
  }
  return j;
}

bool HasVowel(const std::string& lower) {
  for (char c : lower) {
    if (c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y') return true;
  }
  return false;
}

bool IsPause(const std::string& t) { return t == "," || t == ";" || t == ":" || t == "-"; }
bool IsSentenceEnd(const std::string& t) { return t == "." || t == "!" || t == "?"; }

struct Pair {
  const char* key;
  const char* value;
};

const Pair kTitles[] = {
    {"Mr", "mister"},     {"Mrs", "missus"},   {"Ms", "miz"},          {"Prof", "professor"},
    {"Gen", "general"},   {"Col", "colonel"},  {"Capt", "captain"},    {"Lt", "lieutenant"},
    {"Sgt", "sergeant"},  {"Rev", "reverend"}, {"Hon", "honorable"},   {"Gov", "governor"},
    {"Sen", "senator"},   {"Rep", "representative"}, {"Pres", "president"}, {"Mt", "mount"},
    {"Jr", "junior"},     {"Sr", "senior"},
};
const Pair kAbbreviations[] = {
    {"etc", "et cetera"},     {"Inc", "incorporated"},      {"Ltd", "limited"},
    {"Corp", "corporation"},  {"Co", "company"},            {"Ave", "avenue"},
    {"Blvd", "boulevard"},    {"Rd", "road"},               {"Dept", "department"},
    {"approx", "approximately"}, {"Approx", "approximately"}, {"Fig", "figure"},
    {"fig", "figure"},        {"Vol", "volume"},            {"vol", "volume"},
    {"Jan", "january"},       {"Feb", "february"},          {"Apr", "april"},
    {"Aug", "august"},        {"Sep", "september"},         {"Sept", "september"},
    {"Oct", "october"},       {"Nov", "november"},          {"Dec", "december"},
};
const Pair kInline[] = {
    {"vs", "versus"},       {"Vs", "versus"},   {"e.g", "for example"}, {"E.g", "for example"},
    {"i.e", "that is"},     {"I.e", "that is"}, {"cf", "compare"},      {"viz", "namely"},
};
// In the regex's order (sorted by length, longest first), matched case-insensitively.
const Pair kUnits[] = {
    {"km/h", "kilometers per hour"}, {"mph", "miles per hour"}, {"kph", "kilometers per hour"},
    {"khz", "kilohertz"},  {"mhz", "megahertz"},   {"ghz", "gigahertz"}, {"lbs", "pounds"},
    {"km", "kilometers"},  {"kg", "kilograms"},    {"cm", "centimeters"}, {"mm", "millimeters"},
    {"kb", "kilobytes"},   {"mb", "megabytes"},    {"gb", "gigabytes"},  {"tb", "terabytes"},
    {"hz", "hertz"},       {"ms", "milliseconds"}, {"oz", "ounces"},     {"ft", "feet"},
};
const char* const kTlds[] = {"com", "org", "net", "edu", "gov", "io"};

const char* SepWord(char c) {
  switch (c) {
    case '.': return "dot";
    case '/': return "slash";
    case '@': return "at";
    case '-': return "dash";
    case '_': return "underscore";
    case ':': return "colon";
    case '?': return "question mark";
    case '=': return "equals";
    case '&': return "and";
    case '+': return "plus";
    case '#': return "hash";
    case '~': return "tilde";
    case '%': return "percent";
    default: return nullptr;
  }
}

bool IsEmailLocal(char c) {
  return IsAlphaC(c) || IsDigitC(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool IsLabel(char c) { return IsAlphaC(c) || IsDigitC(c) || c == '-'; }

// Match of `alt` followed by '.' at p.
bool LitDot(const std::string& s, std::size_t p, const char* alt, std::size_t* after) {
  const std::string a(alt);
  if (!StartsWith(s, p, a) || At(s, p + a.size()) != '.') return false;
  *after = p + a.size() + 1;
  return true;
}

std::string Fraction(const std::string& num, const std::string& den) {
  const std::int64_t n = ParseCapped(num, 1000000), d = ParseCapped(den, 1000000);
  if (d >= 2 && d <= 10 && n > 0 && n < 100 && num.size() < 4) {
    std::string name;
    if (d == 2) {
      name = n == 1 ? "half" : "halves";
    } else if (d == 4) {
      name = n == 1 ? "quarter" : "quarters";
    } else {
      const std::string o = Ordinal(std::to_string(d));
      name = n == 1 ? o : Plural(o);
    }
    return " " + CardinalInt(n) + " " + name + " ";
  }
  return " " + Cardinal(num) + " slash " + Cardinal(den) + " ";
}

// normalize._speak_address: a URL, e-mail or domain read part by part; a name is said when
// CMUdict has it (or it is long and has a vowel), else spelled.
std::string SpeakAddress(const IsWordFn& is_word, const std::string& in) {
  std::size_t start = 0;
  if (StartsWithCI(in, 0, "https://")) {
    start = 8;
  } else if (StartsWithCI(in, 0, "http://")) {
    start = 7;
  } else if (StartsWithCI(in, 0, "ftp://")) {
    start = 6;
  }
  std::vector<std::string> out;
  std::size_t i = start;
  while (i < in.size()) {
    const char c = in[i];
    if (IsAlphaC(c)) {
      std::size_t j = i;
      while (IsAlphaC(At(in, j))) ++j;
      const std::string low = Lower(in.substr(i, j - i));
      const bool said = (is_word(low) && low.size() > 1) || (low.size() > 3 && HasVowel(low));
      out.push_back(said ? low : Spell(low));
      i = j;
    } else if (IsDigitC(c)) {
      const std::size_t j = DigitRun(in, i);
      const std::string part = in.substr(i, j - i);
      out.push_back(part.size() <= 4 ? Cardinal(part) : DigitsToWords(part));
      i = j;
    } else {
      if (const char* w = SepWord(c)) out.push_back(w);
      ++i;
    }
  }
  return " " + Join(out, " ") + " ";
}

// _PERCENT's and _DEGREES' ((?<![\w.])-)?(NUM) followed by `cont`: the sign, the number's
// span [*n0, *n1) and the match end.
template <class C>
bool SignedNumThen(const std::string& t, std::size_t p, C&& cont, bool* neg, std::size_t* n0,
                   std::size_t* n1, std::size_t* end) {
  if (t[p] == '-' && (p == 0 || !(IsWordC(t[p - 1]) || t[p - 1] == '.')) &&
      NumThen(t, p + 1, cont, n1, end)) {
    *neg = true;
    *n0 = p + 1;
    return true;
  }
  *neg = false;
  *n0 = p;
  return NumThen(t, p, cont, n1, end);
}

// One rule of normalize.expand, one re.sub pass through Sub: at p, claim t[p, *end) and give
// its replacement *rep, or decline.
using Rule = bool (*)(const std::string& t, std::size_t p, std::size_t* end, std::string* rep);
// The address rules also ask the lexicon whether a name is a word.
using AddressRule = bool (*)(const IsWordFn& is_word, const std::string& t, std::size_t p,
                             std::size_t* end, std::string* rep);

// _URL (re.I), with _url_keep_punct
bool MatchUrl(const IsWordFn& is_word, const std::string& t, std::size_t p, std::size_t* end,
              std::string* rep) {
  if (!IsAlphaC(t[p]) || !Boundary(t, p)) return false;
  std::size_t q = npos;
  for (const char* pre : {"https://", "http://", "ftp://", "www."}) {
    if (StartsWithCI(t, p, pre)) {
      q = p + std::string(pre).size();
      break;
    }
  }
  if (q == npos) return false;
  std::size_t j = q;
  while (j < t.size() && !IsSpaceC(t[j]) && t[j] != '<' && t[j] != '>' && t[j] != '"' &&
         t[j] != '\'') {
    ++j;
  }
  if (j == q) return false;
  std::string url = t.substr(p, j - p), trail;
  while (!url.empty() && std::string(".,;:!?)").find(url.back()) != npos) {
    trail.insert(trail.begin(), url.back());
    url.pop_back();
  }
  *rep = SpeakAddress(is_word, url) + trail;
  *end = j;
  return true;
}

// _EMAIL
bool MatchEmail(const IsWordFn& is_word, const std::string& t, std::size_t p, std::size_t* end,
                std::string* rep) {
  if (!IsEmailLocal(t[p]) || !Boundary(t, p)) return false;
  std::size_t r = p;
  while (IsEmailLocal(At(t, r))) ++r;
  if (At(t, r) != '@') return false;
  std::size_t d = r + 1, e = d;
  while (IsLabel(At(t, e))) ++e;
  if (e == d) return false;
  const std::size_t first_label_end = e;
  while (At(t, e) == '.' && IsLabel(At(t, e + 1))) {
    e += 1;
    while (IsLabel(At(t, e))) ++e;
  }
  // Longest end inside a label after the first dot with \b there (greedy backtracking).
  for (std::size_t k = e; k > first_label_end + 1; --k) {
    if (t[k - 1] != '.' && Boundary(t, k)) {
      *rep = SpeakAddress(is_word, t.substr(p, k - p));
      *end = k;
      return true;
    }
  }
  return false;
}

// _DOMAIN (re.I)
bool MatchDomain(const IsWordFn& is_word, const std::string& t, std::size_t p, std::size_t* end,
                 std::string* rep) {
  if (!IsLabel(t[p]) || !Boundary(t, p)) return false;
  std::size_t e = p;
  while (IsLabel(At(t, e))) ++e;
  std::vector<std::size_t> dots;
  while (At(t, e) == '.' && IsLabel(At(t, e + 1))) {
    dots.push_back(e);
    e += 1;
    while (IsLabel(At(t, e))) ++e;
  }
  for (auto it = dots.rbegin(); it != dots.rend(); ++it) {
    for (const char* tld : kTlds) {
      const std::size_t k = *it + 1 + std::string(tld).size();
      if (StartsWithCI(t, *it + 1, tld) && Boundary(t, k)) {
        *rep = SpeakAddress(is_word, t.substr(p, k - p));
        *end = k;
        return true;
      }
    }
  }
  return false;
}

// _ISO_DATE: (?<![\w./-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\w/]|[.-]\d)
bool MatchIsoDate(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  if (!IsDigitC(t[p]) || !DateStartOk(t, p)) return false;
  const std::size_t a = DigitRun(t, p);
  if (a - p != 4 || At(t, a) != '-') return false;
  const std::size_t b = DigitRun(t, a + 1);
  if (b - a - 1 < 1 || b - a - 1 > 2 || At(t, b) != '-') return false;
  const std::size_t c = DigitRun(t, b + 1);
  if (c - b - 1 < 1 || c - b - 1 > 2 || !DateEndOk(t, c)) return false;
  const std::string w = DateWords(ParseCapped(t.substr(a + 1, b - a - 1), 100),
                                  ParseCapped(t.substr(b + 1, c - b - 1), 100),
                                  t.substr(p, 4));
  if (w.empty()) return false;
  *rep = w;
  *end = c;
  return true;
}

// _DATE: (?<![\w./-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\w/]|[.-]\d)
bool MatchDate(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  if (!IsDigitC(t[p]) || !DateStartOk(t, p)) return false;
  const std::size_t a = DigitRun(t, p);
  const char sep = At(t, a);
  if (a - p > 2 || (sep != '/' && sep != '.' && sep != '-')) return false;
  const std::size_t b = DigitRun(t, a + 1);
  if (b - a - 1 < 1 || b - a - 1 > 2 || At(t, b) != sep) return false;
  const std::size_t c = DigitRun(t, b + 1);
  const std::size_t ny = c - b - 1;
  if ((ny != 4 && ny != 2) || !DateEndOk(t, c)) return false;
  if (sep != '/' && ny != 4) return false;
  std::int64_t m = ParseCapped(t.substr(p, a - p), 100);
  std::int64_t d = ParseCapped(t.substr(a + 1, b - a - 1), 100);
  if (m > 12) std::swap(m, d);
  const std::string w = DateWords(m, d, t.substr(b + 1, ny));
  if (w.empty()) return false;
  *rep = w;
  *end = c;
  return true;
}

// _ABBR_INLINE: (?<![\w.])(vs|...)\.
bool MatchInlineAbbreviation(const std::string& t, std::size_t p, std::size_t* end,
                             std::string* rep) {
  if (p > 0 && (IsWordC(t[p - 1]) || t[p - 1] == '.')) return false;
  for (const Pair& a : kInline) {
    if (LitDot(t, p, a.key, end)) {
      *rep = std::string(" ") + a.value + " ";
      return true;
    }
  }
  return false;
}

// _ABBR_TITLE: \b(Mr|...)\.(?=\s|$|[A-Z])
bool MatchTitle(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  if (!Boundary(t, p)) return false;
  for (const Pair& a : kTitles) {
    std::size_t after;
    if (LitDot(t, p, a.key, &after)) {
      const char nx = At(t, after);
      if (after == t.size() || IsSpaceC(nx) || IsUpperC(nx)) {
        *rep = std::string(" ") + a.value + " ";
        *end = after;
        return true;
      }
    }
  }
  return false;
}

// _ST_DR: St. -> saint/street, Dr. -> doctor/drive, by the words around it
bool MatchSaintStreetDoctorDrive(const std::string& t, std::size_t p, std::size_t* end,
                                 std::string* rep) {
  if (!Boundary(t, p)) return false;
  std::size_t after;
  const bool st = LitDot(t, p, "St", &after);
  if (!st && !LitDot(t, p, "Dr", &after)) return false;
  const bool capital_follows = SpacesBeforeCapital(t, after) != npos;
  // before = text[:start].rstrip().split(" ")[-1:]
  std::size_t b = p;
  while (b > 0 && IsSpaceC(t[b - 1])) --b;
  const std::size_t sp = b == 0 ? npos : t.rfind(' ', b - 1);
  const std::size_t first = sp == npos ? 0 : sp + 1;
  const bool before_upper = first < b && IsUpperC(t[first]);
  const bool title = capital_follows || !before_upper;
  *rep = st ? (title ? " saint " : " street ") : (title ? " doctor " : " drive ");
  *end = after;
  return true;
}

// _NUMBER_ABBR: \b(No|no|Nos|nos)\.\s*(?=\d)
bool MatchNumberAbbreviation(const std::string& t, std::size_t p, std::size_t* end,
                             std::string* rep) {
  if (!Boundary(t, p)) return false;
  for (const char* a : {"No", "no", "Nos", "nos"}) {
    std::size_t after;
    if (LitDot(t, p, a, &after)) {
      const std::size_t j = SpaceRun(t, after);
      if (IsDigitC(At(t, j))) {
        *rep = " number ";
        *end = j;
        return true;
      }
    }
  }
  return false;
}

// _HASH_NUMBER: #\s*(?=\d)
bool MatchHashNumber(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  if (t[p] != '#') return false;
  const std::size_t j = SpaceRun(t, p + 1);
  if (!IsDigitC(At(t, j))) return false;
  *rep = " number ";
  *end = j;
  return true;
}

// _ABBR_END: \b(etc|...)\.(\s+(?=[A-Z])|\s*$)?
bool MatchEndAbbreviation(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  if (!Boundary(t, p)) return false;
  for (const Pair& a : kAbbreviations) {
    std::size_t after;
    if (!LitDot(t, p, a.key, &after)) continue;
    bool stop = false;
    std::size_t e = after;
    const std::size_t g = SpacesBeforeCapital(t, after);
    if (g != npos) {
      stop = true;
      e = g;
    } else if (SpaceRun(t, after) == t.size()) {
      stop = true;
      e = t.size();
    }
    *rep = std::string(a.value) + (stop ? " . " : " ");
    *end = e;
    return true;
  }
  return false;
}

// _ROMAN_COUNT: \b(Chapter|...)\s+([IVXLCDM]+)\b -> the word and the number
bool MatchRomanCount(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  if (!IsUpperC(t[p]) || !Boundary(t, p)) return false;
  for (const char* w : kRomanWords) {
    const std::string ws(w);
    if (!StartsWith(t, p, ws)) continue;
    const std::size_t q = SpaceRun(t, p + ws.size());
    if (q == p + ws.size()) continue;
    std::size_t r = q;
    while (IsRomanLetter(At(t, r), true)) ++r;
    if (r == q || !Boundary(t, r)) continue;
    const int n = RomanValue(t.substr(q, r - q));
    if (!n) return false;
    *rep = " " + ws + " " + CardinalInt(n);
    *end = r;
    return true;
  }
  return false;
}

// _REGNAL: \b([A-Z][a-z]+)\s+([IVX]{2,})\b -> the name, "the", the ordinal
bool MatchRegnal(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  if (!IsUpperC(t[p]) || !Boundary(t, p)) return false;
  std::size_t q = p + 1;
  while (IsLowerC(At(t, q))) ++q;
  if (q == p + 1) return false;
  const std::size_t r0 = SpaceRun(t, q);
  if (r0 == q) return false;
  std::size_t r = r0;
  while (IsRomanLetter(At(t, r), false)) ++r;
  if (r - r0 < 2 || !Boundary(t, r)) return false;
  const int n = RomanValue(t.substr(r0, r - r0));
  if (!n) return false;
  *rep = " " + t.substr(p, q - p) + " the " + Ordinal(std::to_string(n));
  *end = r;
  return true;
}

// _TIME: \b(\d{1,2}):(\d{2})(?::(\d{2}))?_AMPM?(\s+(?=[A-Z]))?
bool MatchTime(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  if (!IsDigitC(t[p]) || !Boundary(t, p)) return false;
  const std::size_t d = DigitRun(t, p);
  if (d - p > 2 || At(t, d) != ':' || !IsDigitC(At(t, d + 1)) || !IsDigitC(At(t, d + 2))) {
    return false;
  }
  const std::string h = t.substr(p, d - p), mins = t.substr(d + 1, 2);
  std::size_t j = d + 3;
  std::string secs;
  if (At(t, j) == ':' && IsDigitC(At(t, j + 1)) && IsDigitC(At(t, j + 2))) {
    secs = t.substr(j + 1, 2);
    j += 3;
  }
  char ap = 0;
  const std::size_t a = AmPm(t, j, &ap);
  if (a != npos) j = a;
  const std::size_t g = SpacesBeforeCapital(t, j);
  const bool stop = g != npos && j > 0 && t[j - 1] == '.';
  if (g != npos) j = g;
  *end = j;
  const int hour = static_cast<int>(ParseCapped(h, 100));
  const int minute = static_cast<int>(ParseCapped(mins, 100));
  if (hour > 24 || minute > 59) {
    *rep = " " + Cardinal(h) + " to " + Cardinal(mins) + " ";
    return true;
  }
  std::string words;
  if (minute == 0) {
    words = CardinalInt(hour) + (ap ? "" : " o'clock");
  } else if (minute < 10) {
    words = CardinalInt(hour) + " oh " + CardinalInt(minute);
  } else {
    words = CardinalInt(hour) + " " + CardinalInt(minute);
  }
  if (!secs.empty() && ParseCapped(secs, 100) != 0) {
    words += " and " + CardinalInt(ParseCapped(secs, 100)) + " seconds";
  }
  *rep = " " + words + AmPmWords(ap) + (stop ? " . " : " ");
  return true;
}

// _HOUR_AMPM: \b(\d{1,2})_AMPM(\s+(?=[A-Z]))?
bool MatchHourAmPm(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  if (!IsDigitC(t[p]) || !Boundary(t, p)) return false;
  const std::size_t d = DigitRun(t, p);
  if (d - p > 2) return false;
  char ap = 0;
  std::size_t j = AmPm(t, d, &ap);
  if (j == npos) return false;
  const std::size_t g = SpacesBeforeCapital(t, j);
  const bool stop = g != npos && t[j - 1] == '.';
  if (g != npos) j = g;
  *end = j;
  const std::string hour = t.substr(p, d - p);
  if (ParseCapped(hour, 100) > 24) {
    *rep = t.substr(p, j - p);
    return true;
  }
  *rep = " " + Cardinal(hour) + AmPmWords(ap) + (stop ? " . " : " ");
  return true;
}

// _DOTTED: (?<![\w.])((?:[A-Za-z]\.){2,})(\s+(?=[A-Z][a-z])|\s*$)?
bool MatchDottedLetters(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  if (p > 0 && (IsWordC(t[p - 1]) || t[p - 1] == '.')) return false;
  std::size_t j = p;
  int reps = 0;
  while (IsAlphaC(At(t, j)) && At(t, j + 1) == '.') {
    j += 2;
    ++reps;
  }
  if (reps < 2) return false;
  const std::string letters = t.substr(p, j - p);
  bool stop = false;
  const std::size_t k = SpaceRun(t, j);
  if (k > j && IsUpperC(At(t, k)) && IsLowerC(At(t, k + 1))) {
    stop = true;
    j = k;
  } else if (k == t.size()) {
    stop = true;
    j = k;
  }
  *rep = " " + Spell(letters) + (stop ? " . " : " ");
  *end = j;
  return true;
}

// _CURRENCY: (-)?([$£€¥])\s?(NUM)(?:\s?(scale)\b)?
bool MatchCurrency(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  const bool neg = t[p] == '-';
  std::size_t q = neg ? p + 1 : p;
  if (!IsCurrencySign(At(t, q))) return false;
  const char sym = t[q];
  std::size_t n0 = q + 1;
  if (IsSpaceC(At(t, n0)) && NumAt(t, n0 + 1) != npos) ++n0;
  const std::size_t n1 = NumAt(t, n0);
  if (n1 == npos) return false;
  std::string scale;
  const std::size_t e = ScaleAt(t, n1, &scale);
  *rep = Money(neg, sym, t.substr(n0, n1 - n0), scale);
  *end = e;
  return true;
}

// _CURRENCY_AFTER: (NUM)\s?([£€¢])
bool MatchCurrencyAfter(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  if (!IsDigitC(t[p]) && t[p] != '.') return false;
  std::size_t num_end;
  auto cont = [](const std::string& u, std::size_t e) -> std::size_t {
    std::size_t k = IsSpaceC(At(u, e)) ? e + 1 : e;
    const char c = At(u, k);
    return c == kPound || c == kEuro || c == kCent || c == kYen ? k + 1 : npos;
  };
  if (!NumThen(t, p, cont, &num_end, end)) return false;
  const std::string num = t.substr(p, num_end - p);
  const char sym = t[*end - 1];
  if (sym == kCent) {
    const std::string n = RemoveCommas(num);
    *rep = " " + Decimal(n) + " " + (n == "1" ? "cent" : "cents") + " ";
  } else {
    *rep = Money(false, sym, num, "");
  }
  return true;
}

// _CODE_BEFORE: \b(USD|EUR|...)\s?(NUM)_SCALE
bool MatchCodeBefore(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  if (!IsUpperC(t[p]) || !Boundary(t, p)) return false;
  const Code* code = CodeAt(t, p);
  if (!code) return false;
  std::size_t n0 = p + 3;
  if (IsSpaceC(At(t, n0)) && NumAt(t, n0 + 1) != npos) ++n0;
  const std::size_t n1 = NumAt(t, n0);
  if (n1 == npos) return false;
  std::string scale;
  *end = ScaleAt(t, n1, &scale);
  *rep = Money(false, code->c, t.substr(n0, n1 - n0), scale);
  return true;
}

// _CODE_AFTER: (NUM)\s?(USD|EUR|...)\b
bool MatchCodeAfter(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  if (!IsDigitC(t[p]) && t[p] != '.') return false;
  std::size_t num_end;
  auto cont = [](const std::string& u, std::size_t e) -> std::size_t {
    for (std::size_t k : {IsSpaceC(At(u, e)) ? e + 1 : e, e}) {
      if (CodeAt(u, k) && Boundary(u, k + 3)) return k + 3;
    }
    return npos;
  };
  if (!NumThen(t, p, cont, &num_end, end)) return false;
  *rep = Money(false, CodeAt(t, *end - 3)->c, t.substr(p, num_end - p), "");
  return true;
}

// _CODE_ALONE: \b(USD|EUR|...)\b -> the currency's plural name
bool MatchCodeAlone(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  if (!IsUpperC(t[p]) || !Boundary(t, p)) return false;
  const Code* code = CodeAt(t, p);
  if (!code || !Boundary(t, p + 3)) return false;
  *rep = std::string(" ") + code->c.many + " ";
  *end = p + 3;
  return true;
}

// _PERCENT: ((?<![\w.])-)?(NUM)\s?%
bool MatchPercent(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  auto cont = [](const std::string& u, std::size_t e) -> std::size_t {
    const std::size_t k = IsSpaceC(At(u, e)) ? e + 1 : e;
    return At(u, k) == '%' ? k + 1 : npos;
  };
  bool neg;
  std::size_t n0, n1;
  if (!SignedNumThen(t, p, cont, &neg, &n0, &n1, end)) return false;
  *rep = " " + Decimal((neg ? "-" : "") + t.substr(n0, n1 - n0)) + " percent ";
  return true;
}

// _DEGREES: ((?<![\w.])-)?(NUM)\s?°\s?([CcFf])\b
bool MatchDegrees(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  auto cont = [](const std::string& u, std::size_t e) -> std::size_t {
    std::size_t k = IsSpaceC(At(u, e)) ? e + 1 : e;
    if (At(u, k) != kDegree) return npos;
    ++k;
    for (std::size_t c : {k + (IsSpaceC(At(u, k)) ? 1u : 0u), k}) {
      const char l = At(u, c);
      if ((l == 'C' || l == 'c' || l == 'F' || l == 'f') && Boundary(u, c + 1)) return c + 1;
    }
    return npos;
  };
  bool neg;
  std::size_t n0, n1;
  if (!SignedNumThen(t, p, cont, &neg, &n0, &n1, end)) return false;
  const char unit = t[*end - 1];
  *rep = " " + Decimal((neg ? "-" : "") + t.substr(n0, n1 - n0)) + " degrees " +
         (unit == 'C' || unit == 'c' ? "celsius" : "fahrenheit") + " ";
  return true;
}

// _ORDINAL: \b(\d+(?:,\d{3})*)(st|nd|rd|th|ST|ND|RD|TH)\b
bool MatchOrdinal(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  if (!IsDigitC(t[p]) || !Boundary(t, p)) return false;
  std::size_t j = DigitRun(t, p);
  while (At(t, j) == ',' && IsDigitC(At(t, j + 1)) && IsDigitC(At(t, j + 2)) &&
         IsDigitC(At(t, j + 3))) {
    j += 4;
  }
  static const char* const kSuffixes[] = {"st", "nd", "rd", "th", "ST", "ND", "RD", "TH"};
  for (const char* suf : kSuffixes) {
    if (StartsWith(t, j, suf) && Boundary(t, j + 2)) {
      *rep = " " + Ordinal(t.substr(p, j - p)) + " ";
      *end = j + 2;
      return true;
    }
  }
  return false;
}

// _DECADE: (?:\b|')(\d{1,3}0)'?s\b
bool MatchDecade(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  std::size_t q;
  if (IsDigitC(t[p]) && Boundary(t, p)) {
    q = p;
  } else if (t[p] == '\'' && IsDigitC(At(t, p + 1))) {
    q = p + 1;
  } else {
    return false;
  }
  for (std::size_t k = 3; k >= 1; --k) {
    bool digits = true;
    for (std::size_t i = 0; i < k; ++i) digits = digits && IsDigitC(At(t, q + i));
    if (!digits || At(t, q + k) != '0') continue;
    const std::size_t r = q + k + 1;
    std::size_t e = npos;
    if (At(t, r) == '\'' && At(t, r + 1) == 's' && Boundary(t, r + 2)) {
      e = r + 2;
    } else if (At(t, r) == 's' && Boundary(t, r + 1)) {
      e = r + 1;
    }
    if (e == npos) continue;
    const std::string d = t.substr(q, k + 1);
    const std::string words =
        d.size() == 4 ? Year(ParseCapped(d, 10000)) : Cardinal(d);
    *rep = " " + Plural(words) + " ";
    *end = e;
    return true;
  }
  return false;
}

// _FRACTION: \b(\d+)/(\d+)\b
bool MatchFraction(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  if (!IsDigitC(t[p]) || !Boundary(t, p)) return false;
  const std::size_t a = DigitRun(t, p);
  if (At(t, a) != '/' || !IsDigitC(At(t, a + 1))) return false;
  const std::size_t b = DigitRun(t, a + 1);
  if (!Boundary(t, b)) return false;
  *rep = Fraction(t.substr(p, a - p), t.substr(a + 1, b - a - 1));
  *end = b;
  return true;
}

// _UNIT (re.I): (?<=\d)\s?(km/h|mph|...)\b
bool MatchUnit(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  if (p == 0 || !IsDigitC(t[p - 1])) return false;
  for (std::size_t q : {IsSpaceC(t[p]) ? p + 1 : p, p}) {
    for (const Pair& u : kUnits) {
      const std::size_t e = q + std::string(u.key).size();
      if (StartsWithCI(t, q, u.key) && Boundary(t, e)) {
        *rep = std::string(" ") + u.value + " ";
        *end = e;
        return true;
      }
    }
  }
  return false;
}

// _LETTER_DIGIT: a space between a letter and a digit (either order)
bool MatchLetterDigit(const std::string& t, std::size_t p, std::size_t* end,
                      std::string* rep) {
  if (p == 0 || !((IsAlphaC(t[p - 1]) && IsDigitC(t[p])) ||
                  (IsDigitC(t[p - 1]) && IsAlphaC(t[p])))) {
    return false;
  }
  *rep = std::string(" ") + t[p];
  *end = p + 1;
  return true;
}

// _NEGATIVE: (?<![\w.,])-(?=\.?\d)
bool MatchNegative(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  if (t[p] != '-') return false;
  if (p > 0 && (IsWordC(t[p - 1]) || t[p - 1] == '.' || t[p - 1] == ',')) return false;
  if (!IsDigitC(At(t, p + 1)) && !(At(t, p + 1) == '.' && IsDigitC(At(t, p + 2)))) {
    return false;
  }
  *rep = " minus ";
  *end = p + 1;
  return true;
}

// _NUMBER: plain numbers; 4 digits not starting with 0 read as a year
bool MatchNumber(const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
  if (!IsDigitC(t[p]) && t[p] != '.') return false;
  const std::size_t e = NumAt(t, p);
  if (e == npos) return false;
  const std::string num = t.substr(p, e - p);
  if (num.find('.') != npos) {
    *rep = " " + Decimal(num) + " ";
  } else if (num.size() == 4 && num[0] != '0') {
    *rep = " " + Year(ParseCapped(num, 10000)) + " ";
  } else {
    *rep = " " + Cardinal(num) + " ";
  }
  *end = e;
  return true;
}

// The last step of normalize.expand: a digit no rule took becomes a space (cannot happen;
// be safe) and each symbol left becomes its word.
std::string SayLeftovers(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : s) {
    const char* w = nullptr;
    switch (c) {
      case '&': w = "and"; break;
      case '+': w = "plus"; break;
      case '=': w = "equals"; break;
      case '@': w = "at"; break;
      case '%': w = "percent"; break;
      case '#': w = "hash"; break;
      case kDegree: w = "degrees"; break;
      case '$': w = "dollars"; break;
      case kPound: w = "pounds"; break;
      case kEuro: w = "euros"; break;
      case kYen: w = "yen"; break;
      case kCent: w = "cents"; break;
      default: break;
    }
    if (w) {
      out += ' ';
      out += w;
      out += ' ';
    } else {
      out += IsDigitC(c) ? ' ' : c;
    }
  }
  return out;
}

}  // namespace

// normalize.expand: every rule in normalize.py's order, each one pass over the result of the
// one before (the order matters: a date must be read before its digits are numbers).
std::string Normalizer::Expand(const std::string& text) const {
  static const AddressRule kAddressRules[] = {MatchUrl, MatchEmail, MatchDomain};
  static const Rule kRules[] = {
      // dates
      MatchIsoDate, MatchDate,
      // abbreviations
      MatchInlineAbbreviation, MatchTitle, MatchSaintStreetDoctorDrive, MatchNumberAbbreviation,
      MatchHashNumber, MatchEndAbbreviation,
      // Roman numerals
      MatchRomanCount, MatchRegnal,
      // times
      MatchTime, MatchHourAmPm,
      // dotted initialisms (U.S.A.)
      MatchDottedLetters,
      // money
      MatchCurrency, MatchCurrencyAfter, MatchCodeBefore, MatchCodeAfter, MatchCodeAlone,
      // numbers with a unit or a form of their own
      MatchPercent, MatchDegrees, MatchOrdinal, MatchDecade, MatchFraction, MatchUnit,
      // plain numbers (a space first between a letter and a digit: 3km, A4)
      MatchLetterDigit, MatchNegative, MatchNumber,
  };
  std::string s = text;
  for (AddressRule rule : kAddressRules) {
    s = Sub(s, [&](const std::string& t, std::size_t p, std::size_t* end, std::string* rep) {
      return rule(is_word_, t, p, end, rep);
    });
  }
  for (Rule rule : kRules) s = Sub(s, rule);
  return SayLeftovers(s);
}

// normalize.py _camel_parts: a camel-case word not in the lexicon ("MobileSpeech") is read as
// its parts when every part is a lexicon word; otherwise the rules below apply.
bool Normalizer::CamelParts(const std::string& tok, Tokens* parts) const {
  Tokens out;
  std::size_t start = 0;
  for (std::size_t i = 1; i < tok.size(); ++i) {
    if (IsLowerC(tok[i - 1]) && IsUpperC(tok[i])) {
      out.push_back(Lower(tok.substr(start, i - start)));
      start = i;
    }
  }
  if (out.empty() || is_word_(Lower(tok))) return false;
  out.push_back(Lower(tok.substr(start)));
  for (const std::string& w : out) {
    if (!is_word_(w)) return false;
  }
  *parts = std::move(out);
  return true;
}

Tokens Normalizer::WordTokens(const std::string& tok) const {
  Tokens camel;
  if (CamelParts(tok, &camel)) return camel;
  const std::string low = Lower(tok);
  bool has_upper = false, has_lower = false;
  for (char c : tok) {
    has_upper = has_upper || IsUpperC(c);
    has_lower = has_lower || IsLowerC(c);
  }
  const bool is_upper = has_upper && !has_lower;
  // re.fullmatch(r"[A-Z]{2,}s", tok)
  bool caps_plural = tok.size() >= 3 && tok.back() == 's';
  for (std::size_t i = 0; caps_plural && i + 1 < tok.size(); ++i) {
    caps_plural = IsUpperC(tok[i]);
  }
  if (tok.size() < 2 || (!is_upper && !caps_plural)) return {low};
  if (is_word_(low)) return {low};
  const bool plural = tok.back() == 's' && !is_upper;
  const std::string src = plural ? tok.substr(0, tok.size() - 1) : tok;
  std::string letters;
  for (char c : src) {
    if (IsAlphaC(c)) letters += c;
  }
  if (tok.find('\'') == npos && (letters.size() <= 4 || !HasVowel(Lower(letters)))) {
    Tokens words = SplitWords(Spell(letters));
    if (plural && !words.empty()) words.back() += "'s";
    return words;
  }
  return {low};
}

Tokens Normalizer::TokenizeParagraph(const std::string& s) const {
  Tokens tokens;
  std::size_t p = 0;
  const std::size_t n = s.size();
  while (p < n) {
    const char c = s[p];
    if (IsAlphaC(c)) {
      const std::size_t e = WordEnd(s, p);
      for (std::string& w : WordTokens(s.substr(p, e - p))) tokens.push_back(std::move(w));
      p = e;
    } else if (c == '.' || c == '!' || c == '?') {
      std::size_t e = p;
      while (e < n && (s[e] == '.' || s[e] == '!' || s[e] == '?')) ++e;
      const std::string tok = s.substr(p, e - p);
      const bool q = tok.find('?') != npos, x = tok.find('!') != npos;
      if (tok.size() >= 2 && tok[1] == '.' && tok[0] == '.' && !q && !x) {
        const std::size_t r = SpaceRun(s, e);
        tokens.push_back(r >= n || IsUpperC(s[r]) ? "." : ",");
      } else {
        tokens.push_back(q ? "?" : x ? "!" : ".");
      }
      p = e;
    } else if (std::string(",;:()[]{}").find(c) != npos) {
      tokens.push_back(",");
      ++p;
    } else if (c == '-') {
      std::size_t e = p;
      while (e < n && s[e] == '-') ++e;
      const bool alone = (p == 0 || IsSpaceC(s[p - 1])) && (e == n || IsSpaceC(s[e]));
      if (alone || e - p >= 2) {
        tokens.push_back("-");
        p = e;
      } else {
        ++p;
      }
    } else {
      ++p;
    }
  }
  return tokens;
}

std::vector<Tokens> Normalizer::Normalize(const std::u32string& text) const {
  const std::string ascii = fold_->ToAscii(text);
  // re.split(r"\n\s*\n"): a whitespace run holding two newlines or more ends a paragraph.
  std::vector<std::string> paragraphs;
  std::string cur;
  std::size_t i = 0;
  while (i < ascii.size()) {
    if (IsSpaceC(ascii[i])) {
      std::size_t j = i;
      int newlines = 0;
      while (j < ascii.size() && IsSpaceC(ascii[j])) newlines += ascii[j++] == '\n';
      if (newlines >= 2) {
        paragraphs.push_back(cur);
        cur.clear();
      } else {
        cur += ' ';
      }
      i = j;
    } else {
      cur += ascii[i++];
    }
  }
  paragraphs.push_back(cur);

  std::vector<Tokens> sentences;
  for (const std::string& raw : paragraphs) {
    const std::string paragraph = Join(SplitWords(raw), " ");
    if (paragraph.empty()) continue;
    Tokens tokens = TokenizeParagraph(Expand(paragraph));
    tokens.push_back(".");
    Tokens current;
    for (const std::string& tok : tokens) {
      if (IsSentenceEnd(tok)) {
        while (!current.empty() && IsPause(current.back())) current.pop_back();
        if (!current.empty()) {
          current.push_back(tok);
          sentences.push_back(std::move(current));
        }
        current.clear();
      } else if (IsPause(tok)) {
        if (!current.empty() && !IsPause(current.back())) current.push_back(tok);
      } else {
        current.push_back(tok);
      }
    }
  }
  return sentences;
}

std::string JoinTokens(const Tokens& tokens) {
  std::string out;
  for (const std::string& tok : tokens) {
    if ((IsPause(tok) && tok != "-") || IsSentenceEnd(tok)) {
      out += tok;
    } else {
      if (!out.empty()) out += ' ';
      out += tok;
    }
  }
  return out;
}

}  // namespace fe
}  // namespace mobilespeech
