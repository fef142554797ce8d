"""Cheap input checks shared by the API and the CLI (no torch, no model code, no frontend).

The CLI runs them before any heavy import, so a bad argument is reported in well under a second;
the ``Synthesizer`` runs the same ones, so Python and C (``native/src``) give the same answers.
"""

from __future__ import annotations

import math
import operator
import os
from collections.abc import Sequence
from pathlib import Path

from .errors import ConfigError, InvalidTextError

MAX_THREADS = 256  # as the C ABI (ms_synth_options.num_threads)
MAX_STEPS_PER_LAYER = 64
SEED_MAX = 2**64 - 1  # seeds are uint64, as in the C ABI
# A request may read as at most this many phoneme ids per allowed character (English reads
# as about one): long digit strings and the like cannot turn a 2,000-character request into
# twenty minutes of audio. The C runtime applies the same bound (engine.cc).
PHONEMES_PER_CHAR = 1.5
MAX_TEXT_FILE_BYTES_PER_CHAR = 4  # UTF-8 needs at most 4 bytes a character


def check_text(text: object, max_chars: int, reject_nul: bool = True) -> str:
    """Type, emptiness, NUL, encodability and length of a request's text.

    A NUL is refused at the API (the C ABI takes NUL-terminated strings, so it would cut the
    text there); the frontend by itself drops it as junk (``reject_nul=False``).
    """
    if not isinstance(text, str):
        raise InvalidTextError(f"text must be a string, got {type(text).__name__}")
    if reject_nul and "\x00" in text:
        raise InvalidTextError("text contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InvalidTextError(
            f"text is not valid UTF-8 (undecodable byte at character {e.start})"
        ) from e
    if not text.strip():
        raise InvalidTextError("text is empty: give at least one word to speak")
    if len(text) > max_chars:
        raise InvalidTextError(
            f"text is {len(text)} characters long; the limit is {max_chars} "
            f"characters per request: split it into shorter pieces"
        )
    return text


def max_request_phonemes(max_chars: int) -> int:
    return int(PHONEMES_PER_CHAR * max_chars)


def read_text_file(path: str | Path, max_chars: int) -> str:
    """Read at most what ``max_chars`` characters can take, so /dev/zero cannot eat memory."""
    limit = MAX_TEXT_FILE_BYTES_PER_CHAR * max_chars
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise ConfigError(f"cannot read --text-file {path}: {e.strerror or e}") from e
    if len(data) > limit:
        raise InvalidTextError(
            f"--text-file {path} is over {limit} bytes; the limit is {max_chars} characters "
            "per request: split it into shorter pieces"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidTextError(
            f"--text-file {path} is not valid UTF-8 (byte {e.start})"
        ) from e


def check_seed(seed: object) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool):
        raise ConfigError("seed must be an integer, got a bool")
    try:
        value = operator.index(seed)  # type: ignore[arg-type]
    except TypeError as e:
        raise ConfigError(f"seed must be an integer, got {type(seed).__name__}") from e
    if not 0 <= value <= SEED_MAX:
        raise ConfigError(f"seed must be in 0..2**64-1, got {value}")
    return value


def check_steps(steps: object, n_codebooks: int) -> tuple[int, ...] | None:
    if steps is None:
        return None
    if isinstance(steps, str | bytes) or not isinstance(steps, Sequence):
        raise ConfigError("steps must be a sequence of integers, one per codec layer")
    out = []
    for s in steps:
        if isinstance(s, bool):
            raise ConfigError("steps must be integers, got a bool")
        try:
            out.append(operator.index(s))
        except TypeError as e:
            raise ConfigError(f"steps must be integers, got {s!r}") from e
    if len(out) != n_codebooks or any(s < 1 or s > MAX_STEPS_PER_LAYER for s in out):
        raise ConfigError(
            f"steps must give 1..{MAX_STEPS_PER_LAYER} steps for each of the {n_codebooks} "
            f"codec layers, got {list(out)}"
        )
    return tuple(out)


def check_length_scale(value: object) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as e:
        raise ConfigError(f"length_scale must be a number, got {value!r}") from e
    if not (math.isfinite(x) and 0.25 <= x <= 4.0):
        raise ConfigError(f"length_scale must be in [0.25, 4], got {value}")
    return x


def check_threads(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ConfigError("num_threads must be an integer, got a bool")
    try:
        n = operator.index(value)  # type: ignore[arg-type]
    except TypeError as e:
        raise ConfigError(f"num_threads must be an integer, got {value!r}") from e
    if not 0 <= n <= MAX_THREADS:
        raise ConfigError(f"num_threads must be in 0..{MAX_THREADS} (0: default), got {n}")
    return n or None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_out_path(out: str | Path, keep: Sequence[str | Path | None] = ()) -> Path:
    """A writable ``.wav`` path that is not one of ``keep`` (the prompt): checked up front."""
    path = Path(out)
    if path.is_dir():
        raise ConfigError(f"--out {out} is a directory; give a file name ending in .wav")
    if path.suffix.lower() != ".wav":
        raise ConfigError(f"--out {out}: the output is a WAV file; give a name ending in .wav")
    for other in keep:
        if other is not None and (
            _same_file(path, Path(other)) or path.resolve() == Path(other).resolve()
        ):
            raise ConfigError(
                f"--out {out} is the input audio file; refusing to overwrite it (pick another name)"
            )
    parent = path.parent
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(f"--out {out}: {probe} is not a directory")
    existed = path.exists()
    try:
        if parent.exists():
            with open(path, "ab"):
                pass
            if not existed:
                path.unlink()
        elif not os.access(probe, os.W_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as e:
        raise ConfigError(f"cannot write --out {out}: {e.strerror or e}") from e
    return path
