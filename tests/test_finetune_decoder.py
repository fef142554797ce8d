"""Decoder fine-tuning on SMD-generated tokens: generate, train (resumes), apply."""

from pathlib import Path

import numpy as np
import pytest
import torch

from mobilespeech_model.audio import write_wav
from mobilespeech_model.config import preset
from mobilespeech_model.nn import MobileSpeech
from mobilespeech_runtime.errors import MobileSpeechError
from training import finetune_decoder as fd
from training.common import load_state, save_state


def _speechlike(seconds: float, seed: int, sr: int = 22050) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    f0 = 120 + 30 * seed
    wav = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
    return (0.2 * wav * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def _setup(tmp: Path) -> tuple[Path, Path, Path]:
    """A tiny mel-codec model, a wav + txt corpus and its prepared tokens/durations."""
    torch.manual_seed(0)
    model = MobileSpeech(preset("tiny-mel")).eval()
    model.save(tmp / "model.pt")
    corpus, items = tmp / "corpus", []
    for i in range(6):
        spk = corpus / f"s{i % 2}"
        spk.mkdir(parents=True, exist_ok=True)
        wav = _speechlike(0.6 + 0.1 * i, i % 2)
        write_wav(spk / f"u{i}.wav", wav, 22050)
        (spk / f"u{i}.txt").write_text("hello there")
        with torch.no_grad():
            tokens = model.codec.encode(torch.from_numpy(wav).view(1, 1, -1))[0]
        t, n_ph = tokens.shape[1], 5
        dur = torch.full((n_ph,), t // n_ph)
        dur[-1] += t - int(dur.sum())
        items.append(
            {
                "utt_id": f"u{i}",
                "speaker": f"s{i % 2}",
                "split": "train",
                "phonemes": torch.randint(4, 70, (n_ph,), dtype=torch.int16),
                "tokens": tokens.to(torch.int16),
                "durations": dur.to(torch.int16),
            }
        )
    save_state(tmp / "prepared.pt", {"items": items})
    return tmp / "model.pt", tmp / "prepared.pt", corpus


def test_generate_train_resume_apply(tmp_path: Path) -> None:
    model_path, prepared, corpus = _setup(tmp_path)
    out = tmp_path / "run"
    fd.generate(model_path, prepared, out, utterances=4, seed=0)
    gen = load_state(out / fd.GENERATED)
    assert len(gen["items"]) == 4
    model = MobileSpeech.load(model_path)[0]
    n, v = model.cfg.codec.n_codebooks, model.cfg.codec.codebook_size
    for it in gen["items"]:
        assert it["gen"].shape == it["tokens"].shape and it["gen"].shape[0] == n
        assert 0 <= int(it["gen"].min()) and int(it["gen"].max()) < v  # no [MASK] left
    fd.generate(model_path, prepared, out, utterances=5, seed=0)  # resumes: one more
    assert len(load_state(out / fd.GENERATED)["items"]) == 5

    args = dict(batch=2, window=8, lr=1e-3, exact_share=0.5, seed=0, minutes=0.0)
    fd.train(model_path, out, [corpus], steps=3, **args)
    assert load_state(out / fd.DECODER)["step"] == 3
    fd.train(model_path, out, [corpus], steps=5, **args)
    state = load_state(out / fd.DECODER)
    assert state["step"] == 5 and len(state["history"]) == 0  # logged every 10 steps

    fd.apply(model_path, out, tmp_path / "ft.pt")
    ft, extra = MobileSpeech.load(tmp_path / "ft.pt")
    assert extra["decoder_finetune_steps"] == 5
    before, after = model.state_dict(), ft.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed and all(k.startswith("codec.decoder.") for k in changed)


def test_missing_inputs_are_clear_errors(tmp_path: Path) -> None:
    model_path, _, corpus = _setup(tmp_path)
    with pytest.raises(MobileSpeechError, match="prepared corpus not found"):
        fd.generate(model_path, tmp_path / "none.pt", tmp_path / "o", 2, 0)
    with pytest.raises(MobileSpeechError, match="run 'generate' first"):
        fd.train(model_path, tmp_path / "o", [corpus], 0.0, 2, 2, 8, 1e-3, 0.5, 0)
    with pytest.raises(MobileSpeechError, match="run 'train' first"):
        fd.apply(model_path, tmp_path / "o", tmp_path / "x.pt")
