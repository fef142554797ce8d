"""The C library itself: finding and loading ``libmobilespeech``, its status codes and structs
(the layouts of ``native/include/mobilespeech.h``), and a status as the package's exception.

The lowest layer of the Python runtime: it imports only ``errors``, so every other module
(``limits``, ``checks``, ``native_binding``) can reach the library without an import circle.
:mod:`mobilespeech_runtime.native_binding` re-exports all of it, with the Pythonic wrapper.
"""

from __future__ import annotations

import ctypes as C
import os
import threading
from pathlib import Path
from typing import Any

from .errors import (
    BundleError,
    ConfigError,
    InvalidAudioError,
    InvalidTextError,
    MobileSpeechError,
)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_LIBRARY = REPO / "build" / "native" / "libmobilespeech.so"
# The wheel's copy (scripts/build_wheel.sh): the soname, beside the ExecuTorch libraries it
# finds through its $ORIGIN runpath.
PACKAGED_LIBRARY = Path(__file__).resolve().parent / "_lib" / "libmobilespeech.so.0"

# ms_status values (fixed forever in the header)
MS_OK = 0
MS_DONE = 1
MS_ERR_INVALID_ARGUMENT = 2
MS_ERR_MODEL = 3
MS_ERR_INVALID_TEXT = 4
MS_ERR_INVALID_AUDIO = 5
MS_ERR_CANCELLED = 6
MS_ERR_STATE = 7
MS_ERR_INTERNAL = 8
MS_ERR_NO_MEMORY = 9
MS_ERR_BUSY = 10

MS_CHUNK_END_OF_SENTENCE = 1
MS_CHUNK_PROMPT_TRIMMED = 2
MS_CHUNK_SPED_UP = 4
MS_CHUNK_PROMPT_ONE_CHANNEL = 8
MS_CHUNK_TEXT_SKIPPED = 16


class NativeError(MobileSpeechError, RuntimeError):
    """A failure of the native library that no more specific error describes."""

    status = MS_ERR_INTERNAL


class SynthesisCancelled(MobileSpeechError):
    """``cancel()`` stopped the synthesis in progress."""

    status = MS_ERR_CANCELLED


class NativeStateError(MobileSpeechError, RuntimeError):
    """``next`` without a synthesis in progress."""

    status = MS_ERR_STATE


class NativeMemoryError(MobileSpeechError, MemoryError):
    status = MS_ERR_NO_MEMORY


class NativeBusyError(MobileSpeechError, RuntimeError):
    """Another thread is in a call on the same handle: a handle takes one call at a time (use
    one synthesizer per thread). Nothing was changed; the call may be retried."""

    status = MS_ERR_BUSY


class _InvalidArgument(ConfigError):
    status = MS_ERR_INVALID_ARGUMENT


class _Model(BundleError):
    status = MS_ERR_MODEL


class _InvalidText(InvalidTextError):
    status = MS_ERR_INVALID_TEXT


class _InvalidAudio(InvalidAudioError):
    status = MS_ERR_INVALID_AUDIO


_ERRORS: dict[int, type[MobileSpeechError]] = {
    MS_ERR_INVALID_ARGUMENT: _InvalidArgument,
    MS_ERR_MODEL: _Model,
    MS_ERR_INVALID_TEXT: _InvalidText,
    MS_ERR_INVALID_AUDIO: _InvalidAudio,
    MS_ERR_CANCELLED: SynthesisCancelled,
    MS_ERR_STATE: NativeStateError,
    MS_ERR_INTERNAL: NativeError,
    MS_ERR_NO_MEMORY: NativeMemoryError,
    MS_ERR_BUSY: NativeBusyError,
}


# ---- C structs (same layout as mobilespeech.h) ------------------------------------------------
class SynthOptions(C.Structure):
    _fields_ = [("struct_size", C.c_size_t), ("bundle_dir", C.c_char_p),
                ("num_threads", C.c_int32), ("use_seed", C.c_int32), ("seed", C.c_uint64),
                ("steps", C.POINTER(C.c_int32)), ("n_steps", C.c_size_t),
                ("length_scale", C.c_float), ("verify_checksums", C.c_int32)]


