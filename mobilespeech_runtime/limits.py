"""The request limits of the C core, read once from the library (``ms_get_request_limits``).

One table inside libmobilespeech (``native/src/request_limits.h``) holds every bound a request
is checked against: steps per layer, the length-scale range, threads, prompt channels, rates
and length, phonemes per character, input file sizes. Python reads it here instead of keeping
its own copy, so :mod:`mobilespeech_runtime.checks` and the C runtime cannot drift apart.

    from mobilespeech_runtime.limits import request_limits
    request_limits().max_threads   # 256
"""

from __future__ import annotations

import ctypes as C
import functools
from dataclasses import dataclass, fields

from .native_lib import MS_OK, RequestLimitsStruct, _error, load_library


@dataclass(frozen=True)
class RequestLimits:
    """``ms_request_limits`` of mobilespeech.h, field for field (the comments there say why)."""

    max_steps_per_layer: int
    min_length_scale: float
    max_length_scale: float
    max_threads: int
    max_channels: int
    min_sample_rate: int
    max_sample_rate: int
    max_input_seconds: float
    max_input_frames: int
    phonemes_per_char: float
    max_codebooks: int
    max_resynth_seconds: float
    max_utf8_bytes_per_char: int
    max_resynth_frames: int
    max_pipe_bytes: int
    max_audio_file_bytes: int


@functools.cache
def request_limits() -> RequestLimits:
    """The library's limits (loaded on first use, then cached); ``NativeError`` without it."""
    lib = load_library()  # native_binding.load_library: the same function
    raw = RequestLimitsStruct()
    raw.struct_size = C.sizeof(raw)
    status = lib.ms_get_request_limits(C.byref(raw))
    if status != MS_OK:
        raise _error(status, lib.ms_last_error(None).decode(errors="replace"))
    return RequestLimits(**{f.name: getattr(raw, f.name) for f in fields(RequestLimits)})
