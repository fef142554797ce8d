"""Audio I/O and prompt conditioning (soundfile for files, soxr for resampling).

Any sample rate (1 kHz .. 768 kHz, as the C runtime) and channel count (1..64) is accepted; a
prompt is mixed to mono, resampled to the codec's rate, and checked: not audio, silent (RMS
after removing any DC offset), too short -> ``InvalidAudioError``; too long -> trimmed to the
configured maximum, with a warning the caller can show. Channels that cancel when mixed
(opposite phase) fall back to the loudest channel, with a warning.
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
from .errors import ConfigError, InvalidAudioError

MIN_SAMPLE_RATE = 1000  # as native/src/audio.h
MAX_SAMPLE_RATE = 768000
MAX_CHANNELS = 64
MAX_INPUT_SECONDS = 300.0  # prompts: longer input is refused (only the first seconds are used)
MAX_INPUT_FRAMES = 1 << 24
MAX_FILE_BYTES = 1 << 30


@dataclass
class Prompt:
    """A conditioned prompt: mono float32 at ``sample_rate``, plus what was done to it."""

    samples: np.ndarray
    sample_rate: int
    trimmed: bool = False
    channel: int | None = None  # the one channel used when the mix cancelled out


def read_audio(path: str | Path | bytes) -> tuple[np.ndarray, int]:
    """Read any file soundfile understands -> (float32 [frames, channels], rate)."""
    if not isinstance(path, bytes):
        p = Path(path)
        if p.is_dir():
            raise InvalidAudioError(f"audio path {path} is a directory, not a file")
        if not p.is_file():
            raise InvalidAudioError(f"audio file not found: {path}")
        if p.stat().st_size > MAX_FILE_BYTES:
            raise InvalidAudioError(f"audio file {path} is over 1 GiB")
    try:
        src = io.BytesIO(path) if isinstance(path, bytes) else str(path)
        with sf.SoundFile(src) as f:
            if not MIN_SAMPLE_RATE <= f.samplerate <= MAX_SAMPLE_RATE:
                raise InvalidAudioError(
                    f"{_name(path)} declares {f.samplerate} Hz; supported rates are "
                    f"{MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz"
                )
            if not 1 <= f.channels <= MAX_CHANNELS:
                raise InvalidAudioError(
                    f"{_name(path)} has {f.channels} channels; 1..{MAX_CHANNELS} are supported"
                )
            data = f.read(dtype="float32", always_2d=True)
            sr = f.samplerate
    except InvalidAudioError:
        raise
    except (RuntimeError, TypeError, ValueError, OSError, EOFError) as e:
        raise InvalidAudioError(f"cannot read audio from {_name(path)}: {e}") from e
    return data, int(sr)


def _name(path: str | Path | bytes) -> str:
    return "the audio bytes" if isinstance(path, bytes) else str(path)


def to_mono(data: np.ndarray) -> np.ndarray:
    data = np.asarray(data, dtype=np.float32)
    if data.ndim == 2:
        return data.mean(axis=1)
    if data.ndim != 1:
        raise InvalidAudioError(f"audio must be 1-D or [frames, channels], got shape {data.shape}")
    return data


def check_rate(rate: object) -> int:
    if isinstance(rate, bool) or not isinstance(rate, int | np.integer):
        raise InvalidAudioError(f"sample rate must be an integer, got {rate!r}")
    if not MIN_SAMPLE_RATE <= int(rate) <= MAX_SAMPLE_RATE:
        raise InvalidAudioError(
            f"invalid sample rate {rate} Hz (supported: {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE})"
        )
    return int(rate)


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


def check_input(samples: object, sample_rate: object, what: str = "prompt") -> np.ndarray:
    """Shape, rate, channel count, length bounds and finiteness of raw PCM -> [frames, ch]."""
    check_rate(sample_rate)
    try:
        x = np.asarray(samples, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise InvalidAudioError(f"{what} audio is not a numeric array: {e}") from e
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise InvalidAudioError(f"audio must be 1-D or [frames, channels], got shape {x.shape}")
    if not 1 <= x.shape[1] <= MAX_CHANNELS:
        raise InvalidAudioError(
            f"{what} has {x.shape[1]} channels; 1..{MAX_CHANNELS} are supported"
        )
    if x.shape[0] == 0:
        raise InvalidAudioError(f"{what} audio is empty")
    return x


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
    data, sr = read_audio(path)
    return condition_prompt(data, sr, target_rate, cfg)


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> None:
    """16-bit PCM wav, clipped to [-1, 1] (NaN written as 0); errors are ``ConfigError``."""
    path = Path(path)
    x = np.nan_to_num(np.asarray(samples, dtype=np.float32), nan=0.0)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), np.clip(x, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")
    except (OSError, RuntimeError, TypeError, ValueError) as e:
        raise ConfigError(f"cannot write {path}: {e}") from e
