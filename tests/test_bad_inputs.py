"""Bad input through the shipped runtime and through the reference loop: the same answer.

Every case runs twice, once through ``mobilespeech_runtime.Synthesizer`` (the public API: the
native core, libmobilespeech, through its ctypes binding) and once through the PyTorch
reference (``mobilespeech_model.ReferenceSynthesizer`` over the bundle's programs in
ExecuTorch's Python runtime), and asserts the same outcome class: the same
error kind (``InvalidTextError``, ``InvalidAudioError``, ``ConfigError``, ``BundleError``) with a
message that names the problem, or success with finite, non-empty audio in [-1, 1] (and, where
the case says so, a warning on both sides). Anything else, a crash, a traceback of another
exception type, a hang or silent success, fails the case.
"""

from __future__ import annotations

import json
import re
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from synthetic import voice_like

from mobilespeech_runtime.errors import (
    BundleError,
    ConfigError,
    InvalidAudioError,
    InvalidTextError,
    MobileSpeechError,
)

KINDS = (InvalidTextError, InvalidAudioError, ConfigError, BundleError)
OK, WARN = "ok", "ok+warning"


# ---- the two runtimes behind one small interface -----------------------------------------------
class Side:
    name = ""

    def __init__(self, bundle: Path) -> None:
        self.bundle = bundle
        self._synth: Any = None

    @property
    def synth(self) -> Any:
        if self._synth is None:
            self._synth = self.create(self.bundle)
        return self._synth

    def create(self, bundle: Path, **kw: Any) -> Any:
        raise NotImplementedError

    def speak(self, synth: Any, text: Any, prompt: Any = None, rate: Any = None,
              **kw: Any) -> np.ndarray:
        raise NotImplementedError

    def resynth(self, audio: Any, rate: Any = None) -> np.ndarray:
        raise NotImplementedError


class Python(Side):
    name = "python"  # the reference loop

    def create(self, bundle: Path, **kw: Any) -> Any:
        from mobilespeech_model import ReferenceSynthesizer

        return ReferenceSynthesizer.from_bundle(bundle, num_threads=kw.pop("num_threads", 1),
                                                **kw)

    def speak(self, synth: Any, text: Any, prompt: Any = None, rate: Any = None,
              **kw: Any) -> np.ndarray:
        return synth.synthesize(text, prompt, prompt_sample_rate=rate, **kw).samples

    def resynth(self, audio: Any, rate: Any = None) -> np.ndarray:
        return self.synth.resynthesize(audio, rate).samples


class Native(Side):
    name = "c"  # the shipped runtime: the public API over the native core

    def create(self, bundle: Path, **kw: Any) -> Any:
        from mobilespeech_runtime import Synthesizer  # the top-level API

        return Synthesizer.from_bundle(bundle, num_threads=kw.pop("num_threads", 1), **kw)

    def speak(self, synth: Any, text: Any, prompt: Any = None, rate: Any = None,
              **kw: Any) -> np.ndarray:
        return synth.synthesize(text, prompt, prompt_sample_rate=rate, **kw).samples

    def resynth(self, audio: Any, rate: Any = None) -> np.ndarray:
        return self.synth.resynthesize(audio, rate).samples


# ---- cases --------------------------------------------------------------------------------------
@dataclass
class Env:
    side: Side
    tmp: Path
    rate: int  # the bundle's sample rate
    max_chars: int
    n_codebooks: int
    window_s: float  # seconds of audio the encoder program reads at once

    def say(self, text: Any = "Hello there.", prompt: Any = None, rate: Any = None,
            **kw: Any) -> np.ndarray:
        return self.side.speak(self.side.synth, text, prompt, rate, **kw)

    def open(self, bundle: Path, **kw: Any) -> np.ndarray:
        synth = self.side.create(bundle, **kw)
        return self.side.speak(synth, "Hi.")


@dataclass
class Case:
    id: str
    expect: str  # OK, WARN, or an error class name
    run: Callable[[Env], np.ndarray]
    pattern: str = ""  # the error message must match (case-insensitive); both sides
    marks: list[Any] = field(default_factory=list)


def _voice(seconds: float = 2.0, rate: int = 16000) -> np.ndarray:
    return voice_like(seconds, rate)


