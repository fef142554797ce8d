"""``Synthesizer``: text + prompt voice -> speech, over a backend that runs the model programs.

The synthesizer is the runtime loop and nothing more: it normalizes text, conditions the
prompt, follows the fixed unmasking plan, draws the noise from the seed and moves tensors.
All model math lives in the backend's programs:

- ``eager``: the PyTorch reference model (a training checkpoint);
- ``executorch``: the ``.pte`` programs of a bundle through ExecuTorch's runtime.

Both expose the same five calls, so the same seed gives the same tokens on either.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from . import rng
from .audio import Prompt, condition_prompt, load_prompt
from .config import MobileSpeechConfig
from .errors import ConfigError, InvalidAudioError
from .frontend import Frontend, SymbolTable
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


@dataclass
class Timings:
    """Seconds spent per stage (summed over sentences) for benchmarks and the CLI."""

    frontend: float = 0.0
    prompt: float = 0.0
    text: float = 0.0
    smd: float = 0.0
    decoder: float = 0.0
    first_audio: float | None = None
    smd_calls: int = 0
    frames: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SynthesisResult:
    samples: np.ndarray
    sample_rate: int
    timings: Timings = field(default_factory=Timings)

    @property
    def seconds(self) -> float:
        return self.samples.size / self.sample_rate


class Synthesizer:
    """Zero-shot TTS over a backend. Not thread-safe: use one per thread."""

    def __init__(
        self, backend: Backend, num_threads: int | None = None, default_prompt: Path | None = None
    ) -> None:
        self.backend = backend
        self.config = backend.config
        self.num_threads = num_threads
        self.default_prompt = default_prompt
        self.frontend = Frontend(self.config.frontend, backend.symbols)
        self._prompt_cache: tuple[int, Prompt, torch.Tensor, torch.Tensor] | None = None
        self.last_timings = Timings()

    # ---- construction -----------------------------------------------------------------------
    @classmethod
    def from_checkpoint(
        cls, path: str | Path, num_threads: int | None = None, default_prompt: Path | None = None
    ) -> Synthesizer:
        """Eager PyTorch backend from a training checkpoint (the reference)."""
        from .eager import EagerBackend

        return cls(
            EagerBackend.from_checkpoint(Path(path), num_threads), num_threads, default_prompt
        )

    @classmethod
    def from_bundle(
        cls, path: str | Path, num_threads: int | None = None, backend: str = "executorch"
    ) -> Synthesizer:
        """A bundle folder: ``executorch`` runs its .pte programs; ``eager`` its checkpoint."""
        from .bundle import Bundle

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

    # ---- public API ---------------------------------------------------------------------------
    @property
    def sample_rate(self) -> int:
        return self.config.codec.sample_rate

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
        t_start = time.perf_counter()
        timings = Timings()
        self.last_timings = timings
        steps = self._check_steps(steps)
        if not (0.25 <= length_scale <= 4.0):
            raise ConfigError(f"length_scale must be in [0.25, 4], got {length_scale}")
        seed = self.config.schedule.seed if seed is None else int(seed)
        t0 = time.perf_counter()
        sentences = self.encode_text(text)
        timings.frontend = time.perf_counter() - t0
        t0 = time.perf_counter()
        prompt_tokens, memory = self._prompt(prompt, prompt_sample_rate)
        timings.prompt = time.perf_counter() - t0
        for i, ids in enumerate(sentences):
            tokens = self._generate(
                ids, prompt_tokens, memory, seed + i, steps, length_scale, timings
            )
            for chunk in self._decode(tokens, timings):
                if timings.first_audio is None:
                    timings.first_audio = time.perf_counter() - t_start
                yield chunk

    def encode_text(self, text: str) -> list[list[int]]:
        """Text -> phoneme id chunks as the model reads them (the frontend's errors pass up)."""
        return self.frontend.encode(text)

    def info(self) -> dict[str, Any]:
        c = self.config
        return {
            "backend": type(self.backend).__name__,
            "model": c.name,
            "sample_rate": c.codec.sample_rate,
            "frame_rate": c.codec.frame_rate,
            "codebooks": c.codec.n_codebooks,
            "codebook_size": c.codec.codebook_size,
            "schedule": list(c.schedule.steps),
            "max_frames": c.model.max_frames,
            "max_chars": c.frontend.max_chars,
            "prompt_seconds": [c.audio.min_prompt_seconds, c.audio.max_prompt_seconds],
        }

    # ---- internals ----------------------------------------------------------------------------
    def _check_steps(self, steps: tuple[int, ...] | None) -> tuple[int, ...]:
        if steps is None:
            return tuple(self.config.schedule.steps)
        steps = tuple(int(s) for s in steps)
        n = self.config.codec.n_codebooks
        if len(steps) != n or any(s < 1 or s > 64 for s in steps):
            raise ConfigError(f"steps must give 1..64 steps for each of the {n} codec layers")
        return steps

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
            cond = condition_prompt(prompt, rate, cfg.codec.sample_rate, cfg.audio)
        else:
            cond = load_prompt(prompt, cfg.codec.sample_rate, cfg.audio)
        key = hash(cond.samples.tobytes())
        if self._prompt_cache and self._prompt_cache[0] == key:
            return self._prompt_cache[2], self._prompt_cache[3]
        # The encoder program has one fixed window (max_prompt_frames); pad, then keep the
        # frames the real audio covers.
        hop = cfg.codec.hop_length
        frames = min(cond.samples.size // hop, cfg.model.max_prompt_frames)
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
        t = index.shape[1]
        n, v = cfg.codec.n_codebooks, cfg.codec.codebook_size
        tokens = torch.full((1, n, t), v, dtype=torch.long)
        for st in plan(t, steps, cfg.schedule.temperature):
            noise = torch.from_numpy(rng.uniform(seed, st.layer, st.step, t * (v + 1)))
            tokens = self.backend.smd_step(
                tokens,
                torch.tensor([st.layer]),
                text,
                index,
                memory,
                noise.view(1, t, v + 1),
                torch.tensor([st.temperature]),
                torch.tensor([st.n_masked_after]),
            )
            timings.smd_calls += 1
        timings.smd += time.perf_counter() - t0
        timings.frames += t
        return tokens[0].numpy()

    def _decode(self, tokens: np.ndarray, timings: Timings) -> Iterator[np.ndarray]:
        c = self.config.codec
        chunk, ctx, hop = c.decode_chunk_frames, c.decode_context_frames, c.hop_length
        for win in decode_windows(tokens.shape[1], chunk):
            t0 = time.perf_counter()
            window, keep = window_tokens(tokens, win, chunk, ctx)
            wav = self.backend.decode_chunk(torch.from_numpy(window), torch.from_numpy(keep))
            out = wav[0, ctx * hop : (ctx + win.frames) * hop].numpy().astype(np.float32)
            timings.decoder += time.perf_counter() - t0
            yield np.clip(out, -1.0, 1.0)
