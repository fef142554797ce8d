"""Speech corpora for training: an offline multi-speaker synthetic corpus, and real-corpus readers.

Why synthetic: no recorded speech data set can be downloaded here, but Debian ships several
English synthesizers (espeak-ng with its accents and mbrola voices, flite, festival, pico). Each
distinct voice setting becomes one "speaker"; a few voices are held out of training altogether so
that zero-shot voice cloning can be measured on voices the model never heard.

Corpus folder format (what ``build_corpus`` writes and ``read_corpus`` reads)::

    <root>/wavs/<speaker>/<utt_id>.wav   mono, 16-bit PCM, at the corpus sample rate
    <root>/metadata.tsv                  header + one row per utterance:
                                         utt_id, speaker, path (relative to root), split, text
    <root>/speakers.tsv                  speaker, engine, held_out, args (informational)

Splits: ``train`` and ``valid`` never share a sentence; held-out voices speak only validation
sentences, in the ``zeroshot`` split.

Command line::

    apt-get install espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k \
        festvox-us-slt-hts fortunes        # + contrib/non-free: mbrola mbrola-us1 mbrola-us2
                                           #   mbrola-us3 mbrola-en1 festvox-rablpc16k festvox-don
                                           #   libttspico-utils
    python -m training.corpus voices
    python -m training.corpus build --out data/synth --utterances 3000
    python -m training.corpus stats data/synth
    python -m training.corpus speed
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import logging
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mobilespeech_runtime.errors import MobileSpeechError

log = logging.getLogger(__name__)

METADATA = "metadata.tsv"
SPEAKERS = "speakers.tsv"
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
    """One synthetic speaker: an engine and the exact arguments that make this voice distinct."""

    speaker_id: str
    engine: str  # espeak | mbrola | flite | festival | pico
    args: tuple[str, ...]

    @property
    def held_out(self) -> bool:
        return self.speaker_id in HELD_OUT_SPEAKERS


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

# Held out of train and valid: these voices speak only validation sentences (split 'zeroshot'),
# so zero-shot cloning is measured on voices the model never trained on. Chosen across engines:
# a flite voice, a festival voice, a whole espeak accent and an mbrola voice. The first three come
# from Debian's main archive, so at least three engines are held out even without contrib/non-free.
HELD_OUT_SPEAKERS: frozenset[str] = frozenset({
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

# Share of training utterances per engine (split evenly between that engine's voices), so that
# 32 espeak settings do not drown the dozen more natural voices. Renormalised over the engines
# that are installed.
ENGINE_SHARE = {"espeak": 0.3, "mbrola": 0.2, "flite": 0.2, "festival": 0.2, "pico": 0.1}

ENGINE_PACKAGES = {
    "espeak": "espeak-ng",
    "mbrola": "mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1 (Debian contrib/non-free)",
    "flite": "flite",
    "festival": "festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts "
    "(+ festvox-rablpc16k festvox-don from non-free)",
    "pico": "libttspico-utils (Debian non-free)",
}
ENGINE_BINARY = {
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


def _probe(voice: Voice) -> str | None:
    """None when ``voice`` synthesizes a short phrase here, else why not."""
    try:
        with tempfile.TemporaryDirectory(prefix="ms-probe-") as d:
            audio, _ = _run_synth(voice, "Hello there.", Path(d))
    except CorpusError as e:
        return str(e)
    if audio.size == 0 or float(np.abs(audio).max()) < 1e-3:
        return "produced silence"
    return None


def _festival_voice_installed(name: str) -> bool:
    roots = [Path("/usr/share/festival/voices"), Path("/usr/lib/festival/voices")]
    return any(r.is_dir() and any(r.glob(f"*/{name}")) for r in roots)


@functools.lru_cache(maxsize=1)
def available_voices() -> tuple[Voice, ...]:
    """The catalogue voices that really synthesize on this machine; logs each one skipped.

    Each distinct base voice is probed once by synthesizing a short phrase (about 3 s in all),
    because a listed voice can still lack its data (an mbrola database, a festival voice dir).
    """
    out: list[Voice] = []
    probed: dict[tuple[str, str], str | None] = {}
    skipped_engines: set[str] = set()
    for v in voice_catalogue():
        binary = ENGINE_BINARY[v.engine]
        if shutil.which(binary) is None:
            if v.engine not in skipped_engines:
                log.info("engine %s: %s not found (install: %s); skipping its voices",
                         v.engine, binary, ENGINE_PACKAGES[v.engine])  # fmt: skip
                skipped_engines.add(v.engine)
            continue
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

    with tempfile.TemporaryDirectory(prefix="ms-synth-") as d:
        audio, sr = _run_synth(voice, text, Path(d))
    audio = process_audio(audio, sr, sample_rate)
    if audio.size < int(0.3 * sample_rate):
        raise CorpusError(f"{voice.speaker_id}: output is silent or too short for {text!r}")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".part")
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


def write_metadata(root: Path, utterances: Iterable[Utterance]) -> Path:
    """Write ``metadata.tsv`` (paths relative to ``root``), atomically."""
    root = Path(root)
    path = root / METADATA
    tmp = path.with_name(METADATA + ".part")
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


def _write_speakers(root: Path, voices: Iterable[Voice]) -> None:
    with (root / SPEAKERS).open("w", encoding="utf-8") as f:
        f.write("speaker\tengine\theld_out\targs\n")
        for v in voices:
            f.write(f"{v.speaker_id}\t{v.engine}\t{int(v.held_out)}\t{' '.join(v.args)}\n")


def build_corpus(
    out_dir: str | Path,
    n_utterances: int,
    sample_rate: int = 16000,
    valid_fraction: float = 0.05,
    seed: int = 0,
    workers: int = 2,
    voices: Sequence[Voice] | None = None,
    sentences: Sequence[str] | None = None,
) -> list[Utterance]:
    """Synthesize a multi-speaker corpus into ``out_dir``; returns the utterances written.

    Resumable: utterances whose wav already exists are not synthesized again, and metadata.tsv
    is rewritten at the end from the (deterministic) plan. Utterances whose synthesis fails are
    logged and left out. ``voices``/``sentences`` default to every installed voice and
    ``training.texts.load_sentences(seed=seed)``.
    """
    from tqdm import tqdm

    from training.texts import load_sentences, sentence_source

    root = Path(out_dir)
    if sample_rate < 8000:
        raise CorpusError(f"sample_rate must be >= 8000, got {sample_rate}")
    if voices is None:
        voices = available_voices()
    if sentences is None:
        sentences = load_sentences(seed=seed)
        log.info("sentences: %d from %s", len(sentences), sentence_source())
    plan = plan_corpus(sentences, voices, n_utterances, valid_fraction, seed, root)
    root.mkdir(parents=True, exist_ok=True)
    _write_speakers(root, voices)
    by_id = {v.speaker_id: v for v in voices}
    todo = [u for u in plan if not u.wav_path.is_file()]
    log.info("%d utterances planned, %d already written, %d to synthesize with %d workers",
             len(plan), len(plan) - len(todo), len(todo), workers)  # fmt: skip
    failed: set[str] = set()

    def work(u: Utterance) -> None:
        try:
            synthesize_to_file(by_id[u.speaker], u.text, u.wav_path, sample_rate)
        except CorpusError as e:
            log.warning("skipped %s: %s", u.utt_id, e)
            failed.add(u.utt_id)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for _ in tqdm(pool.map(work, todo), total=len(todo), desc="synthesizing", unit="utt"):
            pass
    if todo and len(failed) == len(todo):
        raise CorpusError(f"every one of {len(todo)} syntheses failed; see the log")
    done = [u for u in plan if u.utt_id not in failed and u.wav_path.is_file()]
    write_metadata(root, done)
    return done


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
    with tempfile.TemporaryDirectory(prefix="ms-speed-") as d:
        for v in voices:
            for text in sentences[:per_voice]:
                t0 = time.perf_counter()
                audio, sr = _run_synth(v, text, Path(d))
                wall_s[v.engine] += time.perf_counter() - t0
                audio_s[v.engine] += audio.size / sr
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
                                args.seed, args.workers)  # fmt: skip
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
            speed = measure_speed(available_voices(), texts, args.per_voice)
            for engine, x in sorted(speed.items(), key=lambda kv: -kv[1]):
                print(f"{engine:<10}{x:8.1f}x real time (one process)")
    except MobileSpeechError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
