"""Counter-based noise (SplitMix64) that the Python and C++ runtimes reproduce bit for bit.

Randomness enters the programs only as an input tensor, so a program is a pure function:
the same seed gives the same tokens in the eager backend, the .pte runtime and the C ABI.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def stream_key(seed: int, layer: int, step: int) -> np.uint64:
    """Key of the noise stream for one schedule step."""
    with np.errstate(over="ignore"):
        k = _mix(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64) + _GOLDEN)
        k = _mix(k ^ np.uint64(layer + 1))
        k = _mix(k ^ np.uint64((step + 1) << 16))
    return k[0]


def uniform(seed: int, layer: int, step: int, count: int) -> np.ndarray:
    """``count`` float32 values strictly inside (0, 1): element i = mix(key + (i+1) * golden)."""
    key = stream_key(seed, layer, step)
    with np.errstate(over="ignore"):
        ctr = np.arange(1, count + 1, dtype=np.uint64) * _GOLDEN + key
        bits = _mix(ctr) >> np.uint64(40)  # 24 random bits
    return ((bits.astype(np.float64) + 0.5) / float(1 << 24)).astype(np.float32)
