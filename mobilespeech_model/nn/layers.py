"""Export-friendly building blocks shared by every part of the model.

Written so XNNPACK takes whole blocks (see docs/offline.md, "ExecuTorch facts"):
separate q/k/v linears, attention as ``torch.bmm`` on 3-D tensors, LayerNorm written out
with a 4-D mean, reshapes as ``.contiguous().view(...)`` with at most one ``-1``, SiLU
instead of GELU, no SDPA, no ``nn.LayerNorm``, no data-dependent Python control flow.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

NEG_INF = -1e4  # additive attention bias for padded keys; finite so softmax never sees NaN


class LayerNorm(nn.Module):
    """LayerNorm over the last dim, written out so it lowers to XNNPACK in one piece."""

    def __init__(self, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: Tensor) -> Tensor:
        b = x.shape[0]
        h = x.contiguous().view(b, -1, self.dim, 1)
        mu = h.mean((2, 3), keepdim=True)
        d = h - mu
        var = (d * d).mean((2, 3), keepdim=True)
        h = d * torch.rsqrt(var + self.eps)
        return h.view(b, -1, self.dim) * self.weight + self.bias


class Attention(nn.Module):
    """Multi-head attention; self-attention when ``memory`` is None, else cross attention."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.dim = dim
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.o = nn.Linear(dim, dim)
        self.drop = nn.Dropout(dropout)
        self.scale = 1.0 / math.sqrt(self.head_dim)

    def _split(self, x: Tensor) -> Tensor:
        b = x.shape[0]
        x = x.contiguous().view(b, -1, self.heads, self.head_dim).transpose(1, 2)
        return x.contiguous().view(b * self.heads, -1, self.head_dim)

    def forward(
        self, x: Tensor, memory: Tensor | None = None, bias: Tensor | None = None
    ) -> Tensor:
        """x [B,T,D]; memory [B,S,D]; bias additive [B*heads,1,S] (0 or NEG_INF) or None."""
        b = x.shape[0]
        src = x if memory is None else memory
        q = self._split(self.q(x) * self.scale)
        k = self._split(self.k(src))
        v = self._split(self.v(src))
        scores = torch.bmm(q, k.transpose(1, 2))
        if bias is not None:
            scores = scores + bias
        attn = self.drop(torch.softmax(scores, dim=-1))
        out = torch.bmm(attn, v)
        out = out.contiguous().view(b, self.heads, -1, self.head_dim).transpose(1, 2)
        return self.o(out.contiguous().view(b, -1, self.dim))


class FeedForward(nn.Module):
    def __init__(self, dim: int, mult: int, dropout: float) -> None:
        super().__init__()
        self.up = nn.Linear(dim, dim * mult)
        self.down = nn.Linear(dim * mult, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.down(self.drop(F.silu(self.up(x))))


class ConvModule(nn.Module):
    """Conformer convolution module: pointwise GLU, depthwise conv, norm, SiLU, pointwise."""

    def __init__(self, dim: int, kernel: int, dropout: float) -> None:
        super().__init__()
        self.pw1 = nn.Linear(dim, 2 * dim)
        self.dw = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.norm = LayerNorm(dim)
        self.pw2 = nn.Linear(dim, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, keep: Tensor | None = None) -> Tensor:
        """x [B,T,D]; keep [B,T,1] float (1 = real frame) zeroes padding before the conv."""
        h = self.pw1(x)
        a, g = h.chunk(2, dim=-1)
        h = a * torch.sigmoid(g)
        if keep is not None:
            h = h * keep
        h = self.dw(h.transpose(1, 2)).transpose(1, 2)
        h = F.silu(self.norm(h))
        return self.drop(self.pw2(h))


class Block(nn.Module):
    """Conformer block (macaron FFNs, self-attn, conv, optional cross-attn to a memory)."""

    def __init__(
        self, dim: int, heads: int, ffn_mult: int, kernel: int, dropout: float, cross: bool = False
    ) -> None:
        super().__init__()
        self.ff1_norm, self.ff1 = LayerNorm(dim), FeedForward(dim, ffn_mult, dropout)
        self.attn_norm, self.attn = LayerNorm(dim), Attention(dim, heads, dropout)
        self.conv_norm, self.conv = LayerNorm(dim), ConvModule(dim, kernel, dropout)
        self.cross = Attention(dim, heads, dropout) if cross else None
        self.cross_norm = LayerNorm(dim) if cross else None
        self.ff2_norm, self.ff2 = LayerNorm(dim), FeedForward(dim, ffn_mult, dropout)
        self.out_norm = LayerNorm(dim)
        self.drop = nn.Dropout(dropout)

    def forward(
        self,
        x: Tensor,
        bias: Tensor | None = None,
        keep: Tensor | None = None,
        memory: Tensor | None = None,
        memory_bias: Tensor | None = None,
    ) -> Tensor:
        x = x + 0.5 * self.drop(self.ff1(self.ff1_norm(x)))
        x = x + self.drop(self.attn(self.attn_norm(x), bias=bias))
        x = x + self.conv(self.conv_norm(x), keep)
        if self.cross is not None and self.cross_norm is not None and memory is not None:
            x = x + self.drop(self.cross(self.cross_norm(x), memory=memory, bias=memory_bias))
        x = x + 0.5 * self.drop(self.ff2(self.ff2_norm(x)))
        return self.out_norm(x)


class SinusoidalPositions(nn.Module):
    """Absolute sinusoidal positions computed in-graph, so no length-sized table is stored."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        inv = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
        self.register_buffer("inv_freq", inv, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """Returns [1, T, D] positions for x [B, T, D]."""
        ones = torch.ones_like(x[0, :, :1])  # [T,1]; cumsum gives 1..T without arange on a symint
        pos = torch.cumsum(ones, dim=0) - 1.0
        ang = pos * self.inv_freq
        return torch.cat([torch.sin(ang), torch.cos(ang)], dim=-1).unsqueeze(0)


def padding_bias(keep: Tensor, heads: int) -> Tensor:
    """keep [B,S] bool/float (1 = real) -> additive key bias [B*heads, 1, S]."""
    bias = (1.0 - keep.float()) * NEG_INF
    return bias.unsqueeze(1).repeat_interleave(heads, dim=0)


def lengths_to_keep(lengths: Tensor, max_len: int) -> Tensor:
    """[B] lengths -> [B, max_len] bool mask of real positions."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


class Stack(nn.Module):
    """A stack of Blocks with shared masking conventions."""

    def __init__(
        self,
        n: int,
        dim: int,
        heads: int,
        ffn_mult: int,
        kernel: int,
        dropout: float,
        cross: bool = False,
    ) -> None:
        super().__init__()
        self.heads = heads
        self.blocks = nn.ModuleList(
            Block(dim, heads, ffn_mult, kernel, dropout, cross) for _ in range(n)
        )

    def forward(
        self,
        x: Tensor,
        keep: Tensor | None = None,
        memory: Tensor | None = None,
        memory_keep: Tensor | None = None,
    ) -> Tensor:
        bias = padding_bias(keep, self.heads) if keep is not None else None
        keep3 = keep.float().unsqueeze(-1) if keep is not None else None
        mbias = padding_bias(memory_keep, self.heads) if memory_keep is not None else None
        for blk in self.blocks:
            x = blk(x, bias=bias, keep=keep3, memory=memory, memory_bias=mbias)
        return x
