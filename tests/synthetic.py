"""Deterministic test signals."""

from __future__ import annotations

import numpy as np


def voice_like(
    seconds: float = 2.0, sample_rate: int = 16000, f0: float = 140.0, seed: int = 0
) -> np.ndarray:
    """A voiced, syllable-modulated harmonic signal: not silent, not speech, deterministic."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    pitch = f0 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / sample_rate
    x = sum(np.sin(k * phase) / k for k in range(1, 8))
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    x = x * env + 0.01 * rng.standard_normal(t.size)
    return (0.3 * x / np.max(np.abs(x))).astype(np.float32)
