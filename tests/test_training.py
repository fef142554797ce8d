"""Training pieces: MAS durations, the aligner loss, spectral losses, and the TTS loop
(single process, resume, and DDP with two CPU processes on gloo)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mobilespeech_model.config import tiny_config
from mobilespeech_model.frontend import DEFAULT_SYMBOLS
from mobilespeech_model.nn import MobileSpeech
from training.aligner import Aligner, beta_binomial_prior, forward_sum_loss, monotonic_alignment
from training.common import save_state
from training.features import mel_filterbank, multiscale_spectral_loss
from training.train_tts import MODEL, PREPARED, set_schedule, snapshot, swap_codec

REPO = Path(__file__).resolve().parent.parent


def test_mas_follows_a_clear_diagonal_and_sums_to_frames() -> None:
    true = np.array([3, 1, 4, 2, 5])
    idx = np.repeat(np.arange(5), true)
    logp = np.full((true.sum(), 5), -10.0)
    logp[np.arange(true.sum()), idx] = 0.0
    assert monotonic_alignment(logp).tolist() == true.tolist()
    rng = np.random.default_rng(0)
    for t, n in ((30, 7), (7, 7), (5, 9)):
        d = monotonic_alignment(rng.standard_normal((t, n)))
        assert d.sum() == t and len(d) == n
        if t >= n:
            assert (d >= 1).all()


def test_prior_rows_are_distributions() -> None:
    p = beta_binomial_prior(12, 40)
    assert p.shape == (40, 12) and np.allclose(p.sum(1), 1.0, atol=1e-5)
    assert p[0].argmax() == 0 and p[-1].argmax() == 11


def test_aligner_forward_sum_loss_is_finite_and_trains() -> None:
    torch.manual_seed(0)
    al = Aligner(80, 16, dim=32)
    ph = torch.randint(4, 70, (2, 6))
    mel = torch.randn(2, 16, 20)
    keep = torch.ones(2, 6, dtype=torch.bool)
    opt = torch.optim.Adam(al.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        loss = forward_sum_loss(
            al(mel, ph, keep, None), torch.tensor([6, 6]), torch.tensor([20, 20])
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert np.isfinite(losses).all() and losses[-1] < losses[0]


def test_spectral_loss_and_mel() -> None:
    fb = mel_filterbank(16000, 512, 40)
    assert fb.shape == (40, 257) and float(fb.min()) >= 0
    x = torch.randn(2, 8000)
    assert float(multiscale_spectral_loss(x, x, 16000)) == 0.0
    assert float(multiscale_spectral_loss(x * 0.5, x, 16000)) > 0.1


def _fake_prepared(out: Path) -> None:
    """A prepared dataset of random tokens with consistent durations (tiny config)."""
    cfg = tiny_config()
    torch.manual_seed(0)
    model = MobileSpeech(cfg)
    items = []
    for i in range(12):
        n_ph = 8 + i % 5
        dur = torch.randint(2, 6, (n_ph,))
        t = int(dur.sum())
        items.append(
            {
                "utt_id": f"u{i}",
                "speaker": f"s{i % 3}",
                "split": "valid" if i < 2 else "train",
                "text": "x",
                "phonemes": torch.randint(4, 70, (n_ph,), dtype=torch.int16),
                "tokens": torch.randint(
                    0, cfg.codec.codebook_size, (cfg.codec.n_codebooks, t), dtype=torch.int16
                ),
                "mel": torch.zeros(80, t, dtype=torch.float16),
                "durations": dur.to(torch.int16),
            }
        )
    save_state(
        out / PREPARED,
        {
            "config": cfg.to_dict(),
            "codec": model.codec.state_dict(),
            "items": items,
            "symbols": DEFAULT_SYMBOLS.to_list(),
        },
    )


def _run(args: list[str], env_extra: dict[str, str] | None = None) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env_extra or {})}
    proc = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]


def test_train_resume_and_swap_codec(tmp_path: Path) -> None:
    _fake_prepared(tmp_path)
    cmd = [
        sys.executable,
        "-m",
        "training.train_tts",
        "train",
        "--out",
        str(tmp_path),
        "--threads",
        "1",
        "--max-frames",
        "200",
    ]
    _run([*cmd, "--steps", "3"])
    model, extra = MobileSpeech.load(tmp_path / MODEL)
    assert extra["steps"] == 3 and extra["symbols"] == DEFAULT_SYMBOLS.to_list()
    _run([*cmd, "--steps", "5"])  # resumes from tts_state.pt
    assert MobileSpeech.load(tmp_path / MODEL)[1]["steps"] == 5
    snapshot(tmp_path, tmp_path / "mid.pt")  # the same weights, from the training state
    mid, mid_extra = MobileSpeech.load(tmp_path / "mid.pt")
    assert mid_extra["steps"] == 5 and mid_extra["symbols"] == DEFAULT_SYMBOLS.to_list()
    final = MobileSpeech.load(tmp_path / MODEL)[0].state_dict()
    assert all(torch.equal(v, final[k]) for k, v in mid.state_dict().items())
    # a codec with a different encoder must be refused; one with a new decoder accepted
    state = {"codec": model.codec.state_dict(), "step": 7}
    for k in state["codec"]:
        if k.startswith("model.decoder.") and state["codec"][k].is_floating_point():
            state["codec"][k] = state["codec"][k] + 0.01
    save_state(tmp_path / "dec.pt", state)
    swap_codec(tmp_path / MODEL, tmp_path / "dec.pt", tmp_path / "final.pt")
    bad = {
        "codec": {
            k: (v + 1 if k.startswith("model.encoder.") and v.is_floating_point() else v)
            for k, v in model.codec.state_dict().items()
        }
    }
    save_state(tmp_path / "bad.pt", bad)
    from mobilespeech_runtime.errors import MobileSpeechError

    with pytest.raises(MobileSpeechError, match="tokens differ"):
        swap_codec(tmp_path / MODEL, tmp_path / "bad.pt", tmp_path / "x.pt")


def test_warm_start_from_a_model_checkpoint(tmp_path: Path) -> None:
    """train --init starts from a trained model (the demo via export.recover): its codec must
    be the corpus's, and prepare reads the codec from such a checkpoint."""
    from mobilespeech_runtime.errors import MobileSpeechError
    from training.train_tts import _warm_start, codec_source

    _fake_prepared(tmp_path)
    torch.manual_seed(0)
    init = MobileSpeech(tiny_config())  # same seed as _fake_prepared: the corpus's codec
    with torch.no_grad():
        for p in init.smd.parameters():
            p.add_(0.5)
    init.save(tmp_path / "init.pt")
    cfg, codec = codec_source(tmp_path / "init.pt")
    assert cfg.model == init.cfg.model
    assert all(torch.equal(v, init.codec.state_dict()[k]) for k, v in codec.items())
    fresh = MobileSpeech(tiny_config())
    fresh.codec.load_state_dict(init.codec.state_dict())
    _warm_start(fresh, tmp_path / "init.pt")
    assert all(torch.equal(v, init.state_dict()[k]) for k, v in fresh.state_dict().items())
    other = MobileSpeech(tiny_config())  # another codec: its tokens would not match the corpus
    with pytest.raises(MobileSpeechError, match="tokens differ"):
        _warm_start(other, tmp_path / "init.pt")
    cmd = [sys.executable, "-m", "training.train_tts", "train", "--out", str(tmp_path)]
    _run(
        [
            *cmd,
            "--threads",
            "1",
            "--max-frames",
            "200",
            "--steps",
            "2",
            "--init",
            str(tmp_path / "init.pt"),
            "--text-dropout",
            "0.1",
            "--prompt-dropout",
            "0.2",
        ]
    )
    trained, extra = MobileSpeech.load(tmp_path / MODEL)
    assert extra["steps"] == 2
    assert (trained.cfg.train.text_dropout, trained.cfg.train.prompt_dropout) == (0.1, 0.2)


