"""Corpus building and reading: format, split rules, held-out voices, readers, resumability.

Synthesis tests use only espeak-ng and flite (fast, Debian main) on four short sentences, and skip
with a reason when either binary is missing.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from training import augment, corpus, texts
from training.corpus import (
    HELD_OUT_SPEAKERS,
    CorpusError,
    Utterance,
    Voice,
    build_corpus,
    load_any,
    plan_corpus,
    read_corpus,
    read_libritts,
    read_wav_txt_folder,
    voice_catalogue,
)

needs_engines = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("flite") is None,
    reason="espeak-ng and flite binaries needed (apt-get install espeak-ng flite)",
)

SENTENCES = [
    "The cat sat on the warm mat.",
    "Please open the window a little.",
    "We walked home along the quiet river.",
    "A bird sang in the old oak tree.",
]


def _voice(speaker_id: str) -> Voice:
    return next(v for v in voice_catalogue() if v.speaker_id == speaker_id)


# Two seen and two held-out voices, from the two fastest engines.
TEST_VOICES = [
    _voice("espeak-en-us-f1-p55-s165"),
    _voice("flite-slt"),
    _voice("espeak-en-gb-x-gbcwmd-m6-p40-s150"),
    _voice("flite-rms"),
]


# --------------------------------------------------------------------------- texts


def test_sentences_are_clean_distinct_and_deterministic() -> None:
    s = texts.load_sentences(seed=3)
    assert len(s) >= 250
    assert len({x.lower() for x in s}) == len(s)
    for x in s:
        assert x.isascii() and "\t" not in x and "\n" not in x
        assert texts.MIN_WORDS <= len(x.split()) <= texts.MAX_WORDS
        assert not any(c.isdigit() for c in x)
        assert x[-1] in ".!?"
    assert texts.load_sentences(limit=20, seed=3) == s[:20]
    assert texts.load_sentences(limit=20, seed=4) != s[:20]


def test_fortune_source_is_large_when_installed() -> None:
    if texts.find_fortune_dir() is None:
        pytest.skip(f"fortune data not installed ({texts.FORTUNE_INSTALL_HINT})")
    assert len(texts.load_sentences()) >= 3000
    assert texts.sentence_source().startswith("fortune data")


def test_fallback_when_fortune_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(texts, "FORTUNE_DIRS", ())
    monkeypatch.setenv(texts.FORTUNE_DIR_ENV, str(tmp_path))
    s = texts.load_sentences()
    assert texts.sentence_source() == "built-in fallback list"
    assert len(s) == len(set(texts.FALLBACK_SENTENCES)) >= 250


def test_builtin_sentences_ignore_installed_fortunes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``--sentences builtin`` gives the same texts (so the same utterance ids) on every machine."""
    (tmp_path / "fortunes").write_text("A wise man listens more than he talks today.\n%\n")
    monkeypatch.setattr(texts, "FORTUNE_DIRS", ())
    monkeypatch.setenv(texts.FORTUNE_DIR_ENV, str(tmp_path))
    assert "A wise man listens more than he talks today." in texts.load_sentences()
    builtin = texts.load_sentences(fortunes=False)
    assert "A wise man listens more than he talks today." not in builtin
    assert len(builtin) == len(set(texts.FALLBACK_SENTENCES))
    assert texts.corpus_sentences(fortunes=False) == texts.corpus_sentences(fortunes=False)


def test_fortune_file_parsing(tmp_path: Path) -> None:
    f = tmp_path / "wisdom"
    f.write_text(
        "The Way\n\nA wise man listens more than he talks.  He learns a lot that way.\n"
        "\t\t-- Someone Famous\n%\nCall me at 555 now please.\n%\n"
        "Some are lost and some remain\nSome have gone and some will stay.\n%\n"
        "The NASA probe landed on the moon today.\n%\nMr. Smith went to town yesterday.\n"
    )
    assert texts.sentences_from_fortune_file(f) == [
        "A wise man listens more than he talks.",
        "He learns a lot that way.",
    ]


