"""The Vocos-style student vocoder: log-mel -> ConvNeXt blocks at the mel frame rate -> iSTFT.

Why this shape (benchmarks/results/vocoder.md): all work is at the 86 Hz frame rate (no
upsampling convolutions), so it is about 50x cheaper than the HiFi-GAN teacher; the blocks are
the codec's own ``ConvNeXtBlock`` so XNNPACK takes them whole.

The head predicts each frame's complex spectrum as real and imaginary coefficients (not
Vocos' magnitude and phase): the inverse DFT and the synthesis window are then a fixed linear
map after a linear layer, and ``for_export`` folds the two into one ``Linear(dim, n_fft)``.
Same function, but the program holds a 256 x 1024 weight instead of the 1026 x 1024 inverse
DFT basis (4.2 MB fp32, more than the rest of the student once quantized), and it costs one
matmul instead of two. Training keeps the spectral parametrization (coefficients per bin), so
the optimizer sees frequency bins, as in Vocos.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import Tensor, nn

from ..config import VocoderConfig
from ..errors import ConfigError
from .codec import ConvNeXtBlock
from .layers import LayerNorm


def synthesis_basis(hop: int, overlap: int) -> Tensor:
    """[2 * bins, n_fft] float64: real/imag coefficients -> one Hann-windowed frame, scaled so
    the Hann overlap-add of ``overlap`` frames sums to one and a unit coefficient is a
    sinusoid of roughly unit amplitude (so the head starts at a sensible scale)."""
    n_fft = hop * overlap
    bins = n_fft // 2 + 1
    k = torch.arange(bins, dtype=torch.float64)[:, None]
    n = torch.arange(n_fft, dtype=torch.float64)[None, :]
    ang = 2 * math.pi * k * n / n_fft
    window = 0.5 - 0.5 * torch.cos(2 * math.pi * torch.arange(n_fft, dtype=torch.float64) / n_fft)
    norm = window / (overlap / 2) / 2.0  # OLA of the Hann window sums to overlap / 2
    edge = torch.ones(bins, 1, dtype=torch.float64)
    edge[0] = edge[-1] = 0.5
    return torch.cat([edge * torch.cos(ang) * norm, -edge * torch.sin(ang) * norm], dim=0)


class SpectralFrameHead(nn.Module):
    """x [B, T, D] -> waveform [B, 1, T * hop]: per frame a windowed inverse DFT, overlap-added
    ("same" framing: frame t is centred on sample t * hop + hop / 2, as the mel analysis)."""

    def __init__(self, dim: int, hop: int, overlap: int) -> None:
        super().__init__()
        if overlap not in (2, 4):
            raise ConfigError("vocos_overlap must be 2 or 4")
        self.hop, self.overlap, self.n_fft = hop, overlap, hop * overlap
        self.proj = nn.Linear(dim, 2 * (self.n_fft // 2 + 1))
        with torch.no_grad():  # start near silence, not clipped noise
            self.proj.weight.mul_(0.02)
            self.proj.bias.zero_()
        self.register_buffer("basis", synthesis_basis(hop, overlap).float(), persistent=False)
        self.frame: nn.Linear | None = None  # set by fuse(): proj and basis in one layer

    @torch.no_grad()
    def fuse(self) -> None:
        """Fold ``proj`` and the inverse DFT into one ``Linear(dim, n_fft)`` (for export)."""
        w = self.proj.weight.double().T @ self.basis.double()  # [D, n_fft]
        b = self.proj.bias.double() @ self.basis.double()
        self.frame = nn.Linear(w.shape[0], w.shape[1])
        self.frame.weight.copy_(w.T.float())
        self.frame.bias.copy_(b.float())
        # it writes waveform samples: export's quantization leaves it fp32 (export/lower.py)
        self.frame.keep_fp32 = True  # type: ignore[attr-defined]
        del self.proj, self.basis  # an unused buffer would still be stored in the program

    def forward(self, x: Tensor) -> Tensor:
        b = x.shape[0]
        if self.frame is not None:  # fused
            frames = self.frame(x)
        else:
            frames = torch.matmul(self.proj(x), self.basis)  # [B, T, n_fft]
        o, hop = self.overlap, self.hop
        frames = frames.contiguous().view(b, -1, o, hop)
        out = nn.functional.pad(frames[:, :, 0, :], (0, 0, 0, o - 1))
        for i in range(1, o):
            out = out + nn.functional.pad(frames[:, :, i, :], (0, 0, i, o - 1 - i))
        out = out.contiguous().view(b, 1, -1)  # [(T + o - 1) * hop]
        trim = (o - 1) * hop // 2
        return out[:, :, trim : out.shape[-1] - ((o - 1) * hop - trim)]


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
        self.head = SpectralFrameHead(cfg.vocos_dim, hop, cfg.vocos_overlap)

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
        """A copy with the head fused (same outputs to float rounding), in eval mode."""
        m = copy.deepcopy(self).eval()
        m.head.fuse()
        return m
