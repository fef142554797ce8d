"""Audio file I/O of the runtime (soundfile): read any audio file or pipe with bounds, write wav.

The runtime hands the samples to the C core as they are (any rate 1 kHz .. 768 kHz, 1..64
channels); mixing, resampling and the prompt's checks happen there, once. The reference
loop's own conditioning (soxr) is ``mobilespeech_model.audio``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import soundfile as sf

from .checks import MAX_PIPE_BYTES, input_kind, read_input, write_file_atomic
from .errors import AudioFileError, FileAccessError, InvalidAudioError

MIN_SAMPLE_RATE = 1000  # as native/src/audio.h
MAX_SAMPLE_RATE = 768000
MAX_CHANNELS = 64
MAX_INPUT_SECONDS = 300.0  # prompts: longer input is refused (only the first seconds are used)
MAX_INPUT_FRAMES = 1 << 24
MAX_FILE_BYTES = 1 << 30
MAX_RESYNTH_INPUT_SECONDS = 600.0  # synthesizer.MAX_RESYNTH_SECONDS (without importing torch)


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
