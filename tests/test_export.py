"""Bundles: layout, manifest, parity, the ExecuTorch backend, validation errors, bounds."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mobilespeech_model.bundle import MANIFEST, Bundle
from mobilespeech_model.reference import ReferenceSynthesizer
from mobilespeech_runtime.errors import BundleError, InvalidTextError

TEXT = "Bundles speak. The second sentence follows, quickly."
PROGRAMS = ("prompt.pte", "text.pte", "smd.pte", "decoder.pte")


def _copy(bundle: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "b"
    shutil.copytree(bundle, dst)
    return dst


def test_layout_and_manifest(tiny_bundle: Path) -> None:
    m = json.loads((tiny_bundle / MANIFEST).read_text())
    assert m["format"] == "mobilespeech-bundle" and m["schema_version"] == 1
    assert m["variant"] == "fp32"
    for p in PROGRAMS:
        assert (tiny_bundle / p).is_file()
        assert m["files"][p]["bytes"] == (tiny_bundle / p).stat().st_size
        info = m["programs"][p]
        assert info["delegated_calls"] >= 1
        assert info["non_trivial_portable"] == {} or p == "prompt.pte"
    assert m["constants"]["schedule_steps"] == [4, 1]
    assert m["programs"]["smd.pte"]["methods"]["step"]["inputs"][0]["max_shape"] == [1, 2, 400]
    assert (tiny_bundle / "parity.json").is_file()


def test_one_copy_of_every_weight(tiny_bundle: Path) -> None:
    m = json.loads((tiny_bundle / MANIFEST).read_text())
    for p in ("text.pte", "smd.pte"):
        info = m["programs"][p]
        # fp32: about 4 bytes per parameter plus a small program overhead; a duplicated weight
        # set would double it
        assert info["bytes"] < 4 * info["parameters"] * 1.6 + 200_000, p


def test_fp32_parity(tiny_bundle: Path) -> None:
    r = json.loads((tiny_bundle / "parity.json").read_text())
    assert r["failures"] == []
    for outs in r["methods"].values():
        for o in outs:
            assert o.get("max_abs_diff", 0.0) <= 1e-4
            assert o.get("mismatches", 0) == 0
    assert r["pipeline"]["layer_token_agreement"] == [1.0, 1.0]


def test_quantized_parity_recorded(tiny_bundle_8da4w: Path) -> None:
    r = json.loads((tiny_bundle_8da4w / "parity.json").read_text())
    assert r["variant"] == "8da4w"
    assert 0.0 <= r["pipeline"]["layer_token_agreement"][0] <= 1.0
    assert r["pipeline"]["decoder_snr_db_same_tokens"] > 30.0  # the decoder stays fp32
    m = json.loads((tiny_bundle_8da4w / MANIFEST).read_text())
    fp = m["programs"]["smd.pte"]
    assert fp["methods"]["step"]["quantized"] is True


def test_executorch_matches_eager_and_streams(tiny_bundle: Path) -> None:
    pte = ReferenceSynthesizer.from_bundle(tiny_bundle, num_threads=2)
    eager = ReferenceSynthesizer.from_bundle(tiny_bundle, backend="eager")
    a = pte.synthesize(TEXT, seed=3)
    b = eager.synthesize(TEXT, seed=3)
    assert a.samples.size == b.samples.size > 0
    assert float(np.max(np.abs(a.samples - b.samples))) < 1e-3
    again = pte.synthesize(TEXT, seed=3)
    assert np.array_equal(a.samples, again.samples)
    chunks = list(pte.stream(TEXT, seed=3))
    assert len(chunks) > 1 and np.array_equal(np.concatenate(chunks), a.samples)


def test_quantized_bundle_synthesizes(tiny_bundle_8da4w: Path) -> None:
    r = ReferenceSynthesizer.from_bundle(tiny_bundle_8da4w).synthesize(TEXT, seed=1)
    assert r.samples.size > 0 and np.isfinite(r.samples).all()


@pytest.mark.parametrize("damage", ["missing", "truncated", "tampered", "manifest", "schema"])
def test_damaged_bundles_name_the_problem(tiny_bundle: Path, tmp_path: Path, damage: str) -> None:
    b = _copy(tiny_bundle, tmp_path)
    if damage == "missing":
        (b / "smd.pte").unlink()
        match = "smd.pte"
    elif damage == "truncated":
        data = (b / "text.pte").read_bytes()
        (b / "text.pte").write_bytes(data[: len(data) // 2])
        match = "text.pte"
    elif damage == "tampered":
        data = bytearray((b / "decoder.pte").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (b / "decoder.pte").write_bytes(bytes(data))
        match = "decoder.pte.*sha256"
    elif damage == "manifest":
        (b / MANIFEST).write_text("{ not json")
        match = "JSON"
    else:
        m = json.loads((b / MANIFEST).read_text())
        m["schema_version"] = 99
        (b / MANIFEST).write_text(json.dumps(m))
        match = "schema_version"
    with pytest.raises(BundleError, match=match):
        ReferenceSynthesizer.from_bundle(b)


def test_swapped_program_from_another_bundle(
    tiny_bundle: Path, tiny_bundle_8da4w: Path, tmp_path: Path
) -> None:
    """A program from another export with a re-signed manifest still fails a program check."""
    b = _copy(tiny_bundle, tmp_path)
    shutil.copyfile(tiny_bundle_8da4w / "smd.pte", b / "smd.pte")
    with pytest.raises(BundleError, match="smd.pte"):
        Bundle.open(b)
    # Forged checksums: the bundle's programs now disagree with each other's metadata only if
    # their constants differ; swapping in the wrong program kind is caught by method names.
    shutil.copyfile(tiny_bundle / "text.pte", b / "smd.pte")
    m = json.loads((b / MANIFEST).read_text())
    from mobilespeech_model.bundle import sha256_file

    m["files"]["smd.pte"] = {
        "bytes": (b / "smd.pte").stat().st_size,
        "sha256": sha256_file(b / "smd.pte"),
    }
    (b / MANIFEST).write_text(json.dumps(m))
    with pytest.raises(BundleError, match="lacks method"):
        ReferenceSynthesizer.from_bundle(b)


def test_lengths_at_and_over_the_bounds(tiny_bundle: Path) -> None:
    s = ReferenceSynthesizer.from_bundle(tiny_bundle)
    limit = s.config.model.max_phonemes
    backend = s.backend
    import torch

    prompt, _ = s._prompt(None, None)
    ok = torch.randint(4, 60, (1, limit))
    text, frames = backend.text_and_durations(ok, prompt, torch.tensor([1.0]))
    assert text.shape[1] == limit
    with pytest.raises(InvalidTextError, match=str(limit)):
        backend.text_and_durations(
            torch.randint(4, 60, (1, limit + 1)), prompt, torch.tensor([1.0])
        )
    # a long text is chunked by the frontend and every chunk stays within the bound
    long_text = " ".join(["This sentence keeps going and going, without a stop"] * 12) + "."
    chunks = s.encode_text(long_text)
    assert len(chunks) > 1 and all(len(c) <= s.config.frontend.max_phonemes for c in chunks)
    text = "word " * 100 + "."
    with pytest.warns(UserWarning, match="frame limit"):
        r = s.synthesize(text, length_scale=4.0)
    assert r.timings.frames <= len(s.encode_text(text)) * s.config.model.max_frames


# the demo's mode stays in the fast suite; the prompt-weighing variants (an export each, ~2 min)
# are slow. (drops_prompt, prompt_guidance): text only, prompt tied to text, prompt apart.
@pytest.mark.parametrize(
    "drops_prompt,prompt_guidance",
    [
        (False, 0.0),
        pytest.param(True, 0.0, marks=pytest.mark.slow),
        pytest.param(False, 1.0, marks=pytest.mark.slow),
    ],
)
def test_text_guidance_is_baked_into_the_smd_program(
    prompt_wav: Path,
    tmp_path_factory: pytest.TempPathFactory,
    drops_prompt: bool,
    prompt_guidance: float,
) -> None:
    """A guided schedule exports (two SMD passes per step in one program; the second without
    the text, and with drops_prompt without the prompt memory too; three with prompt_guidance)
    and the ExecuTorch bundle gives the eager model's audio."""
    import torch
    from conftest import _export

    from mobilespeech_model.config import tiny_config
    from mobilespeech_model.nn import MobileSpeech

    cfg = tiny_config()
    cfg.schedule.guidance = 2.0
    cfg.schedule.guidance_drops_prompt = drops_prompt
    cfg.schedule.prompt_guidance = prompt_guidance
    torch.manual_seed(0)
    bundle = _export("fp32", MobileSpeech(cfg).eval(), prompt_wav, tmp_path_factory.mktemp("g"))
    m = json.loads((bundle / MANIFEST).read_text())
    assert m["config"]["schedule"]["guidance"] == 2.0
    assert m["config"]["schedule"]["guidance_drops_prompt"] is drops_prompt
    assert m["config"]["schedule"]["prompt_guidance"] == prompt_guidance
    assert json.loads((bundle / "parity.json").read_text())["failures"] == []
    a = ReferenceSynthesizer.from_bundle(bundle, num_threads=2).synthesize(TEXT, seed=3)
    b = ReferenceSynthesizer.from_bundle(bundle, backend="eager").synthesize(TEXT, seed=3)
    assert a.samples.size == b.samples.size > 0
    assert float(np.max(np.abs(a.samples - b.samples))) < 1e-3


def test_quantized_mel_decoders_are_gated_on_the_mel() -> None:
    """The vocoder's phase makes waveform SNR a poor gate for a quantized mel decoder: the
    log-mel difference on identical tokens is the gate there; fp32 keeps the SNR gate."""
    from export.parity import QUANT_MEL_ATOL, check

    def report(variant: str, snr: float, mel_diff: float) -> dict:
        pipe = {
            "layer_token_agreement": [1.0],
            "decoder_snr_db_same_tokens": snr,
            "decoder_mel_abs_diff_same_tokens": mel_diff,
        }
        return {"variant": variant, "mel_codec": True, "methods": {}, "pipeline": pipe}

    assert check("8da4w", report("8da4w", 5.0, QUANT_MEL_ATOL / 2)) == []
    assert "log-mel" in check("8da4w", report("8da4w", 40.0, QUANT_MEL_ATOL * 2))[0]
    assert "below 30 dB" in check("fp32", report("fp32", 20.0, 0.0))[0]
