// Number words as mobilespeech_runtime/frontend/normalize.py writes them (its cardinal, ordinal,
// decimal, year, spell ... functions; inflect's number_to_words(andword="") re-implemented).
// Arguments are ASCII digit strings, as the normalizer's regular expressions capture them.
#pragma once

#include <cstdint>
#include <string>

namespace mobilespeech {
namespace fe {

std::string DigitsToWords(const std::string& digits);   // '907' -> 'nine zero seven'
std::string CardinalInt(std::int64_t n);                 // 0 <= n < 10^15 (inflect)
std::string Cardinal(const std::string& s);              // normalize.cardinal(str)
std::string Ordinal(const std::string& s);               // normalize.ordinal(str)
std::string Decimal(const std::string& s);               // normalize.decimal(str)
std::string Year(std::int64_t n);                        // normalize.year(int)
std::string Plural(const std::string& words);            // normalize._plural
std::string Spell(const std::string& s);                 // normalize.spell

// Value of a digit string, saturating at `cap` (ints Python compares are unbounded).
std::int64_t ParseCapped(const std::string& digits, std::int64_t cap);

}  // namespace fe
}  // namespace mobilespeech
