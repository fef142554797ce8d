"""The programs a bundle holds: thin wrappers over the model's methods, with example inputs
and dynamic-shape bounds taken from the config (never constants here).

| file         | method               | inputs -> outputs                                        |
|--------------|----------------------|----------------------------------------------------------|
| prompt.pte   | encode               | wav [1,1,Smax] -> prompt tokens [1,N,Tpmax] (fixed size) |
| prompt.pte   | memory               | prompt tokens [1,N,Tp] -> memory [1,Tp,D]                |
| text.pte     | text_and_durations   | ids [1,L], prompt [1,N,Tp], scale [1] -> text, frames    |
| smd.pte      | step                 | one unmasking step over [1,N,T] tokens                   |
| decoder.pte  | decode               | window tokens [1,N,W], keep [1,W] -> wav [1,W*hop]       |
|              |                      |   (mel codec: -> log-mel [1,n_mels,W*stride])            |
| vocoder.pte  | vocode               | log-mel [1,n_mels,W*stride] -> wav [1,W*hop] (mel codec) |

The mel codec splits decoding in two programs so the vocoder (the 56 MB teacher, or a small
student) is a separate file: the teacher's program is a pure function of the pinned wheel and
can be built at set-up instead of being committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch.export import Dim

from mobilespeech_model.config import MobileSpeechConfig
from mobilespeech_model.nn import MobileSpeech
from mobilespeech_model.nn.mel_codec import MelCodec
from mobilespeech_model.nn.mobilespeech import (
    SMD_STEP_INPUTS,
    decode_chunk,
    decode_mel_chunk,
    smd_step,
    text_and_durations,
)


class PromptEncode(nn.Module):
    """The encoder side of the codec only: (mel analysis +) encoder + RVQ encode."""

    def __init__(self, m: MobileSpeech) -> None:
        super().__init__()
        parts = m.codec if isinstance(m.codec, MelCodec) else m.codec.model
        self.encoder = parts.encoder
        self.quantizer = parts.quantizer
        if isinstance(m.codec, MelCodec):
            self.analysis = m.codec.analysis
        self._codec = [m.codec]  # a list hides it from nn.Module: its decoder is not exported

    def forward(self, wav: Tensor) -> Tensor:
        return self._codec[0].encode(wav)


class PromptMemory(nn.Module):
    def __init__(self, m: MobileSpeech) -> None:
        super().__init__()
        self.enc = m.prompt_encoder

    def forward(self, prompt: Tensor) -> Tensor:
        return self.enc(prompt)


class TextAndDurations(nn.Module):
    def __init__(self, m: MobileSpeech) -> None:
        super().__init__()
        self.text_encoder = m.text_encoder
        self.extractor = m.duration_extractor
        self.predictor = m.duration_predictor

    def forward(
        self, phonemes: Tensor, prompt: Tensor, length_scale: Tensor
    ) -> tuple[Tensor, Tensor]:
        return text_and_durations(
            self.text_encoder, self.extractor, self.predictor, phonemes, prompt, length_scale
        )


class SmdStep(nn.Module):
    def __init__(self, m: MobileSpeech) -> None:
        super().__init__()
        self.smd = m.smd
        # baked in: constants of the program
        self.guidance = float(m.cfg.schedule.guidance)
        self.drop_prompt = bool(m.cfg.schedule.guidance_drops_prompt)
        self.prompt_guidance = float(m.cfg.schedule.prompt_guidance)

    def forward(
        self,
        tokens: Tensor,
        layer: Tensor,
        text: Tensor,
        index: Tensor,
        memory: Tensor,
        noise: Tensor,
        temperature: Tensor,
        n_masked_after: Tensor,
    ) -> Tensor:
        return smd_step(
            self.smd,
            tokens,
            layer,
            text,
            index,
            memory,
            noise,
            temperature,
            n_masked_after,
            self.guidance,
            self.drop_prompt,
            self.prompt_guidance,
        )


class DecodeChunk(nn.Module):
    """The decoder side of the codec only: its codebooks (one buffer) and the decoder (for the
    mel codec: up to the log-mel; the vocoder is its own program)."""

    def __init__(self, m: MobileSpeech) -> None:
        super().__init__()
        codec = m.codec
        self.decoder = codec.decoder if isinstance(codec, MelCodec) else codec.model.decoder
        self.register_buffer("table", codec.codebooks().detach().clone())
        self._codec = [codec]  # a list hides it from nn.Module: its encoder is not exported

    def forward(self, tokens: Tensor, keep: Tensor) -> Tensor:
        if isinstance(self._codec[0], MelCodec):
            return decode_mel_chunk(self._codec[0], tokens, keep, self.table)
        return decode_chunk(self._codec[0], tokens, keep, self.table)


class Vocode(nn.Module):
    """The vocoder alone: log-mel [1, n_mels, F] -> waveform [1, F * mel_hop]. A vocoder with
    ``for_export`` (the Vocos student) is exported as that copy (its head fused)."""

    def __init__(self, vocoder: nn.Module) -> None:
        super().__init__()
        for_export = getattr(vocoder, "for_export", None)
        self.vocoder = for_export() if callable(for_export) else vocoder

    def forward(self, mel: Tensor) -> Tensor:
        return self.vocoder(mel).squeeze(1)


@dataclass
class MethodSpec:
    name: str
    module: nn.Module
    inputs: tuple[Tensor, ...]
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    dynamic: tuple[dict[int, Dim] | None, ...] | None
    quantize: bool  # linear layers get the variant's torchao config


@dataclass
class ProgramSpec:
    file: str
    methods: list[MethodSpec]
    dims: dict[str, tuple[int, int]] = field(default_factory=dict)


def prompt_window_samples(cfg: MobileSpeechConfig) -> int:
    return cfg.model.max_prompt_frames * cfg.codec.hop_length


def decode_window_frames(cfg: MobileSpeechConfig) -> int:
    return cfg.codec.decode_chunk_frames + 2 * cfg.codec.decode_context_frames


def vocoder_spec(
    vocoder: nn.Module, cfg: MobileSpeechConfig, quantize: bool | None = None
) -> ProgramSpec:
    """vocoder.pte: a fixed window of the decoder's mel frames (one decode window).

    ``quantize`` (default: for the Vocos student) gives its linear layers the variant's
    weights; the HiFi-GAN generators are all convolutions, which the variants leave fp32."""
    if quantize is None:
        quantize = getattr(vocoder, "cfg", None) is not None and vocoder.cfg.kind == "vocos"
    frames = decode_window_frames(cfg) * cfg.codec.token_stride
    gen = torch.Generator().manual_seed(0)
    mel = torch.randn(1, cfg.codec.n_mels, frames, generator=gen) * 2.0 + cfg.codec.mel_mean
    return ProgramSpec(
        "vocoder.pte",
        [MethodSpec("vocode", Vocode(vocoder), (mel,), ("mel",), ("wav",), None, quantize)],
    )


def program_specs(model: MobileSpeech, with_vocoder: bool = True) -> list[ProgramSpec]:
    """Every program of a bundle, with example inputs sized from the config."""
    cfg = model.cfg
    n, v, d = cfg.codec.n_codebooks, cfg.codec.codebook_size, cfg.model.d_model
    m = cfg.model
    bounds = {"T": (2, m.max_frames), "L": (2, m.max_phonemes), "P": (2, m.max_prompt_frames)}
    t_dim, l_dim, p_dim = (Dim(k, min=lo, max=hi) for k, (lo, hi) in bounds.items())
    t, ln, p = 24, 8, 16
    gen = torch.Generator().manual_seed(0)
    prompt = torch.randint(0, v, (1, n, p), generator=gen)
    text = torch.randn(1, ln, d, generator=gen)
    memory = torch.randn(1, p, d, generator=gen)
    w = decode_window_frames(cfg)
    mel_kind = isinstance(model.codec, MelCodec)
    vocoder = [vocoder_spec(model.codec.vocoder, cfg)] if mel_kind and with_vocoder else []
    return [
        ProgramSpec(
            "prompt.pte",
            [
                MethodSpec(
                    "encode",
                    PromptEncode(model),
                    (torch.randn(1, 1, prompt_window_samples(cfg), generator=gen) * 0.1,),
                    ("wav",),
                    ("tokens",),
                    None,
                    # the mel codec's ConvNeXt linears take the variant's weights (its
                    # fp32 weights alone would put the demo bundle over 30 MB)
                    quantize=mel_kind,
                ),
                MethodSpec(
                    "memory",
                    PromptMemory(model),
                    (prompt,),
                    ("prompt",),
                    ("memory",),
                    ({2: p_dim},),
                    quantize=True,
                ),
            ],
            {"P": bounds["P"]},
        ),
        ProgramSpec(
            "text.pte",
            [
                MethodSpec(
                    "text_and_durations",
                    TextAndDurations(model),
                    (torch.randint(4, 60, (1, ln), generator=gen), prompt, torch.tensor([1.0])),
                    ("phonemes", "prompt", "length_scale"),
                    ("text", "frames"),
                    ({1: l_dim}, {2: p_dim}, None),
                    quantize=True,
                ),
            ],
            {"L": bounds["L"], "P": bounds["P"]},
        ),
        ProgramSpec(
            "smd.pte",
            [
                MethodSpec(
                    "step",
                    SmdStep(model),
                    (
                        torch.full((1, n, t), v),
                        torch.tensor([0]),
                        text,
                        torch.randint(0, ln, (1, t), generator=gen),
                        memory,
                        torch.rand(1, t, v + 1, generator=gen),
                        torch.tensor([1.0]),
                        torch.tensor([t // 2]),
                    ),
                    SMD_STEP_INPUTS,
                    ("tokens",),
                    ({2: t_dim}, None, {1: l_dim}, {1: t_dim}, {1: p_dim}, {1: t_dim}, None, None),
                    quantize=True,
                ),
            ],
            bounds,
        ),
        ProgramSpec(
            "decoder.pte",
            [
                MethodSpec(
                    "decode",
                    DecodeChunk(model),
                    (torch.randint(0, v, (1, n, w), generator=gen), torch.ones(1, w)),
                    ("tokens", "keep"),
                    ("mel",) if mel_kind else ("wav",),
                    None,
                    quantize=mel_kind,
                ),
            ],
        ),
        *vocoder,
    ]


def constant_metadata(cfg: MobileSpeechConfig, schema_version: int) -> dict[str, Any]:
    """Baked into every program (``constant_methods``) so a runtime can check what it loads."""
    c, m = cfg.codec, cfg.model
    return {
        "schema_version": schema_version,
        "sample_rate": c.sample_rate,
        "hop_length": c.hop_length,
        "n_codebooks": c.n_codebooks,
        "codebook_size": c.codebook_size,
        "d_model": m.d_model,
        "max_frames": m.max_frames,
        "max_phonemes": m.max_phonemes,
        "max_prompt_frames": m.max_prompt_frames,
        "decode_window": decode_window_frames(cfg),
        "decode_context": c.decode_context_frames,
        "token_stride": c.token_stride if c.kind == "mel" else 1,
        "n_mels": c.n_mels if c.kind == "mel" else 0,
        "schedule_steps": list(cfg.schedule.steps),
    }


def io_spec(
    names: tuple[str, ...],
    tensors: tuple[torch.Tensor, ...],
    dynamic: tuple[dict[int, Any] | None, ...] | None,
) -> list[dict[str, Any]]:
    """A program's inputs as the manifest lists them (the native core checks calls against
    them): name, dtype, shape with dynamic axes named, and the largest shape."""
    out = []
    for i, (name, t) in enumerate(zip(names, tensors, strict=True)):
        shape: list[Any] = list(t.shape)
        max_shape = list(t.shape)
        if dynamic and dynamic[i]:
            for axis, dim in dynamic[i].items():
                shape[axis] = dim.__name__
                max_shape[axis] = int(dim.max)
        out.append(
            {
                "name": name,
                "dtype": str(t.dtype).replace("torch.", ""),
                "shape": shape,
                "max_shape": max_shape,
            }
        )
    return out
