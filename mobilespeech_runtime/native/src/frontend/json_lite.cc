#include "json_lite.h"

#include <cstdlib>

namespace mobilespeech {
namespace fe {
namespace {

class Parser {
 public:
  explicit Parser(const std::string& s) : s_(s) {}

  bool Document(JsonValue* v, std::string* err) {
    if (!Value(v, 0)) {
      *err = "invalid JSON at byte " + std::to_string(pos_);
      return false;
    }
    Ws();
    if (pos_ != s_.size()) {
      *err = "trailing data in JSON at byte " + std::to_string(pos_);
      return false;
    }
    return true;
  }

 private:
  void Ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Lit(const char* lit) {
    std::size_t i = 0;
    for (; lit[i]; ++i) {
      if (pos_ + i >= s_.size() || s_[pos_ + i] != lit[i]) return false;
    }
    pos_ += i;
    return true;
  }
  static void PutUtf8(unsigned long c, std::string* out) {
    if (c < 0x80) {
      *out += static_cast<char>(c);
    } else if (c < 0x800) {
      *out += static_cast<char>(0xC0 | (c >> 6));
      *out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      *out += static_cast<char>(0xE0 | (c >> 12));
      *out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      *out += static_cast<char>(0xF0 | (c >> 18));
      *out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      *out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  bool Hex4(unsigned long* v) {
    if (pos_ + 4 > s_.size()) return false;
    unsigned long r = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      r <<= 4;
      if (c >= '0' && c <= '9') {
        r |= static_cast<unsigned long>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        r |= static_cast<unsigned long>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        r |= static_cast<unsigned long>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    *v = r;
    return true;
  }
  bool String(std::string* out) {
    if (pos_ >= s_.size() || s_[pos_] != '"') return false;
    ++pos_;
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        *out += c;
        continue;
      }
      if (pos_ >= s_.size()) return false;
      const char e = s_[pos_++];
      switch (e) {
        case '"': *out += '"'; break;
        case '\\': *out += '\\'; break;
        case '/': *out += '/'; break;
        case 'b': *out += '\b'; break;
        case 'f': *out += '\f'; break;
        case 'n': *out += '\n'; break;
        case 'r': *out += '\r'; break;
        case 't': *out += '\t'; break;
        case 'u': {
          unsigned long c1;
          if (!Hex4(&c1)) return false;
          if (c1 >= 0xD800 && c1 < 0xDC00 && Lit("\\u")) {
            unsigned long c2;
            if (!Hex4(&c2) || c2 < 0xDC00 || c2 >= 0xE000) return false;
            c1 = 0x10000 + ((c1 - 0xD800) << 10) + (c2 - 0xDC00);
          }
          PutUtf8(c1, out);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }
  bool Value(JsonValue* v, int depth) {
    if (depth > 64) return false;
    Ws();
    if (pos_ >= s_.size()) return false;
    const char c = s_[pos_];
    if (c == '{') {
      ++pos_;
      v->type = JsonValue::kObject;
      Ws();
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return true;
      }
      for (;;) {
        Ws();
        std::string key;
        if (!String(&key)) return false;
        Ws();
        if (pos_ >= s_.size() || s_[pos_] != ':') return false;
        ++pos_;
        JsonValue item;
        if (!Value(&item, depth + 1)) return false;
        v->obj[key] = std::move(item);
        Ws();
        if (pos_ < s_.size() && s_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < s_.size() && s_[pos_] == '}') {
          ++pos_;
          return true;
        }
        return false;
      }
    }
    if (c == '[') {
      ++pos_;
      v->type = JsonValue::kArray;
      Ws();
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return true;
      }
      for (;;) {
        JsonValue item;
        if (!Value(&item, depth + 1)) return false;
        v->arr.push_back(std::move(item));
        Ws();
        if (pos_ < s_.size() && s_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < s_.size() && s_[pos_] == ']') {
          ++pos_;
          return true;
        }
        return false;
      }
    }
    if (c == '"') {
      v->type = JsonValue::kString;
      return String(&v->str);
    }
    if (Lit("true")) {
      v->type = JsonValue::kBool;
      v->b = true;
      return true;
    }
    if (Lit("false")) {
      v->type = JsonValue::kBool;
      return true;
    }
    if (Lit("null")) return true;
    const char* begin = s_.c_str() + pos_;
    char* end = nullptr;
    v->num = std::strtod(begin, &end);
    if (end == begin) return false;
    v->type = JsonValue::kNumber;
    pos_ += static_cast<std::size_t>(end - begin);
    return true;
  }

  const std::string& s_;
  std::size_t pos_ = 0;
};

}  // namespace

const JsonValue* JsonValue::Get(const std::string& key) const {
  if (type != kObject) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &it->second;
}

bool ParseJson(const std::string& text, JsonValue* out, std::string* err) {
  *out = JsonValue();
  return Parser(text).Document(out, err);
}

}  // namespace fe
}  // namespace mobilespeech