def test_cap_per_speaker_balances_speakers() -> None:
    from mobilespeech_runtime.errors import MobileSpeechError
    from training.train_tts import cap_per_speaker

    items = [{"utt_id": f"a{i:02d}", "speaker": "a"} for i in range(10)]
    items += [{"utt_id": f"b{i}", "speaker": "b"} for i in range(2)]
    kept = cap_per_speaker(list(reversed(items)), 3)
    assert [it["utt_id"] for it in kept] == ["a00", "a01", "a02", "b0", "b1"]
    assert cap_per_speaker(items, None) is items
    with pytest.raises(MobileSpeechError, match="max-per-speaker"):
        cap_per_speaker(items, 0)


def test_prepare_leaves_out_the_evaluation_sets_speakers_and_sentences() -> None:
    from training.corpus import Utterance
    from training.train_tts import without_held_out

    def utt(uid: str, speaker: str, text: str, split: str = "train") -> Utterance:
        return Utterance(uid, speaker, Path(f"{uid}.wav"), text, split)

    train = [
        utt("1", "a", "The bridge is long."),
        utt("2", "b", "the bridge, is LONG!"),  # same sentence, other punctuation and case
        utt("3", "held", "Something new."),  # an evaluation voice
        utt("4", "b", "Something else."),
        utt("5", "a", "The bridge is long.", "valid"),  # never trained on: its sentence may stay
        utt("6", "held", "Other words.", "valid"),  # but never an evaluation voice
    ]
    evaluation = [utt("e1", "held", "The bridge is long.")]
    kept, dropped = without_held_out(train, evaluation)
    assert [u.utt_id for u in kept] == ["4", "5"] and dropped == 4
    assert without_held_out(train, []) == (train, 0)


