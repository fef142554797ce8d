// A small strict JSON reader (RFC 8259) for manifest.json, written for this project.
// Extensions accepted because Python's json module writes them: NaN, Infinity, -Infinity.
// Duplicate keys: the last one wins (as in Python). Nesting is limited to 64 levels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mobilespeech {
namespace json {

class Value {
 public:
  enum class Type { Null, Bool, Number, String, Array, Object };

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_bool() const { return type_ == Type::Bool; }
  bool is_number() const { return type_ == Type::Number; }
  bool is_string() const { return type_ == Type::String; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_object() const { return type_ == Type::Object; }

  bool as_bool() const { return bool_; }
  double as_double() const { return num_; }
  // True for a number with an integral value that fits int64 (1, 1.0, 1e3 all qualify, as
  // Python compares 1 == 1.0).
  bool is_integer() const;
  int64_t as_int() const { return int_; }
  const std::string& as_string() const { return str_; }
  const std::vector<Value>& items() const { return arr_; }
  const std::vector<std::pair<std::string, Value>>& members() const { return obj_; }

  // Object member (last duplicate wins) or nullptr.
  const Value* find(const std::string& key) const;

  static Value MakeNull() { return Value(); }

 private:
  friend class Parser;
  Type type_ = Type::Null;
  bool bool_ = false;
  double num_ = 0.0;
  bool int_ok_ = false;
  int64_t int_ = 0;
  std::string str_;
  std::vector<Value> arr_;
  std::vector<std::pair<std::string, Value>> obj_;
};

// Parses `text` into *out. Returns false with a message "line L column C: ..." on error.
bool Parse(const std::string& text, Value* out, std::string* err);

}  // namespace json
}  // namespace mobilespeech
