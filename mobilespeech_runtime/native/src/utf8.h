// The one UTF-8 codec of the native core: validation (the C ABI refuses invalid text), decoding
// with replacement (the text frontend), encoding (the JSON reader's \u escapes), and UTF-16 <->
// UTF-8 for the JNI bridge (Java strings are UTF-16; JNI's own "modified UTF-8" is not UTF-8).
// Standalone: the standard library only, so a binding can compile utf8.cc into itself.
//
// UTF-8 here is RFC 3629: no overlong forms, no surrogates (U+D800..U+DFFF), nothing above
// U+10FFFF. Where text is decoded with replacement, each byte that does not start a valid
// sequence becomes one U+FFFD and decoding resumes at the next byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace mobilespeech {
namespace utf8 {

constexpr char32_t kReplacement = 0xFFFD;

// The valid sequence at the start of s[0..n): its length (1..4) with the code point in *cp, or
// 0 when there is none (n == 0, a bad lead or continuation byte, truncated, overlong, a
// surrogate, above U+10FFFF).
std::size_t DecodeOne(const char* s, std::size_t n, char32_t* cp);

// Whether s[0..n) is entirely valid UTF-8.
bool Valid(const char* s, std::size_t n);
inline bool Valid(const std::string& s) { return Valid(s.data(), s.size()); }

// Code points of s; invalid bytes become U+FFFD (see above).
std::u32string Decode(const std::string& s);

// Appends the encoding of cp; a surrogate or a value above U+10FFFF appends U+FFFD.
void Append(std::string* out, char32_t cp);
std::string Encode(const std::u32string& s);

// UTF-16 -> UTF-8 (Java strings: GetStringRegion). An unpaired surrogate becomes U+FFFD.
// *has_nul (may be NULL) tells whether the text holds U+0000, which a NUL-terminated C string
// would cut short: the caller refuses such text. The uint16_t form takes a jchar* as it is.
std::string FromUtf16(const char16_t* s, std::size_t n, bool* has_nul = nullptr);
std::string FromUtf16(const std::uint16_t* s, std::size_t n, bool* has_nul = nullptr);

// UTF-8 -> UTF-16 (Java strings: NewString). NUL-terminated; NULL gives "". Invalid bytes
// become U+FFFD.
std::u16string ToUtf16(const char* s);
std::u16string ToUtf16(const char* s, std::size_t n);

}  // namespace utf8
}  // namespace mobilespeech