def test_prepare_takes_an_utterance_shared_by_two_corpora_once() -> None:
    from training.corpus import Utterance
    from training.train_tts import first_of_each_id

    a = [Utterance(i, "s", Path(f"a/{i}.wav"), "Words.", "train") for i in ("1", "2")]
    b = [Utterance(i, "s", Path(f"b/{i}.wav"), "Words.", "train") for i in ("2", "3")]
    kept, repeated = first_of_each_id(a + b)
    assert [str(u.wav_path) for u in kept] == ["a/1.wav", "a/2.wav", "b/3.wav"] and repeated == 1


def test_set_schedule_writes_a_copy_with_the_new_schedule(tmp_path: Path) -> None:
    torch.manual_seed(0)
    MobileSpeech(tiny_config()).save(tmp_path / "m.pt", extra={"steps": 9})
    set_schedule(tmp_path / "m.pt", tmp_path / "g.pt", (3, 1), 0.5, 2.0)
    model, extra = MobileSpeech.load(tmp_path / "g.pt")
    sc = model.cfg.schedule
    assert (sc.steps, sc.temperature, sc.guidance) == ((3, 1), 0.5, 2.0) and extra["steps"] == 9
    assert sc.guidance_drops_prompt is False
    set_schedule(tmp_path / "g.pt", tmp_path / "gp.pt", None, None, None, drops_prompt=True)
    sc = MobileSpeech.load(tmp_path / "gp.pt")[0].cfg.schedule
    assert sc.guidance_drops_prompt is True and sc.guidance == 2.0
    set_schedule(tmp_path / "g.pt", tmp_path / "pg.pt", None, None, None, prompt_guidance=0.5)
    sc = MobileSpeech.load(tmp_path / "pg.pt")[0].cfg.schedule
    assert (sc.guidance, sc.prompt_guidance, sc.smd_passes) == (2.0, 0.5, 3)
    from mobilespeech_runtime.errors import ConfigError

    with pytest.raises(ConfigError, match="guidance"):
        set_schedule(tmp_path / "m.pt", tmp_path / "bad.pt", None, None, -1.0)
    assert not (tmp_path / "bad.pt").exists()
    with pytest.raises(ConfigError, match="mel codec"):  # tiny_config's codec is EnCodec
        set_schedule(tmp_path / "m.pt", tmp_path / "bad.pt", None, None, None, 1.0)
    assert not (tmp_path / "bad.pt").exists()


@pytest.mark.slow
def test_ddp_two_cpu_processes_on_gloo(tmp_path: Path) -> None:
    _fake_prepared(tmp_path)
    _run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node=2",
            "--master_port=29533",
            "-m",
            "training.train_tts",
            "train",
            "--out",
            str(tmp_path),
            "--steps",
            "3",
            "--threads",
            "1",
            "--max-frames",
            "200",
        ]
    )
    assert MobileSpeech.load(tmp_path / MODEL)[1]["steps"] == 3


