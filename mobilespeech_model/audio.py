"""Prompt conditioning of the reference loop (soxr for resampling; file I/O is the runtime's).

Any sample rate (1 kHz .. 768 kHz, as the C runtime) and channel count (1..64) is accepted; a
prompt is mixed to mono, resampled to the codec's rate, and checked: not audio, silent (RMS
after removing any DC offset), too short -> ``InvalidAudioError``; too long -> trimmed to the
configured maximum, with a warning the caller can show. Channels that cancel when mixed
(opposite phase) fall back to the loudest channel, with a warning. The C core
(``native/src/audio.cc``) conditions prompts for what ships; this is the reference.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr

from mobilespeech_runtime.audio import (  # noqa: F401 - re-exported for the model side
    MAX_CHANNELS,
    MAX_INPUT_FRAMES,
    MAX_INPUT_SECONDS,
    MAX_RESYNTH_INPUT_SECONDS,
    MAX_SAMPLE_RATE,
    MIN_SAMPLE_RATE,
    check_input,
    check_rate,
    read_audio,
    to_mono,
    wav_bytes,
    write_wav,
)
from mobilespeech_runtime.errors import InvalidAudioError

from .config import AudioConfig


@dataclass
class Prompt:
    """A conditioned prompt: mono float32 at ``sample_rate``, plus what was done to it."""

    samples: np.ndarray
    sample_rate: int
    trimmed: bool = False
    channel: int | None = None  # the one channel used when the mix cancelled out


def resample(x: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    src_rate = check_rate(src_rate)
    if src_rate == dst_rate:
        return x.astype(np.float32, copy=False)
    return soxr.resample(x, src_rate, dst_rate, quality="HQ").astype(np.float32)


def ac_rms(x: np.ndarray) -> float:
    """RMS with the DC offset removed (a constant is silence)."""
    if x.size == 0:
        return 0.0
    x64 = x.astype(np.float64)
    return float(np.sqrt(np.mean((x64 - x64.mean()) ** 2)))


def condition_prompt(
    samples: np.ndarray, sample_rate: int, target_rate: int, cfg: AudioConfig
) -> Prompt:
    """Mono, resampled, validated and length-limited prompt audio."""
    data = check_input(samples, sample_rate)
    rate = int(sample_rate)
    seconds = data.shape[0] / float(rate)
    if seconds > MAX_INPUT_SECONDS or data.shape[0] > MAX_INPUT_FRAMES:
        raise InvalidAudioError(
            f"prompt is {seconds:.0f} s ({data.shape[0]} frames) long; at most "
            f"{MAX_INPUT_SECONDS:.0f} s and {MAX_INPUT_FRAMES} frames of input are accepted "
            f"(only the first {cfg.max_prompt_seconds:.0f} s are used)"
        )
    x = to_mono(data) if data.shape[1] > 1 else data[:, 0]
    if not np.all(np.isfinite(x)):
        raise InvalidAudioError("prompt audio contains NaN or infinite samples")
    if seconds < cfg.min_prompt_seconds:
        raise InvalidAudioError(
            f"prompt is {seconds:.2f} s long; at least {cfg.min_prompt_seconds:.1f} s is needed"
        )
    channel = None
    if data.shape[1] > 1 and ac_rms(x) < cfg.silence_rms:
        # The mix cancelled (channels in opposite phase): use the loudest channel alone.
        levels = [ac_rms(data[:, c]) for c in range(data.shape[1])]
        best = int(np.argmax(levels))
        if levels[best] >= cfg.silence_rms:
            channel = best
            x = np.ascontiguousarray(data[:, best])
            warnings.warn(
                f"the prompt's channels cancel out when mixed (opposite phase); using channel "
                f"{best} alone",
                stacklevel=2,
            )
    x = resample(x, rate, target_rate)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak > 1.0:
        x = x / peak
    rms = ac_rms(x)
    if rms < cfg.silence_rms:
        raise InvalidAudioError(
            f"prompt is silent (RMS {rms:.2e} < {cfg.silence_rms:.0e} after removing any DC "
            "offset)"
        )
    limit = int(cfg.max_prompt_seconds * target_rate)
    trimmed = x.size > limit
    if trimmed:
        warnings.warn(
            f"prompt is {seconds:.1f} s; using its first {cfg.max_prompt_seconds:.0f} s",
            stacklevel=2,
        )
        x = x[:limit]
    return Prompt(
        samples=np.ascontiguousarray(x, dtype=np.float32),
        sample_rate=target_rate,
        trimmed=trimmed,
        channel=channel,
    )


def load_prompt(path: str | Path, target_rate: int, cfg: AudioConfig) -> Prompt:
    data, sr = read_audio(path, MAX_INPUT_SECONDS, "prompt")
    return condition_prompt(data, sr, target_rate, cfg)
