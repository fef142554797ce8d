"""ctypes binding of the C ABI (``native/include/mobilespeech.h``) with a Pythonic wrapper.

    from mobilespeech_runtime.native_binding import NativeSynthesizer

    with NativeSynthesizer("models/demo", num_threads=2) as tts:
        audio = tts.synthesize("Hello there.", prompt="voice.wav")   # float32 at tts.sample_rate
        for chunk in tts.stream_phonemes([[12, 40, 7, 1]]):         # ids, for apps with own G2P
            ...

The library is ``$MOBILESPEECH_NATIVE_LIB`` or ``build/native/libmobilespeech.so`` (build it with
``scripts/build_native.sh``). Errors surface as the package's exceptions
(:mod:`mobilespeech_runtime.errors`); ctypes releases the GIL during calls, so one handle per
thread runs truly in parallel, and :meth:`NativeSynthesizer.cancel` works from any thread.
"""

from __future__ import annotations

import ctypes as C
import operator
import os
import threading
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .checks import check_length_scale, check_seed
from .errors import (
    BundleError,
    ConfigError,
    InvalidAudioError,
    InvalidTextError,
    MobileSpeechError,
)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_LIBRARY = REPO / "build" / "native" / "libmobilespeech.so"

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

# What each notice flag means, as the Python runtime words its warnings.
NOTICES = {
    MS_CHUNK_PROMPT_TRIMMED: "the prompt is longer than the model takes; only its first seconds "
                             "were used",
    MS_CHUNK_SPED_UP: "a sentence was longer than the model's frame limit and was sped up; "
                      "split long sentences",
    MS_CHUNK_PROMPT_ONE_CHANNEL: "the prompt's channels cancel out when mixed (opposite phase); "
                                 "its loudest channel alone was used",
    MS_CHUNK_TEXT_SKIPPED: "markup tags or words in scripts other than Latin cannot be read and "
                           "were skipped",
}
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


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
    env = os.environ.get("MOBILESPEECH_NATIVE_LIB")
    return Path(env) if env else DEFAULT_LIBRARY


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


def _int32(value: object, what: str, error: type[MobileSpeechError] = ConfigError) -> int:
    """An integer that fits the C field: no silent wrap, no float truncation."""
    if isinstance(value, bool):
        raise error(f"{what} must be an integer, got a bool")
    try:
        n = operator.index(value)  # type: ignore[arg-type]
    except TypeError as e:
        raise error(f"{what} must be an integer, got {value!r:.40}") from e
    if not INT32_MIN <= n <= INT32_MAX:
        raise error(f"{what} is out of range: {n}")
    return n


def _steps_array(steps: Sequence[int] | None) -> tuple[Any, int]:
    if steps is None:
        return None, 0
    if isinstance(steps, str | bytes) or not isinstance(steps, Sequence):
        raise ConfigError("steps must be a sequence of integers, one per codec layer")
    values = [_int32(s, "steps") for s in steps]
    return (C.c_int32 * max(len(values), 1))(*values), len(values)


def _seed(seed: int | None) -> tuple[int, int]:
    checked = check_seed(seed)  # 0..2**64-1: no silent wrap
    return (0, 0) if checked is None else (1, checked)


def _float(value: object, what: str) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{what} must be a number, got {value!r:.40}") from e


def _text(text: object) -> bytes:
    """UTF-8 bytes for the ABI; a NUL would silently cut the text there, so it is refused."""
    if not isinstance(text, str):
        raise InvalidTextError(f"text must be a string, got {type(text).__name__}")
    if "\x00" in text:
        raise InvalidTextError("text contains a NUL character")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InvalidTextError(
            f"text is not valid UTF-8 (undecodable byte at character {e.start})"
        ) from e


def _warn(flags: int) -> None:
    for bit, message in NOTICES.items():
        if flags & bit:
            warnings.warn(message, stacklevel=3)


