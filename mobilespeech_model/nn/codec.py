"""Neural codec: EnCodec's SEANet encoder + residual VQ, with a Vocos-style or SEANet decoder.

The wrapper holds an ``encodec.EncodecModel`` (encoder, quantizer, decoder) so the official
24 kHz weights load into the same class when a user has them locally. Tokens are
``[B, N, T]`` (N codebooks, T frames); waveforms ``[B, 1, samples]`` in [-1, 1].
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mobilespeech_runtime.errors import ConfigError

from ..bundle import sha256_file
from ..config import CodecConfig
from .blocks import ConvNeXtBlock, ISTFTHead
from .encodec_compat import import_encodec
from .layers import LayerNorm

OFFICIAL_24KHZ_SHA256_PREFIX = "d7cc33bc"  # from the official file name encodec_24khz-d7cc33bc.th


class VocosDecoder(nn.Module):
    """Codec latent [B, dim, T] -> waveform [B, 1, T * hop]; all work at the frame rate."""

    def __init__(self, cfg: CodecConfig) -> None:
        super().__init__()
        self.embed = nn.Conv1d(
            cfg.dimension, cfg.vocos_dim, cfg.vocos_kernel, padding=cfg.vocos_kernel // 2
        )
        self.norm = LayerNorm(cfg.vocos_dim)
        self.blocks = nn.ModuleList(
            ConvNeXtBlock(cfg.vocos_dim, cfg.vocos_intermediate, cfg.vocos_kernel)
            for _ in range(cfg.vocos_layers)
        )
        self.final_norm = LayerNorm(cfg.vocos_dim)
        self.head = ISTFTHead(cfg.vocos_dim, cfg.hop_length, cfg.istft_overlap)

    def forward(self, latent: Tensor) -> Tensor:
        x = self.norm(self.embed(latent).transpose(1, 2))
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.final_norm(x))


class ExportELU(nn.Module):
    """ELU as relu(x) + exp(min(x, 0)) - 1: XNNPACK has no ELU kernel."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(x) + torch.exp(torch.clamp(x, max=0.0)) - 1.0


