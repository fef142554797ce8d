"""Spectral features for training losses and the aligner (log-mel, multi-resolution STFT)."""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor


@functools.lru_cache(maxsize=16)
def mel_filterbank(
    sample_rate: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None
) -> Tensor:
    """Triangular HTK-style mel filters [n_mels, n_fft // 2 + 1], area-normalised (Slaney)."""
    fmax = fmax or sample_rate / 2

    def hz_to_mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    freqs = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    mels = np.linspace(hz_to_mel(np.array(fmin)), hz_to_mel(np.array(fmax)), n_mels + 2)
    hz = mel_to_hz(mels)
    fb = np.zeros((n_mels, freqs.size))
    for i in range(n_mels):
        lo, mid, hi = hz[i], hz[i + 1], hz[i + 2]
        up = (freqs - lo) / max(mid - lo, 1e-6)
        down = (hi - freqs) / max(hi - mid, 1e-6)
        fb[i] = np.maximum(0, np.minimum(up, down)) * (2.0 / max(hi - lo, 1e-6))
    return torch.from_numpy(fb).float()


def stft_mag(wav: Tensor, n_fft: int, hop: int) -> Tensor:
    """wav [B, S] -> magnitude [B, n_fft//2+1, frames]."""
    window = torch.hann_window(n_fft, device=wav.device)
    spec = torch.stft(wav, n_fft, hop, n_fft, window, center=True, return_complex=True)
    return spec.abs().clamp(min=1e-7)


def log_mel(wav: Tensor, sample_rate: int, n_fft: int, hop: int, n_mels: int) -> Tensor:
    """wav [B, S] -> log-mel [B, n_mels, frames]."""
    fb = mel_filterbank(sample_rate, n_fft, n_mels).to(wav.device)
    return torch.log(torch.clamp(fb @ stft_mag(wav, n_fft, hop), min=1e-5))


def multiscale_spectral_loss(pred: Tensor, target: Tensor, sample_rate: int) -> Tensor:
    """Mel L1 over several resolutions + linear log-magnitude L1 (EnCodec/Vocos-style)."""
    loss = pred.new_zeros(())
    for n_fft in (256, 512, 1024, 2048):
        hop = n_fft // 4
        n_mels = min(80, n_fft // 8)
        loss = loss + F.l1_loss(
            log_mel(pred, sample_rate, n_fft, hop, n_mels),
            log_mel(target, sample_rate, n_fft, hop, n_mels),
        )
        loss = loss + 0.5 * F.l1_loss(
            torch.log(stft_mag(pred, n_fft, hop)), torch.log(stft_mag(target, n_fft, hop))
        )
    return loss / 4