class _Prompt:
    """A prompt as the ABI takes it: interleaved float32, frames, rate, channels (kept alive)."""

    def __init__(self, prompt: str | Path | np.ndarray | None, rate: int | None) -> None:
        self.array: np.ndarray | None = None
        self.frames, self.rate, self.channels = 0, 0, 0
        if prompt is None:
            return
        if isinstance(prompt, str | Path):
            from .audio import read_audio

            data, rate = read_audio(prompt)
        elif isinstance(prompt, np.ndarray):
            if rate is None:
                raise InvalidAudioError("prompt_sample_rate is required with a sample array")
            data = prompt
            rate = _int32(rate, "sample rate", InvalidAudioError)
        else:
            raise InvalidAudioError(
                f"prompt must be a path or a sample array, got {type(prompt).__name__}"
            )
        if data.ndim == 1:
            data = data[:, None]
        if data.ndim != 2:
            raise InvalidAudioError(f"audio must be 1-D or [frames, channels], got shape "
                                    f"{data.shape}")
        try:
            self.array = np.ascontiguousarray(data, dtype=np.float32)
        except (TypeError, ValueError) as e:
            raise InvalidAudioError(f"audio is not a numeric array: {e}") from e
        self.frames, self.channels = self.array.shape
        if self.channels > INT32_MAX:
            raise InvalidAudioError(f"audio has {self.channels} channels")
        self.rate = int(rate)

    def pointer(self) -> Any:
        if self.array is None or self.array.size == 0:
            return (C.c_float * 1)() if self.array is not None else None
        return self.array.ctypes.data_as(C.POINTER(C.c_float))


