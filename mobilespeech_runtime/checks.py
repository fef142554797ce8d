"""Cheap input checks shared by the API and the CLI (no torch, no model code, no frontend).

The CLI runs them before any heavy import, so a bad argument is reported in well under a second;
the ``Synthesizer`` runs the same ones, so Python and C (``native/src``) give the same answers.
"""

from __future__ import annotations

import contextlib
import errno
import math
import operator
import os
import secrets
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError, FileAccessError, InvalidTextError
from .limits import request_limits

SEED_MAX = 2**64 - 1  # seeds are uint64, as in the C ABI

# The request limits are the C core's (native/src/request_limits.h, read through the C ABI by
# limits.py): these old names stay as module attributes, read from the library on first use.
_LIMIT_NAMES = {
    "MAX_THREADS": "max_threads",
    "MAX_STEPS_PER_LAYER": "max_steps_per_layer",
    # phoneme ids a request may read as per allowed character (long digit strings and the like)
    "PHONEMES_PER_CHAR": "phonemes_per_char",
    "MAX_TEXT_FILE_BYTES_PER_CHAR": "max_utf8_bytes_per_char",
    "MAX_PIPE_BYTES": "max_pipe_bytes",  # a pipe (FIFO, /dev/fd/N, <(...)) is read up to this
}
if TYPE_CHECKING:
    MAX_THREADS: int
    MAX_STEPS_PER_LAYER: int
    PHONEMES_PER_CHAR: float
    MAX_TEXT_FILE_BYTES_PER_CHAR: int
    MAX_PIPE_BYTES: int


def __getattr__(name: str) -> int | float:
    """``checks.MAX_THREADS`` and the other old names: the library's values (PEP 562)."""
    field = _LIMIT_NAMES.get(name)
    if field is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(request_limits(), field)


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
    """Phoneme ids a request of ``max_chars`` characters may read as (the C frontend's bound)."""
    return int(request_limits().phonemes_per_char * max_chars)


