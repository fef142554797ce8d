#include "json.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <locale>
#include <sstream>

#include "utf8.h"

namespace mobilespeech {
namespace json {

bool Value::is_integer() const {
  return type_ == Type::Number && int_ok_;
}

const Value* Value::find(const std::string& key) const {
  if (type_ != Type::Object) return nullptr;
  for (auto it = obj_.rbegin(); it != obj_.rend(); ++it) {
    if (it->first == key) return &it->second;
  }
  return nullptr;
}

class Parser {
 public:
  explicit Parser(const std::string& s) : s_(s) {}

  bool Run(Value* out, std::string* err) {
    SkipWs();
    if (!ParseValue(out, 0)) return Report(err);
    SkipWs();
    if (pos_ != s_.size()) {
      error_ = "extra data after the JSON value";
      return Report(err);
    }
    return true;
  }

 private:
  static constexpr int kMaxDepth = 64;

  bool Report(std::string* err) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos_ && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    if (err) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "line %zu column %zu: ", line, col);
      *err = buf + error_;
    }
    return false;
  }

  void SkipWs() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else {
        break;
      }
    }
  }

  bool Literal(const char* word) {
    size_t n = 0;
    while (word[n]) ++n;
    if (s_.compare(pos_, n, word) != 0) return false;
    pos_ += n;
    return true;
  }

  bool ParseValue(Value* v, int depth) {
    if (depth > kMaxDepth) {
      error_ = "nesting is too deep";
      return false;
    }
    if (pos_ >= s_.size()) {
      error_ = "unexpected end of input";
      return false;
    }
    char c = s_[pos_];
    switch (c) {
      case '{':
        return ParseObject(v, depth);
      case '[':
        return ParseArray(v, depth);
      case '"':
        v->type_ = Value::Type::String;
        return ParseString(&v->str_);
      case 't':
        if (Literal("true")) {
          v->type_ = Value::Type::Bool;
          v->bool_ = true;
          return true;
        }
        break;
      case 'f':
        if (Literal("false")) {
          v->type_ = Value::Type::Bool;
          v->bool_ = false;
          return true;
        }
        break;
      case 'n':
        if (Literal("null")) {
          v->type_ = Value::Type::Null;
          return true;
        }
        break;
      case 'N':
        if (Literal("NaN")) {
          SetNumber(v, std::numeric_limits<double>::quiet_NaN());
          return true;
        }
        break;
      case 'I':
        if (Literal("Infinity")) {
          SetNumber(v, std::numeric_limits<double>::infinity());
          return true;
        }
        break;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(v);
    }
    error_ = "unexpected character";
    return false;
  }

  static void SetNumber(Value* v, double d) {
    v->type_ = Value::Type::Number;
    v->num_ = d;
    // Integral and exactly representable in int64: |d| < 2^63.
    if (std::isfinite(d) && std::floor(d) == d && d >= -9223372036854775808.0 &&
        d < 9223372036854775808.0) {
      v->int_ok_ = true;
      v->int_ = static_cast<int64_t>(d);
    }
  }

  bool ParseNumber(Value* v) {
    size_t start = pos_;
    if (s_[pos_] == '-') {
      ++pos_;
      if (Literal("Infinity")) {
        SetNumber(v, -std::numeric_limits<double>::infinity());
        return true;
      }
    }
    auto digit = [&](size_t i) { return i < s_.size() && s_[i] >= '0' && s_[i] <= '9'; };
    if (!digit(pos_)) {
      error_ = "invalid number";
      return false;
    }
    if (s_[pos_] == '0') {
      ++pos_;
      if (digit(pos_)) {
        error_ = "leading zeros are not allowed";
        return false;
      }
    } else {
      while (digit(pos_)) ++pos_;
    }
    bool integral = true;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      integral = false;
      ++pos_;
      if (!digit(pos_)) {
        error_ = "invalid number";
        return false;
      }
      while (digit(pos_)) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      integral = false;
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!digit(pos_)) {
        error_ = "invalid number";
        return false;
      }
      while (digit(pos_)) ++pos_;
    }
    std::string text = s_.substr(start, pos_ - start);
    if (integral && text.size() <= 18) {
      // Exact integer path (no rounding through double).
      int64_t x = 0;
      size_t i = text[0] == '-' ? 1 : 0;
      for (; i < text.size(); ++i) x = x * 10 + (text[i] - '0');
      if (text[0] == '-') x = -x;
      v->type_ = Value::Type::Number;
      v->num_ = static_cast<double>(x);
      v->int_ok_ = true;
      v->int_ = x;
      return true;
    }
    // Locale-independent, correctly rounded conversion.
    std::istringstream in(text);
    in.imbue(std::locale::classic());
    double d = 0.0;
    in >> d;
    if (in.fail()) {
      // Out of range: Python gives +-inf for huge literals.
      d = text[0] == '-' ? -std::numeric_limits<double>::infinity()
                         : std::numeric_limits<double>::infinity();
      if (text.find_first_of("eE") != std::string::npos &&
          text.find("e-") != std::string::npos) {
        d = 0.0;
      }
    }
    SetNumber(v, d);
    return true;
  }

  bool Hex4(uint32_t* out) {
    if (pos_ + 4 > s_.size()) {
      error_ = "truncated \\u escape";
      return false;
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        error_ = "invalid \\u escape";
        return false;
      }
    }
    *out = v;
    return true;
  }

  // Copies one UTF-8 encoded code point starting at pos_, validating it.
  bool Utf8(std::string* out) {
    char32_t cp;
    const size_t len = utf8::DecodeOne(s_.data() + pos_, s_.size() - pos_, &cp);
    if (len == 0) {
      error_ = "invalid UTF-8";
      return false;
    }
    out->append(s_, pos_, len);
    pos_ += len;
    return true;
  }

  bool ParseString(std::string* out) {
    ++pos_;  // opening quote
    out->clear();
    while (true) {
      if (pos_ >= s_.size()) {
        error_ = "unterminated string";
        return false;
      }
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) {
        error_ = "control character in string";
        return false;
      }
      if (c != '\\') {
        if (!Utf8(out)) return false;
        continue;
      }
      ++pos_;
      if (pos_ >= s_.size()) {
        error_ = "unterminated string";
        return false;
      }
      char e = s_[pos_++];
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (pos_ + 2 <= s_.size() && s_[pos_] == '\\' && s_[pos_ + 1] == 'u') {
              pos_ += 2;
              if (!Hex4(&lo)) return false;
              if (lo < 0xDC00 || lo > 0xDFFF) {
                error_ = "invalid surrogate pair";
                return false;
              }
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              error_ = "lone surrogate";
              return false;
            }
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            error_ = "lone surrogate";
            return false;
          }
          utf8::Append(out, cp);
          break;
        }
        default:
          error_ = "invalid escape";
          return false;
      }
    }
  }

  bool ParseArray(Value* v, int depth) {
    ++pos_;
    v->type_ = Value::Type::Array;
    SkipWs();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      SkipWs();
      v->arr_.emplace_back();
      if (!ParseValue(&v->arr_.back(), depth + 1)) return false;
      SkipWs();
      if (pos_ >= s_.size()) {
        error_ = "unterminated array";
        return false;
      }
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == ']') {
        ++pos_;
        return true;
      }
      error_ = "expected ',' or ']'";
      return false;
    }
  }

  bool ParseObject(Value* v, int depth) {
    ++pos_;
    v->type_ = Value::Type::Object;
    SkipWs();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      SkipWs();
      if (pos_ >= s_.size() || s_[pos_] != '"') {
        error_ = "expected a string key";
        return false;
      }
      std::string key;
      if (!ParseString(&key)) return false;
      SkipWs();
      if (pos_ >= s_.size() || s_[pos_] != ':') {
        error_ = "expected ':'";
        return false;
      }
      ++pos_;
      SkipWs();
      v->obj_.emplace_back(std::move(key), Value());
      if (!ParseValue(&v->obj_.back().second, depth + 1)) return false;
      SkipWs();
      if (pos_ >= s_.size()) {
        error_ = "unterminated object";
        return false;
      }
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == '}') {
        ++pos_;
        return true;
      }
      error_ = "expected ',' or '}'";
      return false;
    }
  }

  const std::string& s_;
  size_t pos_ = 0;
  std::string error_;
};

bool Parse(const std::string& text, Value* out, std::string* err) {
  *out = Value();
  Parser p(text);
  return p.Run(out, err);
}

}  // namespace json
}  // namespace mobilespeech