class NativeSynthesizer:
    """One ``ms_synth`` handle. Use one per thread; ``cancel()`` is safe from any thread."""

    def __init__(self, bundle: str | Path, num_threads: int | None = None,
                 seed: int | None = None, steps: Sequence[int] | None = None,
                 length_scale: float = 1.0, verify_checksums: bool = True,
                 library: str | Path | None = None) -> None:
        self._lib = load_library(library)
        self._h: int | None = None
        opts = SynthOptions()
        self._lib.ms_synth_options_init(C.byref(opts))
        opts.bundle_dir = os.fsencode(str(bundle))
        opts.num_threads = 0 if num_threads is None else _int32(num_threads, "num_threads")
        opts.use_seed, opts.seed = _seed(seed)
        arr, n = _steps_array(steps)
        opts.steps, opts.n_steps = arr, n
        opts.length_scale = _float(length_scale, "length_scale")
        opts.verify_checksums = 1 if verify_checksums else 0
        status = C.c_int(0)
        h = self._lib.ms_synth_create(C.byref(opts), C.byref(status))
        if not h:
            raise _error(status.value, self._lib.ms_last_error(None).decode(errors="replace"))
        self._h = h
        lim = Limits()
        lim.struct_size = C.sizeof(Limits)
        self._check(self._lib.ms_synth_limits(h, C.byref(lim)))
        self.limits: dict[str, Any] = {name: getattr(lim, name) for name, _ in Limits._fields_
                                       if name != "struct_size"}
        self.sample_rate: int = int(lim.sample_rate)
        self.symbols: list[str] = [self._lib.ms_synth_symbol(h, i).decode()
                                   for i in range(lim.n_symbols)]

    # ---- lifecycle ------------------------------------------------------------------------
    def close(self) -> None:
        if self._h:
            self._lib.ms_synth_destroy(self._h)
            self._h = None

    def __enter__(self) -> NativeSynthesizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    @property
    def handle(self) -> int:
        if not self._h:
            raise NativeStateError("this synthesizer is closed")
        return self._h

    @property
    def has_text_frontend(self) -> bool:
        return bool(self.limits["has_text_frontend"])

    def last_error(self) -> str:
        return self._lib.ms_last_error(self.handle).decode(errors="replace")

    def _check(self, status: int) -> int:
        if status not in (MS_OK, MS_DONE):
            # busy: the handle's own message belongs to the call that is running (mobilespeech.h)
            where = None if status == MS_ERR_BUSY else self._h
            raise _error(status, self._lib.ms_last_error(where).decode(errors="replace"))
        return status

    # ---- synthesis ------------------------------------------------------------------------
    @staticmethod
    def _start_options(seed: int | None, steps: Sequence[int] | None,
                       length_scale: float | None) -> tuple[StartOptions, Any]:
        o = StartOptions()
        o.struct_size = C.sizeof(StartOptions)
        o.use_seed, o.seed = _seed(seed)
        arr, n = _steps_array(steps)
        o.steps, o.n_steps = arr, n
        # 0 means "the handle's" to the ABI: an explicit value is checked here, so 0 is an error
        o.length_scale = 0.0 if length_scale is None else check_length_scale(length_scale)
        return o, arr

    @staticmethod
    def _phonemes(chunks: Sequence[Sequence[int]]) -> tuple[Any, Any, int]:
        flat = [int(i) for ch in chunks for i in ch]
        ids = (C.c_int32 * max(len(flat), 1))(*flat)
        lengths = (C.c_size_t * max(len(chunks), 1))(*[len(ch) for ch in chunks])
        return ids, lengths, len(chunks)

    def start(self, text: str, prompt: str | Path | np.ndarray | None = None,
              prompt_sample_rate: int | None = None, seed: int | None = None,
              steps: Sequence[int] | None = None, length_scale: float | None = None) -> None:
        data = _text(text)
        p = _Prompt(prompt, prompt_sample_rate)
        o, _keep = self._start_options(seed, steps, length_scale)
        self._check(self._lib.ms_synth_start(self.handle, data, p.pointer(),
                                             p.frames, p.rate, p.channels, C.byref(o)))

    def start_phonemes(self, chunks: Sequence[Sequence[int]],
                       prompt: str | Path | np.ndarray | None = None,
                       prompt_sample_rate: int | None = None, seed: int | None = None,
                       steps: Sequence[int] | None = None,
                       length_scale: float | None = None) -> None:
        p = _Prompt(prompt, prompt_sample_rate)
        o, _keep = self._start_options(seed, steps, length_scale)
        ids, lengths, n = self._phonemes(chunks)
        self._check(self._lib.ms_synth_start_phonemes(self.handle, ids, lengths, n, p.pointer(),
                                                      p.frames, p.rate, p.channels, C.byref(o)))

    def next_chunk(self) -> tuple[np.ndarray, int, int] | None:
        """(samples copy, sentence index, MS_CHUNK_* flags), or None when done."""
        c = AudioChunk()
        if self._check(self._lib.ms_synth_next(self.handle, C.byref(c))) == MS_DONE:
            return None
        samples = np.ctypeslib.as_array(c.samples, shape=(c.n_samples,)).copy()
        return samples, int(c.sentence), int(c.flags)

    def _drain(self) -> Iterator[np.ndarray]:
        shown = 0
        while True:
            item = self.next_chunk()
            if item is None:
                return
            new = item[2] & ~shown & ~MS_CHUNK_END_OF_SENTENCE
            if new:
                _warn(new)
                shown |= new
            yield item[0]

    def stream(self, text: str, prompt: str | Path | np.ndarray | None = None,
               prompt_sample_rate: int | None = None, seed: int | None = None,
               steps: Sequence[int] | None = None, length_scale: float | None = None
               ) -> Iterator[np.ndarray]:
        self.start(text, prompt, prompt_sample_rate, seed, steps, length_scale)
        yield from self._drain()

    def stream_phonemes(self, chunks: Sequence[Sequence[int]],
                        prompt: str | Path | np.ndarray | None = None,
                        prompt_sample_rate: int | None = None, seed: int | None = None,
                        steps: Sequence[int] | None = None, length_scale: float | None = None
                        ) -> Iterator[np.ndarray]:
        self.start_phonemes(chunks, prompt, prompt_sample_rate, seed, steps, length_scale)
        yield from self._drain()

    def _take(self, out: Any, n: C.c_size_t) -> np.ndarray:
        try:
            if n.value == 0:
                return np.zeros(0, np.float32)
            return np.ctypeslib.as_array(out, shape=(n.value,)).copy()
        finally:
            self._lib.ms_free_audio(out)

    def synthesize(self, text: str, prompt: str | Path | np.ndarray | None = None,
                   prompt_sample_rate: int | None = None, seed: int | None = None,
                   steps: Sequence[int] | None = None, length_scale: float | None = None
                   ) -> np.ndarray:
        """Whole utterance as float32 mono at ``sample_rate``; the notices the chunks carry
        (trimmed prompt, sped-up sentence, skipped words, ...) become warnings."""
        chunks = list(self.stream(text, prompt, prompt_sample_rate, seed, steps, length_scale))
        return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)

    def speak(self, text: str, prompt: str | Path | np.ndarray | None = None,
              prompt_sample_rate: int | None = None, seed: int | None = None,
              steps: Sequence[int] | None = None, length_scale: float | None = None
              ) -> np.ndarray:
        """Whole utterance in one ABI call (``ms_synth_speak``; no notices)."""
        data = _text(text)
        p = _Prompt(prompt, prompt_sample_rate)
        o, _keep = self._start_options(seed, steps, length_scale)
        out, n = C.POINTER(C.c_float)(), C.c_size_t(0)
        self._check(self._lib.ms_synth_speak(self.handle, data, p.pointer(),
                                             p.frames, p.rate, p.channels, C.byref(o),
                                             C.byref(out), C.byref(n)))
        return self._take(out, n)

    def resynthesize(self, audio: str | Path | np.ndarray,
                     sample_rate: int | None = None) -> np.ndarray:
        """Audio through the bundle's codec alone (``ms_synth_resynthesize``): float32 mono at
        ``sample_rate``, as long as the input."""
        if isinstance(audio, np.ndarray) and sample_rate is None:
            raise InvalidAudioError("sample_rate is required with a sample array")
        if not isinstance(audio, str | Path | np.ndarray):
            raise InvalidAudioError(
                f"audio must be a path or a sample array, got {type(audio).__name__}"
            )
        p = _Prompt(audio, sample_rate)
        out, n = C.POINTER(C.c_float)(), C.c_size_t(0)
        self._check(self._lib.ms_synth_resynthesize(self.handle, p.pointer(), p.frames, p.rate,
                                                    p.channels, C.byref(out), C.byref(n)))
        return self._take(out, n)

    def synthesize_phonemes(self, chunks: Sequence[Sequence[int]],
                            prompt: str | Path | np.ndarray | None = None,
                            prompt_sample_rate: int | None = None, seed: int | None = None,
                            steps: Sequence[int] | None = None,
                            length_scale: float | None = None) -> np.ndarray:
        p = _Prompt(prompt, prompt_sample_rate)
        o, _keep = self._start_options(seed, steps, length_scale)
        ids, lengths, nc = self._phonemes(chunks)
        out, n = C.POINTER(C.c_float)(), C.c_size_t(0)
        self._check(self._lib.ms_synth_speak_phonemes(self.handle, ids, lengths, nc, p.pointer(),
                                                      p.frames, p.rate, p.channels, C.byref(o),
                                                      C.byref(out), C.byref(n)))
        return self._take(out, n)

    def cancel(self) -> None:
        """Stop the synthesis in progress (any thread)."""
        if self._h:
            self._lib.ms_synth_cancel(self._h)

    def timings(self) -> dict[str, float]:
        t = Timings()
        t.struct_size = C.sizeof(Timings)
        self._check(self._lib.ms_synth_timings(self.handle, C.byref(t)))
        return {name: getattr(t, name) for name, _ in Timings._fields_ if name != "struct_size"}