# --------------------------------------------------------------------------- catalogue


def test_catalogue_ids_unique_and_held_out_explicit() -> None:
    cat = voice_catalogue()
    ids = [v.speaker_id for v in cat]
    assert len(ids) == len(set(ids))
    assert HELD_OUT_SPEAKERS <= set(ids)
    held_engines = {v.engine for v in cat if v.held_out}
    assert {"espeak", "flite", "festival"} <= held_engines  # Debian main alone holds out 3
    assert all(ch.isalnum() or ch in "-_." for i in ids for ch in i)  # safe folder names


def test_catalogue_pseudo_speakers_and_licences() -> None:
    cat = voice_catalogue()
    by_id = {v.speaker_id: v for v in cat}
    train = [v for v in cat if not v.held_out]
    assert len(train) >= 150  # the plan's speaker target
    assert {"kokoro", "espeak", "flite"} <= {v.engine for v in cat if v.held_out}
    for v in cat:
        assert v.license, v.speaker_id
        if v.augment is not None:  # held-out voices are never augmented, nor augmented from
            assert not v.held_out and not by_id[v.base_id].held_out, v.speaker_id
            assert not v.augment.is_identity
        if v.engine == "kokoro":
            assert len(v.blend) == 5 and sum(v.blend) == pytest.approx(1.0)
            assert v.license.startswith("Apache-2.0")
    assert "non-commercial" in by_id["mbrola-us1-p50-s160"].license
    assert voice_catalogue() == cat  # identities are fixed, not drawn anew
    blends = [v.blend for v in cat if v.engine == "kokoro"]
    assert len(set(blends)) == len(blends)


def test_corpus_sentences_add_normalized_numbers() -> None:
    varied = texts.varied_sentences(200, seed=0)
    assert len(varied) == 200 and varied == texts.varied_sentences(200, seed=0)
    for s in varied:
        assert texts.clean_sentence(s) == s and not any(c.isdigit() for c in s)
    assert any("dollars" in s for s in varied) and any("Doctor" in s for s in varied)
    assert texts.normalize_for_synthesis("Dr. Smith paid $12.50 at 7:30.") == (
        "Doctor Smith paid twelve dollars fifty cents at seven thirty."
    )


# --------------------------------------------------------------------------- plan


# Explicit sentences: the plan must not depend on whether Debian's fortunes are installed.
PLAN_SENTENCES = [f"Test sentence number {i} for the corpus plan." for i in range(400)]


def test_plan_splits_by_sentence_and_isolates_held_out() -> None:
    sentences = PLAN_SENTENCES
    voices = voice_catalogue()
    plan = plan_corpus(sentences, voices, 500, valid_fraction=0.1, seed=1)
    assert len(plan) == 500
    assert plan == plan_corpus(sentences, voices, 500, valid_fraction=0.1, seed=1)
    splits_of: dict[str, set[str]] = defaultdict(set)
    voices_of: dict[str, list[str]] = defaultdict(list)
    for u in plan:
        splits_of[u.text].add(u.split)
        voices_of[u.text].append(u.speaker)
        assert (u.speaker in HELD_OUT_SPEAKERS) == (u.split == "zeroshot")
    for text, splits in splits_of.items():
        assert splits <= {"train"} or splits <= {"valid", "zeroshot"}, text
        assert len(set(voices_of[text])) == len(voices_of[text])
    train_counts = [len(voices_of[t]) for t, s in splits_of.items() if s == {"train"}]
    assert set(train_counts) == {1, 2}
    assert {"train", "valid", "zeroshot"} <= {u.split for u in plan}
    assert len({u.utt_id for u in plan}) == len(plan)


def test_plan_rejects_bad_arguments() -> None:
    with pytest.raises(CorpusError):
        plan_corpus(SENTENCES, TEST_VOICES, 0)
    with pytest.raises(CorpusError):
        plan_corpus(SENTENCES, [v for v in TEST_VOICES if v.held_out], 4)


# --------------------------------------------------------------------------- audio


