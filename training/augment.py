"""Speaker augmentation that makes new voices: pitch, vocal-tract length (formants) and tempo.

Why three separate controls: a voice's identity lies mostly in its pitch and its formants (set by
the length of the vocal tract), and the two move independently between real speakers. Plain
resampling moves both by the same factor (the "chipmunk" effect), and sox's ``pitch`` effect does
the same (it is WSOLA tempo + resampling), so formants are warped here on their own:

1. resample by r = 2^(pitch/12) (soxr): pitch, formants and tempo all scale by r;
2. warp the spectral envelope by r/alpha per STFT frame (true cepstral envelope, lifter 2.5 ms; the
   excitation and phase are kept), so the formants end at alpha times the original while the
   harmonics stay at r times;
3. restore the duration and apply the tempo with sox's WSOLA ``tempo -s`` (keeps pitch and
   envelope).

A pseudo-speaker is one base voice with one fixed ``Augmentation``: every utterance of it gets
the same parameters, so the model sees a consistent new identity, not noise.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np

from mobilespeech_runtime.errors import MobileSpeechError

LIFTER_S = 0.0025  # envelope quefrency cut-off: resolves F1 from F2, below the period up to 400 Hz
TRUE_ENV_ITERATIONS = 16
MAX_GAIN_DB = 30.0  # cap on the per-bin envelope correction (quiet bins must not explode)


class AugmentError(MobileSpeechError):
    """An augmentation could not be applied (sox missing or failing, bad parameters)."""


@dataclass(frozen=True)
class Augmentation:
    """Fixed per pseudo-speaker: pitch in semitones, formant factor alpha, tempo factor."""

    pitch: float = 0.0  # semitones; +12 = one octave up
    formant: float = 1.0  # formant frequencies x alpha (> 1: a shorter vocal tract)
    tempo: float = 1.0  # speaking rate (> 1: faster)

    def __post_init__(self) -> None:
        if not (-12.0 <= self.pitch <= 12.0 and 0.7 <= self.formant <= 1.4
                and 0.5 <= self.tempo <= 2.0):  # fmt: skip
            raise AugmentError(f"augmentation out of range: {self}")

    @property
    def is_identity(self) -> bool:
        return self.pitch == 0.0 and self.formant == 1.0 and self.tempo == 1.0

    def describe(self) -> str:
        """``pitch=+2.10st,formant=1.052,tempo=0.960``: what manifests record."""
        return f"pitch={self.pitch:+.2f}st,formant={self.formant:.3f},tempo={self.tempo:.3f}"


def random_augmentation(seed: int, index: int, tempo: bool = True) -> Augmentation:
    """Reproducible parameters for pseudo-speaker ``index``.

    Pitch 1.2-4 semitones up or down (never so close to 0 that the voice stays the same);
    formants follow pitch at a quarter of its interval (as between real speakers, where a 2x
    higher pitch comes with roughly 15-20 % higher formants) plus +-1.5 semitones of their own,
    capped at +-2.5 (alpha 0.87-1.16); tempo 0.9-1.12.
    """
    rng = np.random.default_rng([seed, index, 0x617567])
    pitch = float(rng.choice([-1.0, 1.0]) * rng.uniform(1.2, 4.0))
    formant_st = float(np.clip(0.25 * pitch + rng.uniform(-1.5, 1.5), -2.5, 2.5))
    t = float(rng.uniform(0.9, 1.12)) if tempo else 1.0
    return Augmentation(round(pitch, 2), round(2 ** (formant_st / 12), 3), round(t, 3))


def _frames(x: np.ndarray, n_fft: int, hop: int) -> tuple[np.ndarray, int]:
    pad = n_fft
    xp = np.concatenate([np.zeros(pad, x.dtype), x, np.zeros(pad + hop, x.dtype)])
    n = 1 + (len(xp) - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(n)[:, None]
    return xp[idx], pad


def true_envelope(mag: np.ndarray, cut: int, iterations: int = TRUE_ENV_ITERATIONS) -> np.ndarray:
    """Log spectral envelope per frame that rides on the harmonic peaks ("true envelope").

    A plain cepstral smoothing averages the log spectrum, so the deep valleys between harmonics
    drag it down and flatten the formants; iterating max(spectrum, smoothed) lifts it onto the
    peaks (Roebel & Rodet 2005).
    """
    n_fft = 2 * (mag.shape[1] - 1)
    floor = np.log(mag.max(axis=1, keepdims=True) + 1e-9) - 8.0  # ~70 dB below the frame peak
    a = np.maximum(np.log(mag + 1e-9), floor)
    env = a
    for _ in range(iterations):
        cep = np.fft.irfft(a, n=n_fft, axis=1)
        cep[:, cut : n_fft - cut + 1] = 0.0
        env = np.fft.rfft(cep, axis=1).real
        a = np.maximum(a, env)
    return env


def warp_envelope(audio: np.ndarray, sr: int, k: float) -> np.ndarray:
    """Replace each frame's spectral envelope E(f) by E(k f); harmonics and phase stay put.

    k > 1 lowers the formants (the envelope is read from higher frequencies), k < 1 raises them.
    """
    x = np.asarray(audio, dtype=np.float64)
    if abs(k - 1.0) < 1e-4 or x.size == 0:
        return np.asarray(audio, dtype=np.float32)
    n_fft = 1 << max(8, round(math.log2(sr * 0.046)))  # ~46 ms: 1024 at 22.05/24 kHz
    hop = n_fft // 4
    win = np.hanning(n_fft + 1)[:-1]
    frames, pad = _frames(x, n_fft, hop)
    spec = np.fft.rfft(frames * win, axis=1)
    env = true_envelope(np.abs(spec), max(8, int(sr * LIFTER_S)))
    bins = np.arange(env.shape[1], dtype=np.float64)
    src = np.clip(bins * k, 0, env.shape[1] - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, env.shape[1] - 1)
    frac = src - lo
    warped = env[:, lo] * (1 - frac) + env[:, hi] * frac
    lim = MAX_GAIN_DB / 20 * math.log(10)
    spec *= np.exp(np.clip(warped - env, -lim, lim))
    y = np.fft.irfft(spec, n=n_fft, axis=1) * win
    out = np.zeros(hop * (len(y) - 1) + n_fft)
    norm = np.zeros_like(out)
    for i, fr in enumerate(y):  # overlap-add
        out[i * hop : i * hop + n_fft] += fr
        norm[i * hop : i * hop + n_fft] += win**2
    out = out / np.maximum(norm, 1e-8)
    return out[pad : pad + x.size].astype(np.float32)


def sox_tempo(audio: np.ndarray, sr: int, factor: float) -> np.ndarray:
    """Change the speaking rate by ``factor`` with pitch and formants kept (sox WSOLA, speech)."""
    if abs(factor - 1.0) < 1e-4:
        return np.asarray(audio, dtype=np.float32)
    if shutil.which("sox") is None:
        raise AugmentError("sox not found (apt-get install sox): needed for tempo changes")
    fmt = ["-t", "f32", "-r", str(sr), "-c", "1"]
    cmd = ["sox", "-V1", *fmt, "-", *fmt, "-", "tempo", "-s", f"{factor:.6f}"]
    try:
        res = subprocess.run(cmd, input=np.asarray(audio, "<f4").tobytes(), capture_output=True,
                             timeout=120, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as e:
        raise AugmentError(f"sox tempo failed: {e}") from e
    if res.returncode != 0:
        err = res.stderr.decode(errors="replace").strip()
        raise AugmentError(f"sox tempo exit {res.returncode}: {err}")
    return np.frombuffer(res.stdout, dtype="<f4").astype(np.float32)


def apply(audio: np.ndarray, sr: int, aug: Augmentation) -> np.ndarray:
    """``audio`` (float32 mono at ``sr``) as the pseudo-speaker ``aug`` describes; same rate."""
    import soxr

    x = np.asarray(audio, dtype=np.float32)
    if aug.is_identity or x.size == 0:
        return x
    r = 2.0 ** (aug.pitch / 12.0)
    if abs(r - 1.0) > 1e-4:  # read the audio as if recorded at sr*r: everything scales by r
        x = soxr.resample(x, sr * r, sr, quality="HQ").astype(np.float32)
    x = warp_envelope(x, sr, r / aug.formant)
    return sox_tempo(x, sr, aug.tempo / r)