class StartOptions(C.Structure):
    _fields_ = [("struct_size", C.c_size_t), ("use_seed", C.c_int32), ("seed", C.c_uint64),
                ("steps", C.POINTER(C.c_int32)), ("n_steps", C.c_size_t),
                ("length_scale", C.c_float)]


class AudioChunk(C.Structure):
    _fields_ = [("samples", C.POINTER(C.c_float)), ("n_samples", C.c_size_t),
                ("sample_rate", C.c_int32), ("sentence", C.c_int32), ("flags", C.c_uint32),
                ("reserved", C.c_uint32)]


class Limits(C.Structure):
    _fields_ = [("struct_size", C.c_size_t), ("sample_rate", C.c_int32),
                ("n_codebooks", C.c_int32), ("max_steps_per_layer", C.c_int32),
                ("max_chars", C.c_int32), ("max_phonemes", C.c_int32),
                ("max_frames", C.c_int32), ("max_prompt_frames", C.c_int32),
                ("n_symbols", C.c_int32), ("frame_rate", C.c_float),
                ("min_prompt_seconds", C.c_float), ("max_prompt_seconds", C.c_float),
                ("has_text_frontend", C.c_int32), ("num_threads", C.c_int32),
                ("hop_length", C.c_int32), ("codebook_size", C.c_int32),
                ("bits_per_second", C.c_float), ("max_resynth_seconds", C.c_float)]


class Timings(C.Structure):
    _fields_ = [("struct_size", C.c_size_t), ("frontend_s", C.c_double),
                ("prompt_s", C.c_double), ("text_s", C.c_double), ("smd_s", C.c_double),
                ("decoder_s", C.c_double), ("first_audio_s", C.c_double),
                ("audio_s", C.c_double), ("smd_calls", C.c_int64), ("frames", C.c_int64),
                ("vocoder_s", C.c_double)]


class RequestLimitsStruct(C.Structure):
    """ms_request_limits; read through :func:`mobilespeech_runtime.limits.request_limits`."""

    _fields_ = [("struct_size", C.c_size_t), ("max_steps_per_layer", C.c_int32),
                ("min_length_scale", C.c_float), ("max_length_scale", C.c_float),
                ("max_threads", C.c_int32), ("max_channels", C.c_int32),
                ("min_sample_rate", C.c_int32), ("max_sample_rate", C.c_int32),
                ("max_input_seconds", C.c_float), ("max_input_frames", C.c_int64),
                ("phonemes_per_char", C.c_float), ("max_codebooks", C.c_int32),
                ("max_resynth_seconds", C.c_float), ("max_utf8_bytes_per_char", C.c_int32),
                ("max_resynth_frames", C.c_int64), ("max_pipe_bytes", C.c_int64),
                ("max_audio_file_bytes", C.c_int64)]


_lib: C.CDLL | None = None
_lib_lock = threading.Lock()


def library_path() -> Path:
    """``$MOBILESPEECH_NATIVE_LIB``, else the installed wheel's copy, else the repository's
    ``build/native`` (a development checkout)."""
    env = os.environ.get("MOBILESPEECH_NATIVE_LIB")
    if env:
        return Path(env)
    return PACKAGED_LIBRARY if PACKAGED_LIBRARY.is_file() else DEFAULT_LIBRARY