def test_trim_keeps_margin_and_normalize_sets_level() -> None:
    sr = 16000
    tone = 0.5 * np.sin(2 * np.pi * 220 * np.arange(sr) / sr).astype(np.float32)
    x = np.concatenate([np.zeros(sr, np.float32), tone, np.zeros(sr // 2, np.float32)])
    y = corpus.trim_silence(x, sr)
    assert abs(len(y) - (sr + 2 * int(0.1 * sr))) <= 2 * sr // 100
    y2 = corpus.trim_silence(tone, sr)  # speech at sample 0: padded to the same margin
    assert len(y2) == sr + 2 * int(0.1 * sr) and not y2[:100].any()
    z = corpus.normalize_loudness(y)
    assert np.sqrt(np.mean(z**2)) == pytest.approx(corpus.TARGET_RMS, rel=1e-3)
    assert np.abs(corpus.normalize_loudness(np.r_[np.zeros(999), 1.0]).max()) <= corpus.MAX_PEAK


# --------------------------------------------------------------------------- augmentation


def _resonate(x: np.ndarray, f: float, bw: float, sr: int) -> np.ndarray:
    r, th = np.exp(-np.pi * bw / sr), 2 * np.pi * f / sr
    a1, a2 = 2 * r * np.cos(th), -r * r
    y = np.zeros(len(x) + 2)  # two leading zeros: the filter's initial state
    for n in range(len(x)):  # a two-pole resonator (numpy only: no scipy in the test set-up)
        y[n + 2] = (1 - r) * x[n] + a1 * y[n + 1] + a2 * y[n]
    return y[2:]


def _vowel(sr: int, f0: float = 120.0, seconds: float = 1.0) -> np.ndarray:
    x = np.zeros(int(sr * seconds))
    x[:: int(sr / f0)] = 1.0
    for f, bw in ((700, 80), (1200, 90), (2500, 120)):
        x = _resonate(x, f, bw, sr)
    x = x / np.abs(x).max() * 0.5 + 0.003 * np.random.default_rng(0).standard_normal(x.size)
    return x.astype(np.float32)


def _f0(x: np.ndarray, sr: int) -> float:
    x = x[len(x) // 4 : 3 * len(x) // 4]
    ac = np.correlate(x, x, "full")[len(x) - 1 :]
    lo, hi = int(sr / 400), int(sr / 60)
    return sr / (lo + int(np.argmax(ac[lo:hi])))


def _formants(x: np.ndarray, sr: int, order: int = 14) -> list[float]:
    x = x[len(x) // 4 : 3 * len(x) // 4].astype(np.float64)
    x = x * np.hamming(len(x))
    r = np.correlate(x, x, "full")[len(x) - 1 : len(x) + order]
    toeplitz = r[np.abs(np.arange(order)[:, None] - np.arange(order)[None, :])]
    a = np.linalg.solve(toeplitz, r[1:])
    roots = [z for z in np.roots(np.r_[1, -a]) if z.imag > 0]
    return sorted(f for f in (np.angle(z) * sr / (2 * np.pi) for z in roots) if 300 < f < 3500)


def test_augmentation_moves_pitch_formants_and_tempo_independently() -> None:
    sr = 22050
    x = _vowel(sr)
    f0, (f1, f2) = _f0(x, sr), _formants(x, sr)[:2]
    assert f0 == pytest.approx(120, rel=0.02) and f2 == pytest.approx(1200, rel=0.05)
    # pitch and formants up together, slower
    y = augment.apply(x, sr, augment.Augmentation(pitch=3.0, formant=1.1, tempo=0.9))
    assert len(y) / sr == pytest.approx(1.0 / 0.9, rel=0.02)
    assert _f0(y, sr) / f0 == pytest.approx(2 ** (3 / 12), rel=0.02)
    assert _formants(y, sr)[1] / f2 == pytest.approx(1.1, abs=0.04)
    # pitch alone: the formants stay (plain resampling would raise them by 26 %)
    y = augment.apply(x, sr, augment.Augmentation(pitch=4.0))
    assert _f0(y, sr) / f0 == pytest.approx(2 ** (4 / 12), rel=0.02)
    assert len(y) == pytest.approx(len(x), rel=0.01)
    assert _formants(y, sr)[1] / f2 == pytest.approx(1.0, abs=0.06)
    # formants down alone: the pitch stays
    y = augment.apply(x, sr, augment.Augmentation(formant=0.88))
    assert _f0(y, sr) == pytest.approx(f0, rel=0.02) and len(y) == len(x)
    assert _formants(y, sr)[0] / f1 < 0.96
    assert _formants(y, sr)[1] / f2 == pytest.approx(0.88, abs=0.05)
    assert augment.apply(x, sr, augment.Augmentation()) is not None


def test_augmentation_parameters_are_fixed_per_pseudo_speaker() -> None:
    a = augment.random_augmentation(7, 3)
    assert a == augment.random_augmentation(7, 3) != augment.random_augmentation(7, 4)
    assert 1.2 <= abs(a.pitch) <= 4.0 and 0.86 <= a.formant <= 1.16 and 0.9 <= a.tempo <= 1.12
    assert augment.random_augmentation(7, 3, tempo=False).tempo == 1.0
    with pytest.raises(augment.AugmentError):
        augment.Augmentation(pitch=30.0)


# --------------------------------------------------------------------------- build


@needs_engines
def test_build_corpus_format_splits_and_resume(tmp_path: Path) -> None:
    root = tmp_path / "synth"
    utts = build_corpus(root, 8, sample_rate=16000, valid_fraction=0.4, seed=2, workers=2,
                        voices=TEST_VOICES, sentences=SENTENCES)  # fmt: skip
    assert 4 <= len(utts) <= 8
    splits = {u.split for u in utts}
    assert "train" in splits and "zeroshot" in splits, splits

    # format: metadata header + relative paths; wavs are mono 16-bit PCM at the target rate
    header = (root / "metadata.tsv").read_text().splitlines()[0].split("\t")
    assert header == ["utt_id", "speaker", "path", "split", "text"]
    back = read_corpus(root)
    assert back == utts and load_any(root) == utts
    for u in back:
        assert u.wav_path == root / "wavs" / u.speaker / f"{u.utt_id}.wav"
        info = sf.info(str(u.wav_path))
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
        assert 0.5 < info.duration < 10
        audio, _ = sf.read(str(u.wav_path), dtype="float32")
        assert np.sqrt(np.mean(audio**2)) == pytest.approx(corpus.TARGET_RMS, rel=0.05)

    # no sentence in both train and validation; held-out voices only in zeroshot
    train_texts = {u.text for u in back if u.split == "train"}
    assert not train_texts & {u.text for u in back if u.split != "train"}
    for u in back:
        assert (u.speaker in HELD_OUT_SPEAKERS) == (u.split == "zeroshot")

    # resumable: a second run writes nothing new; a deleted file alone is made again
    mtimes = {u.utt_id: u.wav_path.stat().st_mtime_ns for u in back}
    victim = back[0]
    victim.wav_path.unlink()
    again = build_corpus(root, 8, valid_fraction=0.4, seed=2, voices=TEST_VOICES,
                         sentences=SENTENCES)  # fmt: skip
    assert again == utts
    for u in again:
        if u.utt_id != victim.utt_id:
            assert u.wav_path.stat().st_mtime_ns == mtimes[u.utt_id]
    assert victim.wav_path.is_file()

    assert corpus.main(["stats", str(root)]) == 0


@needs_engines
def test_build_only_the_evaluation_split_first(tmp_path: Path) -> None:
    """--splits zeroshot --per-speaker N writes part of the same plan; a full build completes it."""
    root = tmp_path / "synth"
    part = build_corpus(root, 8, valid_fraction=0.4, seed=2, voices=TEST_VOICES,
                        sentences=SENTENCES, splits=["zeroshot"], per_speaker=1)  # fmt: skip
    assert part and {u.split for u in part} == {"zeroshot"}
    assert len({u.speaker for u in part}) == len(part)  # one per speaker
    full = build_corpus(root, 8, valid_fraction=0.4, seed=2, voices=TEST_VOICES,
                        sentences=SENTENCES)  # fmt: skip
    assert set(part) <= set(full) and len(full) > len(part)
    with pytest.raises(CorpusError, match="unknown split"):
        build_corpus(root, 8, voices=TEST_VOICES, sentences=SENTENCES, splits=["dev"])
    with pytest.raises(CorpusError, match="per_speaker"):
        build_corpus(root, 8, voices=TEST_VOICES, sentences=SENTENCES, per_speaker=0)


# --------------------------------------------------------------------------- readers


def _wav(path: Path, seconds: float = 0.3, sr: int = 16000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    sf.write(str(path), (0.1 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), sr,
             subtype="PCM_16")  # fmt: skip


def test_read_libritts_tree(tmp_path: Path) -> None:
    items = {
        "train-clean-100/19/198/19_198_000000_000000": "Hello there.",
        "train-clean-100/19/198/19_198_000001_000000": "General Kenobi.",
        "dev-clean/84/121123/84_121123_000007_000001": "A dev sentence.",
        "test-clean/61/70968/61_70968_000000_000000": "A test sentence.",
    }
    for stem, text in items.items():
        _wav(tmp_path / f"{stem}.wav")
        (tmp_path / f"{stem}.normalized.txt").write_text(text + "\n")
        (tmp_path / f"{stem}.original.txt").write_text(text.upper())
    _wav(tmp_path / "train-clean-100/19/198/19_198_000002_000000.wav")  # no transcript: skipped
    utts = read_libritts(tmp_path)
    assert load_any(tmp_path) == utts
    got = {u.utt_id: (u.speaker, u.split, u.text) for u in utts}
    assert got == {
        "19_198_000000_000000": ("19", "train", "Hello there."),
        "19_198_000001_000000": ("19", "train", "General Kenobi."),
        "84_121123_000007_000001": ("84", "valid", "A dev sentence."),
        "61_70968_000000_000000": ("61", "test", "A test sentence."),
    }
    # a subset folder given directly takes its split from its own name
    dev = read_libritts(tmp_path / "dev-clean")
    assert [(u.speaker, u.split) for u in dev] == [("84", "valid")]


def test_read_wav_txt_folder(tmp_path: Path) -> None:
    for spk, name, text in [("alice", "a1", "One two."), ("alice", "a2", "Three  four.\n"),
                            ("bob", "b1", "Five six.")]:  # fmt: skip
        _wav(tmp_path / spk / f"{name}.wav")
        (tmp_path / spk / f"{name}.txt").write_text(text)
    _wav(tmp_path / "bob" / "orphan.wav")
    utts = read_wav_txt_folder(tmp_path)
    assert load_any(tmp_path) == utts
    assert [(u.utt_id, u.speaker, u.text, u.split) for u in utts] == [
        ("a1", "alice", "One two.", "train"),
        ("a2", "alice", "Three four.", "train"),
        ("b1", "bob", "Five six.", "train"),
    ]


def test_load_any_errors(tmp_path: Path) -> None:
    with pytest.raises(CorpusError):
        load_any(tmp_path)  # empty
    with pytest.raises(CorpusError):
        load_any(tmp_path / "missing")
    (tmp_path / "metadata.tsv").write_text("id\twho\n")
    with pytest.raises(CorpusError):
        read_corpus(tmp_path)


def test_metadata_round_trip_without_synthesis(tmp_path: Path) -> None:
    u = Utterance("x_1", "x", tmp_path / "wavs" / "x" / "x_1.wav", "It's fine, really!", "valid")
    _wav(u.wav_path)
    corpus.write_metadata(tmp_path, [u])
    assert read_corpus(tmp_path) == [u]
    assert corpus.read_manifest(tmp_path) == {}  # corpora from before manifests still read
