"""``Synthesizer``: the Python face of the C++ core (``libmobilespeech``), nothing more.

Every step of synthesis (text frontend, prompt conditioning, the unmasking loop, chunked
decoding, the vocoder) runs in the native core, the same code Android, iOS and
``mobilespeech_cli`` run, so Python and C give bit-identical audio for the same text, prompt
and seed. This module only adapts types: paths and arrays in, ``SynthesisResult`` and
``Timings`` out, C status codes raised as the package's exceptions (native_binding.py).

The PyTorch reference loop (the oracle export parity holds the core to) is
``mobilespeech_model.ReferenceSynthesizer``; checkpoints and the eager backend live there.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .checks import check_threads
from .errors import BundleError, ConfigError
from .native_binding import NativeSynthesizer

MOVED_TO_REFERENCE = (
    "the PyTorch reference moved out of the runtime: use "
    "mobilespeech_model.ReferenceSynthesizer.{what} (pip install -e . in the repository), or "
    "`python -m mobilespeech_model.cli synth {flag}`"
)


@dataclass
class Timings:
    """Seconds spent per stage (summed over sentences) for benchmarks and the CLI."""

    frontend: float = 0.0
    prompt: float = 0.0
    text: float = 0.0
    smd: float = 0.0
    decoder: float = 0.0  # the codec decoder (the mel codec: tokens -> mel)
    vocoder: float = 0.0  # the mel codec's vocoder (mel -> audio)
    first_audio: float | None = None
    smd_calls: int = 0
    frames: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_native(cls, t: dict[str, float]) -> Timings:
        """``ms_timings`` (seconds; first_audio_s < 0 until audio exists) as this dataclass."""
        first = t.get("first_audio_s", -1.0)
        return cls(
            frontend=t["frontend_s"], prompt=t["prompt_s"], text=t["text_s"], smd=t["smd_s"],
            decoder=t["decoder_s"], vocoder=t.get("vocoder_s", 0.0),
            first_audio=first if first >= 0 else None,
            smd_calls=int(t["smd_calls"]), frames=int(t["frames"]),
        )


@dataclass
class SynthesisResult:
    samples: np.ndarray
    sample_rate: int
    timings: Timings = field(default_factory=Timings)

    @property
    def seconds(self) -> float:
        return self.samples.size / self.sample_rate


class Synthesizer:
    """Zero-shot TTS from a bundle, run by the native core. One per thread (the C ABI's
    rule); ``cancel()`` may be called from any thread."""

    def __init__(self, native: NativeSynthesizer, bundle: Path) -> None:
        self._native: NativeSynthesizer | None = native
        self.bundle = bundle
        self.limits: dict[str, Any] = dict(native.limits)
        self.num_threads: int = int(self.limits["num_threads"])
        self._manifest = _read_manifest(bundle)
        self.last_timings = Timings()

    # ---- construction -----------------------------------------------------------------------
    @classmethod
    def from_bundle(
        cls,
        path: str | Path,
        num_threads: int | None = None,
        backend: str = "native",
        verify_checksums: bool = True,
    ) -> Synthesizer:
        """Load a bundle folder (manifest.json + .pte programs) into the native core.

        ``backend`` is kept for old callers: ``"executorch"`` is the same as ``"native"`` (the
        core runs the bundle's ExecuTorch programs); ``"eager"`` moved to the reference."""
        if not isinstance(path, str | Path) or not str(path):
            raise ConfigError(f"bundle path must be a folder path, got {path!r}")
        if backend == "eager":
            raise ConfigError(MOVED_TO_REFERENCE.format(
                what="from_bundle(path, backend='eager')", flag="--bundle DIR --backend eager"))
        if backend not in ("native", "executorch"):
            raise ConfigError(f"unknown backend {backend!r}: use 'native'")
        num_threads = check_threads(num_threads)
        native = NativeSynthesizer(Path(path), num_threads, verify_checksums=verify_checksums)
        return cls(native, Path(path))

    @classmethod
    def from_checkpoint(cls, path: str | Path, *args: Any, **kwargs: Any) -> Synthesizer:
        """Moved: a checkpoint runs in the PyTorch reference, not in the shipped runtime."""
        raise ConfigError(MOVED_TO_REFERENCE.format(
            what="from_checkpoint(path)", flag="--checkpoint model.pt"))

    # ---- lifetime -----------------------------------------------------------------------------
    def close(self) -> None:
        """Release the native handle; later calls raise ``ConfigError``. Closing twice is
        harmless. ``with Synthesizer.from_bundle(...) as s:`` closes on exit."""
        if self._native is not None:
            self._native.close()
            self._native = None

    def __enter__(self) -> Synthesizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def native(self) -> NativeSynthesizer:
        if self._native is None:
            raise ConfigError("this Synthesizer is closed")
        return self._native

    def cancel(self) -> None:
        """Stop a synthesis in progress (safe from any thread)."""
        if self._native is not None:
            self._native.cancel()

    # ---- what the bundle is -------------------------------------------------------------------
    @property
    def sample_rate(self) -> int:
        return int(self.limits["sample_rate"])

    @property
    def hop_length(self) -> int:
        """Waveform samples per codec token."""
        return int(self.limits["hop_length"])

    @property
    def frame_rate(self) -> float:
        """Codec tokens per second, per codebook."""
        return self.sample_rate / self.hop_length

    @property
    def n_codebooks(self) -> int:
        return int(self.limits["n_codebooks"])

    @property
    def codebook_size(self) -> int:
        return int(self.limits["codebook_size"])

    @property
    def bits_per_second(self) -> float:
        """The codec's bitrate: n_codebooks * log2(codebook_size) * frame_rate."""
        return self.n_codebooks * math.log2(self.codebook_size) * self.frame_rate

    def info(self) -> dict[str, Any]:
        cfg = self._manifest.get("config", {})
        sched, lim = cfg.get("schedule", {}), self.limits
        return {
            "backend": "native",
            "model": cfg.get("name"),
            "variant": self._manifest.get("variant"),
            "sample_rate": self.sample_rate,
            "hop_length": self.hop_length,
            "frame_rate": self.frame_rate,
            "bits_per_second": self.bits_per_second,
            "codebooks": self.n_codebooks,
            "codebook_size": self.codebook_size,
            "schedule": list(sched.get("steps", [])),
            "temperature": sched.get("temperature"),
            "guidance": sched.get("guidance"),  # inside smd.pte: fixed per bundle
            "mel_match": sched.get("mel_match"),
            "max_frames": lim["max_frames"],
            "max_chars": lim["max_chars"],
            "prompt_seconds": [lim["min_prompt_seconds"], lim["max_prompt_seconds"]],
            "num_threads": self.num_threads,
        }

    # ---- synthesis ----------------------------------------------------------------------------
    def synthesize(
        self,
        text: str,
        prompt: str | Path | np.ndarray | None = None,
        prompt_sample_rate: int | None = None,
        seed: int | None = None,
        steps: Sequence[int] | None = None,
        length_scale: float = 1.0,
    ) -> SynthesisResult:
        """Whole utterance as float32 mono at ``sample_rate``."""
        chunks = list(self.stream(text, prompt, prompt_sample_rate, seed, steps, length_scale))
        samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        return SynthesisResult(samples, self.sample_rate, self.last_timings)

    def stream(
        self,
        text: str,
        prompt: str | Path | np.ndarray | None = None,
        prompt_sample_rate: int | None = None,
        seed: int | None = None,
        steps: Sequence[int] | None = None,
        length_scale: float = 1.0,
    ) -> Iterator[np.ndarray]:
        """Yield audio chunks as the core decodes them (one per decoder window).

        Text, prompt and options are checked when the first chunk is asked for; notices (a
        trimmed prompt, a sped-up sentence, skipped words) become warnings."""
        native = self.native
        self.last_timings = Timings()
        steps = None if steps is None else tuple(steps)
        for chunk in native.stream(text, prompt, prompt_sample_rate, seed, steps, length_scale):
            self.last_timings = Timings.from_native(native.timings())
            yield chunk
        self.last_timings = Timings.from_native(native.timings())

    def resynthesize(
        self, audio: str | Path | np.ndarray, sample_rate: int | None = None
    ) -> SynthesisResult:
        """Audio through the codec alone (encode -> tokens -> decode, as synthesis decodes):
        a path or a [frames] / [frames, channels] array with ``sample_rate``; the output has
        the input's duration at ``self.sample_rate``."""
        native = self.native
        self.last_timings = Timings()
        samples = native.resynthesize(audio, sample_rate)
        self.last_timings = Timings.from_native(native.timings())
        return SynthesisResult(samples, self.sample_rate, self.last_timings)

    def encode_text(self, text: str) -> list[list[int]]:
        """Text -> phoneme id chunks (one per sentence or piece) by the core's frontend."""
        return self.native.text_to_phonemes(text)

    def symbols(self) -> list[str]:
        """Phoneme symbol of each id."""
        return list(self.native.symbols)


def _read_manifest(bundle: Path) -> dict[str, Any]:
    """The manifest as JSON, for ``info()`` only: the core has already validated it."""
    try:
        return json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BundleError(f"{bundle / 'manifest.json'}: {e}") from e
