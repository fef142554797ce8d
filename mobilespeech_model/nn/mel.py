"""Log-mel analysis identical to the pretrained universal HiFi-GAN's training features.

HiFi-GAN's ``mel_spectrogram``: reflect-pad (n_fft - hop) / 2 on both sides, STFT with a
periodic Hann window and ``center=False``, magnitude ``sqrt(re^2 + im^2 + 1e-9)``, a Slaney mel
basis (librosa's default), then ``log(clamp(mel, 1e-5))``. Written so XNNPACK takes all of it:
the STFT is a matmul against a constant windowed DFT basis, frames are built from shifted
hop-sized blocks (n_fft must be a multiple of hop), and reflect padding is made of slices and a
constant flip matrix (``torch.stft`` and ``F.pad(mode="reflect")`` do not lower).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn

from mobilespeech_runtime.errors import ConfigError

from ..config import CodecConfig


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney's auditory mel scale (librosa ``htk=False``): linear below 1 kHz, log above."""
    f = np.asarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, math.log(6.4) / 27.0
    logs = min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep
    return np.where(f >= min_log_hz, logs, mels)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    freqs = f_sp * m
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, math.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), freqs)


def slaney_mel_basis(
    sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float
) -> np.ndarray:
    """[n_mels, n_fft // 2 + 1] triangular filters with Slaney area normalisation."""
    fft_freqs = np.linspace(0, sample_rate / 2, 1 + n_fft // 2)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fft_freqs)
    weights = np.zeros((n_mels, 1 + n_fft // 2))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, None]
    return weights


class MelAnalysis(nn.Module):
    """wav [B, 1, S] (S a multiple of hop) -> log-mel [B, n_mels, S // hop]."""

    def __init__(self, cfg: CodecConfig) -> None:
        super().__init__()
        hop, n_fft, win = cfg.mel_hop, cfg.mel_n_fft, cfg.mel_win
        if n_fft % hop or win != n_fft:
            raise ConfigError("mel analysis needs n_fft == win_length and n_fft % hop == 0")
        self.hop, self.n_fft, self.floor = hop, n_fft, cfg.mel_floor
        self.blocks = n_fft // hop
        self.pad = (n_fft - hop) // 2
        n = np.arange(n_fft)
        window = 0.5 - 0.5 * np.cos(2 * np.pi * n / n_fft)  # periodic Hann, torch's default
        mel = slaney_mel_basis(cfg.sample_rate, n_fft, cfg.n_mels, cfg.mel_fmin, cfg.mel_fmax)
        # only the DFT bins the mel filters read (below fmax): the same mel, a smaller program
        self.n_bins = int(np.nonzero(mel.any(axis=0))[0].max()) + 1
        k = np.arange(self.n_bins)[None, :]
        ang = 2 * np.pi * n[:, None] * k / n_fft
        basis = np.concatenate([np.cos(ang), -np.sin(ang)], axis=1) * window[:, None]
        self.register_buffer("dft", torch.from_numpy(basis).float(), persistent=False)
        mel_t = mel[:, : self.n_bins].T.copy()
        self.register_buffer("mel_basis", torch.from_numpy(mel_t).float(), persistent=False)
        self.register_buffer("flip", torch.flip(torch.eye(self.pad), [0]), persistent=False)

    def reflect_pad(self, wav: Tensor) -> Tensor:
        p, s = self.pad, wav.shape[-1]
        edges = torch.cat([wav[..., 1 : p + 1], wav[..., s - p - 1 : s - 1]], dim=1)
        edges = torch.matmul(edges, self.flip)  # one use of the constant: one copy in a .pte
        return torch.cat([edges[:, 0:1], wav, edges[:, 1:2]], dim=-1)

    def forward(self, wav: Tensor) -> Tensor:
        b = wav.shape[0]
        x = self.reflect_pad(wav)  # [B, 1, S + n_fft - hop]
        blocks = x.contiguous().view(b, -1, self.hop)  # [B, S / hop + blocks - 1, hop]
        nb = blocks.shape[1]
        frames = torch.cat(
            [blocks[:, i : nb - self.blocks + 1 + i] for i in range(self.blocks)], dim=-1
        )  # [B, F, n_fft]
        spec = torch.matmul(frames, self.dft)  # [B, F, 2 * bins]
        re, im = spec[..., : self.n_bins], spec[..., self.n_bins :]
        mag = torch.sqrt(re * re + im * im + 1e-9)
        mel = torch.matmul(mag, self.mel_basis)  # [B, F, n_mels]
        return torch.log(torch.clamp(mel, min=self.floor)).transpose(1, 2)