def test_gpu_pack_round_trip_through_the_gpu_script_on_the_cpu(tmp_path: Path) -> None:
    """pack (no mels, float16 TTS weights) -> training/gpu_train_tts.sh (its CPU path, the
    same command a lent GPU runs) -> the weights that come back -> unpack to a checkpoint."""
    from mobilespeech_runtime.errors import MobileSpeechError
    from training import gpu_pack

    run = tmp_path / "run"
    _fake_prepared(run)
    torch.manual_seed(0)
    init = MobileSpeech(tiny_config())  # the corpus's codec (same seed as _fake_prepared)
    with torch.no_grad():
        for p in init.smd.parameters():
            p.add_(0.25)
    init.save(tmp_path / "init.pt")
    packed = tmp_path / "packed"
    sizes = gpu_pack.pack(run / PREPARED, packed, tmp_path / "init.pt")
    assert set(sizes) == {"prepared.pt", "init_tts.pt"}
    slim = torch.load(packed / "prepared.pt", weights_only=False)
    assert all("mel" not in it and "durations" in it for it in slim["items"])
    # the warm start is the init's TTS weights in float16 (no codec)
    warm = MobileSpeech(tiny_config())
    warm.codec.load_state_dict(slim["codec"])
    gpu_pack.load_tts_weights(warm, packed / "init_tts.pt")
    for k, v in init.state_dict().items():
        torch.testing.assert_close(warm.state_dict()[k], v, rtol=1e-3, atol=1e-3)
    out = tmp_path / "out"
    _run(["bash", "training/gpu_train_tts.sh", str(packed), "0", "--steps", "2",
          "--max-frames", "200", "--threads", "1"],
         {"OUT": str(out), "PYTHON": sys.executable, "CUDA_VISIBLE_DEVICES": ""})
    assert (out / "tts_history.json").is_file()
    gpu_pack.unpack(run / PREPARED, out / "tts_weights.pt", tmp_path / "back.pt")
    back, _ = MobileSpeech.load(tmp_path / "back.pt")
    trained, extra = MobileSpeech.load(packed / MODEL)
    assert extra["steps"] == 2
    for k, v in trained.state_dict().items():
        torch.testing.assert_close(back.state_dict()[k], v, rtol=1e-3, atol=1e-3)
    init_sd = init.state_dict()
    assert any(not torch.allclose(v, init_sd[k], atol=1e-3)
               for k, v in trained.state_dict().items() if k.startswith("smd."))  # it trained
    other = MobileSpeech(tiny_config())  # another codec: refused
    other.save(tmp_path / "other.pt")
    with pytest.raises(MobileSpeechError, match="codec"):
        gpu_pack.pack(run / PREPARED, tmp_path / "x", tmp_path / "other.pt")


def test_phoneme_ids_keep_one_leading_pause_per_utterance() -> None:
    """With FrontendConfig.leading_pause the utterance starts with <sil> (its recording's one
    lead-in); later sentences lose theirs, their pause is the previous sentence's end."""
    from types import SimpleNamespace

    from mobilespeech_model.config import FrontendConfig
    from training.train_tts import phoneme_ids

    chunks = [[1, 5, 6, 1], [1, 7, 1]]  # <sil> a b <sil> | <sil> c <sil>
    lead = SimpleNamespace(config=FrontendConfig(leading_pause=True), encode=lambda _t: chunks)
    assert phoneme_ids(lead, "x") == [1, 5, 6, 1, 7, 1]  # type: ignore[arg-type]
    plain = SimpleNamespace(config=FrontendConfig(), encode=lambda _t: [[5, 6, 1], [7, 1]])
    assert phoneme_ids(plain, "x") == [5, 6, 1, 7, 1]  # type: ignore[arg-type]


def test_prepare_with_leading_pause_starts_each_utterance_with_sil(
    tiny_checkpoint: Path, prompt_wav: Path, tmp_path: Path
) -> None:
    """prepare --leading-pause: the prepared config (and so the model and its bundle manifest)
    has FrontendConfig.leading_pause, and every utterance's ids start with <sil>."""
    import shutil as sh

    from training.train_tts import prepare

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, text in enumerate(["It runs.", "It runs on your phone. It is fast."]):
        sh.copy(prompt_wav, corpus / f"u{i}.wav")
        (corpus / f"u{i}.txt").write_text(text)
    prepare([corpus], tiny_checkpoint, tmp_path / "run", threads=1, leading_pause=True)
    data = torch.load(tmp_path / "run" / PREPARED, weights_only=False)
    assert data["config"]["frontend"]["leading_pause"] is True
    sil = data["symbols"].index("<sil>")
    for it in data["items"]:
        ids = it["phonemes"].tolist()
        assert ids[0] == sil and ids[1] != sil and ids.count(sil) == it["text"].count(".") + 1


