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
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .checks import check_length_scale, check_seed
from .errors import ConfigError, InvalidAudioError, InvalidTextError, MobileSpeechError

# The library layer (loading, status codes, structs, errors), re-exported: native_lib.py.
from .native_lib import (
    DEFAULT_LIBRARY,
    MS_CHUNK_END_OF_SENTENCE,
    MS_CHUNK_PROMPT_ONE_CHANNEL,
    MS_CHUNK_PROMPT_TRIMMED,
    MS_CHUNK_SPED_UP,
    MS_CHUNK_TEXT_SKIPPED,
    MS_DONE,
    MS_ERR_BUSY,
    MS_ERR_CANCELLED,
    MS_ERR_INTERNAL,
    MS_ERR_INVALID_ARGUMENT,
    MS_ERR_INVALID_AUDIO,
    MS_ERR_INVALID_TEXT,
    MS_ERR_MODEL,
    MS_ERR_NO_MEMORY,
    MS_ERR_STATE,
    MS_OK,
    REPO,
    AudioChunk,
    Limits,
    NativeBusyError,
    NativeError,
    NativeMemoryError,
    NativeStateError,
    RequestLimitsStruct,
    StartOptions,
    SynthesisCancelled,
    SynthOptions,
    Timings,
    _error,
    library_path,
    load_library,
    status_string,
    version,
)

__all__ = [
    "DEFAULT_LIBRARY", "INT32_MAX", "INT32_MIN", "MS_CHUNK_END_OF_SENTENCE",
    "MS_CHUNK_PROMPT_ONE_CHANNEL", "MS_CHUNK_PROMPT_TRIMMED", "MS_CHUNK_SPED_UP",
    "MS_CHUNK_TEXT_SKIPPED", "MS_DONE", "MS_ERR_BUSY", "MS_ERR_CANCELLED", "MS_ERR_INTERNAL",
    "MS_ERR_INVALID_ARGUMENT", "MS_ERR_INVALID_AUDIO", "MS_ERR_INVALID_TEXT", "MS_ERR_MODEL",
    "MS_ERR_NO_MEMORY", "MS_ERR_STATE", "MS_OK", "NOTICES", "REPO", "AudioChunk", "Limits",
    "NativeBusyError", "NativeError", "NativeMemoryError", "NativeStateError",
    "NativeSynthesizer", "RequestLimitsStruct", "StartOptions", "SynthOptions",
    "SynthesisCancelled", "Timings", "default_bundle", "library_path", "load_library",
    "normalize_text", "status_string", "version",
]

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


def default_bundle() -> Path:
    """``$MOBILESPEECH_BUNDLE``, else the repository's demo bundle, else the installed one."""
    env = os.environ.get("MOBILESPEECH_BUNDLE")
    if env:
        return Path(env)
    demo = REPO / "models" / "demo"
    if (demo / "manifest.json").is_file():
        return demo
    return Path(sys.prefix) / "share" / "mobilespeech" / "models" / "demo"


def normalize_text(text: str, bundle: str | Path | None = None) -> str:
    """The words the voice will say for ``text`` (``ms_normalize_text``): the core's normalizer
    with ``bundle``'s fold table and lexicon (default: :func:`default_bundle`), no program
    loaded. Sentences are joined by a space; "" when nothing is left to say."""
    lib = load_library()
    data = _text(text)
    out = C.c_void_p()
    status = lib.ms_normalize_text(os.fsencode(str(bundle or default_bundle())), data,
                                   C.byref(out))
    if status != MS_OK:
        raise _error(status, lib.ms_last_error(None).decode(errors="replace"))
    try:
        return C.string_at(out.value).decode("utf-8")
    finally:
        lib.ms_free_string(out)


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

    def text_to_phonemes(self, text: str) -> list[list[int]]:
        """The phoneme id chunks ``start(text)`` synthesizes (``ms_synth_text_to_phonemes``: the
        serving frontend, same checks and chunking), for tests, training and evaluation;
        ``synthesize_phonemes`` of them is ``synthesize(text)``. Skipped markup or non-Latin
        words become a warning, as in ``synthesize``."""
        data = _text(text)
        ids, lengths = C.POINTER(C.c_int32)(), C.POINTER(C.c_size_t)()
        n_ids, n_chunks, flags = C.c_size_t(0), C.c_size_t(0), C.c_uint32(0)
        self._check(self._lib.ms_synth_text_to_phonemes(
            self.handle, data, C.byref(ids), C.byref(n_ids), C.byref(lengths), C.byref(n_chunks),
            C.byref(flags)))
        try:
            flat = np.ctypeslib.as_array(ids, shape=(n_ids.value,)).tolist() if n_ids.value else []
            sizes = [int(lengths[i]) for i in range(n_chunks.value)]
        finally:
            self._lib.ms_free_phonemes(ids, lengths)
        chunks, pos = [], 0
        for size in sizes:
            chunks.append([int(i) for i in flat[pos:pos + size]])
            pos += size
        if flags.value & MS_CHUNK_TEXT_SKIPPED:
            _warn(MS_CHUNK_TEXT_SKIPPED)
        return chunks

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
