"""Prompt encoder and the Speech Mask Decoder (SMD)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..config import MobileSpeechConfig
from .layers import SinusoidalPositions, Stack
from .text import TokenSumEmbedding


class PromptEncoder(nn.Module):
    """Prompt tokens [B, N, Tp] -> memory [B, Tp, D] that every SMD block cross-attends to."""

    def __init__(self, cfg: MobileSpeechConfig) -> None:
        super().__init__()
        m, c = cfg.model, cfg.codec
        self.embed = TokenSumEmbedding(c.n_codebooks, c.codebook_size, m.d_model)
        self.pos = SinusoidalPositions(m.d_model)
        self.stack = Stack(
            m.prompt_layers, m.d_model, m.n_heads, m.ffn_mult, m.conv_kernel, m.dropout
        )

    def forward(self, prompt: Tensor, keep: Tensor | None = None) -> Tensor:
        x = self.embed(prompt)
        return self.stack(x + self.pos(x), keep)


class SpeechMaskDecoder(nn.Module):
    """Conformer decoder over all N codec layers at once; predicts one layer's tokens.

    Input per frame: sum of the N layers' token embeddings ([MASK] = ``codebook_size`` for
    masked and not-yet-generated layers) + frame-level text state + an embedding of the
    layer being generated. The head predicts every layer and the requested one is gathered,
    so one traced program serves every step of the schedule.
    """

    def __init__(self, cfg: MobileSpeechConfig) -> None:
        super().__init__()
        m, c = cfg.model, cfg.codec
        self.n, self.v = c.n_codebooks, c.codebook_size
        self.mask_id = c.codebook_size
        self.embed = TokenSumEmbedding(c.n_codebooks, c.codebook_size, m.d_model, extra=1)
        self.layer_embed = nn.Embedding(c.n_codebooks, m.d_model)
        self.pos = SinusoidalPositions(m.d_model)
        self.stack = Stack(
            m.smd_layers, m.d_model, m.n_heads, m.ffn_mult, m.conv_kernel, m.dropout, cross=True
        )
        self.head = nn.Linear(m.d_model, c.n_codebooks * c.codebook_size)

    def forward(
        self,
        tokens: Tensor,
        text_frames: Tensor,
        layer: Tensor,
        memory: Tensor,
        keep: Tensor | None = None,
        memory_keep: Tensor | None = None,
    ) -> Tensor:
        """tokens [B,N,T], text_frames [B,T,D], layer [B] or [1] (shared), memory [B,S,D]
        -> logits [B,T,V]."""
        b = tokens.shape[0]
        x = (
            self.embed(tokens) + text_frames + self.layer_embed(layer).unsqueeze(1)
        )  # [1] broadcasts
        h = self.stack(x + self.pos(x), keep, memory, memory_keep)
        full = self.head(h).contiguous().view(b, -1, self.n, self.v)
        if layer.numel() == 1:  # inference/export: one layer for the whole batch, so one
            # index_select (a gather over T*V costs ~20 % of a step)
            return torch.index_select(full, 2, layer).squeeze(2)
        idx = layer.view(b, 1, 1, 1).expand(b, full.shape[1], 1, self.v)
        return torch.gather(full, 2, idx).squeeze(2)
