"""Shared fixtures: a seeded tiny model, a synthetic prompt voice, and tiny bundles exported
once per session (and cached across sessions under .cache/export by weights + code hash)."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf
import torch
from synthetic import voice_like

from mobilespeech_model.config import tiny_config, tiny_mel_config
from mobilespeech_model.frontend import DEFAULT_SYMBOLS
from mobilespeech_model.nn import MobileSpeech

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _threads() -> None:
    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def prompt_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("prompt") / "voice.wav"
    sf.write(path, voice_like(), 16000, subtype="PCM_16")
    return path


@pytest.fixture(scope="session")
def tiny_model() -> MobileSpeech:
    torch.manual_seed(0)
    return MobileSpeech(tiny_config()).eval()


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_model: MobileSpeech, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    tiny_model.save(path, extra={"symbols": DEFAULT_SYMBOLS.to_list()})
    return path


def _export(variant: str, model: MobileSpeech, prompt: Path, root: Path) -> Path:
    from export.bundle_export import export_bundle

    out = root / variant
    export_bundle(
        model,
        DEFAULT_SYMBOLS,
        out,
        variant,
        prompt,
        cache_dir=REPO / ".cache" / "export",
        include_checkpoint=True,
    )
    return out


@pytest.fixture(scope="session")
def tiny_bundle(
    tiny_model: MobileSpeech, prompt_wav: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """fp32 tiny bundle (with its checkpoint, so the eager backend can read it too)."""
    return _export("fp32", tiny_model, prompt_wav, tmp_path_factory.mktemp("bundles"))


@pytest.fixture(scope="session")
def tiny_bundle_8da4w(
    tiny_model: MobileSpeech, prompt_wav: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return _export("8da4w", tiny_model, prompt_wav, tmp_path_factory.mktemp("bundles4"))


@pytest.fixture(scope="session")
def tiny_mel_bundle(prompt_wav: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """fp32 bundle of the mel codec (decoder.pte -> log-mel, vocoder.pte -> audio), with a
    tiny untrained student vocoder so no teacher export is needed."""
    torch.manual_seed(0)
    model = MobileSpeech(tiny_mel_config()).eval()
    return _export("fp32", model, prompt_wav, tmp_path_factory.mktemp("melbundles"))

