"""Text side: phoneme encoder, duration extractor over the prompt, duration predictor, regulator."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import MobileSpeechConfig
from .layers import Attention, LayerNorm, SinusoidalPositions, Stack, padding_bias


class TokenSumEmbedding(nn.Module):
    """Sum of per-codebook embeddings of codec tokens [B, N, T] -> [B, T, D] (one gather).

    ``extra`` rows per codebook are for the SMD's [MASK] token (id = codebook_size).
    """

    def __init__(self, n_codebooks: int, codebook_size: int, dim: int, extra: int = 0) -> None:
        super().__init__()
        self.n = n_codebooks
        self.rows = codebook_size + extra
        self.table = nn.Embedding(n_codebooks * self.rows, dim)
        offsets = torch.arange(n_codebooks).view(1, n_codebooks, 1) * self.rows
        self.register_buffer("offsets", offsets, persistent=False)

    def store_half(self, dtype: torch.dtype = torch.float16) -> None:
        """Export only: keep the table as float16 and widen each gathered row to float32.

        Why: the three token tables (prompt encoder, duration extractor, SMD) are 6 x 1024 x
        d_model each, 9.4 MB of fp32 in the small model, more than all its 4-bit linears; the
        gather itself is a copy, so fp16 storage halves that at a relative error of 5e-4.
        """
        table16 = self.table.weight.detach().to(dtype)  # export.recover's probe keeps fp32
        del self.table
        self.register_buffer("table16", table16)

    def forward(self, tokens: Tensor) -> Tensor:
        if hasattr(self, "table16"):
            return F.embedding(tokens + self.offsets, self.table16).float().sum(1)
        return self.table(tokens + self.offsets).sum(1)


def half_token_tables(model: nn.Module, dtype: torch.dtype = torch.float16) -> nn.Module:
    """Every ``TokenSumEmbedding`` of ``model`` stores its table in fp16 (export, in place)."""
    for m in model.modules():
        if isinstance(m, TokenSumEmbedding) and hasattr(m, "table"):
            m.store_half(dtype)
    return model


class TextEncoder(nn.Module):
    """Phoneme ids [B, L] -> text states [B, L, D]."""

    def __init__(self, cfg: MobileSpeechConfig) -> None:
        super().__init__()
        m = cfg.model
        self.embed = nn.Embedding(m.n_symbols, m.d_model, padding_idx=0)
        self.pos = SinusoidalPositions(m.d_model)
        self.stack = Stack(
            m.text_layers, m.d_model, m.n_heads, m.ffn_mult, m.conv_kernel, m.dropout
        )

    def forward(self, phonemes: Tensor, keep: Tensor | None = None) -> Tensor:
        x = self.embed(phonemes)
        x = x + self.pos(x)
        return self.stack(x, keep)


class DurationExtractor(nn.Module):
    """Prompt tokens [B, N, Tp] -> K duration tokens [B, K, D] that carry the prompt's rhythm.

    K learned queries attend over an encoding of the prompt, so any prompt length pools to a
    fixed number of tokens without data-dependent shapes.
    """

    def __init__(self, cfg: MobileSpeechConfig) -> None:
        super().__init__()
        m, c = cfg.model, cfg.codec
        self.embed = TokenSumEmbedding(c.n_codebooks, c.codebook_size, m.d_model)
        self.pos = SinusoidalPositions(m.d_model)
        self.stack = Stack(
            m.duration_layers, m.d_model, m.n_heads, m.ffn_mult, m.conv_kernel, m.dropout
        )
        self.queries = nn.Parameter(torch.randn(1, m.duration_tokens, m.d_model) * 0.02)
        self.pool = Attention(m.d_model, m.n_heads)
        self.norm = LayerNorm(m.d_model)
        self.heads = m.n_heads

    def forward(self, prompt: Tensor, keep: Tensor | None = None) -> Tensor:
        x = self.embed(prompt)
        x = self.stack(x + self.pos(x), keep)
        q = self.queries.expand(x.shape[0], -1, -1)
        bias = padding_bias(keep, self.heads) if keep is not None else None
        return self.norm(self.pool(q, memory=x, bias=bias))


class DurationPredictor(nn.Module):
    """[duration tokens ; text states] -> log(1 + frames) per phoneme [B, L]."""

    def __init__(self, cfg: MobileSpeechConfig) -> None:
        super().__init__()
        m = cfg.model
        self.k = m.duration_tokens
        self.pos = SinusoidalPositions(m.d_model)
        self.stack = Stack(
            m.duration_layers, m.d_model, m.n_heads, m.ffn_mult, m.conv_kernel, m.dropout
        )
        self.out = nn.Linear(m.d_model, 1)
        # Start near a typical phoneme length (~5 frames at 50 Hz), not at zero frames.
        nn.init.constant_(self.out.bias, math.log1p(5.0))

    def forward(self, dur_tokens: Tensor, text: Tensor, text_keep: Tensor | None = None) -> Tensor:
        x = torch.cat([dur_tokens, text], dim=1)
        x = x + self.pos(x)
        keep = None
        if text_keep is not None:
            pre = torch.ones(text.shape[0], self.k, dtype=torch.bool, device=text.device)
            keep = torch.cat([pre, text_keep.bool()], dim=1)
        h = self.stack(x, keep)[:, self.k :]
        return self.out(h).squeeze(-1)


def durations_from_log(log_dur: Tensor, length_scale: Tensor | float = 1.0) -> Tensor:
    """Predicted log(1 + frames) -> integer frames >= 0 (rounded), scaled by speaking rate."""
    frames = torch.clamp(torch.exp(log_dur) - 1.0, min=0.0) * length_scale
    return torch.round(frames).long()


def frame_index(durations: Tensor) -> Tensor:
    """[L] durations -> [T] index of the phoneme each frame belongs to (length regulator)."""
    return torch.repeat_interleave(
        torch.arange(durations.numel(), device=durations.device), durations.clamp(min=0)
    )


def length_regulate(text: Tensor, index: Tensor) -> Tensor:
    """text [B, L, D], index [B, T] -> frame-level text states [B, T, D] (a gather)."""
    if text.shape[0] == 1:  # inference/export: index_select instead of an expanded gather
        return torch.index_select(text, 1, index[0])
    idx = index.unsqueeze(-1).expand(-1, -1, text.shape[-1])
    return torch.gather(text, 1, idx)
