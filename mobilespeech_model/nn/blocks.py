"""Frame-rate building blocks shared by the codec's decoder and the Vocos vocoder.

``ConvNeXtBlock`` (Vocos' backbone block) and ``ISTFTHead`` (magnitude/phase -> waveform by an
inverse STFT written as matmuls, so XNNPACK takes it). Their own module so that the codec, the
mel codec and the vocoder import them without importing each other.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mobilespeech_runtime.errors import ConfigError

from .layers import LayerNorm


class ConvNeXtBlock(nn.Module):
    """Vocos ConvNeXt block at the frame rate (depthwise conv, norm, pointwise MLP)."""

    def __init__(self, dim: int, intermediate: int, kernel: int) -> None:
        super().__init__()
        self.dw = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.norm = LayerNorm(dim)
        self.up = nn.Linear(dim, intermediate)
        self.down = nn.Linear(intermediate, dim)
        self.gamma = nn.Parameter(torch.full((dim,), 0.1))

    def forward(self, x: Tensor) -> Tensor:  # x [B, T, D]
        h = self.dw(x.transpose(1, 2)).transpose(1, 2)
        h = self.down(F.silu(self.up(self.norm(h))))
        return x + self.gamma * h


class ISTFTHead(nn.Module):
    """Predicts log-magnitude and phase per frame and inverts them to a waveform.

    The inverse real DFT is a fixed matrix (a buffer) and overlap-add is a sum of shifted
    frame slices, so the whole head is matmuls and elementwise ops that XNNPACK takes;
    ``torch.istft`` would not export. A periodic Hann window with ``n_fft = overlap * hop``
    sums to ``overlap / 2`` across frames, which the output divides out.
    """

    def __init__(self, dim: int, hop: int, overlap: int) -> None:
        super().__init__()
        if overlap not in (2, 4):
            raise ConfigError("istft_overlap must be 2 or 4")
        self.hop, self.overlap = hop, overlap
        n_fft = hop * overlap
        self.n_fft = n_fft
        self.n_bins = n_fft // 2 + 1
        self.proj = nn.Linear(dim, 2 * self.n_bins)
        k = torch.arange(self.n_bins, dtype=torch.float64)[:, None]
        n = torch.arange(n_fft, dtype=torch.float64)[None, :]
        scale = torch.full((self.n_bins, 1), 2.0, dtype=torch.float64)
        scale[0] = 1.0
        scale[-1] = 1.0
        ang = 2 * math.pi * k * n / n_fft
        window = 0.5 - 0.5 * torch.cos(
            2 * math.pi * torch.arange(n_fft, dtype=torch.float64) / n_fft
        )
        norm = window / (n_fft * overlap / 2)
        basis = torch.cat([scale * torch.cos(ang) * norm, -scale * torch.sin(ang) * norm], dim=0)
        self.register_buffer("basis", basis.float(), persistent=False)  # [2*bins, n_fft]
        self._computed = False

    def compute_basis_in_graph(self) -> None:
        """Export: build the inverse-DFT basis inside the program from index vectors instead of
        storing it: at n_fft 1024 the stored basis is 4.2 MB of fp32 (more than a 4-bit Vocos
        student); computing it costs ~1M sin/cos per call. The angle's integer part
        ``k * n mod n_fft`` is exact in int64, so the values match the stored basis to fp32
        rounding."""
        n_fft, bins = self.n_fft, self.n_bins
        weight = torch.full((bins, 1), 2.0, dtype=torch.float64)
        weight[0] = weight[-1] = 1.0
        window = 0.5 - 0.5 * torch.cos(
            2 * math.pi * torch.arange(n_fft, dtype=torch.float64) / n_fft
        )
        norm = (window / (n_fft * self.overlap / 2))[None, :]
        self.register_buffer("k_index", torch.arange(bins)[:, None], persistent=False)
        self.register_buffer("n_index", torch.arange(n_fft)[None, :], persistent=False)
        self.register_buffer("bin_weight", weight.float(), persistent=False)
        self.register_buffer("frame_norm", norm.float(), persistent=False)
        del self.basis
        self._computed = True

    def _basis(self, like: Tensor) -> Tensor:
        if not self._computed:
            return self.basis
        # the zero taken from the input keeps export from folding the basis into a constant
        zero = (like[:1, :1, :1] * 0).to(torch.int64)[0, 0]
        ang = torch.remainder(self.k_index * self.n_index + zero, self.n_fft).to(torch.float32)
        ang = ang * (2 * math.pi / self.n_fft)
        w = self.bin_weight * self.frame_norm
        return torch.cat([torch.cos(ang) * w, -torch.sin(ang) * w], dim=0)

    def forward(self, x: Tensor) -> Tensor:
        """x [B, T, D] -> waveform [B, 1, T * hop]."""
        b = x.shape[0]
        h = self.proj(x)
        logmag, phase = h.chunk(2, dim=-1)
        mag = torch.exp(torch.clamp(logmag, max=6.0))
        spec = torch.cat([mag * torch.cos(phase), mag * torch.sin(phase)], dim=-1)
        if self._computed:  # a batched matmul: XNNPACK takes it with a computed right side
            basis = self._basis(x)
            frames = torch.bmm(spec, basis.unsqueeze(0).expand(b, basis.shape[0], basis.shape[1]))
        else:
            frames = torch.matmul(spec, self.basis)  # [B, T, n_fft], windowed
        frames = frames.contiguous().view(b, -1, self.overlap, self.hop)
        o = self.overlap
        out = F.pad(frames[:, :, 0, :], (0, 0, 0, o - 1))
        for i in range(1, o):
            out = out + F.pad(frames[:, :, i, :], (0, 0, i, o - 1 - i))
        out = out.contiguous().view(b, 1, -1)  # [(T + o - 1) * hop]
        trim = (o - 1) * self.hop // 2
        return out[:, :, trim : out.shape[-1] - ((o - 1) * self.hop - trim)]
