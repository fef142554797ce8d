// Internal error type and small helpers shared by the runtime sources.
// Errors travel as exceptions inside the library and become an ms_status + message at the C ABI
// boundary (c_api.cc); nothing here is visible to callers.
#pragma once

#include <cstdarg>
#include <cstdint>
#include <exception>
#include <string>
#include <utility>

#include "mobilespeech.h"

namespace mobilespeech {

class Error : public std::exception {
 public:
  Error(ms_status code, std::string message) : code_(code), message_(std::move(message)) {}
  ms_status code() const noexcept { return code_; }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  ms_status code_;
  std::string message_;
};

// printf-style message (bounded, never throws on formatting).
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 1, 2)))
#endif
std::string Format(const char* fmt, ...);

[[noreturn]] inline void Fail(ms_status code, std::string message) {
  throw Error(code, std::move(message));
}

}  // namespace mobilespeech