# ---- input files: regular files and pipes, read with a bound; nothing else -------------------
def input_kind(path: str | Path, what: str, error: type[FileAccessError] = FileAccessError) -> str:
    """'file' or 'pipe' (a FIFO, /dev/fd/N, a process substitution); else ``error``.

    Devices (/dev/zero, a terminal), sockets and folders are refused at once: reading them
    could block or never end. mobilespeech_cli.cc applies the same rule (README, "Errors and
    exit codes").
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError as e:
        raise error(f"{what} file not found: {path}") from e
    except OSError as e:
        raise error(f"cannot read {what} {path}: {e.strerror or e}") from e
    if stat.S_ISDIR(mode):
        raise error(f"{what} {path} is a directory, not a file")
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISFIFO(mode):
        return "pipe"
    raise error(f"{what} {path} is not a regular file or a pipe (a device or a socket)")


def read_input(
    path: str | Path, what: str, max_bytes: int, error: type[FileAccessError] = FileAccessError
) -> bytes:
    """At most ``max_bytes + 1`` bytes of a regular file or a pipe (the caller reports "too
    long"). A named pipe is opened without waiting for a writer: with none it reads as empty
    (``error``), so a FIFO nobody writes to cannot hang the command."""
    kind = input_kind(path, what, error)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | (os.O_NONBLOCK if kind == "pipe" else 0))
        os.set_blocking(fd, True)
        with open(fd, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise error(f"cannot read {what} {path}: {e.strerror or e}") from e
    if kind == "pipe" and not data:
        raise error(f"{what} {path} is a pipe with no data (start its writer first)")
    return data


def read_text_file(path: str | Path, max_chars: int) -> str:
    """Read at most what ``max_chars`` characters can take (files and pipes only)."""
    limit = request_limits().max_utf8_bytes_per_char * max_chars
    data = read_input(path, "--text-file", limit)
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
    if getattr(steps, "ndim", None) == 1:  # a numpy array (of integers, checked below)
        steps = list(steps)  # type: ignore[call-overload]
    if isinstance(steps, str | bytes) or not isinstance(steps, Sequence):
        raise ConfigError("steps must be a sequence of integers, one per codec layer")
    out = []
    for s in steps:
        if isinstance(s, bool) or type(s).__name__ == "bool_":
            raise ConfigError("steps must be integers, got a bool")
        try:
            out.append(operator.index(s))
        except TypeError as e:
            raise ConfigError(f"steps must be integers, got {s!r}") from e
    top = request_limits().max_steps_per_layer
    if len(out) != n_codebooks or any(s < 1 or s > top for s in out):
        raise ConfigError(
            f"steps must give 1..{top} steps for each of the {n_codebooks} "
            f"codec layers, got {list(out)}"
        )
    return tuple(out)


def check_length_scale(value: object) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as e:
        raise ConfigError(f"length_scale must be a number, got {value!r}") from e
    lim = request_limits()
    if not (math.isfinite(x) and lim.min_length_scale <= x <= lim.max_length_scale):
        raise ConfigError(
            f"length_scale must be in [{lim.min_length_scale:g}, {lim.max_length_scale:g}], "
            f"got {value}"
        )
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
    top = request_limits().max_threads
    if not 0 <= n <= top:
        raise ConfigError(f"num_threads must be in 0..{top} (0: default), got {n}")
    return n or None


# ---- output: checked up front, written atomically ---------------------------------------------
def _file_id(path: str | Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _files_under(folder: Path) -> Iterable[Path]:
    for root, _dirs, files in os.walk(folder):
        for name in files:
            yield Path(root) / name


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_out_path(
    out: str | Path,
    keep: Sequence[str | Path | None] = (),
    protect: Sequence[str | Path | None] = (),
) -> Path:
    """A ``.wav`` path we may write, checked before any work; returns the real target.

    Refused (``ConfigError``): a folder, a name not ending in .wav, one of the run's inputs
    ``keep`` (prompt, text file, checkpoint), and anything inside a ``protect`` folder (the
    bundle in use) or the same file as one in it, through symlinks and hard links alike.
    ``FileAccessError``: the folder is missing or cannot take a new file.
    """
    path = Path(out)
    if path.is_dir():
        raise ConfigError(f"--out {out} is a directory; give a file name ending in .wav")
    if path.suffix.lower() != ".wav":
        raise ConfigError(f"--out {out}: the output is a WAV file; give a name ending in .wav")
    real = Path(os.path.realpath(path))
    target = _file_id(real)
    for folder in protect:
        if folder is None or not Path(folder).is_dir():
            continue
        root = Path(os.path.realpath(folder))
        same = target is not None and any(_file_id(f) == target for f in _files_under(root))
        if same or _inside(real, root):
            raise ConfigError(
                f"--out {out} is inside the model bundle {folder}; refusing to write there "
                "(it would break the bundle): pick another folder"
            )
    for other in keep:
        if other is None:
            continue
        if (target is not None and _file_id(other) == target) or real == Path(
            os.path.realpath(other)
        ):
            raise ConfigError(
                f"--out {out} is an input of this run ({other}); refusing to overwrite it "
                "(pick another name)"
            )
    parent = real.parent
    if not parent.is_dir():
        reason = "is not a directory" if parent.exists() else "does not exist"
        raise FileAccessError(f"cannot write --out {out}: the folder {parent} {reason}")
    try:
        if target is not None and not stat.S_ISREG(os.stat(real).st_mode):
            if not os.access(real, os.W_OK):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        else:
            fd, tmp = _create_temp(real)  # what write_file_atomic will do
            os.close(fd)
            os.unlink(tmp)
    except OSError as e:
        raise FileAccessError(f"cannot write --out {out}: {e.strerror or e}") from e
    return real


def _create_temp(target: Path) -> tuple[int, Path]:
    """A new file next to ``target`` (same folder, so the rename cannot cross file systems),
    with the mode a plain open() would give it."""
    while True:
        tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except FileExistsError:
            continue
        return fd, tmp


def write_file_atomic(path: str | Path, data: bytes, what: str = "") -> None:
    """Write ``data`` to ``path`` so that it is either the whole new file or untouched.

    A temporary file in the target's folder is written, fsynced and renamed over the target
    (through symlinks: the file they point to is replaced). On any failure or interrupt the
    temporary file is removed and an existing target is left as it was. A target that is not a
    regular file (a device such as /dev/full, a FIFO) cannot be replaced: it is written in
    place. Errors are ``FileAccessError`` with the system's reason ("No space left on device",
    "File too large", "Permission denied").
    """
    name = f"{what} {path}" if what else str(path)
    real = Path(os.path.realpath(path))
    try:
        try:
            mode = os.stat(real).st_mode
        except FileNotFoundError:
            mode = None
        if mode is not None and not stat.S_ISREG(mode):
            with open(real, "wb") as f:
                f.write(data)
            return
        fd, tmp = _create_temp(real)
        try:
            with open(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            if mode is not None:
                os.chmod(tmp, stat.S_IMODE(mode))
            os.replace(tmp, real)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        with contextlib.suppress(OSError):  # the rename itself, durable
            dfd = os.open(real.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
    except OSError as e:
        raise FileAccessError(f"cannot write {name}: {e.strerror or e}") from e