class Codec(nn.Module):
    """Encode waveforms to RVQ tokens and decode tokens to waveforms."""

    def __init__(self, cfg: CodecConfig) -> None:
        super().__init__()
        encodec = import_encodec()
        from encodec import modules as m
        from encodec import quantization as qt

        self.cfg = cfg
        common = dict(
            channels=cfg.channels,
            dimension=cfg.dimension,
            n_filters=cfg.n_filters,
            ratios=list(cfg.ratios),
            norm=cfg.norm,
            causal=cfg.causal,
            pad_mode=cfg.pad_mode,
        )
        encoder = m.SEANetEncoder(lstm=cfg.encoder_lstm, **common)
        if cfg.decoder == "vocos":
            decoder: nn.Module = VocosDecoder(cfg)
        else:
            decoder = m.SEANetDecoder(lstm=cfg.encoder_lstm, **common)
        quantizer = qt.ResidualVectorQuantizer(
            dimension=cfg.dimension, n_q=cfg.n_codebooks, bins=cfg.codebook_size
        )
        for layer in quantizer.vq.layers:
            # EnCodec starts k-means-initialised codebooks at zero until the first training
            # batch; random vectors instead give an untrained model distinct codes (tests, the
            # untrained CLI mode). The first training batch still runs k-means over them.
            layer._codebook.embed.normal_()
            layer._codebook.embed_avg.copy_(layer._codebook.embed)
        bw = cfg.n_codebooks * math.log2(cfg.codebook_size) * cfg.frame_rate / 1000.0
        self.model = encodec.EncodecModel(
            encoder,
            decoder,
            quantizer,
            target_bandwidths=[bw],
            sample_rate=cfg.sample_rate,
            channels=cfg.channels,
        )

    @classmethod
    def official_24khz(cls, checkpoint: Path, n_codebooks: int = 8) -> Codec:
        """EnCodec's official 24 kHz model from a local file (its sha256 prefix is verified)."""
        checkpoint = Path(checkpoint)
        if not checkpoint.is_file():
            raise ConfigError(f"official EnCodec checkpoint not found: {checkpoint}")
        digest = sha256_file(checkpoint)
        if not digest.startswith(OFFICIAL_24KHZ_SHA256_PREFIX):
            raise ConfigError(f"{checkpoint} is not encodec_24khz-d7cc33bc.th (sha256 {digest})")
        cfg = CodecConfig(
            sample_rate=24000,
            ratios=(8, 5, 4, 2),
            n_filters=32,
            dimension=128,
            encoder_lstm=2,
            pad_mode="reflect",
            causal=True,
            decoder="encodec",
            n_codebooks=32,
            codebook_size=1024,
            official_checkpoint=str(checkpoint),
            official_sha256=digest,
        )
        codec = cls(cfg)
        codec.model.load_state_dict(torch.load(checkpoint, map_location="cpu"))
        codec.use_codebooks(n_codebooks)
        return codec

    def use_codebooks(self, n: int) -> None:
        """Keep the first n RVQ levels (6 kbps = 8 codebooks for the official 24 kHz model)."""
        layers = self.model.quantizer.vq.layers
        if not 1 <= n <= len(layers):
            raise ConfigError(f"n_codebooks must be in 1..{len(layers)}")
        del layers[n:]
        self.cfg.n_codebooks = n

    @property
    def hop_length(self) -> int:
        return self.cfg.hop_length

    def latent(self, wav: Tensor) -> Tensor:
        """wav [B, 1, S] -> continuous encoder output [B, dim, T]."""
        return self.model.encoder(wav)

    def encode(self, wav: Tensor) -> Tensor:
        """wav [B, 1, S] -> tokens [B, N, T] (int64)."""
        codes = self.model.quantizer.vq.encode(self.latent(wav), n_q=self.cfg.n_codebooks)
        return codes.transpose(0, 1).contiguous()

    def codebooks(self) -> Tensor:
        """All codebooks stacked: [N * codebook_size, dim] (row offset n * codebook_size)."""
        return torch.cat([layer._codebook.embed for layer in self.model.quantizer.vq.layers], 0)

    def tokens_to_latent(self, tokens: Tensor, table: Tensor | None = None) -> Tensor:
        """tokens [B, N, T] -> summed codebook vectors [B, dim, T] (one gather, export-friendly)."""
        table = self.codebooks() if table is None else table
        n = tokens.shape[1]
        offsets = torch.arange(n, device=tokens.device).view(1, n, 1) * self.cfg.codebook_size
        emb = F.embedding(tokens + offsets, table)  # [B, N, T, dim]
        return emb.sum(1).transpose(1, 2)

    def decode_latent(self, latent: Tensor) -> Tensor:
        return self.model.decoder(latent)

    def decode(self, tokens: Tensor) -> Tensor:
        """tokens [B, N, T] -> waveform [B, 1, T * hop]."""
        return self.decode_latent(self.tokens_to_latent(tokens))

    def quantize(self, latent: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Training path: (quantized latent with straight-through grads, codes, commit loss)."""
        q, codes, losses = self.model.quantizer.vq(latent, n_q=self.cfg.n_codebooks)
        return q, codes.transpose(0, 1), losses.mean()


def prepare_for_export(module: nn.Module) -> nn.Module:
    """Remove weight norm and swap ELU for its exportable form, in place (see offline.md)."""
    for sub in module.modules():
        for name, child in list(sub.named_children()):
            if isinstance(child, nn.ELU):
                setattr(sub, name, ExportELU())
        if hasattr(sub, "weight_g") and hasattr(sub, "weight_v"):
            torch.nn.utils.remove_weight_norm(sub)
    return module


def make_codec(cfg: CodecConfig) -> nn.Module:
    """The codec ``cfg.kind`` names: ``MelCodec`` ("mel") or the EnCodec-family ``Codec``."""
    if cfg.kind == "mel":
        from .mel_codec import MelCodec

        return MelCodec(cfg)
    return Codec(cfg)
