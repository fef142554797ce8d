"""Student vocoder: pruning from the teacher, the checkpoint format, export parity and
delegation, and the resumable distillation loop (training/distill_vocoder.py)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from synthetic import voice_like

from mobilespeech_model.config import VocoderConfig
from mobilespeech_model.nn.hifigan import (
    TEACHER_CONFIG,
    HifiGanGenerator,
    load_student,
    load_teacher,
    prune_from_teacher,
)
from mobilespeech_runtime.errors import ConfigError

TINY = VocoderConfig(
    kind="student", initial_channels=16, resblock_kernels=(3,), resblock_dilations=(1, 3)
)


def _mel(frames: int = 12, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(1, 80, frames, generator=g) * 1.5 - 5.0


@pytest.fixture(scope="module")
def teacher() -> HifiGanGenerator:
    return load_teacher()


def test_prune_to_full_width_is_the_teacher(teacher: HifiGanGenerator) -> None:
    full = prune_from_teacher(teacher, dataclasses.replace(TEACHER_CONFIG, kind="student"))
    mel = _mel()
    with torch.no_grad():
        torch.testing.assert_close(full(mel), teacher(mel), atol=1e-6, rtol=0)


def test_prune_subset_and_calibrate(teacher: HifiGanGenerator) -> None:
    from training.distill_vocoder import calibrate_gains

    cfg = VocoderConfig(kind="student", initial_channels=64, resblock_kernels=(3, 11))
    student = prune_from_teacher(teacher, cfg)
    mel = _mel(16)
    with torch.no_grad():
        ref = teacher(mel)
        raw = student(mel)
        calibrate_gains(student, teacher, mel)
        cal = student(mel)
    assert raw.shape == cal.shape == ref.shape
    # raw pruning collapses the level; calibration brings it back within 2x of the teacher
    assert raw.std() < 0.1 * ref.std()
    assert 0.5 * ref.std() < cal.std() < 2.0 * ref.std()


def test_student_checkpoint_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    gen = HifiGanGenerator(TINY)
    path = tmp_path / "student.pt"
    torch.save({"vocoder_config": dataclasses.asdict(TINY), "state_dict": gen.state_dict()}, path)
    back = load_student(path)
    assert back.cfg == TINY
    with torch.no_grad():
        torch.testing.assert_close(back(_mel()), gen(_mel()), atol=0, rtol=0)
    bad = tmp_path / "bad.pt"
    torch.save({"state_dict": gen.state_dict()}, bad)
    with pytest.raises(ConfigError, match="not a student"):
        load_student(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_student(tmp_path / "missing.pt")


def test_student_exports_fully_delegated_with_parity() -> None:
    from export.lower import lower_program
    from export.programs import MethodSpec, ProgramSpec, Vocode
    from mobilespeech_model._et_import import runtime

    torch.manual_seed(0)
    gen = HifiGanGenerator(TINY).eval()
    mel = _mel(24)
    spec = ProgramSpec(
        "vocoder.pte",
        [MethodSpec("vocode", Vocode(gen), (mel,), ("mel",), ("wav",), None, quantize=False)],
    )
    lowered = lower_program(spec, "fp32", {})
    assert lowered.delegated >= 1
    # only the output tuple access and Vocode's final squeeze (a copy, no arithmetic) stay out
    outside = {k.split(":", 1)[1] for k in lowered.portable}
    assert outside <= {"getitem", "aten.squeeze_copy.dims"}, f"outside XNNPACK: {outside}"
    method = runtime().load_program(lowered.buffer).load_method("vocode")
    other = _mel(24, seed=1)
    got = method.execute([other])[0]
    with torch.no_grad():
        ref = gen(other).squeeze(1)
    assert got.shape == ref.shape == (1, 24 * 256)
    assert float((got - ref).abs().max()) <= 1e-4


@pytest.mark.parametrize("variant", ["fp32", "8da4w"])
def test_vocos_student_program_is_small_and_matches(variant: str) -> None:
    """The Vocos student's vocoder.pte: the inverse-DFT basis is computed in the program (not
    stored), the matmuls run in XNNPACK, and it matches the eager student."""
    from export.lower import lower_program
    from export.programs import Vocode, vocoder_spec
    from mobilespeech_model._et_import import runtime
    from mobilespeech_model.config import small_config
    from mobilespeech_model.nn.vocos_vocoder import VocosVocoder

    torch.manual_seed(0)
    cfg = VocoderConfig(kind="vocos", vocos_dim=64, vocos_intermediate=128, vocos_layers=2)
    voc = VocosVocoder(cfg).eval()
    spec = vocoder_spec(voc, small_config())
    assert isinstance(spec.methods[0].module, Vocode) and spec.methods[0].quantize
    spec.methods[0].quantize = variant != "fp32"
    lowered = lower_program(spec, variant, {})
    params = sum(p.numel() for p in voc.parameters())
    assert len(lowered.buffer) < 4 * params + 200_000  # no 1026 x 1024 basis (4.2 MB) inside
    non_trivial = {k.split(":", 1)[1] for k in lowered.non_trivial()}
    assert "aten.mm.default" not in non_trivial and "aten.bmm.default" not in non_trivial
    mel = spec.methods[0].inputs[0]
    got = runtime().load_program(lowered.buffer).load_method("vocode").execute([mel])[0]
    with torch.no_grad():
        ref = voc(mel).squeeze(1)
    tol = 1e-5 if variant == "fp32" else 0.05 * float(ref.abs().max())
    assert float((got - ref).abs().max()) <= tol


def _corpus(root: Path) -> Path:
    (root / "wavs").mkdir(parents=True)
    rows = ["utt_id\tspeaker\tpath\tsplit\ttext"]
    for i in range(6):
        wav = voice_like(seconds=0.8, f0=110.0 + 20 * i, seed=i)
        sf.write(root / "wavs" / f"u{i}.wav", wav.astype(np.float32), 16000)
        split = "train" if i < 4 else "valid"
        rows.append(f"u{i}\tspk{i % 2}\twavs/u{i}.wav\t{split}\tsome words")
    (root / "metadata.tsv").write_text("\n".join(rows) + "\n")
    return root


def _train_argv(out: Path, arch: str) -> list[str]:
    argv = [
        "train",
        "--out",
        str(out),
        "--arch",
        arch,
        "--segment-frames",
        "8",
        "--context",
        "2",
        "--batch",
        "2",
        "--log-every",
        "1",
        "--eval-every",
        "1",
        "--warmup",
        "1",
    ]
    if arch == "vocos":
        return [*argv, "--vocos-dim", "32", "--vocos-layers", "2"]
    return [*argv, "--channels", "16", "--kernels", "3", "--calib", "2"]


def test_label_pool_is_resumable_and_grows(tmp_path: Path) -> None:
    from training import distill_vocoder as dv

    corpus = _corpus(tmp_path / "corpus")
    out = tmp_path / "run"
    label = ["label", "--out", str(out), "--corpus", str(corpus), "--valid", "1"]
    assert dv.main([*label, "--augment-share", "0", "--smd-share", "0"]) == 0
    first = dv.pool_done(out / "pool")
    assert len(first) == 5  # 4 train utterances + 1 held-out (--valid 1 per source)
    assert dv.main([*label, "--augment-share", "1", "--smd-share", "0"]) == 0  # adds, redoes none
    done = dv.pool_done(out / "pool")
    assert first < done and {i.split("/")[-1] for i in done - first} == {"augment"}
    shard = torch.load(sorted((out / "pool").glob("shard-*.pt"))[0], weights_only=False)
    mel, wav = shard["mel"][0], shard["teacher"][0]
    assert mel.shape[0] == 80 and wav.shape == (mel.shape[1] * 256,)
    with torch.no_grad():  # the label is the teacher's audio for that mel
        torch.testing.assert_close(load_teacher()(mel[None])[0, 0], wav, atol=1e-5, rtol=0)


@pytest.mark.parametrize("arch", ["hifigan", "vocos"])
def test_distill_two_steps_and_resume(tmp_path: Path, arch: str) -> None:
    from training import distill_vocoder as dv

    corpus = _corpus(tmp_path / "corpus")
    out = tmp_path / "run"
    assert dv.main(["label", "--out", str(out), "--corpus", str(corpus), "--valid", "1"]) == 0
    argv = _train_argv(out, arch)
    assert dv.main([*argv, "--steps", "2"]) == 0
    student = load_student(out / "student.pt")
    assert student.cfg.kind == ("vocos" if arch == "vocos" else "student")
    first = torch.load(out / "student.pt", weights_only=True)
    assert first["step"] == 2
    assert dv.main([*argv, "--steps", "3"]) == 0  # the same command resumes
    records = [json.loads(x) for x in (out / "progress.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [0, 1, 2, 3]
    assert all(np.isfinite(r["train"]["loss"]) for r in records[1:])
    assert all(r["steps_per_s"] > 0 for r in records[1:])
    second = torch.load(out / "student.pt", weights_only=True)
    assert second["step"] == 3
    changed = any(
        not torch.equal(second["state_dict"][k], first["state_dict"][k])
        for k in first["state_dict"]
    )
    assert changed, "the resumed step did not update the weights"


def test_train_refuses_an_empty_pool_and_another_arch(tmp_path: Path) -> None:
    from training import distill_vocoder as dv

    with pytest.raises(SystemExit, match="run `label` first"):
        dv.main(_train_argv(tmp_path / "none", "vocos"))
    corpus = _corpus(tmp_path / "corpus")
    out = tmp_path / "run"
    assert dv.main(["label", "--out", str(out), "--corpus", str(corpus), "--valid", "1"]) == 0
    assert dv.main([*_train_argv(out, "vocos"), "--steps", "1"]) == 0
    with pytest.raises(SystemExit, match="holds a vocos run"):
        dv.main([*_train_argv(out, "hifigan"), "--steps", "2"])


def test_vocos_student_export_copy_computes_its_basis_and_crops() -> None:
    from mobilespeech_model.nn.vocos_vocoder import VocosVocoder
    from training.distill_vocoder import crop_batch

    cfg = VocoderConfig(kind="vocos", vocos_dim=32, vocos_intermediate=64, vocos_layers=2)
    voc = VocosVocoder(cfg).eval()
    mel = _mel(20)
    with torch.no_grad():
        ref = voc(mel)
        exp = voc.for_export()
        got = exp(mel)
    assert ref.shape == (1, 1, 20 * 256) and float(ref.abs().max()) > 1e-3
    torch.testing.assert_close(got, ref, atol=2e-6, rtol=1e-4)  # same basis to fp32 rounding
    assert not hasattr(exp.head, "basis") and hasattr(voc.head, "basis")  # original untouched
    assert exp.head.proj.keep_fp32  # the layer that writes magnitude and phase stays fp32
    with pytest.raises(ConfigError):
        VocosVocoder(VocoderConfig(kind="student"))
    clips = [
        (torch.randn(80, 30), torch.randn(30 * 256)),
        (torch.randn(80, 5), torch.randn(5 * 256)),
    ]
    mel_b, wav_b = crop_batch(clips, 4, 8, 2, torch.Generator().manual_seed(0))
    assert mel_b.shape == (4, 80, 12) and wav_b.shape == (4, 8 * 256)
