"""Autoregressive baseline: a decoder-only transformer of the SMD's size with a KV cache.

VALL-E style conditioning: one causal sequence [phonemes ; prompt frames ; generated frames].
Same d_model, number of layers, heads and FFN width as the SMD (pre-LN blocks: self-attention
+ FFN; the SMD's Conformer blocks additionally carry a macaron FFN, a conv module and cross
attention, so per position this baseline does *less* work than an SMD block).

Two generation modes (``per``):

- ``"frame"`` (default): one forward pass per frame predicting all N codebooks at once
  (N heads; the MusicGen "parallel" pattern). It costs as many forwards as VALL-E's AR stage,
  which generates only the first codebook and leaves the other N-1 to a non-autoregressive
  model: it is a lower bound on a VALL-E-like decoder.
- ``"codebook"``: one forward pass per frame *and* codebook (a flattened N*T token sequence,
  as in SPEAR-TTS / UniAudio-style flattening): N times as many sequential forwards.

Weights are untrained (speed does not depend on them); tokens are sampled with Gumbel-argmax
so the loop does what a real sampler does. Eager PyTorch under ``torch.inference_mode``, KV
cache preallocated and written in place, attention over the filled prefix only.
"""

from __future__ import annotations

import math
import time

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mobilespeech_model.config import MobileSpeechConfig


class _Block(nn.Module):
    def __init__(self, d: int, heads: int, ffn: int) -> None:
        super().__init__()
        self.h, self.hd = heads, d // heads
        self.n1, self.n2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.up, self.down = nn.Linear(d, ffn), nn.Linear(ffn, d)

    def forward(self, x: Tensor, kc: Tensor, vc: Tensor, pos: int) -> Tensor:
        """x [n, D] for positions pos..pos+n-1; kc/vc [H, Smax, hd] caches written in place."""
        n = x.shape[0]
        h = self.n1(x)
        q = self.q(h).view(n, self.h, self.hd).transpose(0, 1)  # [H, n, hd]
        kc[:, pos : pos + n] = self.k(h).view(n, self.h, self.hd).transpose(0, 1)
        vc[:, pos : pos + n] = self.v(h).view(n, self.h, self.hd).transpose(0, 1)
        k, v = kc[:, : pos + n], vc[:, : pos + n]
        scores = torch.matmul(q, k.transpose(1, 2)) / math.sqrt(self.hd)
        if n > 1:  # prefill: causal mask
            causal = torch.ones(n, pos + n, dtype=torch.bool).tril(pos)
            scores = scores.masked_fill(~causal, float("-inf"))
        a = torch.matmul(torch.softmax(scores, -1), v).transpose(0, 1).reshape(n, -1)
        x = x + self.o(a)
        return x + self.down(F.silu(self.up(self.n2(x))))


class ARDecoder(nn.Module):
    def __init__(self, cfg: MobileSpeechConfig, max_len: int) -> None:
        super().__init__()
        m, c = cfg.model, cfg.codec
        d = m.d_model
        self.n, self.v, self.d, self.heads = c.n_codebooks, c.codebook_size, d, m.n_heads
        self.layers = m.smd_layers
        self.max_len = max_len
        self.text = nn.Embedding(m.n_symbols, d)
        self.tokens = nn.Embedding(c.n_codebooks * c.codebook_size, d)
        self.codebook_embed = nn.Embedding(c.n_codebooks, d)  # which codebook ("codebook" mode)
        self.blocks = nn.ModuleList(
            _Block(d, m.n_heads, d * m.ffn_mult) for _ in range(m.smd_layers)
        )
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, c.n_codebooks * c.codebook_size)
        pos = torch.arange(max_len, dtype=torch.float32)[:, None]
        inv = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(1e4) / d))
        self.register_buffer("pe", torch.cat([torch.sin(pos * inv), torch.cos(pos * inv)], -1))
        self.register_buffer("offsets", torch.arange(c.n_codebooks) * c.codebook_size)

    def _caches(self) -> list[tuple[Tensor, Tensor]]:
        hd = self.d // self.heads
        return [
            (torch.empty(self.heads, self.max_len, hd), torch.empty(self.heads, self.max_len, hd))
            for _ in range(self.layers)
        ]

    def _forward(self, x: Tensor, caches: list[tuple[Tensor, Tensor]], pos: int) -> Tensor:
        x = x + self.pe[pos : pos + x.shape[0]]
        for blk, (kc, vc) in zip(self.blocks, caches, strict=True):
            x = blk(x, kc, vc, pos)
        return self.norm(x[-1:])

    @torch.inference_mode()
    def generate(
        self, phonemes: Tensor, prompt: Tensor, frames: int, per: str = "frame", seed: int = 0
    ) -> Tensor:
        """phonemes [L], prompt tokens [N, S] -> generated tokens [N, frames]."""
        gen = torch.Generator().manual_seed(seed)
        caches = self._caches()
        n, v = self.n, self.v
        if per == "frame":
            prefix = torch.cat([self.text(phonemes), self.tokens(prompt.T + self.offsets).sum(1)])
        elif per == "codebook":
            flat = (prompt.T + self.offsets).reshape(-1)  # frame-major N*S tokens
            cb = torch.arange(n).repeat(prompt.shape[1])
            prefix = torch.cat([self.text(phonemes), self.tokens(flat) + self.codebook_embed(cb)])
        else:
            raise ValueError(f"per must be 'frame' or 'codebook', got {per!r}")
        need = prefix.shape[0] + frames * (1 if per == "frame" else n)
        if need > self.max_len:
            raise ValueError(f"sequence of {need} positions exceeds max_len {self.max_len}")
        h = self._forward(prefix, caches, 0)
        pos = prefix.shape[0]
        out = torch.empty(n, frames, dtype=torch.long)
        w, b = self.head.weight.view(n, v, -1), self.head.bias.view(n, v)
        for t in range(frames):
            if per == "frame":
                logits = self.head(h).view(n, v)
                g = -torch.log(-torch.log(torch.rand(n, v, generator=gen).clamp_(1e-6, 1 - 1e-6)))
                tok = torch.argmax(logits + g, -1)
                out[:, t] = tok
                h = self._forward(self.tokens(tok + self.offsets).sum(0, keepdim=True), caches, pos)
                pos += 1
            else:
                for j in range(n):
                    logits = F.linear(h, w[j], b[j])[0]
                    g = -torch.log(-torch.log(torch.rand(v, generator=gen).clamp_(1e-6, 1 - 1e-6)))
                    tok = torch.argmax(logits + g)
                    out[j, t] = tok
                    e = self.tokens(tok + self.offsets[j]) + self.codebook_embed.weight[j]
                    h = self._forward(e.view(1, -1), caches, pos)
                    pos += 1
        return out


def time_generation(
    model: ARDecoder, n_phonemes: int, prompt_frames: int, frames: int, per: str, seed: int = 0
) -> float:
    """Seconds to generate ``frames`` frames after the [phonemes ; prompt] prefix."""
    gen = torch.Generator().manual_seed(seed)
    ph = torch.randint(4, 80, (n_phonemes,), generator=gen)
    prompt = torch.randint(0, model.v, (model.n, prompt_frames), generator=gen)
    t0 = time.perf_counter()
    model.generate(ph, prompt, frames, per, seed)
    return time.perf_counter() - t0