def _wav(env: Env, name: str, data: np.ndarray, rate: int, **kw: Any) -> Path:
    path = env.tmp / name
    sf.write(path, data, rate, **kw)
    return path


def _wav_header_only(env: Env) -> Path:
    path = env.tmp / "empty.wav"
    sf.write(path, np.zeros(0, np.float32), 16000, subtype="PCM_16")
    return path


def _wav_rate(env: Env, rate: int) -> Path:
    """A valid 16-bit WAV whose header declares ``rate`` Hz (written by hand)."""
    pcm = (np.clip(_voice(2.0), -1, 1) * 32767).astype("<i2").tobytes()
    hdr = b"RIFF" + (36 + len(pcm)).to_bytes(4, "little") + b"WAVEfmt "
    hdr += (16).to_bytes(4, "little") + (1).to_bytes(2, "little") + (1).to_bytes(2, "little")
    hdr += rate.to_bytes(4, "little") + (rate * 2).to_bytes(4, "little")
    hdr += (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
    hdr += b"data" + len(pcm).to_bytes(4, "little")
    path = env.tmp / f"rate{rate}.wav"
    path.write_bytes(hdr + pcm)
    return path


def _bundle(env: Env, edit: Callable[[Path], None]) -> Path:
    root = env.tmp / "bundle"
    shutil.copytree(env.side.bundle, root)
    edit(root)
    return root


def _manifest(fn: Callable[[dict[str, Any]], Any]) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        m = json.loads((root / "manifest.json").read_text())
        fn(m)
        (root / "manifest.json").write_text(json.dumps(m))

    return edit


def _garbage_program(root: Path) -> None:
    """decoder.pte replaced by garbage of the same size, its sha256 regenerated."""
    from mobilespeech_model.bundle import sha256_file

    p = root / "decoder.pte"
    p.write_bytes(np.random.default_rng(0).integers(0, 256, p.stat().st_size, np.uint8).tobytes())
    m = json.loads((root / "manifest.json").read_text())
    m["files"]["decoder.pte"]["sha256"] = sha256_file(p)
    (root / "manifest.json").write_text(json.dumps(m))


def _write(name: str, text: str | bytes) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        p = root / name
        p.write_bytes(text if isinstance(text, bytes) else text.encode())

    return edit


def _truncate(root: Path) -> None:
    p = root / "smd.pte"
    p.write_bytes(p.read_bytes()[:1000])


def _flip(root: Path) -> None:
    p = root / "text.pte"
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF
    p.write_bytes(bytes(data))


def _big_manifest(root: Path) -> None:
    p = root / "manifest.json"
    text = p.read_text()
    p.write_text(text[:-1] + " " * (17 << 20) + text[-1])


def _silent_stereo_antiphase(env: Env) -> np.ndarray:
    v = _voice(2.0)
    return env.say(prompt=np.stack([v, -v], 1), rate=16000)


T, A, C_, B = "InvalidTextError", "InvalidAudioError", "ConfigError", "BundleError"

CASES = [
    # ---- text --------------------------------------------------------------------------------
    Case("text-ok", OK, lambda e: e.say("Hello there.")),
    Case("text-empty", T, lambda e: e.say(""), "empty"),
    Case("text-whitespace", T, lambda e: e.say("  \n\t "), "empty"),
    Case("text-too-long", T, lambda e: e.say("a " * (e.max_chars // 2 + 1)), "characters"),
    Case("text-nul-inside", T, lambda e: e.say("Hello\x00 world, how are you?"), "NUL"),
    Case("text-invalid-utf8", T, lambda e: e.say("Hello \udcff world"), "UTF-8"),
    Case("text-not-a-string", T, lambda e: e.say(12345), "string"),
    Case("text-bytes", T, lambda e: e.say(b"Hello there."), "string"),
    Case("text-emoji-only", T, lambda e: e.say("\U0001f642\U0001f642\U0001f642"),
         "nothing to pronounce"),
    Case("text-control-only", T, lambda e: e.say("\x07\x08\x1b"), "nothing to pronounce"),
    Case("text-non-latin-only", T, lambda e: e.say("\u041f\u0440\u0438\u0432\u0435\u0442"),
         "nothing to pronounce"),
    Case("text-non-latin-mixed", WARN, lambda e: e.say("Hello \u4e16\u754c friend.")),
    Case("text-ssml-tags", WARN,
         lambda e: e.say("<speak>Hello <break time='1s'/> there.</speak>")),
    Case("text-long-number", OK, lambda e: e.say("Call 12345678901234567890 now.")),
    Case("text-runaway-digits", T,
         lambda e: e.say(("12345678901234567890 " * 200)[: e.max_chars]), "phonemes"),
    Case("text-runaway-exponents", T, lambda e: e.say(("1e308 " * 400)[: e.max_chars]),
         "phonemes"),
    # ---- prompt audio (arrays) ---------------------------------------------------------------
    Case("prompt-ok-44k-stereo", OK,
         lambda e: e.say(prompt=np.stack([_voice(2, 44100)] * 2, 1), rate=44100)),
    Case("prompt-loud-clipping", OK, lambda e: e.say(prompt=5 * _voice(), rate=16000)),
    Case("prompt-long-trimmed", WARN, lambda e: e.say(prompt=_voice(12.0), rate=16000)),
    Case("prompt-antiphase-stereo", WARN, _silent_stereo_antiphase),
    Case("prompt-empty", A, lambda e: e.say(prompt=np.zeros(0, np.float32), rate=16000),
         "empty"),
    Case("prompt-nan", A,
         lambda e: e.say(prompt=np.where(np.arange(32000) == 7, np.nan, _voice()), rate=16000),
         "NaN"),
    Case("prompt-inf", A, lambda e: e.say(prompt=np.full(32000, np.inf), rate=16000), "inf"),
    Case("prompt-silent", A, lambda e: e.say(prompt=np.zeros(32000, np.float32), rate=16000),
         "silent"),
    Case("prompt-dc-only", A, lambda e: e.say(prompt=np.full(32000, 0.5, np.float32),
                                              rate=16000), "silent"),
    Case("prompt-too-short", A, lambda e: e.say(prompt=_voice(0.5), rate=16000), "at least"),
    Case("prompt-rate-1hz", A, lambda e: e.say(prompt=_voice(), rate=1), "rate"),
    Case("prompt-rate-0", A, lambda e: e.say(prompt=_voice(), rate=0), "rate"),
    Case("prompt-rate-negative", A, lambda e: e.say(prompt=_voice(), rate=-16000), "rate"),
    Case("prompt-rate-10mhz", A, lambda e: e.say(prompt=_voice(), rate=10_000_000), "rate"),
    Case("prompt-rate-float", A, lambda e: e.say(prompt=_voice(), rate=16000.5), "rate"),
    Case("prompt-rate-missing", A, lambda e: e.say(prompt=_voice()), "sample_rate"),
    Case("prompt-65-channels", A,
         lambda e: e.say(prompt=np.stack([_voice()] * 65, 1), rate=16000), "channels"),
    Case("prompt-3d-array", A, lambda e: e.say(prompt=np.zeros((10, 2, 2)), rate=16000),
         "shape"),
    Case("prompt-input-over-300s", A,
         lambda e: e.say(prompt=np.tile(_voice(1.0, 1000), 301), rate=1000), "at most"),
    Case("prompt-not-audio-type", A, lambda e: e.say(prompt=42), "path or a sample array"),
    # ---- prompt files ------------------------------------------------------------------------
    Case("prompt-file-ok", OK, lambda e: e.say(prompt=_wav(e, "v.wav", _voice(), 16000))),
    Case("prompt-file-missing", A, lambda e: e.say(prompt=e.tmp / "nope.wav"), "not found"),
    Case("prompt-file-directory", A, lambda e: e.say(prompt=e.tmp), "directory"),
    Case("prompt-file-not-audio", A,
         lambda e: e.say(prompt=_write_text(e, "x.wav", "not audio at all")), "cannot read"),
    Case("prompt-file-header-only", A, lambda e: e.say(prompt=_wav_header_only(e)), "empty"),
    Case("prompt-file-declares-1hz", A, lambda e: e.say(prompt=_wav_rate(e, 1)), "Hz"),
    # ---- options -----------------------------------------------------------------------------
    Case("seed-max-ok", OK, lambda e: e.say(seed=2**64 - 1)),
    Case("seed-negative", C_, lambda e: e.say(seed=-1), "seed"),
    Case("seed-2**64", C_, lambda e: e.say(seed=2**64), "seed"),
    Case("seed-2**70", C_, lambda e: e.say(seed=2**70), "seed"),
    Case("seed-string", C_, lambda e: e.say(seed="3"), "seed"),
    Case("seed-float", C_, lambda e: e.say(seed=1.5), "seed"),
    Case("steps-wrong-count", C_, lambda e: e.say(steps=[1] * (e.n_codebooks + 1)), "steps"),
    Case("steps-zero", C_, lambda e: e.say(steps=[0] * e.n_codebooks), "steps"),
    Case("steps-65", C_, lambda e: e.say(steps=[65] * e.n_codebooks), "steps"),
    Case("steps-wraps-int32", C_, lambda e: e.say(steps=[2**32 + 8] * e.n_codebooks), "steps"),
    Case("steps-float", C_, lambda e: e.say(steps=[2.7] * e.n_codebooks), "steps"),
    Case("steps-empty", C_, lambda e: e.say(steps=[]), "steps"),
    Case("steps-string", C_, lambda e: e.say(steps="8,2"), "steps"),
    Case("length-scale-zero", C_, lambda e: e.say(length_scale=0.0), "length_scale"),
    Case("length-scale-nan", C_, lambda e: e.say(length_scale=float("nan")), "length_scale"),
    Case("length-scale-10", C_, lambda e: e.say(length_scale=10.0), "length_scale"),
    Case("length-scale-text", C_, lambda e: e.say(length_scale="fast"), "length_scale"),
    Case("threads-1000", C_, lambda e: e.open(e.side.bundle, num_threads=1000), "num_threads"),
    Case("threads-negative", C_, lambda e: e.open(e.side.bundle, num_threads=-1), "num_threads"),
    Case("threads-2**40", C_, lambda e: e.open(e.side.bundle, num_threads=2**40), "num_threads"),
    # ---- bundle files ------------------------------------------------------------------------
    Case("bundle-missing", B, lambda e: e.open(e.tmp / "none"), "not found"),
    Case("bundle-no-manifest", B,
         lambda e: e.open(_bundle(e, lambda r: (r / "manifest.json").unlink())), "missing"),
    Case("bundle-manifest-not-json", B,
         lambda e: e.open(_bundle(e, _write("manifest.json", "{not json"))), "JSON"),
    Case("bundle-manifest-too-deep", B,
         lambda e: e.open(_bundle(e, _write("manifest.json", "[" * 100000 + "]" * 100000))),
         "JSON|deep"),
    Case("bundle-manifest-not-utf8", B,
         lambda e: e.open(_bundle(e, _write("manifest.json", b"{\"a\": \"\xff\xfe\"}"))),
         "JSON|UTF|format"),
    Case("bundle-manifest-100mb", B, lambda e: e.open(_bundle(e, _big_manifest)),
         "bytes|large"),
    Case("bundle-config-null", B,
         lambda e: e.open(_bundle(e, _manifest(lambda m: m.update(config=None)))), "config"),
    Case("bundle-sample-rate-string", B,
         lambda e: e.open(_bundle(e, _manifest(
             lambda m: m["config"]["codec"].update(sample_rate="16000")))), "sample_rate"),
    Case("bundle-no-constants", B,
         lambda e: e.open(_bundle(e, _manifest(lambda m: m.pop("constants")))), "constants"),
    Case("bundle-schema-2", B,
         lambda e: e.open(_bundle(e, _manifest(lambda m: m.update(schema_version=2)))),
         "schema_version"),
    Case("bundle-file-outside", B,
         lambda e: e.open(_bundle(e, _manifest(
             lambda m: m["files"].update({"../x": {"bytes": 1, "sha256": ""}})))), "outside"),
    Case("bundle-truncated-program", B, lambda e: e.open(_bundle(e, _truncate)), "bytes"),
    Case("bundle-tampered-program", B, lambda e: e.open(_bundle(e, _flip)), "sha256"),
    Case("bundle-garbage-program-rehashed", B, lambda e: e.open(_bundle(e, _garbage_program)),
         "decoder.pte"),
    # ---- resynthesis ---------------------------------------------------------------------------
    Case("resynth-ok-short", OK, lambda e: e.side.resynth(_voice(0.5, e.rate), e.rate)),
    Case("resynth-ok-longer-than-window", OK,
         lambda e: e.side.resynth(_voice(1.6 * e.window_s, e.rate), e.rate)),
    Case("resynth-ok-file-44k", OK,
         lambda e: e.side.resynth(_wav(e, "r.wav", _voice(1.0, 44100), 44100))),
    Case("resynth-empty", A, lambda e: e.side.resynth(np.zeros(0, np.float32), e.rate), "empty"),
    Case("resynth-nan", A, lambda e: e.side.resynth(np.full(1000, np.nan), e.rate), "NaN"),
    Case("resynth-rate-1hz", A, lambda e: e.side.resynth(_voice(), 1), "rate"),
    Case("resynth-over-600s", A,
         lambda e: e.side.resynth(np.tile(_voice(1.0, 1000), 601), 1000), "at most"),
    Case("resynth-missing-file", A, lambda e: e.side.resynth(e.tmp / "nope.wav"), "not found"),
]


def _write_text(env: Env, name: str, text: str) -> Path:
    path = env.tmp / name
    path.write_text(text)
    return path


def _outcome(fn: Callable[[], np.ndarray]) -> tuple[str, str, list[str], np.ndarray | None]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            audio = fn()
        except MobileSpeechError as e:
            kind = next((k.__name__ for k in KINDS if isinstance(e, k)), type(e).__name__)
            return kind, str(e), [], None
    # "sped up" is the (untrained) tiny model's durations, not the input's doing: not counted
    ours = [str(w.message) for w in caught
            if issubclass(w.category, UserWarning) and "sped up" not in str(w.message)]
    return (WARN if ours else OK), "", ours, np.asarray(audio)


# ---- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bundle(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny bundle plus the C++ text frontend's assets, so both runtimes read text."""
    from export.frontend_assets import write_frontend_assets
    from mobilespeech_model.bundle import sha256_file
    from mobilespeech_model.frontend import SymbolTable

    root = tmp_path_factory.mktemp("bad") / "bundle"
    shutil.copytree(tiny_bundle, root)
    m = json.loads((root / "manifest.json").read_text())
    section = write_frontend_assets(root, SymbolTable.from_list(m["symbols"]))
    m["frontend"] = section
    for f in section["files"]:
        m["files"][f] = {"bytes": (root / f).stat().st_size, "sha256": sha256_file(root / f)}
    (root / "manifest.json").write_text(json.dumps(m, indent=1))
    return root


@pytest.fixture(scope="module")
def sides(bundle: Path) -> dict[str, Side]:
    import os

    from test_native import _build

    if not os.environ.get("MOBILESPEECH_NATIVE_LIB"):
        _build(sanitize=False)
    native = Native(bundle)
    if not native.synth.native.has_text_frontend:
        pytest.fail("the native build has no text frontend")
    return {"python": Python(bundle), "c": native}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_same_outcome_in_runtime_and_reference(case: Case, sides: dict[str, Side],
                                               tmp_path: Path) -> None:
    py = sides["python"].synth
    cfg = py.config
    results = {}
    for name, side in sides.items():
        env = Env(side, tmp_path / name, py.sample_rate, cfg.frontend.max_chars,
                  cfg.codec.n_codebooks, cfg.model.max_prompt_frames * py.hop_length
                  / py.sample_rate)
        env.tmp.mkdir()
        results[name] = _outcome(lambda env=env: case.run(env))
    for name, (kind, message, warned, audio) in results.items():
        assert kind == case.expect, f"{name}: expected {case.expect}, got {kind}: {message}"
        if case.expect in (OK, WARN):
            assert audio is not None and audio.ndim == 1 and audio.size > 0, name
            assert np.all(np.isfinite(audio)) and np.max(np.abs(audio)) <= 1.0, name
            if case.expect == OK:
                assert not warned, f"{name} warned: {warned}"
        else:
            assert re.search(case.pattern, message, re.I), f"{name}: {message!r}"
    if case.id.startswith("resynth-ok") and "file" not in case.id:
        # same input at the codec's rate: the same tokens, the same decoder windows
        (_, _, _, a), (_, _, _, b) = results["python"], results["c"]
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, atol=1e-4, rtol=0)


def test_case_count() -> None:
    assert len(CASES) >= 45
    assert len({c.id for c in CASES}) == len(CASES)
