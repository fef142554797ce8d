"""Console output of the command-line tools: our lines on the real stderr, the runtime's log
lines (ExecuTorch / XNNPACK on descriptor 2) discarded unless asked for.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

_REAL_STDERR: list[Any] = []


def err() -> Any:
    """Where our own lines go: the real stderr, also while the runtime's are discarded."""
    return _REAL_STDERR[-1] if _REAL_STDERR else sys.stderr


@contextlib.contextmanager
def quiet_native_stderr(verbose: bool) -> Iterator[None]:
    """Discard what the runtime writes to stderr: C++ lines on descriptor 2, and ExecuTorch's
    log lines, which its Python bindings write through ``sys.stderr``. Our own lines use
    ``err()``, the real stderr."""
    try:
        uses_fd2 = sys.stderr is not None and sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        uses_fd2 = False  # stderr is captured (pytest): leave it alone
    if verbose or not uses_fd2:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    old = sys.stderr
    real = open(saved, "w", buffering=1, closefd=False, errors="backslashreplace")  # noqa: SIM115
    sink = open(os.devnull, "w")  # noqa: SIM115
    _REAL_STDERR.append(real)
    sys.stderr = sink
    try:
        yield
    finally:
        _REAL_STDERR.pop()
        real.flush()
        sys.stderr = old
        sink.close()
        os.dup2(saved, 2)
        os.close(saved)
