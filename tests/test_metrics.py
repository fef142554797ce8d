"""Evaluation metrics: text normalisation and edit distance always; model metrics when installed.

The model tests are marked ``eval`` and skip with the missing package names when the optional
evaluation packages (``pip install -e .[eval]``) are absent; they use flite for known speech.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from training import metrics
from training.metrics import (
    format_table,
    missing_packages,
    normalize_text,
    word_edit_distance,
    word_errors,
)

SENTENCE = "Please open the window before you leave the room."
OTHER = "The weather is nice today, so we will walk to the park."


def _needs(metric: str) -> pytest.MarkDecorator:
    missing = missing_packages(metric)
    return pytest.mark.skipif(
        bool(missing),
        reason=f"eval packages not installed ({', '.join(missing)}): {metrics.EVAL_INSTALL_HINT}",
    )


needs_flite = pytest.mark.skipif(
    shutil.which("flite") is None, reason="flite binary needed (apt-get install flite)"
)


def _flite(tmp_path: Path, voice: str, text: str) -> tuple[np.ndarray, int]:
    out = tmp_path / f"{voice}-{abs(hash(text))}.wav"
    subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(out)], check=True,
                   capture_output=True)  # fmt: skip
    audio, sr = sf.read(str(out), dtype="float32")
    return audio, sr


# --------------------------------------------------------------------------- pure functions


def test_normalize_text() -> None:
    assert normalize_text("Hello, World!  It's 1901 -- really?") == (
        "hello world it's one thousand nine hundred one really"
    )
    assert normalize_text("'Quoted' well-known 2,500 cats.") == (
        "quoted well known two thousand five hundred cats"
    )
    assert normalize_text("3.5") == "three five"
    assert normalize_text("...") == ""
    assert normalize_text("Hello from MobileSpeech.") == "hello from mobile speech"


def test_word_edit_distance_matches_known_cases() -> None:
    assert word_edit_distance([], []) == 0
    assert word_edit_distance("a b c".split(), []) == 3
    assert word_edit_distance([], "a b".split()) == 2
    assert word_edit_distance("a b c d".split(), "a x c d e".split()) == 2
    assert word_edit_distance("the cat sat".split(), "cat sat down".split()) == 2
    assert word_errors("The cat, sat.", "the cat sat") == (0, 3)
    assert word_errors("One two three four", "one too three") == (2, 4)


def test_format_table() -> None:
    table = format_table({"A": {"n": 2, "wer": 0.125, "sim": 0.9}, "B": {"n": 1, "wer": 0.5}})
    lines = table.splitlines()
    assert lines[0] == "| system | N | WER tiny.en % | SIM resemblyzer |"
    assert lines[2] == "| A | 2 | 12.5 | 0.900 |"
    assert lines[3] == "| B | 1 | 50.0 | - |"
    assert format_table({"n": 1.0, "pesq": 4.5}).splitlines()[2] == "| result | 1 | 4.50 |"
    both = format_table({"A": {"n": 1, "wer": 0.1, "wer_base": 0.05, "sim_dvector": 0.8}})
    assert both.splitlines()[0] == "| system | N | WER tiny.en % | WER base % | SIM d-vector |"
    assert both.splitlines()[2] == "| A | 1 | 10.0 | 5.0 | 0.800 |"


def test_missing_metric_raises_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(metrics.REQUIRED_MODULES, "wer", ("no_such_module_xyz",))
    metrics._whisper_model.cache_clear()
    try:
        with pytest.raises(metrics.MetricUnavailableError, match="no_such_module_xyz"):
            metrics.wer("hello", np.zeros(16000, np.float32), 16000)
    finally:
        metrics._whisper_model.cache_clear()


# --------------------------------------------------------------------------- model metrics


@pytest.mark.eval
@_needs("pesq_stoi")
def test_pesq_stoi_of_signal_against_itself_is_high() -> None:
    sr = 16000
    rng = np.random.default_rng(0)
    t = np.arange(2 * sr) / sr
    # a speech-like signal: a modulated harmonic tone
    x = (0.2 * np.sin(2 * np.pi * 150 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    x += 0.05 * np.sin(2 * np.pi * 450 * t).astype(np.float32)
    same = metrics.pesq_stoi(x, x, sr)
    assert same["pesq"] > 4.0 and same["stoi"] > 0.99
    noisy = metrics.pesq_stoi(x, x + 0.1 * rng.standard_normal(x.size).astype(np.float32), sr)
    assert noisy["pesq"] < same["pesq"] and noisy["stoi"] < same["stoi"]
    # 22.05 kHz input is resampled to 16 kHz rather than refused
    assert metrics.pesq_stoi(x, x, 22050)["pesq"] > 4.0


@pytest.mark.eval
@needs_flite
@_needs("wer")
def test_wer_of_flite_speech_is_low(tmp_path: Path) -> None:
    audio, sr = _flite(tmp_path, "slt", SENTENCE)
    assert metrics.wer(SENTENCE, audio, sr) < 0.3
    assert metrics.wer(OTHER, audio, sr) > 0.5  # the ASR really listens


@pytest.mark.eval
@needs_flite
@_needs("sim")
def test_same_voice_more_similar_than_different_voice(tmp_path: Path) -> None:
    import torch

    threads = torch.get_num_threads()
    a1, sr = _flite(tmp_path, "slt", SENTENCE)
    a2, _ = _flite(tmp_path, "slt", OTHER)
    b1, _ = _flite(tmp_path, "rms", OTHER)
    same = metrics.speaker_similarity(a1, sr, a2, sr)
    diff = metrics.speaker_similarity(a1, sr, b1, sr)
    assert same > diff
    assert same > 0.8
    assert torch.get_num_threads() == threads  # one thread inside, caller's setting restored


@pytest.mark.eval
@needs_flite
@_needs("dnsmos")
def test_dnsmos_in_range(tmp_path: Path) -> None:
    audio, sr = _flite(tmp_path, "slt", SENTENCE)
    mos = metrics.dnsmos(audio, sr)
    assert set(mos) == {"ovrl", "sig", "bak", "p808"}
    assert all(1.0 <= v <= 5.0 for v in mos.values())


@pytest.mark.eval
@needs_flite
@_needs("wer")
@_needs("sim")
def test_evaluate_aggregates(tmp_path: Path) -> None:
    a, sr = _flite(tmp_path, "slt", SENTENCE)
    b, _ = _flite(tmp_path, "slt", OTHER)
    items = [(SENTENCE, a, sr, b, sr), (OTHER, b, sr, a, sr)]
    r = metrics.evaluate(items, metrics=("wer", "sim"))
    assert r["n"] == 2 and r["wer"] < 0.3 and r["sim"] > 0.8
    assert "dnsmos_ovrl" not in r
    assert "| system |" in format_table({"flite": r})
    with pytest.raises(metrics.MobileSpeechError):
        metrics.evaluate(items, metrics=("mos",))


@pytest.mark.eval
@needs_flite
@_needs("sim")
@_needs("sim_dvector")
def test_silent_output_counts_as_failed_clone_not_an_error(tmp_path: Path) -> None:
    """A synthesis that comes out silent scores similarity 0 and is counted; a silent
    reference still raises (the measurement would mean nothing)."""
    a, sr = _flite(tmp_path, "slt", SENTENCE)
    b, _ = _flite(tmp_path, "slt", OTHER)
    silence = np.zeros(sr, dtype=np.float32)
    details: list[dict] = []
    r = metrics.evaluate([(SENTENCE, a, sr, b, sr), (OTHER, silence, sr, a, sr)],
                         metrics=("sim", "sim_dvector"), details=details)
    assert r["n"] == 2 and r["no_speech"] == 1
    assert details[1]["no_speech"] is True and "no_speech" not in details[0]
    assert details[1]["sim"] == 0.0 and details[1]["sim_dvector"] == 0.0  # one verdict for both
    assert details[0]["sim_dvector"] > 0.5
    assert 0.4 < r["sim"] < 0.5  # (same-voice similarity + 0) / 2
    assert "no speech" in format_table({"tts": r}).splitlines()[0]
    margins = metrics.margins_of([(SENTENCE, a, sr, b, sr), (OTHER, silence, sr, a, sr)],
                                 ["flite", "flite"], ["slt", "rms"])
    assert margins[1] == 0.0
    with pytest.raises(metrics.NoSpeechError):
        metrics.evaluate([(SENTENCE, a, sr, silence, sr)], metrics=("sim",))
