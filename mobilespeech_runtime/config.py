"""Configuration dataclasses: the one source of truth for sizes, limits and the schedule.

Every constant the model, export or runtime needs lives here and is written into the
checkpoint and the bundle manifest (``to_dict`` / ``from_dict``), so nothing downstream
hard-codes a sample rate, a codebook count or a length limit.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError


@dataclass
class FrontendConfig:
    """Text limits: a request past ``max_chars`` is refused (or split into sentences)."""

    max_chars: int = 2000
    max_phonemes: int = 120  # per synthesis chunk (~15 s of speech); long sentences are split
    # Word-boundary symbols cost at least one 20 ms frame each under hard alignment, so the
    # demo model is trained without them; the frontend still uses them to split long text.
    word_boundaries: bool = False


@dataclass
class AudioConfig:
    """Prompt limits, in seconds of audio at any input rate."""

    min_prompt_seconds: float = 1.0
    max_prompt_seconds: float = 10.0
    silence_rms: float = 1e-3  # below this RMS a prompt counts as silent


@dataclass
class CodecConfig:
    """EnCodec-family codec: SEANet encoder + residual VQ + a decoder chosen by ``decoder``.

    ``decoder`` is ``"vocos"`` (ConvNeXt blocks at the frame rate + inverse STFT, as the paper
    uses; cheap on phones) or ``"encodec"`` (EnCodec's own SEANet decoder).
    """

    sample_rate: int = 16000
    channels: int = 1
    ratios: tuple[int, ...] = (8, 5, 4, 2)
    n_filters: int = 8
    dimension: int = 64
    encoder_lstm: int = 0  # LSTM layers in the SEANet encoder (the official model has 2)
    norm: str = "weight_norm"
    pad_mode: str = "constant"  # "reflect" for the official model; constant exports cleanly
    causal: bool = False
    n_codebooks: int = 4
    codebook_size: int = 512
    decoder: str = "vocos"
    decode_chunk_frames: int = 50  # the decoder program's fixed chunk (streaming granularity)
    decode_context_frames: int = 16  # left/right context per chunk (>= decoder receptive field)
    vocos_dim: int = 128
    vocos_intermediate: int = 384
    vocos_layers: int = 4
    vocos_kernel: int = 7
    istft_overlap: int = 2  # n_fft = istft_overlap * hop_length
    official_checkpoint: str = ""  # local path of EnCodec's official 24 kHz weights, if any
    official_sha256: str = ""

    @property
    def hop_length(self) -> int:
        return int(math.prod(self.ratios))

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / self.hop_length

    @property
    def n_fft(self) -> int:
        return self.istft_overlap * self.hop_length

    @property
    def decoder_receptive_frames(self) -> int:
        """Frames of context on each side that one output frame of the Vocos decoder sees."""
        return (self.vocos_kernel // 2) * (self.vocos_layers + 1) + self.istft_overlap // 2


@dataclass
class ModelConfig:
    """Text encoder, duration extractor/predictor, prompt encoder and SMD sizes."""

    n_symbols: int = 80
    d_model: int = 128
    n_heads: int = 4
    ffn_mult: int = 4
    text_layers: int = 2
    duration_tokens: int = 4  # learned queries that pool the prompt's rhythm
    duration_layers: int = 2
    prompt_layers: int = 2
    smd_layers: int = 4
    conv_kernel: int = 7  # Conformer depthwise convolution
    dropout: float = 0.1
    max_frames: int = 1000  # SMD bound on target frames per chunk (20 s at 50 Hz)
    max_prompt_frames: int = 500
    max_phonemes: int = 256


@dataclass
class TrainConfig:
    """Masked-generative-modelling losses (paper, 'Training')."""

    alpha: float = 0.5  # P(first layer only partly masked); 1-alpha: fully masked
    layer_weights: tuple[float, ...] = (0.55, 0.2, 0.15, 0.1)  # favour lower codec layers
    prompt_min_frac: float = 0.15
    prompt_max_frac: float = 0.45
    duration_loss_weight: float = 1.0


@dataclass
class ScheduleConfig:
    """Fixed iterative-unmasking schedule: steps per codec layer, coarse to fine."""

    steps: tuple[int, ...] = (8, 2, 1, 1)
    temperature: float = 1.0  # Gumbel noise scale at the first step, annealed to 0
    seed: int = 0

    def validate(self, n_codebooks: int) -> None:
        if len(self.steps) != n_codebooks:
            raise ConfigError(f"schedule has {len(self.steps)} layers, codec has {n_codebooks}")
        if any(s < 1 for s in self.steps):
            raise ConfigError(f"every codec layer needs at least one step, got {self.steps}")
        if self.temperature < 0:
            raise ConfigError("temperature must be >= 0")


@dataclass
class MobileSpeechConfig:
    """Everything that defines one model; serialised into checkpoints and manifests."""

    name: str = "tiny"
    codec: CodecConfig = field(default_factory=CodecConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    frontend: FrontendConfig = field(default_factory=FrontendConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MobileSpeechConfig:
        def build(kls: type, values: dict[str, Any]) -> Any:
            names = {f.name: f for f in dataclasses.fields(kls)}
            unknown = set(values) - set(names)
            if unknown:
                raise ConfigError(f"unknown {kls.__name__} fields: {sorted(unknown)}")
            kwargs = {}
            for k, v in values.items():
                kwargs[k] = tuple(v) if isinstance(v, list) else v
            return kls(**kwargs)

        parts = {
            "codec": CodecConfig,
            "model": ModelConfig,
            "train": TrainConfig,
            "schedule": ScheduleConfig,
            "frontend": FrontendConfig,
            "audio": AudioConfig,
        }
        kwargs = {k: build(parts[k], v) for k, v in d.items() if k in parts}
        cfg = cls(name=d.get("name", "custom"), **kwargs)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        self.schedule.validate(self.codec.n_codebooks)
        if len(self.train.layer_weights) != self.codec.n_codebooks:
            raise ConfigError("train.layer_weights needs one weight per codec layer")
        if self.model.d_model % self.model.n_heads:
            raise ConfigError("d_model must be divisible by n_heads")
        if self.codec.decoder not in ("vocos", "encodec"):
            raise ConfigError(f"unknown codec decoder {self.codec.decoder!r}")
        c = self.codec
        if c.decoder == "vocos" and c.decode_context_frames < c.decoder_receptive_frames:
            raise ConfigError(
                f"decode_context_frames {c.decode_context_frames} is below the "
                f"decoder's receptive field ({c.decoder_receptive_frames} frames)"
            )


def tiny_config() -> MobileSpeechConfig:
    """For tests: exports in seconds, trains a few steps in well under a second."""
    cfg = MobileSpeechConfig(
        name="tiny",
        codec=CodecConfig(
            n_filters=4,
            dimension=32,
            n_codebooks=2,
            codebook_size=64,
            vocos_dim=32,
            vocos_intermediate=64,
            vocos_layers=1,
        ),
        model=ModelConfig(
            d_model=32,
            n_heads=2,
            ffn_mult=2,
            text_layers=1,
            duration_layers=1,
            prompt_layers=1,
            smd_layers=1,
            conv_kernel=3,
            max_frames=400,
            max_prompt_frames=300,
            max_phonemes=128,
        ),
        train=TrainConfig(layer_weights=(0.7, 0.3)),
        schedule=ScheduleConfig(steps=(4, 1)),
    )
    cfg.validate()
    return cfg


def small_config() -> MobileSpeechConfig:
    """The demo voice: trainable on a 2-core CPU in hours, a few MiB quantized."""
    cfg = MobileSpeechConfig(name="small")
    cfg.validate()
    return cfg


def base_config() -> MobileSpeechConfig:
    """For real data (LibriTTS) on GPUs: 24 kHz-class codec sizes, 8 codebooks."""
    cfg = MobileSpeechConfig(
        name="base",
        codec=CodecConfig(
            sample_rate=24000,
            ratios=(8, 5, 4, 2),
            n_filters=32,
            dimension=128,
            n_codebooks=8,
            codebook_size=1024,
            vocos_dim=512,
            vocos_intermediate=1536,
            vocos_layers=8,
            istft_overlap=4,
            decode_context_frames=32,
        ),
        model=ModelConfig(
            d_model=512,
            n_heads=8,
            text_layers=4,
            duration_layers=2,
            prompt_layers=4,
            smd_layers=12,
            conv_kernel=15,
            max_frames=1500,
            max_prompt_frames=750,
            max_phonemes=400,
        ),
        train=TrainConfig(layer_weights=(0.4, 0.15, 0.1, 0.1, 0.075, 0.075, 0.05, 0.05)),
        schedule=ScheduleConfig(steps=(16, 4, 2, 1, 1, 1, 1, 1)),
    )
    cfg.validate()
    return cfg


PRESETS = {"tiny": tiny_config, "small": small_config, "base": base_config}


def preset(name: str) -> MobileSpeechConfig:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name]()
