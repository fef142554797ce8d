"""Pure-Python plans the runtimes follow (no torch): unmasking steps, durations, decode chunks.

The C++ runtime mirrors these few lines; the traced programs hold all model math.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Step:
    layer: int
    step: int
    n_masked_after: int  # positions of `layer` still masked after this step
    temperature: float  # Gumbel noise scale; 0 = greedy


def plan(n_frames: int, steps: tuple[int, ...], temperature: float) -> list[Step]:
    """Every SMD forward pass for one utterance, in order; sum(steps) of them for any length.

    MaskGIT cosine schedule: after step t of S, ceil(cos(pi/2 * t/S) * T) positions stay
    masked; the noise temperature anneals linearly to 0, so the last step of a layer is greedy.
    """
    out = []
    for layer, s in enumerate(steps):
        for t in range(s):
            left = math.ceil(math.cos(math.pi / 2 * (t + 1) / s) * n_frames) if t + 1 < s else 0
            temp = temperature * (1.0 - (t + 1) / s)
            out.append(Step(layer, t, min(left, n_frames), temp))
    return out


def regulate_durations(frames: np.ndarray, max_frames: int) -> tuple[np.ndarray, bool]:
    """Integer frames per phoneme -> (frames with 1 <= total <= max_frames, whether scaled).

    The SMD program is bounded at ``max_frames``; a longer prediction is compressed
    proportionally (the caller warns), which the frontend's chunking makes rare.
    """
    frames = np.clip(np.asarray(frames, dtype=np.int64), 0, None)
    total = int(frames.sum())
    scaled = total > max_frames
    if scaled:
        frames = np.floor(frames * (max_frames / total)).astype(np.int64)
    if int(frames.sum()) == 0:
        frames[frames.size // 2] = 1
    return frames, scaled


@dataclass(frozen=True)
class Window:
    """One decoder call: frames [start - context, start + chunk + context) of the utterance."""

    start: int  # first output frame of this chunk
    frames: int  # output frames kept (== chunk except at the end)


def decode_windows(n_frames: int, chunk: int) -> list[Window]:
    return [Window(s, min(chunk, n_frames - s)) for s in range(0, n_frames, chunk)]


def window_tokens(
    tokens: np.ndarray, win: Window, chunk: int, context: int
) -> tuple[np.ndarray, np.ndarray]:
    """tokens [N, T] -> (window [1, N, chunk + 2 context] int64, keep [1, W] float32).

    Frames outside the utterance are token 0 with keep 0 (the program zeroes their latent).
    """
    n, t = tokens.shape
    w = chunk + 2 * context
    out = np.zeros((1, n, w), dtype=np.int64)
    keep = np.zeros((1, w), dtype=np.float32)
    lo = win.start - context
    a, b = max(lo, 0), min(lo + w, t)
    out[0, :, a - lo : b - lo] = tokens[:, a:b]
    keep[0, a - lo : b - lo] = 1.0
    return out, keep