def test_other_prompts_pick_another_utterance_of_the_same_speaker() -> None:
    """TrainConfig.prompt_other: the prompt is another take of the speaker, never the
    utterance itself; a lone utterance keeps its prefix; p = 0 draws nothing (the batch order
    of a run without the option stays as it was)."""
    import random

    from training.train_tts import other_prompts

    items = [{"speaker": s, "tokens": torch.full((2, 3), i)} for i, s in enumerate("aabbbc")]
    by_speaker: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        by_speaker.setdefault(it["speaker"], []).append(i)
    rng = random.Random(0)
    for _ in range(20):
        picked = other_prompts(items, list(range(6)), 1.0, rng, by_speaker)
        assert picked[5] is None  # speaker c has one utterance
        for i, x in enumerate(picked[:5]):
            assert x is not None
            j = int(x[0, 0])
            assert j != i and items[j]["speaker"] == items[i]["speaker"]
    state = rng.getstate()
    assert other_prompts(items, list(range(6)), 0.0, rng, by_speaker) == [None] * 6
    assert rng.getstate() == state


def test_loss_prompts_each_row_with_the_other_take_or_its_own_prefix() -> None:
    from training.train_tts import collate

    cfg = tiny_config()
    cfg.train.prompt_other = 1.0
    torch.manual_seed(0)
    model = MobileSpeech(cfg)
    n, v = cfg.codec.n_codebooks, cfg.codec.codebook_size

    def item(t: int) -> dict:
        dur = torch.full((t // 2,), 2, dtype=torch.int16)
        return {"phonemes": torch.randint(4, 70, (t // 2,), dtype=torch.int16),
                "durations": dur, "tokens": torch.randint(0, v, (n, t), dtype=torch.int16)}

    own, other = [item(20), item(16)], torch.randint(0, v, (n, 30), dtype=torch.int16)
    batch = collate(own, [other, None])
    assert batch.other_lens is not None and batch.other_lens.tolist() == [30, 0]
    seen: dict[str, torch.Tensor] = {}
    encode = model.prompt_encoder.forward

    def spy(prompt: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        seen["prompt"], seen["keep"] = prompt, keep
        return encode(prompt, keep)

    model.prompt_encoder.forward = spy  # type: ignore[method-assign]
    out = model.loss(batch, torch.Generator().manual_seed(0))
    assert torch.isfinite(out["loss"])
    assert torch.equal(seen["prompt"][0], other.long())  # row 0: the other take, whole
    assert seen["keep"] is not None and int(seen["keep"][1].sum()) < 16  # row 1: a prefix
    assert torch.equal(seen["prompt"][1, :, : int(seen["keep"][1].sum())],
                       own[1]["tokens"][:, : int(seen["keep"][1].sum())].long())


def test_train_with_prompt_other_records_it_in_the_model_config(tmp_path: Path) -> None:
    _fake_prepared(tmp_path)
    _run([sys.executable, "-m", "training.train_tts", "train", "--out", str(tmp_path),
          "--threads", "1", "--max-frames", "200", "--steps", "2", "--prompt-other", "0.5"])
    trained, extra = MobileSpeech.load(tmp_path / MODEL)
    assert extra["steps"] == 2 and trained.cfg.train.prompt_other == 0.5
    from mobilespeech_runtime.errors import ConfigError

    trained.cfg.train.prompt_other = 1.5
    with pytest.raises(ConfigError, match="prompt_other"):
        trained.cfg.validate()


def test_train_saves_its_resumable_state_every_save_every_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session that ends abruptly loses at most save_every steps, not a validation interval."""
    import training.train_tts as tt
    from mobilespeech_runtime.errors import MobileSpeechError

    _fake_prepared(tmp_path)
    saved: list[int] = []
    real = tt.save_state

    def recording(path: Path, state: dict) -> None:
        if path.name == tt.STATE:
            saved.append(state["step"])
        real(path, state)

    monkeypatch.setattr(tt, "save_state", recording)
    threads = torch.get_num_threads()
    try:
        tt.train(tmp_path, 0.0, 5, 200, 1e-3, 1, save_every=2)
    finally:
        torch.set_num_threads(threads)
    assert saved == [2, 4, 5] and MobileSpeech.load(tmp_path / MODEL)[1]["steps"] == 5
    with pytest.raises(MobileSpeechError, match="save_every"):
        tt.train(tmp_path, 0.0, 5, 200, 1e-3, 1, save_every=0)
