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

from .checks import MAX_PIPE_BYTES, input_kind, read_input, write_file_atomic
from .config import AudioConfig
from .errors import AudioFileError, FileAccessError, InvalidAudioError

MIN_SAMPLE_RATE = 1000  # as native/src/audio.h
MAX_SAMPLE_RATE = 768000
MAX_CHANNELS = 64
MAX_INPUT_SECONDS = 300.0  # prompts: longer input is refused (only the first seconds are used)
MAX_INPUT_FRAMES = 1 << 24
MAX_FILE_BYTES = 1 << 30
MAX_RESYNTH_INPUT_SECONDS = 600.0  # synthesizer.MAX_RESYNTH_SECONDS (without importing torch)


@dataclass
class Prompt:
    """A conditioned prompt: mono float32 at ``sample_rate``, plus what was done to it."""

    samples: np.ndarray
    sample_rate: int
    trimmed: bool = False
    channel: int | None = None  # the one channel used when the mix cancelled out


def read_audio(
    path: str | Path | bytes,
    max_seconds: float | None = None,
    what: str = "audio",
    max_frames: int = MAX_INPUT_FRAMES,
) -> tuple[np.ndarray, int]:
    """Read any file soundfile understands -> (float32 [frames, channels], rate).

    ``path`` may be a regular file, a pipe (FIFO, /dev/fd/N, a process substitution; read up
    to ``MAX_PIPE_BYTES``) or the bytes of a file; devices and folders are refused
    (``AudioFileError``). Rate, channels and, with ``max_seconds``, the length the header
    declares are checked before any sample is read, so a huge file is refused at once.
    """
    name = _name(path)
    if isinstance(path, bytes):
        src: str | io.BytesIO = io.BytesIO(path)
    elif input_kind(path, what, AudioFileError) == "pipe":
        data = read_input(path, what, MAX_PIPE_BYTES, AudioFileError)
        if len(data) > MAX_PIPE_BYTES:
            raise InvalidAudioError(f"{what} {path} is a pipe with over {MAX_PIPE_BYTES} bytes")
        src = io.BytesIO(data)
    else:
        if Path(path).stat().st_size > MAX_FILE_BYTES:
            raise InvalidAudioError(f"{what} file {path} is over 1 GiB")
        src = str(path)
    try:
        with sf.SoundFile(src) as f:
            check_header(f.samplerate, f.channels, f.frames, name, max_seconds, max_frames)
            data = f.read(dtype="float32", always_2d=True)
            sr = f.samplerate
    except InvalidAudioError:
        raise
    except (RuntimeError, TypeError, ValueError, OSError, EOFError) as e:
        raise InvalidAudioError(f"cannot read audio from {name}: {e}") from e
    return data, int(sr)


def check_header(
    rate: int,
    channels: int,
    frames: int,
    name: str,
    max_seconds: float | None = None,
    max_frames: int = MAX_INPUT_FRAMES,
) -> None:
    """What an audio file's header declares, checked before its samples are read."""
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise InvalidAudioError(
            f"{name} declares {rate} Hz; supported rates are "
            f"{MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz"
        )
    if not 1 <= channels <= MAX_CHANNELS:
        raise InvalidAudioError(
            f"{name} has {channels} channels; 1..{MAX_CHANNELS} are supported"
        )
    if max_seconds is not None and (frames / rate > max_seconds or frames > max_frames):
        raise InvalidAudioError(
            f"{name} declares {frames / rate:.0f} s ({frames} frames) of audio; at most "
            f"{max_seconds:.0f} s and {max_frames} frames are accepted"
        )


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
    data, sr = read_audio(path, MAX_INPUT_SECONDS, "prompt")
    return condition_prompt(data, sr, target_rate, cfg)


def wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    """16-bit PCM wav file contents, clipped to [-1, 1] (NaN written as 0)."""
    x = np.nan_to_num(np.asarray(samples, dtype=np.float32), nan=0.0)
    buf = io.BytesIO()
    sf.write(buf, np.clip(x, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")
    return buf.getvalue()


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> None:
    """16-bit PCM wav, clipped to [-1, 1] (NaN written as 0), written atomically: the old file
    stays intact on any failure (checks.write_file_atomic). Missing parent folders are made.
    Errors are ``FileAccessError`` with the system's reason ("No space left on device")."""
    path = Path(path)
    data = wav_bytes(samples, sample_rate)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise FileAccessError(f"cannot write {path}: {e.strerror or e}") from e
    write_file_atomic(path, data)
