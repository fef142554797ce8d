"""The Vocos-style student vocoder: log-mel -> ConvNeXt blocks at the mel frame rate -> iSTFT.

Why this shape (benchmarks/results/vocoder.md): all work is at the 86 Hz frame rate (no
upsampling convolutions), so it is far cheaper than the HiFi-GAN teacher; the blocks and the
magnitude/phase inverse-STFT head are the codec's own (``ConvNeXtBlock``, ``ISTFTHead``), so
XNNPACK takes them whole. Vocos' magnitude/phase head matters: a head that wrote real and
imaginary parts linearly (tried first) could not follow the 60 dB loudness range of speech
after the final LayerNorm (quiet frames twice the log-mel error of loud ones at 3,000 steps).
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from mobilespeech_runtime.errors import ConfigError

from ..config import VocoderConfig
from .blocks import ConvNeXtBlock, ISTFTHead
from .layers import LayerNorm


class VocosVocoder(nn.Module):
    """log-mel [B, n_mels, F] -> waveform [B, 1, F * hop] in [-1, 1]."""

    def __init__(self, cfg: VocoderConfig, n_mels: int = 80, hop: int = 256) -> None:
        super().__init__()
        if cfg.kind != "vocos":
            raise ConfigError(f"VocosVocoder needs vocoder kind 'vocos', got {cfg.kind!r}")
        self.cfg = cfg
        k = cfg.vocos_kernel
        self.embed = nn.Conv1d(n_mels, cfg.vocos_dim, k, padding=k // 2)
        self.norm = LayerNorm(cfg.vocos_dim)
        self.blocks = nn.ModuleList(
            ConvNeXtBlock(cfg.vocos_dim, cfg.vocos_intermediate, k) for _ in range(cfg.vocos_layers)
        )
        self.final_norm = LayerNorm(cfg.vocos_dim)
        self.head = ISTFTHead(cfg.vocos_dim, hop, cfg.vocos_overlap)

    @property
    def receptive_frames(self) -> int:
        """Mel frames of context each side that reach an output frame (convs + head)."""
        half = self.cfg.vocos_kernel // 2
        return half * (1 + self.cfg.vocos_layers) + self.cfg.vocos_overlap // 2

    def forward(self, mel: Tensor) -> Tensor:
        x = self.norm(self.embed(mel).transpose(1, 2))
        for blk in self.blocks:
            x = blk(x)
        return torch.clamp(self.head(self.final_norm(x)), -1.0, 1.0)

    def for_export(self) -> VocosVocoder:
        """A copy for export, in eval mode: the head computes its inverse-DFT basis inside the
        program (``ISTFTHead.compute_basis_in_graph``) instead of storing 4.2 MB of it."""
        m = copy.deepcopy(self).eval()
        m.head.compute_basis_in_graph()
        # log-magnitude and phase per bin: 4/8-bit weights there are audible (phase noise),
        # so export's quantization leaves this one layer fp32 (export/lower.py)
        m.head.proj.keep_fp32 = True  # type: ignore[attr-defined]
        return m
