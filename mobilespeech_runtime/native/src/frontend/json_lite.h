// A minimal JSON reader for the bundle manifest's "frontend" section (no dependencies).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mobilespeech {
namespace fe {

struct JsonValue {
  enum Type { kNull, kBool, kNumber, kString, kArray, kObject } type = kNull;
  bool b = false;
  double num = 0;
  std::string str;
  std::vector<JsonValue> arr;
  std::map<std::string, JsonValue> obj;

  const JsonValue* Get(const std::string& key) const;  // nullptr unless an object has `key`
};

// Parses a whole document; false and *err (with the byte offset) on a syntax error.
bool ParseJson(const std::string& text, JsonValue* out, std::string* err);

}  // namespace fe
}  // namespace mobilespeech
