"""English text normalization: raw text -> sentences of plain lower-case words and punctuation.

The g2p step only knows words, so everything a reader would say differently from how it is
written is expanded here: numbers, ordinals, years, money, percentages, times, abbreviations,
acronyms, URLs and e-mail addresses, symbols. What cannot be spoken (emoji, CJK, control
characters) is dropped; accented Latin letters lose their accents (NFKD).

Output tokens are words (``[a-z]+('[a-z]+)*``), pauses (``,`` ``;`` ``:`` ``-``) and one
sentence-final ``.`` ``!`` or ``?`` per sentence.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Container
from typing import Any

PAUSES = frozenset({",", ";", ":", "-"})
SENTENCE_ENDS = frozenset({".", "!", "?"})
PUNCTUATION = PAUSES | SENTENCE_ENDS

# Letter names as words CMUdict pronounces as the letter ("a" alone is the article "AH0").
LETTER_WORDS: dict[str, str] = {ch: ch for ch in "bcdefghijklmnopqrstuvwxyz"} | {"a": "ay"}

_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_MAX_DIGITS = 15  # longer numbers are read digit by digit
_VOWEL = re.compile(r"[aeiouy]")


@functools.lru_cache(maxsize=1)
def _inflect() -> Any:
    """inflect takes seconds to import (typeguard); only pay for it when a number appears."""
    import inflect

    return inflect.engine()


def _clean_words(s: str) -> str:
    """inflect writes 'twenty-one' and 'one thousand, two hundred': make plain words."""
    return re.sub(r"[-,\s]+", " ", s).strip()


def digits_to_words(digits: str) -> str:
    return " ".join(_DIGIT_WORDS[int(d)] for d in digits if d.isdigit())


def cardinal(n: int | str) -> str:
    """Integer -> words ('1234' -> 'one thousand two hundred thirty four')."""
    s = str(n).replace(",", "")
    neg = s.startswith("-")
    s = s.lstrip("-")
    if not s.isdigit():
        return digits_to_words(s)
    if len(s) > _MAX_DIGITS or (len(s) > 1 and s.startswith("0")):
        words = digits_to_words(s)
    else:
        words = _clean_words(_inflect().number_to_words(int(s), andword=""))
    return f"minus {words}" if neg else words


def ordinal(n: int | str) -> str:
    """'22' -> 'twenty second'."""
    s = str(n).replace(",", "")
    if len(s) > _MAX_DIGITS:
        return digits_to_words(s)
    eng = _inflect()
    return _clean_words(eng.number_to_words(eng.ordinal(int(s)), andword=""))


def decimal(s: str) -> str:
    """'3.14' -> 'three point one four'; '-0.5' -> 'minus zero point five'; '.5' -> 'point five'."""
    neg = s.startswith("-")
    s = s.lstrip("-").replace(",", "")
    whole, _, frac = s.partition(".")
    words = cardinal(whole) if whole else ""
    if frac:
        words = f"{words} point {digits_to_words(frac)}".strip()
    return f"minus {words}" if neg else words


def year(n: int) -> str:
    """How years are read: 1999 'nineteen ninety nine', 1905 'nineteen oh five',
    1900 'nineteen hundred', 2005 'two thousand five', 2024 'twenty twenty four'."""
    if n % 1000 == 0 or not 1000 <= n <= 2099 or 2000 <= n <= 2009:
        return cardinal(n)
    hi, lo = divmod(n, 100)
    if lo == 0:
        return f"{cardinal(hi)} hundred"
    if lo < 10:
        return f"{cardinal(hi)} oh {cardinal(lo)}"
    return f"{cardinal(hi)} {cardinal(lo)}"


def _plural(words: str) -> str:
    """'nineteen eighty' -> 'nineteen eighties' (decades)."""
    head, _, last = words.rpartition(" ")
    last = last[:-1] + "ies" if last.endswith("y") else last + "s"
    return f"{head} {last}".strip()


def spell(s: str) -> str:
    """Read letters and digits one by one ('XYZ' -> 'x y z', 'B2' -> 'b two')."""
    out = []
    for ch in s.lower():
        if ch in LETTER_WORDS:
            out.append(LETTER_WORDS[ch])
        elif ch.isdigit():
            out.append(_DIGIT_WORDS[int(ch)])
    return " ".join(out)


# ----------------------------------------------------------------------------------------------
# Unicode -> ASCII

_CHAR_MAP = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u00b4`", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
    **dict.fromkeys("\u2013\u2014\u2015\u2012", " -- "),
    "\u2212": "-",  # minus sign
    "\u2026": "...",
    "\u00d7": " times ",
    "\u00f7": " divided by ",
    "\u00b1": " plus or minus ",
    "\u2044": "/",  # fraction slash (NFKD of 1/2 sign)
    "\u00a0": " ",
    # Format characters (zero-width space and joiners, word joiner, BOM, soft hyphen, bidi
    # marks) are invisible: removed, so they cannot split a word. text_fold.cc: the same set.
    **dict.fromkeys("\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d"
                    "\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u206a"
                    "\u206b\u206c\u206d\u206e\u206f\ufeff", ""),
    "\u00df": "ss", "\u00e6": "ae", "\u00c6": "AE", "\u0153": "oe", "\u0152": "OE",
    "\u00f8": "o", "\u00d8": "O", "\u0111": "d", "\u0110": "D", "\u0142": "l", "\u0141": "L",
    "\u00fe": "th", "\u00de": "Th", "\u00f0": "d", "\u00d0": "D", "\u0131": "i", "\u017f": "s",
}
_STANDALONE_FORMS = frozenset({"<circle>", "<super>", "<sub>", "<fraction>", "<compat>"})
_KEEP_NON_ASCII = frozenset("\u00a3\u20ac\u00a5\u00a2\u00b0")  # pound euro yen cent degree


def to_ascii(text: str) -> str:
    """Fold text to printable ASCII (+ currency/degree signs); unspeakable characters -> space."""
    text = re.sub(r"(?<=\d)\s*[\u2013\u2014]\s*(?=\d)", " to ", text)  # 1990–1995
    folded: list[str] = []
    for c in text:
        if c in _CHAR_MAP:
            folded.append(_CHAR_MAP[c])
            continue
        d = unicodedata.normalize("NFKD", c)
        # A compatibility digit (circled, superscript, vulgar fraction) stands on its own:
        # '①②' is one, two, not twelve.
        alone = unicodedata.decomposition(c).split(" ")[0] in _STANDALONE_FORMS
        folded.append(f" {d} " if alone and any(x.isdigit() for x in d) else d)
    out: list[str] = []
    for ch in "".join(folded):
        if " " <= ch <= "~" or ch == "\n" or ch in _KEEP_NON_ASCII:
            out.append(ch)
        elif ch in _CHAR_MAP:
            out.append(_CHAR_MAP[ch])
        elif unicodedata.category(ch) == "Mn":  # accents split off by NFKD
            continue
        else:
            out.append(" ")
    return "".join(out)


# ----------------------------------------------------------------------------------------------
# Rewriting rules, applied in order on ASCII text

_SEP_WORDS = {".": "dot", "/": "slash", "@": "at", "-": "dash", "_": "underscore", ":": "colon",
              "?": "question mark", "=": "equals", "&": "and", "+": "plus", "#": "hash",
              "~": "tilde", "%": "percent"}


def _speak_address(s: str, is_word: Callable[[str], bool]) -> str:
    """URL / e-mail: words stay words, other letter runs are spelled, separators named."""
    s = re.sub(r"^(?:https?|ftp)://", "", s, flags=re.I)
    out: list[str] = []
    for part in re.findall(r"[A-Za-z]+|\d+|[^A-Za-z\d]", s):
        low = part.lower()
        if part.isdigit():
            out.append(cardinal(part) if len(part) <= 4 else digits_to_words(part))
        elif part.isalpha():
            # Known words and longer pronounceable runs are said; 'www', 'xkcd' are spelled.
            said = is_word(low) and len(low) > 1 or len(low) > 3 and _VOWEL.search(low)
            out.append(low if said else spell(low))
        elif part in _SEP_WORDS:
            out.append(_SEP_WORDS[part])
    return " " + " ".join(out) + " "


_URL = re.compile(r"\b(?:(?:https?|ftp)://|www\.)[^\s<>\"']+", re.I)
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\b")
_DOMAIN = re.compile(r"\b[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:com|org|net|edu|gov|io)\b", re.I)

# Abbreviations that are never a sentence end (titles come before a name).
_TITLES = {
    "Mr": "mister", "Mrs": "missus", "Ms": "miz", "Prof": "professor", "Gen": "general",
    "Col": "colonel", "Capt": "captain", "Lt": "lieutenant", "Sgt": "sergeant",
    "Rev": "reverend", "Hon": "honorable", "Gov": "governor", "Sen": "senator",
    "Rep": "representative", "Pres": "president", "Mt": "mount", "Jr": "junior", "Sr": "senior",
}
# Abbreviations that can end a sentence: followed by a capitalized word, the period ends it.
_ABBREVIATIONS = {
    "etc": "et cetera", "Inc": "incorporated", "Ltd": "limited", "Corp": "corporation",
    "Co": "company", "Ave": "avenue", "Blvd": "boulevard", "Rd": "road", "Dept": "department",
    "approx": "approximately", "Approx": "approximately", "Fig": "figure", "fig": "figure",
    "Vol": "volume", "vol": "volume", "Jan": "january", "Feb": "february", "Apr": "april",
    "Aug": "august", "Sep": "september", "Sept": "september", "Oct": "october",
    "Nov": "november", "Dec": "december",
}
# Never end a sentence, whatever follows.
_INLINE = {"vs": "versus", "Vs": "versus", "e.g": "for example", "E.g": "for example",
           "i.e": "that is", "I.e": "that is", "cf": "compare", "viz": "namely"}

_ABBR_TITLE = re.compile(r"\b(" + "|".join(_TITLES) + r")\.(?=\s|$|[A-Z])")
_ABBR_END = re.compile(r"\b(" + "|".join(_ABBREVIATIONS) + r")\.(\s+(?=[A-Z])|\s*$)?")
_ABBR_INLINE = re.compile(r"(?<![\w.])(" + "|".join(re.escape(k) for k in _INLINE) + r")\.")
_ST_DR = re.compile(r"\b(St|Dr)\.(?=(\s+[A-Z])?)")
_NUMBER_ABBR = re.compile(r"\b(No|no|Nos|nos)\.\s*(?=\d)")
_HASH_NUMBER = re.compile(r"#\s*(?=\d)")
_DOTTED = re.compile(r"(?<![\w.])((?:[A-Za-z]\.){2,})(\s+(?=[A-Z][a-z])|\s*$)?")

_NUM = r"\d+(?:,\d{3})+(?:\.\d+)?|\d*\.\d+|\d+"
_AMPM = r"(?:\s*([AaPp])\.?\s?[Mm]\b\.?)"
_TIME = re.compile(r"\b(\d{1,2}):(\d{2})(?::(\d{2}))?" + _AMPM + r"?(\s+(?=[A-Z]))?")
_HOUR_AMPM = re.compile(r"\b(\d{1,2})" + _AMPM + r"(\s+(?=[A-Z]))?")
_CURRENCY = re.compile(
    r"(-)?([$\u00a3\u20ac\u00a5])\s?(" + _NUM + r")"
    r"(?:\s?(thousand|million|billion|trillion|[KkMmBb]n?|[Tt]n)\b)?"
)
_CURRENCY_AFTER = re.compile(r"(" + _NUM + r")\s?([\u00a3\u20ac\u00a2\u00a5])")
_SCALE = r"(?:\s?(thousand|million|billion|trillion|[KkMmBb]n?|[Tt]n)\b)?"
# ISO 4217 codes: "EUR 5.50", "USD 2m", "5 GBP"; alone ("prices in EUR") the currency's name.
_CODES = ("USD", "EUR", "GBP", "JPY", "CAD", "AUD", "CHF", "INR", "CNY")
_CODE_BEFORE = re.compile(r"\b(" + "|".join(_CODES) + r")\s?(" + _NUM + r")" + _SCALE)
_CODE_AFTER = re.compile(r"(" + _NUM + r")\s?(" + "|".join(_CODES) + r")\b")
_CODE_ALONE = re.compile(r"\b(" + "|".join(_CODES) + r")\b")
# Numeric dates: month first as in the US (12/03/2026 is December 3rd; a first number over 12
# is the day: 25/12/2026), with "/" (year of 2 or 4 digits), "-" or "." (4 digits); and the ISO
# form 2026-12-03. An impossible month or day leaves the text to the other rules.
_DATE = re.compile(r"(?<![\w./-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\w/]|[.-]\d)")
_ISO_DATE = re.compile(r"(?<![\w./-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\w/]|[.-]\d)")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
# Roman numerals: counted after these words ("Chapter IV" -> chapter four, "World War II"),
# and regnal after another capitalized name, two letters or more ("Henry VIII" -> henry the
# eighth; "Malcolm X" and the pronoun "I" stay words).
_ROMAN_WORDS = ("Chapter", "Part", "Volume", "Book", "Act", "Scene", "Section", "Article",
                "Phase", "Episode", "Round", "Level", "Type", "Class", "Stage", "War", "Bowl",
                "Appendix", "Psalm", "Canto")
_ROMAN_COUNT = re.compile(r"\b(" + "|".join(_ROMAN_WORDS) + r")\s+([IVXLCDM]+)\b")
_REGNAL = re.compile(r"\b([A-Z][a-z]+)\s+([IVX]{2,})\b")
_ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_PERCENT = re.compile(r"((?<![\w.])-)?(" + _NUM + r")\s?%")
_DEGREES = re.compile(r"((?<![\w.])-)?(" + _NUM + r")\s?\u00b0\s?([CcFf])\b")
_ORDINAL = re.compile(r"\b(\d+(?:,\d{3})*)(st|nd|rd|th|ST|ND|RD|TH)\b")
_DECADE = re.compile(r"(?:\b|')(\d{1,3}0)'?s\b")
_FRACTION = re.compile(r"\b(\d+)/(\d+)\b")
_NEGATIVE = re.compile(r"(?<![\w.,])-(?=\.?\d)")
_UNITS = {
    "km": "kilometers", "kg": "kilograms", "cm": "centimeters", "mm": "millimeters",
    "mph": "miles per hour", "kph": "kilometers per hour", "km/h": "kilometers per hour",
    "kb": "kilobytes", "mb": "megabytes", "gb": "gigabytes", "tb": "terabytes",
    "hz": "hertz", "khz": "kilohertz", "mhz": "megahertz", "ghz": "gigahertz",
    "ms": "milliseconds", "lbs": "pounds", "oz": "ounces", "ft": "feet",
}
_UNIT = re.compile(
    r"(?<=\d)\s?(" + "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True)) + r")\b",
    re.I,
)
_LETTER_DIGIT = re.compile(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
_NUMBER = re.compile(_NUM)

# (singular, plural, subunit singular, subunit plural)
_CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "\u00a3": ("pound", "pounds", "penny", "pence"),
    "\u20ac": ("euro", "euros", "cent", "cents"),
    "\u00a5": ("yen", "yen", "sen", "sen"),
    "USD": ("dollar", "dollars", "cent", "cents"),
    "EUR": ("euro", "euros", "cent", "cents"),
    "GBP": ("pound", "pounds", "penny", "pence"),
    "JPY": ("yen", "yen", "sen", "sen"),
    "CAD": ("canadian dollar", "canadian dollars", "cent", "cents"),
    "AUD": ("australian dollar", "australian dollars", "cent", "cents"),
    "CHF": ("swiss franc", "swiss francs", "centime", "centimes"),
    "INR": ("rupee", "rupees", "paisa", "paise"),
    "CNY": ("yuan", "yuan", "fen", "fen"),
}
_SCALES = {"k": "thousand", "m": "million", "b": "billion", "bn": "billion", "t": "trillion",
           "tn": "trillion", "thousand": "thousand", "million": "million",
           "billion": "billion", "trillion": "trillion", "mn": "million"}


def _ampm(letter: str | None) -> str:
    return f" {spell(letter.lower() + 'm')}" if letter else ""


def _time(m: re.Match[str]) -> str:
    h, mins, secs, ap, end = m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)
    hour, minute = int(h), int(mins)
    if hour > 24 or minute > 59:  # not a time: read like a ratio
        return f" {cardinal(h)} to {cardinal(mins)} "
    if minute == 0:
        words = cardinal(hour) + ("" if ap else " o'clock")
    elif minute < 10:
        words = f"{cardinal(hour)} oh {cardinal(minute)}"
    else:
        words = f"{cardinal(hour)} {cardinal(minute)}"
    if secs and int(secs):
        words += f" and {cardinal(int(secs))} seconds"
    stop = end is not None and m.group(0).rstrip().endswith(".")
    return f" {words}{_ampm(ap)}{' . ' if stop else ' '}"


def _hour_ampm(m: re.Match[str]) -> str:
    hour, ap, end = m.group(1), m.group(2), m.group(3)
    if int(hour) > 24:
        return m.group(0)
    dot = " . " if end is not None and m.group(0).rstrip().endswith(".") else " "
    return f" {cardinal(hour)}{_ampm(ap)}{dot}"


def _currency(m: re.Match[str]) -> str:
    return _money(bool(m.group(1)), m.group(2), m.group(3), m.group(4))


def _money(neg: bool, sym: str, num: str, scale: str | None) -> str:
    """'$3.50' -> 'three dollars fifty cents', '$2.5m' -> 'two point five million dollars'."""
    one, many, sub_one, sub_many = _CURRENCIES[sym]
    sign = "minus " if neg else ""
    num = num.replace(",", "")
    if scale:
        return f" {sign}{decimal(num)} {_SCALES[scale.lower()]} {many} "
    whole, _, frac = num.partition(".")
    whole = whole or "0"
    if len(frac) > 2:
        return f" {sign}{decimal(num)} {many} "
    cents = int(frac.ljust(2, "0")) if frac else 0
    parts = []
    if int(whole) or not cents:
        parts.append(f"{cardinal(whole)} {one if int(whole) == 1 else many}")
    if cents:
        parts.append(f"{cardinal(cents)} {sub_one if cents == 1 else sub_many}")
    return f" {sign}{' '.join(parts)} "


def _code_before(m: re.Match[str]) -> str:
    return _money(False, m.group(1), m.group(2), m.group(3))


def _code_after(m: re.Match[str]) -> str:
    return _money(False, m.group(2), m.group(1), None)


def roman_value(s: str) -> int | None:
    """'XIV' -> 14 for a well-formed numeral (1..3999), else None."""
    if not s or not _ROMAN.fullmatch(s):
        return None
    values = [_ROMAN_VALUES[c] for c in s]
    return sum(-v if v < w else v for v, w in zip(values, values[1:] + [0], strict=True))


def _roman_count(m: re.Match[str]) -> str:
    n = roman_value(m.group(2))
    return f" {m.group(1)} {cardinal(n)}" if n else m.group(0)


def _regnal(m: re.Match[str]) -> str:
    n = roman_value(m.group(2))
    return f" {m.group(1)} the {ordinal(n)}" if n else m.group(0)


def _date_words(month: int, day: int, year_digits: str) -> str | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    y = year_digits
    if len(y) == 4:
        said = year(int(y))
    else:
        said = f"oh {cardinal(y[1])}" if y[0] == "0" else cardinal(y)
    return f" {_MONTHS[month - 1]} {ordinal(day)} {said} "


def _date(m: re.Match[str]) -> str:
    a, b, y = int(m.group(1)), int(m.group(3)), m.group(4)
    if m.group(2) != "/" and len(y) != 4:
        return m.group(0)
    month, day = (a, b) if a <= 12 else (b, a)
    return _date_words(month, day, y) or m.group(0)


def _iso_date(m: re.Match[str]) -> str:
    return _date_words(int(m.group(2)), int(m.group(3)), m.group(1)) or m.group(0)


def _currency_after(m: re.Match[str]) -> str:
    num, sym = m.group(1), m.group(2)
    if sym == "\u00a2":
        n = num.replace(",", "")
        return f" {decimal(n)} {'cent' if n == '1' else 'cents'} "
    return _money(False, sym, num, None)


def _number(m: re.Match[str]) -> str:
    """Plain numbers; a 4-digit one from 1000 to 2099 is read as a year (the usual case)."""
    num = m.group(0)
    if "." in num:
        return f" {decimal(num)} "
    if len(num) == 4 and num[0] != "0":
        return f" {year(int(num))} "
    return f" {cardinal(num)} "


def _ordinal(m: re.Match[str]) -> str:
    return f" {ordinal(m.group(1))} "


def _decade(m: re.Match[str]) -> str:
    digits = m.group(1)
    if len(digits) == 4 or len(digits) == 3:
        words = year(int(digits)) if len(digits) == 4 else cardinal(digits)
    else:
        words = cardinal(digits)  # '80s -> eighties, 20s -> twenties
    return f" {_plural(words)} "


def _fraction(m: re.Match[str]) -> str:
    num, den = m.group(1), m.group(2)
    n, d = int(num), int(den)
    if 2 <= d <= 10 and 0 < n < 100 and len(num) < 4:
        if d == 2:
            name = "half" if n == 1 else "halves"
        elif d == 4:
            name = "quarter" if n == 1 else "quarters"
        else:
            name = ordinal(d) if n == 1 else _plural(ordinal(d))
        return f" {cardinal(n)} {name} "
    return f" {cardinal(num)} slash {cardinal(den)} "


def _st_dr(m: re.Match[str]) -> str:
    """'St. John' -> saint, 'Main St.' -> street; 'Dr. Who' -> doctor, 'Oak Dr.' -> drive."""
    before = m.string[: m.start()].rstrip().split(" ")[-1:]
    title = m.group(2) is not None or not (before and before[0][:1].isupper())
    if m.group(1) == "St":
        return " saint " if title else " street "
    return " doctor " if title else " drive "


def expand(text: str, is_word: Callable[[str], bool]) -> str:
    """Apply every rewriting rule; the result has no digits and no abbreviation periods."""
    text = _URL.sub(lambda m: _url_keep_punct(m, is_word), text)
    text = _EMAIL.sub(lambda m: _speak_address(m.group(0), is_word), text)
    text = _DOMAIN.sub(lambda m: _speak_address(m.group(0), is_word), text)
    text = _ISO_DATE.sub(_iso_date, text)
    text = _DATE.sub(_date, text)
    text = _ABBR_INLINE.sub(lambda m: f" {_INLINE[m.group(1)]} ", text)
    text = _ABBR_TITLE.sub(lambda m: f" {_TITLES[m.group(1)]} ", text)
    text = _ST_DR.sub(_st_dr, text)
    text = _NUMBER_ABBR.sub(" number ", text)
    text = _HASH_NUMBER.sub(" number ", text)
    text = _ABBR_END.sub(
        lambda m: _ABBREVIATIONS[m.group(1)] + (" . " if m.group(2) is not None else " "), text
    )
    text = _ROMAN_COUNT.sub(_roman_count, text)
    text = _REGNAL.sub(_regnal, text)
    text = _TIME.sub(_time, text)
    text = _HOUR_AMPM.sub(_hour_ampm, text)
    text = _DOTTED.sub(
        lambda m: f" {spell(m.group(1))}" + (" . " if m.group(2) is not None else " "), text
    )
    text = _CURRENCY.sub(_currency, text)
    text = _CURRENCY_AFTER.sub(_currency_after, text)
    text = _CODE_BEFORE.sub(_code_before, text)
    text = _CODE_AFTER.sub(_code_after, text)
    text = _CODE_ALONE.sub(lambda m: f" {_CURRENCIES[m.group(1)][1]} ", text)
    text = _PERCENT.sub(lambda m: f" {decimal((m.group(1) or '') + m.group(2))} percent ", text)
    text = _DEGREES.sub(
        lambda m: f" {decimal((m.group(1) or '') + m.group(2))} degrees "
        f"{'celsius' if m.group(3) in 'Cc' else 'fahrenheit'} ",
        text,
    )
    text = _ORDINAL.sub(_ordinal, text)
    text = _DECADE.sub(_decade, text)
    text = _FRACTION.sub(_fraction, text)
    text = _UNIT.sub(lambda m: f" {_UNITS[m.group(1).lower()]} ", text)
    text = _LETTER_DIGIT.sub(" ", text)
    text = _NEGATIVE.sub(" minus ", text)
    text = _NUMBER.sub(_number, text)
    text = re.sub(r"\d", " ", text)  # anything the rules above left (cannot happen; be safe)
    for sym, word in (("&", "and"), ("+", "plus"), ("=", "equals"), ("@", "at"),
                      ("%", "percent"), ("#", "hash"), ("\u00b0", "degrees"), ("$", "dollars"),
                      ("\u00a3", "pounds"), ("\u20ac", "euros"), ("\u00a5", "yen"),
                      ("\u00a2", "cents")):
        text = text.replace(sym, f" {word} ")
    return text


def _url_keep_punct(m: re.Match[str], is_word: Callable[[str], bool]) -> str:
    """A URL at a sentence end keeps its final '.' (or ',' etc.) as punctuation."""
    url = m.group(0)
    trail = ""
    while url and url[-1] in ".,;:!?)":
        trail = url[-1] + trail
        url = url[:-1]
    return _speak_address(url, is_word) + trail


# ----------------------------------------------------------------------------------------------
# Tokens and sentences

_TOKENS = re.compile(
    r"[A-Za-z]+(?:'[A-Za-z]+)*"  # words, with inner apostrophes
    r"|[.!?]+"  # sentence ends (runs like '?!' or '...')
    r"|[,;:()\[\]{}]"  # pauses (brackets pause too)
    r"|(?<!\S)-+(?!\S)|--+"  # a dash standing alone, or a double dash
)


# A lower-case letter followed by a capital inside a word: "MobileSpeech", "iPhone", "YouTube".
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def _camel_parts(tok: str, is_word: Callable[[str], bool]) -> list[str] | None:
    """A camel-case word not in the lexicon, read as its parts when every part is a word.

    Why: g2p would guess "MobileSpeech" as one word (M OW0 B IH0 L EH1 S P IY0 AH0, heard as
    "mobile espia"); people read it as "mobile speech". Words the lexicon knows ("McDonald")
    and splits with a non-word part ("XMLHttp") keep the old rule.
    """
    parts = _CAMEL.split(tok)
    if len(parts) < 2 or is_word(tok.lower()):
        return None
    low = [x.lower() for x in parts]
    return low if all(is_word(x) for x in low) else None


def _word_tokens(tok: str, is_word: Callable[[str], bool]) -> list[str]:
    """One written word -> spoken words: acronyms not in the lexicon are spelled, camel-case
    compounds of lexicon words are split."""
    camel = _camel_parts(tok, is_word)
    if camel is not None:
        return camel
    low = tok.lower()
    if len(tok) < 2 or not tok.isupper() and not re.fullmatch(r"[A-Z]{2,}s", tok):
        return [low]
    if is_word(low):
        return [low]
    plural = tok.endswith("s") and not tok.isupper()
    letters = re.sub("[^A-Za-z]", "", tok[:-1] if plural else tok)
    if "'" not in tok and (len(letters) <= 4 or not _VOWEL.search(letters.lower())):
        words = spell(letters).split()
        if plural:  # CEOs -> c e o's
            words[-1] += "'s"
        return words
    return [low]


def _tokens(paragraph: str, is_word: Callable[[str], bool]) -> list[str]:
    tokens: list[str] = []
    for m in _TOKENS.finditer(paragraph):
        tok = m.group(0)
        if tok[0].isalpha():
            tokens.extend(_word_tokens(tok, is_word))
        elif tok[0] in ".!?":
            if tok.startswith("..") and "?" not in tok and "!" not in tok:
                # an ellipsis mid-sentence is a pause; before a capital or at the end, a stop
                rest = paragraph[m.end():].lstrip()
                tokens.append("." if not rest or rest[0].isupper() else ",")
            else:
                tokens.append("?" if "?" in tok else "!" if "!" in tok else ".")
        elif tok[0] == "-":
            tokens.append("-")
        else:
            tokens.append(",")
    return tokens


def _sentences(tokens: list[str]) -> list[list[str]]:
    """Split at sentence ends; drop leading/doubled pauses and sentences without words."""
    sentences: list[list[str]] = []
    current: list[str] = []
    for tok in tokens + ["."]:
        if tok in SENTENCE_ENDS:
            while current and current[-1] in PAUSES:
                current.pop()
            if current:
                sentences.append(current + [tok])
            current = []
        elif tok in PAUSES:
            if current and current[-1] not in PAUSES:
                current.append(tok)
        else:
            current.append(tok)
    return sentences


def _default_is_word() -> Callable[[str], bool]:
    from .g2p import load_cmudict

    lexicon = load_cmudict()
    return lexicon.__contains__


def normalize_text(
    text: str, lexicon: Container[str] | Callable[[str], bool] | None = None
) -> list[list[str]]:
    """Text -> sentences, each a list of lower-case words and punctuation tokens.

    ``lexicon`` decides whether an all-caps word is said as a word ("NASA") or spelled ("XYZ");
    default: CMUdict. Blank lines also end a sentence (headings without a period).
    """
    if lexicon is None:
        is_word = _default_is_word()
    elif callable(lexicon):
        is_word = lexicon
    else:
        is_word = lexicon.__contains__
    sentences: list[list[str]] = []
    for paragraph in re.split(r"\n\s*\n", to_ascii(text)):
        paragraph = " ".join(paragraph.split())
        if paragraph:
            sentences.extend(_sentences(_tokens(expand(paragraph, is_word), is_word)))
    return sentences


def join_tokens(tokens: list[str]) -> str:
    """Readable form of a token list: punctuation attached, dashes spaced."""
    out = ""
    for tok in tokens:
        if tok in PUNCTUATION and tok != "-":
            out += tok
        else:
            out += (" " if out else "") + tok
    return out