def load_library(path: str | Path | None = None) -> C.CDLL:
    """Load (once) and declare every function of the C ABI."""
    global _lib
    with _lib_lock:
        if _lib is not None:
            return _lib
        p = Path(path) if path else library_path()
        if not p.is_file():
            raise NativeError(f"native library not found at {p}: run scripts/build_native.sh or "
                              "set MOBILESPEECH_NATIVE_LIB")
        lib = C.CDLL(str(p))
        synth_p = C.c_void_p
        f32p, i32p, sizep = C.POINTER(C.c_float), C.POINTER(C.c_int32), C.POINTER(C.c_size_t)
        sigs: dict[str, tuple[Any, list[Any]]] = {
            "ms_version": (C.c_char_p, []),
            "ms_status_string": (C.c_char_p, [C.c_int]),
            "ms_synth_options_init": (C.c_int, [C.POINTER(SynthOptions)]),
            "ms_start_options_init": (C.c_int, [C.POINTER(StartOptions)]),
            "ms_synth_create": (synth_p, [C.POINTER(SynthOptions), C.POINTER(C.c_int)]),
            "ms_synth_destroy": (None, [synth_p]),
            "ms_last_error": (C.c_char_p, [synth_p]),
            "ms_synth_start": (C.c_int, [synth_p, C.c_char_p, f32p, C.c_size_t, C.c_int32,
                                         C.c_int32, C.POINTER(StartOptions)]),
            "ms_synth_start_phonemes": (C.c_int, [synth_p, i32p, sizep, C.c_size_t, f32p,
                                                  C.c_size_t, C.c_int32, C.c_int32,
                                                  C.POINTER(StartOptions)]),
            "ms_synth_next": (C.c_int, [synth_p, C.POINTER(AudioChunk)]),
            "ms_synth_cancel": (C.c_int, [synth_p]),
            "ms_synth_speak": (C.c_int, [synth_p, C.c_char_p, f32p, C.c_size_t, C.c_int32,
                                         C.c_int32, C.POINTER(StartOptions),
                                         C.POINTER(f32p), sizep]),
            "ms_synth_speak_phonemes": (C.c_int, [synth_p, i32p, sizep, C.c_size_t, f32p,
                                                  C.c_size_t, C.c_int32, C.c_int32,
                                                  C.POINTER(StartOptions), C.POINTER(f32p),
                                                  sizep]),
            "ms_synth_start_resynth": (C.c_int, [synth_p, f32p, C.c_size_t, C.c_int32,
                                                 C.c_int32]),
            "ms_synth_resynthesize": (C.c_int, [synth_p, f32p, C.c_size_t, C.c_int32, C.c_int32,
                                                C.POINTER(f32p), sizep]),
            "ms_free_audio": (None, [f32p]),
            "ms_synth_sample_rate": (C.c_int32, [synth_p]),
            "ms_synth_limits": (C.c_int, [synth_p, C.POINTER(Limits)]),
            "ms_synth_timings": (C.c_int, [synth_p, C.POINTER(Timings)]),
            "ms_synth_symbol": (C.c_char_p, [synth_p, C.c_int32]),
            "ms_get_request_limits": (C.c_int, [C.POINTER(RequestLimitsStruct)]),
            "ms_synth_text_to_phonemes": (C.c_int, [synth_p, C.c_char_p, C.POINTER(i32p),
                                                    sizep, C.POINTER(sizep), sizep,
                                                    C.POINTER(C.c_uint32)]),
            "ms_free_phonemes": (None, [i32p, sizep]),
            # char** out as void**: c_char_p results are converted to bytes, losing the pointer
            "ms_normalize_text": (C.c_int, [C.c_char_p, C.c_char_p, C.POINTER(C.c_void_p)]),
            "ms_free_string": (None, [C.c_void_p]),
        }
        for name, (res, args) in sigs.items():
            try:
                fn = getattr(lib, name)
            except AttributeError as e:  # a library built from older sources
                raise NativeError(f"{p} has no {name}: it is older than this binding; rebuild "
                                  "it with scripts/build_native.sh") from e
            fn.restype = res
            fn.argtypes = args
        _lib = lib
        return lib


def version() -> str:
    return load_library().ms_version().decode()


def status_string(status: int) -> str:
    return load_library().ms_status_string(status).decode()


def _error(status: int, message: str) -> MobileSpeechError:
    kind = _ERRORS.get(status, NativeError)
    err = kind(message or status_string(status))
    err.status = status  # type: ignore[attr-defined]
    return err
