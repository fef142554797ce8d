"""Phoneme durations without an external aligner (RAD-TTS / Glow-TTS style).

A small aligner learns a soft text-to-frame attention from log-mel frames and phoneme ids
with the forward-sum (CTC) loss and a beta-binomial prior; monotonic alignment search (MAS)
over its log-probabilities then gives hard durations that sum exactly to the frame count.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import betabinom
from torch import Tensor, nn


class Aligner(nn.Module):
    """Soft alignment log-probabilities [B, T, L] from mel [B, M, T] and phonemes [B, L]."""

    def __init__(
        self, n_symbols: int, n_mels: int, dim: int = 128, temperature: float = 5e-4
    ) -> None:
        super().__init__()
        self.temperature = temperature
        self.embed = nn.Embedding(n_symbols, dim, padding_idx=0)
        self.key = nn.Sequential(
            nn.Conv1d(dim, 2 * dim, 3, padding=1), nn.ReLU(), nn.Conv1d(2 * dim, dim, 1)
        )
        self.query = nn.Sequential(
            nn.Conv1d(n_mels, 2 * dim, 3, padding=1),
            nn.ReLU(),
            nn.Conv1d(2 * dim, dim, 1),
            nn.ReLU(),
            nn.Conv1d(dim, dim, 1),
        )

    def forward(
        self, mel: Tensor, phonemes: Tensor, text_keep: Tensor, prior: Tensor | None
    ) -> Tensor:
        k = self.key(self.embed(phonemes).transpose(1, 2))  # [B, D, L]
        q = self.query(mel)  # [B, D, T]
        # squared distance via ||q||^2 + ||k||^2 - 2 q.k: no [B, D, T, L] intermediate
        qk = torch.bmm(q.transpose(1, 2), k)  # [B, T, L]
        dist = q.pow(2).sum(1).unsqueeze(2) + k.pow(2).sum(1).unsqueeze(1) - 2.0 * qk
        logits = -self.temperature * dist
        logits = logits.masked_fill(~text_keep.unsqueeze(1), -1e4)
        logp = torch.log_softmax(logits, dim=-1)
        if prior is not None:
            logp = torch.log_softmax(logp + torch.log(prior.clamp(min=1e-8)), dim=-1)
        return logp


def beta_binomial_prior(n_text: int, n_frames: int, scale: float = 1.0) -> np.ndarray:
    """[T, L] prior that keeps early training near the diagonal (one vectorised scipy call)."""
    t = np.arange(n_frames)[:, None]
    k = np.arange(n_text)[None, :]
    return betabinom(n_text - 1, scale * (t + 1), scale * (n_frames - t)).pmf(k).astype(np.float32)


def forward_sum_loss(
    logp: Tensor, text_lens: Tensor, frame_lens: Tensor, blank_logprob: float = -1.0
) -> Tensor:
    """CTC over the soft alignment: every phoneme visited once, in order (RAD-TTS)."""
    logp = F.pad(logp, (1, 0), value=blank_logprob)  # blank = column 0
    total = logp.new_zeros(())
    for i in range(logp.shape[0]):
        lt, lf = int(text_lens[i]), int(frame_lens[i])
        lp = logp[i, :lf, : lt + 1].unsqueeze(1)
        lp = torch.log_softmax(lp, dim=-1)
        target = torch.arange(1, lt + 1).unsqueeze(0)
        total = total + F.ctc_loss(
            lp, target, torch.tensor([lf]), torch.tensor([lt]), blank=0, zero_infinity=True
        )
    return total / logp.shape[0]


def monotonic_alignment(logp: np.ndarray) -> np.ndarray:
    """MAS: best monotonic path through logp [T, L] (each phoneme >= 1 frame) -> durations [L].

    When there are fewer frames than phonemes, the surplus phonemes get 0 frames.
    """
    t_len, l_len = logp.shape
    if t_len < l_len:
        dur = np.zeros(l_len, dtype=np.int64)
        idx = np.linspace(0, l_len - 1, t_len).round().astype(int)
        np.add.at(dur, idx, 1)
        return dur
    q = np.full((t_len, l_len), -np.inf)
    q[0, 0] = logp[0, 0]
    for t in range(1, t_len):
        stay = q[t - 1]
        move = np.concatenate([[-np.inf], q[t - 1, :-1]])
        q[t] = np.maximum(stay, move) + logp[t]
    dur = np.zeros(l_len, dtype=np.int64)
    j = l_len - 1
    for t in range(t_len - 1, -1, -1):
        dur[j] += 1
        if j > 0 and (t == j or q[t - 1, j - 1] >= q[t - 1, j]) and t > 0:
            j -= 1
    return dur
