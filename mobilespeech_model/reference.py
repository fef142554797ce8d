"""``ReferenceSynthesizer``: the eager reference loop, text + prompt voice -> speech.

It is the oracle, not a product: export parity holds the native core (what apps ship, run from
Python by ``mobilespeech_runtime.Synthesizer``) to it, and training uses its pieces (the
decoder fine-tune's tokens, the vocoder's distillation mels). It normalizes text with g2p-en,
conditions the prompt with soxr, follows the fixed unmasking plan, draws the noise from the
seed and moves tensors. All model math lives in the backend's programs:

- ``eager``: the PyTorch reference model (a training checkpoint);
- ``executorch``: the ``.pte`` programs of a bundle through ExecuTorch's runtime.

Both expose the same five calls, so the same seed gives the same tokens on either.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from mobilespeech_runtime.checks import (
    check_length_scale,
    check_seed,
    check_steps,
    check_text,
    check_threads,
)
from mobilespeech_runtime.errors import BundleError, ConfigError, InvalidAudioError
from mobilespeech_runtime.synthesizer import SynthesisResult, Timings

from . import rng
from .audio import (
    MAX_INPUT_FRAMES,
    Prompt,
    check_input,
    condition_prompt,
    load_prompt,
    read_audio,
    resample,
    to_mono,
)
from .config import MobileSpeechConfig
from .frontend import Frontend, SymbolTable
from .mel_match import loud_mean, mel_offset
from .schedule import decode_windows, plan, regulate_durations, window_tokens


class Backend(Protocol):
    """The programs a bundle (or the eager model) provides; tensors in, tensors out."""

    config: MobileSpeechConfig
    symbols: SymbolTable

    def encode_prompt(self, wav: torch.Tensor) -> torch.Tensor:
        """[1, 1, S] float -> prompt tokens [1, N, Tp] int64."""
        ...

    def text_and_durations(
        self, phonemes: torch.Tensor, prompt: torch.Tensor, length_scale: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """[1, L] ids, [1, N, Tp] -> (text states [1, L, D], frames [1, L] int64)."""
        ...

    def prompt_memory(self, prompt: torch.Tensor) -> torch.Tensor:
        """[1, N, Tp] -> memory [1, Tp, D]."""
        ...

    def smd_step(
        self,
        tokens: torch.Tensor,
        layer: torch.Tensor,
        text: torch.Tensor,
        index: torch.Tensor,
        memory: torch.Tensor,
        noise: torch.Tensor,
        temperature: torch.Tensor,
        n_masked_after: torch.Tensor,
    ) -> torch.Tensor: ...

    def decode_chunk(self, tokens: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """[1, N, W], [1, W] -> [1, W * hop]."""
        ...

    def decode_mel(self, tokens: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """Mel codec: [1, N, W], [1, W] -> log-mel [1, n_mels, W * token_stride]."""
        ...

    def vocode(self, mel: torch.Tensor) -> torch.Tensor:
        """Mel codec: [1, n_mels, W * token_stride] -> [1, W * hop]."""
        ...




# Resynthesis input: longer audio is refused (it is encoded window by window, so the bound is
# about time, not memory).
MAX_RESYNTH_SECONDS = 600.0


def unmask(
    smd_step: Any,
    text: torch.Tensor,
    index: torch.Tensor,
    memory: torch.Tensor,
    cfg: MobileSpeechConfig,
    steps: tuple[int, ...],
    seed: int,
) -> tuple[torch.Tensor, int]:
    """The fixed iterative-unmasking loop: every token masked -> tokens [1, N, T], one
    ``smd_step`` call per planned step, the noise drawn from ``seed`` (rng.py; the C++ runtime
    draws the same). Returns the tokens and the number of calls. ``smd_step`` is a backend's
    or the eager model's (training generates the decoder's fine-tuning tokens with it)."""
    t = index.shape[1]
    n, v = cfg.codec.n_codebooks, cfg.codec.codebook_size
    tokens = torch.full((1, n, t), v, dtype=torch.long)
    schedule = plan(t, steps, cfg.schedule.temperature)
    for st in schedule:
        noise = torch.from_numpy(rng.uniform(seed, st.layer, st.step, t * (v + 1)))
        tokens = smd_step(
            tokens,
            torch.tensor([st.layer]),
            text,
            index,
            memory,
            noise.view(1, t, v + 1),
            torch.tensor([st.temperature]),
            torch.tensor([st.n_masked_after]),
        )
    return tokens, len(schedule)


class ReferenceSynthesizer:
    """Zero-shot TTS over a backend. Not thread-safe: use one per thread."""

    def __init__(
        self, backend: Backend, num_threads: int | None = None, default_prompt: Path | None = None
    ) -> None:
        self.backend = backend
        self.config = backend.config
        self.num_threads = check_threads(num_threads)
        self.default_prompt = default_prompt
        self.frontend = Frontend(self.config.frontend, backend.symbols)
        self._prompt_cache: tuple[int, Prompt, torch.Tensor, torch.Tensor] | None = None
        self._prompt_spectrum_cache: tuple[int, np.ndarray] | None = None
        self.last_timings = Timings()

    # ---- construction -----------------------------------------------------------------------
    @classmethod
    def from_checkpoint(
        cls, path: str | Path, num_threads: int | None = None, default_prompt: Path | None = None
    ) -> ReferenceSynthesizer:
        """Eager PyTorch backend from a training checkpoint (the reference)."""
        from .eager import EagerBackend

        return cls(
            EagerBackend.from_checkpoint(Path(path), num_threads), num_threads, default_prompt
        )

    @classmethod
    def from_bundle(
        cls, path: str | Path, num_threads: int | None = None, backend: str = "executorch"
    ) -> ReferenceSynthesizer:
        """A bundle folder: ``executorch`` runs its .pte programs; ``eager`` its checkpoint."""
        from .bundle import Bundle

        if not isinstance(path, str | Path) or not str(path):
            raise ConfigError(f"bundle path must be a folder path, got {path!r}")
        num_threads = check_threads(num_threads)
        bundle = Bundle.open(Path(path))
        if backend == "executorch":
            from .executorch_backend import ExecuTorchBackend

            be: Backend = ExecuTorchBackend(bundle, num_threads)
        elif backend == "eager":
            from .eager import EagerBackend

            be = EagerBackend.from_checkpoint(bundle.checkpoint_path(), num_threads)
        else:
            raise ConfigError(f"unknown backend {backend!r}: use 'executorch' or 'eager'")
        return cls(be, num_threads, bundle.default_prompt())

    # ---- lifetime -----------------------------------------------------------------------------
    def close(self) -> None:
        """Release the model (its programs and caches); later calls raise ``ConfigError``.
        Closing twice is harmless. ``with ReferenceSynthesizer.from_bundle(...) as s:`` closes
        on exit."""
        self.backend = None  # type: ignore[assignment]
        self._prompt_cache = None
        self._prompt_spectrum_cache = None

    def __enter__(self) -> ReferenceSynthesizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self.backend is None:
            raise ConfigError("this ReferenceSynthesizer is closed")

    # ---- public API ---------------------------------------------------------------------------
    @property
    def sample_rate(self) -> int:
        """Output (and codec) rate in Hz: the bundle manifest's, else the config's."""
        bundle = getattr(self.backend, "bundle", None)
        return bundle.sample_rate if bundle is not None else self.config.codec.sample_rate

    @property
    def hop_length(self) -> int:
        """Waveform samples per codec token."""
        bundle = getattr(self.backend, "bundle", None)
        return bundle.hop_length if bundle is not None else self.config.codec.hop_length

    @property
    def frame_rate(self) -> float:
        """Codec tokens per second, per codebook."""
        bundle = getattr(self.backend, "bundle", None)
        return bundle.frame_rate if bundle is not None else self.sample_rate / self.hop_length

    @property
    def n_codebooks(self) -> int:
        return self.config.codec.n_codebooks

    @property
    def codebook_size(self) -> int:
        return self.config.codec.codebook_size

    @property
    def bits_per_second(self) -> float:
        """The codec's bitrate: n_codebooks * log2(codebook_size) * frame_rate."""
        return self.n_codebooks * math.log2(self.codebook_size) * self.frame_rate

    def synthesize(
        self,
        text: str,
        prompt: str | Path | np.ndarray | None = None,
        prompt_sample_rate: int | None = None,
        seed: int | None = None,
        steps: tuple[int, ...] | None = None,
        length_scale: float = 1.0,
    ) -> SynthesisResult:
        """Whole utterance as float32 mono at ``sample_rate``."""
        self._check_open()
        chunks = list(self.stream(text, prompt, prompt_sample_rate, seed, steps, length_scale))
        samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        return SynthesisResult(samples, self.sample_rate, self.last_timings)

    def stream(
        self,
        text: str,
        prompt: str | Path | np.ndarray | None = None,
        prompt_sample_rate: int | None = None,
        seed: int | None = None,
        steps: tuple[int, ...] | None = None,
        length_scale: float = 1.0,
    ) -> Iterator[np.ndarray]:
        """Yield audio chunks as the codec decoder produces them (one per decoder window)."""
        self._check_open()
        check_text(text, self.config.frontend.max_chars)
        t0 = time.perf_counter()
        sentences = self.encode_text(text)
        frontend_s = time.perf_counter() - t0
        yield from self.stream_phonemes(sentences, prompt, prompt_sample_rate, seed, steps,
                                        length_scale, _frontend_s=frontend_s, _t_start=t0)

    def synthesize_phonemes(
        self,
        chunks: list[list[int]],
        prompt: str | Path | np.ndarray | None = None,
        prompt_sample_rate: int | None = None,
        seed: int | None = None,
        steps: tuple[int, ...] | None = None,
        length_scale: float = 1.0,
    ) -> SynthesisResult:
        """Phoneme id chunks (one per sentence) -> audio, as ``ms_synth_speak_phonemes``."""
        out = list(self.stream_phonemes(chunks, prompt, prompt_sample_rate, seed, steps,
                                        length_scale))
        samples = np.concatenate(out) if out else np.zeros(0, np.float32)
        return SynthesisResult(samples, self.sample_rate, self.last_timings)

    def stream_phonemes(
        self,
        sentences: list[list[int]],
        prompt: str | Path | np.ndarray | None = None,
        prompt_sample_rate: int | None = None,
        seed: int | None = None,
        steps: tuple[int, ...] | None = None,
        length_scale: float = 1.0,
        _frontend_s: float = 0.0,
        _t_start: float | None = None,
    ) -> Iterator[np.ndarray]:
        """``stream`` from phoneme id chunks (sentence i uses seed + i)."""
        self._check_open()
        t_start = time.perf_counter() if _t_start is None else _t_start
        timings = Timings(frontend=_frontend_s)
        self.last_timings = timings
        steps = self._check_steps(steps)
        length_scale = check_length_scale(length_scale)
        checked = check_seed(seed)
        seed = self.config.schedule.seed if checked is None else checked
        t0 = time.perf_counter()
        prompt_tokens, memory = self._prompt(prompt, prompt_sample_rate)
        spectrum = self._prompt_spectrum() if self.mel_match else None
        timings.prompt = time.perf_counter() - t0
        for i, ids in enumerate(sentences):
            tokens = self._generate(
                ids, prompt_tokens, memory, (seed + i) % 2**64, steps, length_scale, timings
            )
            for chunk in self._decode(tokens, timings, spectrum):
                if timings.first_audio is None:
                    timings.first_audio = time.perf_counter() - t_start
                yield chunk

    @property
    def mel_match(self) -> bool:
        """Whether synthesis pulls each sentence's spectrum toward the prompt's (mel_match.py)."""
        return self.config.schedule.mel_match > 0  # config.validate: mel codec only

    def encode_text(self, text: str) -> list[list[int]]:
        """Text -> phoneme id chunks as the model reads them (the frontend's errors pass up)."""
        return self.frontend.encode(text)

    def info(self) -> dict[str, Any]:
        c = self.config
        return {
            "backend": type(self.backend).__name__,
            "model": c.name,
            "sample_rate": self.sample_rate,
            "hop_length": self.hop_length,
            "frame_rate": self.frame_rate,
            "bits_per_second": self.bits_per_second,
            "codebooks": c.codec.n_codebooks,
            "codebook_size": c.codec.codebook_size,
            "schedule": list(c.schedule.steps),
            "temperature": c.schedule.temperature,
            "guidance": c.schedule.guidance,  # inside smd.pte: fixed per bundle
            "mel_match": c.schedule.mel_match,
            "max_frames": c.model.max_frames,
            "max_chars": c.frontend.max_chars,
            "prompt_seconds": [c.audio.min_prompt_seconds, c.audio.max_prompt_seconds],
        }

    # ---- internals ----------------------------------------------------------------------------
    def _check_steps(self, steps: tuple[int, ...] | None) -> tuple[int, ...]:
        checked = check_steps(steps, self.config.codec.n_codebooks)
        return tuple(self.config.schedule.steps) if checked is None else checked

    def _prompt(
        self, prompt: str | Path | np.ndarray | None, rate: int | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        if prompt is None:
            if self.default_prompt is None:
                raise InvalidAudioError("no prompt voice given and this model has no default one")
            prompt = self.default_prompt
        if isinstance(prompt, np.ndarray):
            if rate is None:
                raise InvalidAudioError("prompt_sample_rate is required with a sample array")
            cond = condition_prompt(prompt, rate, self.sample_rate, cfg.audio)
        elif isinstance(prompt, str | Path):
            cond = load_prompt(prompt, self.sample_rate, cfg.audio)
        else:
            raise InvalidAudioError(
                f"prompt must be a path or a sample array, got {type(prompt).__name__}"
            )
        key = hash(cond.samples.tobytes())
        if self._prompt_cache and self._prompt_cache[0] == key:
            return self._prompt_cache[2], self._prompt_cache[3]
        # The encoder program has one fixed window (max_prompt_frames); pad, then keep the
        # frames the real audio covers.
        hop = self.hop_length
        frames = min(cond.samples.size // hop, cfg.model.max_prompt_frames)
        if frames < 1:
            raise InvalidAudioError("prompt is shorter than one codec frame")
        window = np.zeros(cfg.model.max_prompt_frames * hop, dtype=np.float32)
        window[: frames * hop] = cond.samples[: frames * hop]
        tokens = self.backend.encode_prompt(torch.from_numpy(window).view(1, 1, -1))
        tokens = tokens[:, :, :frames].contiguous()
        memory = self.backend.prompt_memory(tokens)
        self._prompt_cache = (key, cond, tokens, memory)
        return tokens, memory

    def _generate(
        self,
        ids: list[int],
        prompt: torch.Tensor,
        memory: torch.Tensor,
        seed: int,
        steps: tuple[int, ...],
        length_scale: float,
        timings: Timings,
    ) -> np.ndarray:
        cfg = self.config
        t0 = time.perf_counter()
        ph = torch.tensor([ids], dtype=torch.long)
        text, frames = self.backend.text_and_durations(ph, prompt, torch.tensor([length_scale]))
        frames_np, scaled = regulate_durations(frames[0].numpy(), cfg.model.max_frames)
        if scaled:
            warnings.warn(
                "a sentence was longer than the model's frame limit and was sped up; "
                "split long sentences",
                stacklevel=3,
            )
        timings.text += time.perf_counter() - t0
        t0 = time.perf_counter()
        index = torch.from_numpy(np.repeat(np.arange(frames_np.size), frames_np)).view(1, -1)
        tokens, calls = unmask(self.backend.smd_step, text, index, memory, cfg, steps, seed)
        timings.smd_calls += calls
        timings.smd += time.perf_counter() - t0
        timings.frames += index.shape[1]
        return tokens[0].numpy()

    def _prompt_spectrum(self) -> np.ndarray:
        """The cached prompt's loud-frame log-mel mean, as decoder.pte renders its tokens."""
        assert self._prompt_cache is not None, "_prompt() first"
        key, _, tokens, _ = self._prompt_cache
        if self._prompt_spectrum_cache is None or self._prompt_spectrum_cache[0] != key:
            mels = [m for m, _, _ in self._decode_mels(tokens[0].numpy())]
            spectrum = loud_mean(np.concatenate(mels, axis=1), self.config.schedule.mel_match_loud)
            self._prompt_spectrum_cache = (key, spectrum)
        return self._prompt_spectrum_cache[1]

    def _decode_mels(self, tokens: np.ndarray) -> Iterator[tuple[np.ndarray, Any, np.ndarray]]:
        """Mel codec: per decoder window, (the log-mel of its own frames [n_mels, F], the
        window's whole log-mel tensor, its keep mask)."""
        c = self.config.codec
        chunk, ctx, s = c.decode_chunk_frames, c.decode_context_frames, c.token_stride
        for win in decode_windows(tokens.shape[1], chunk):
            window, keep = window_tokens(tokens, win, chunk, ctx)
            mel = self.backend.decode_mel(torch.from_numpy(window), torch.from_numpy(keep))
            yield mel[0, :, ctx * s : (ctx + win.frames) * s].numpy(), mel, keep

    def _decode(
        self, tokens: np.ndarray, timings: Timings, spectrum: np.ndarray | None = None
    ) -> Iterator[np.ndarray]:
        """Tokens [N, T] -> audio chunks, one per decoder window. With a prompt ``spectrum``
        (mel_match), the sentence's whole mel is decoded first, then shifted and vocoded."""
        if spectrum is not None:
            yield from self._decode_matched(tokens, timings, spectrum)
            return
        c = self.config.codec
        chunk, ctx, hop = c.decode_chunk_frames, c.decode_context_frames, self.hop_length
        mel_codec = c.kind == "mel"
        for win in decode_windows(tokens.shape[1], chunk):
            t0 = time.perf_counter()
            window, keep = window_tokens(tokens, win, chunk, ctx)
            tok, kp = torch.from_numpy(window), torch.from_numpy(keep)
            if mel_codec:
                mel = self.backend.decode_mel(tok, kp)
                t1 = time.perf_counter()
                timings.decoder += t1 - t0
                wav = self.backend.vocode(mel)
                timings.vocoder += time.perf_counter() - t1
            else:
                wav = self.backend.decode_chunk(tok, kp)
                timings.decoder += time.perf_counter() - t0
            out = wav[0, ctx * hop : (ctx + win.frames) * hop].numpy().astype(np.float32)
            yield np.clip(out, -1.0, 1.0)

    def _decode_matched(
        self, tokens: np.ndarray, timings: Timings, spectrum: np.ndarray
    ) -> Iterator[np.ndarray]:
        c, sched = self.config.codec, self.config.schedule
        ctx, hop, s = c.decode_context_frames, self.hop_length, c.token_stride
        t0 = time.perf_counter()
        windows = list(self._decode_mels(tokens))
        own = np.concatenate([m for m, _, _ in windows], axis=1)
        offset = mel_offset(spectrum, loud_mean(own, sched.mel_match_loud), sched.mel_match)
        timings.decoder += time.perf_counter() - t0
        for own_mel, mel, keep in windows:
            t0 = time.perf_counter()
            inside = np.repeat(keep, s, axis=-1).astype(np.float32)  # [1, W * stride]
            shifted = mel + torch.from_numpy(offset[None, :, None] * inside[:, None, :])
            wav = self.backend.vocode(shifted)
            out = wav[0, ctx * hop : ctx * hop + own_mel.shape[1] // s * hop].numpy()
            timings.vocoder += time.perf_counter() - t0
            yield np.clip(out.astype(np.float32), -1.0, 1.0)

    # ---- resynthesis: the codec alone ---------------------------------------------------------
    def resynthesize(
        self, audio: str | Path | np.ndarray, sample_rate: int | None = None
    ) -> SynthesisResult:
        """Audio through the codec alone: encode -> tokens -> decode, as synthesis decodes.

        ``audio`` is a file path or a sample array ([frames] or [frames, channels]) with
        ``sample_rate``. It is mixed to mono and resampled to ``self.sample_rate``; input longer
        than the encoder's window (``max_prompt_frames`` tokens) is encoded window by window and
        the tokens joined; at most ``MAX_RESYNTH_SECONDS`` of input. The output has the input's
        duration at ``self.sample_rate``.
        """
        self._check_open()
        timings = Timings()
        self.last_timings = timings
        t_start = time.perf_counter()
        if isinstance(audio, str | Path):
            data, rate = read_audio(audio)
        elif isinstance(audio, np.ndarray):
            if sample_rate is None:
                raise InvalidAudioError("sample_rate is required with a sample array")
            data, rate = audio, sample_rate
        else:
            raise InvalidAudioError(
                f"audio must be a path or a sample array, got {type(audio).__name__}"
            )
        x = check_input(data, rate, "input")
        seconds = x.shape[0] / float(rate)
        if seconds > MAX_RESYNTH_SECONDS or x.shape[0] > MAX_INPUT_FRAMES * 2:
            raise InvalidAudioError(
                f"input is {seconds:.0f} s long; resynthesis takes at most "
                f"{MAX_RESYNTH_SECONDS:.0f} s: cut it into pieces"
            )
        mono = to_mono(x) if x.shape[1] > 1 else x[:, 0]
        if not np.all(np.isfinite(mono)):
            raise InvalidAudioError("input audio contains NaN or infinite samples")
        y = resample(mono, int(rate), self.sample_rate)
        peak = float(np.max(np.abs(y))) if y.size else 0.0
        if peak > 1.0:
            y = y / peak
        tokens = self.encode_audio(y)
        timings.prompt = time.perf_counter() - t_start
        timings.frames = tokens.shape[1]
        chunks = []
        for chunk in self._decode(tokens, timings):
            if timings.first_audio is None:
                timings.first_audio = time.perf_counter() - t_start
            chunks.append(chunk)
        samples = np.concatenate(chunks)[: y.size]
        return SynthesisResult(np.ascontiguousarray(samples), self.sample_rate, timings)

    def encode_audio(self, samples: np.ndarray) -> np.ndarray:
        """Mono float32 at ``sample_rate`` -> codec tokens [N, T], T = ceil(len / hop).

        The encoder program has one fixed window of ``max_prompt_frames`` tokens; longer audio
        goes through it window after window (each window zero-padded at its end, as a prompt).
        """
        hop, pmax = self.hop_length, self.config.model.max_prompt_frames
        frames = -(-samples.size // hop)
        if frames < 1:
            raise InvalidAudioError(
                f"input is shorter than one codec frame ({hop} samples at {self.sample_rate} Hz)"
            )
        parts = []
        for start in range(0, frames, pmax):
            n = min(pmax, frames - start)
            window = np.zeros(pmax * hop, dtype=np.float32)
            seg = samples[start * hop : (start + n) * hop]
            window[: seg.size] = seg
            toks = self.backend.encode_prompt(torch.from_numpy(window).view(1, 1, -1))
            parts.append(toks[0, :, :n].numpy().astype(np.int64))
        tokens = np.concatenate(parts, axis=1)
        if tokens.min() < 0 or tokens.max() >= self.codebook_size:
            raise BundleError("the codec encoder returned tokens outside its codebooks")
        return tokens
