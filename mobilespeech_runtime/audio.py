"""Audio I/O and prompt conditioning (soundfile for files, soxr for resampling).

Any sample rate and channel count is accepted; a prompt is mixed to mono, resampled to the
codec's rate, and checked: not audio, silent, too short -> ``InvalidAudioError``; too long ->
trimmed to the configured maximum, with a warning the caller can show.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from .config import AudioConfig
from .errors import InvalidAudioError


@dataclass
class Prompt:
    """A conditioned prompt: mono float32 at ``sample_rate``, plus what was done to it."""

    samples: np.ndarray
    sample_rate: int
    trimmed: bool = False


def read_audio(path: str | Path | bytes) -> tuple[np.ndarray, int]:
    """Read any file soundfile understands -> (float32 [frames, channels], rate)."""
    if not isinstance(path, bytes) and not Path(path).is_file():
        raise InvalidAudioError(f"prompt file not found: {path}")
    try:
        src = io.BytesIO(path) if isinstance(path, bytes) else str(path)
        data, sr = sf.read(src, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as e:
        raise InvalidAudioError(f"cannot read audio from {path!r:.80}: {e}") from e
    return data, int(sr)


def to_mono(data: np.ndarray) -> np.ndarray:
    data = np.asarray(data, dtype=np.float32)
    if data.ndim == 2:
        return data.mean(axis=1)
    if data.ndim != 1:
        raise InvalidAudioError(f"audio must be 1-D or [frames, channels], got shape {data.shape}")
    return data


def resample(x: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    if src_rate <= 0:
        raise InvalidAudioError(f"invalid sample rate {src_rate}")
    if src_rate == dst_rate:
        return x.astype(np.float32, copy=False)
    return soxr.resample(x, src_rate, dst_rate, quality="HQ").astype(np.float32)


def condition_prompt(
    samples: np.ndarray, sample_rate: int, target_rate: int, cfg: AudioConfig
) -> Prompt:
    """Mono, resampled, validated and length-limited prompt audio."""
    x = to_mono(samples)
    if x.size == 0:
        raise InvalidAudioError("prompt audio is empty")
    if not np.all(np.isfinite(x)):
        raise InvalidAudioError("prompt audio contains NaN or infinite samples")
    seconds = x.size / float(sample_rate) if sample_rate > 0 else 0.0
    if seconds < cfg.min_prompt_seconds:
        raise InvalidAudioError(
            f"prompt is {seconds:.2f} s long; at least {cfg.min_prompt_seconds:.1f} s is needed"
        )
    x = resample(x, sample_rate, target_rate)
    peak = float(np.max(np.abs(x)))
    if peak > 1.0:
        x = x / peak
    rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
    if rms < cfg.silence_rms:
        raise InvalidAudioError(f"prompt is silent (RMS {rms:.2e} < {cfg.silence_rms:.0e})")
    limit = int(cfg.max_prompt_seconds * target_rate)
    trimmed = x.size > limit
    if trimmed:
        warnings.warn(
            f"prompt is {seconds:.1f} s; using its first {cfg.max_prompt_seconds:.0f} s",
            stacklevel=2,
        )
        x = x[:limit]
    return Prompt(
        samples=np.ascontiguousarray(x, dtype=np.float32), sample_rate=target_rate, trimmed=trimmed
    )


def load_prompt(path: str | Path, target_rate: int, cfg: AudioConfig) -> Prompt:
    data, sr = read_audio(path)
    return condition_prompt(data, sr, target_rate, cfg)


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> None:
    """16-bit PCM wav, clipped to [-1, 1]."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.clip(samples, -1.0, 1.0), sample_rate, subtype="PCM_16")
