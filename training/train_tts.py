"""Prepare features, learn durations, and train the text/duration/prompt/SMD model.

Subcommands (run in order; each resumes or reuses what the previous wrote):

    python -m training.train_tts prepare --corpus data/synth --codec runs/codec/codec.pt \
        --out runs/tts
    python -m training.train_tts align   --out runs/tts --minutes 8
    python -m training.train_tts train   --out runs/tts --minutes 60
    # warm start from a bundle: its recovered checkpoint is the codec and the initial model
    python -m export.recover --bundle models/demo --out runs/demo.pt
    python -m training.train_tts prepare --corpus data/synth --codec runs/demo.pt --out runs/ft
    python -m training.train_tts train   --out runs/ft --init runs/demo.pt --lr 3e-4
    python -m training.train_tts snapshot --out runs/tts --to runs/tts/mid.pt   # while training
    torchrun --nproc_per_node=8 -m training.train_tts train --out runs/tts   # many GPUs (DDP)

``train`` writes ``runs/tts/model.pt`` (a MobileSpeech checkpoint with the codec inside),
which ``python -m export`` turns into a bundle.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from mobilespeech_model.audio import read_audio, resample, to_mono
from mobilespeech_model.config import MobileSpeechConfig
from mobilespeech_model.frontend import Frontend
from mobilespeech_model.nn import Batch, MobileSpeech
from mobilespeech_model.nn.codec import make_codec
from mobilespeech_model.nn.mobilespeech import CHECKPOINT_FORMAT
from mobilespeech_runtime.argtypes import steps_arg
from mobilespeech_runtime.errors import MobileSpeechError

from .aligner import Aligner, beta_binomial_prior, forward_sum_loss, monotonic_alignment
from .common import load_state, save_state, setup, teardown
from .corpus import load_any
from .features import log_mel
from .gpu_pack import is_tts_weights, load_tts_weights
from .texts import text_key

N_MELS = 80
PREPARED = "prepared.pt"
ALIGNER = "aligner.pt"
VALID_EVERY = 500  # training steps between validations (history entries)
STATE = "tts_state.pt"
MODEL = "model.pt"


def phoneme_ids(frontend: Frontend, text: str) -> list[int]:
    """All sentences of an utterance as one id sequence (what the model reads). With
    ``FrontendConfig.leading_pause`` only the first keeps its leading <sil>: the recording has
    one lead-in, and a sentence's end already holds the pause to the next."""
    chunks = frontend.encode(text)
    skip = 1 if frontend.config.leading_pause else 0
    return [i for k, sent in enumerate(chunks) for i in (sent[skip:] if k else sent)]


# ---- prepare ------------------------------------------------------------------------------
def codec_source(path: Path) -> tuple[MobileSpeechConfig, dict[str, torch.Tensor]]:
    """Config and codec weights from a ``train_codec`` checkpoint, or from a whole model
    (``train_tts train``, ``export.recover``): the codec a warm start keeps."""
    state = load_state(path)
    if state is None:
        raise MobileSpeechError(f"codec checkpoint not found: {path}")
    if state.get("format") == CHECKPOINT_FORMAT and "state_dict" in state:
        codec = {
            k[len("codec.") :]: v for k, v in state["state_dict"].items() if k.startswith("codec.")
        }
        return MobileSpeechConfig.from_dict(state["config"]), codec
    return MobileSpeechConfig.from_dict(state["config"]), state["codec"]


def without_held_out(utterances: list[Any], held_out: list[Any]) -> tuple[list[Any], int]:
    """Drop every utterance that shares a speaker or a sentence with ``held_out`` (an evaluation
    set), so that what the evaluation measures stays unseen even when the training corpus was
    built from another sentence source or plan. Returns the kept utterances and how many went.

    A validation utterance (split ``valid``) only goes for a shared speaker: it is never trained
    on, and the corpus plan gives every validation sentence to a held-out voice too (split
    ``zeroshot``), so dropping shared sentences there would leave a fine-tune no validation."""
    speakers = {u.speaker for u in held_out}
    texts = {text_key(u.text) for u in held_out}
    kept = [
        u
        for u in utterances
        if u.speaker not in speakers and (u.split == "valid" or text_key(u.text) not in texts)
    ]
    return kept, len(utterances) - len(kept)


def first_of_each_id(utterances: list[Any]) -> tuple[list[Any], int]:
    """The first utterance of each id, in order, and how many repeats went: corpora built from
    plans of the same voices and sentences (a larger ``--utterances``) share utterances."""
    first: dict[str, Any] = {}
    for u in utterances:
        first.setdefault(u.utt_id, u)
    return list(first.values()), len(utterances) - len(first)


def prepare(
    corpora: list[Path],
    codec_ckpt: Path,
    out: Path,
    threads: int,
    exclude: list[Path] | None = None,
    leading_pause: bool | None = None,
) -> None:
    """Tokenize ``corpora`` with the codec of ``codec_ckpt`` into ``out/prepared.pt``; utterances
    sharing a speaker or sentence with any corpus in ``exclude`` are left out (validation
    utterances for a speaker only: ``without_held_out``). ``leading_pause``
    sets ``FrontendConfig.leading_pause`` for the model trained from it (None: the codec
    checkpoint's)."""
    torch.set_num_threads(threads)
    cfg, codec_state = codec_source(codec_ckpt)
    if leading_pause is not None:
        cfg.frontend.leading_pause = leading_pause
    codec = make_codec(cfg.codec)
    codec.load_state_dict(codec_state)
    codec.eval()
    frontend = Frontend(cfg.frontend)
    sr, hop = cfg.codec.sample_rate, cfg.codec.hop_length
    items: list[dict[str, Any]] = []
    skipped = 0
    utterances = [u for root in corpora for u in load_any(root)]
    utterances, repeated = first_of_each_id(utterances)
    if repeated:
        print(f"left out {repeated} utterances already in an earlier corpus")
    if exclude:
        utterances, dropped = without_held_out(
            utterances, [u for root in exclude for u in load_any(root)]
        )
        print(f"left out {dropped} utterances that share a speaker or sentence with {exclude}")
    for u in tqdm(utterances, desc="prepare"):
        try:
            ids = phoneme_ids(frontend, u.text)
        except MobileSpeechError:
            skipped += 1
            continue
        data, file_sr = read_audio(u.wav_path)
        wav = resample(to_mono(data), file_sr, sr)
        wav = wav[: wav.size // hop * hop]
        if wav.size < 4 * hop or len(ids) < 2:
            skipped += 1
            continue
        x = torch.from_numpy(wav).view(1, 1, -1)
        with torch.no_grad():
            tokens = codec.encode(x)[0]
            mel = log_mel(x.view(1, -1), sr, 1024, hop, N_MELS)[0, :, : tokens.shape[1]]
        items.append(
            {
                "utt_id": u.utt_id,
                "speaker": u.speaker,
                "split": u.split,
                "text": u.text,
                "phonemes": torch.tensor(ids, dtype=torch.int16),
                "tokens": tokens.to(torch.int16),
                "mel": mel.to(torch.float16),
            }
        )
    out.mkdir(parents=True, exist_ok=True)
    save_state(
        out / PREPARED,
        {
            "config": cfg.to_dict(),
            "codec": codec_state,
            "items": items,
            "symbols": frontend.symbols.to_list(),
        },
    )
    print(f"prepared {len(items)} utterances ({skipped} skipped) -> {out / PREPARED}")


# ---- align --------------------------------------------------------------------------------
def _align_batch(items: list[dict[str, Any]]) -> tuple[torch.Tensor, ...]:
    b = len(items)
    lmax = max(int(it["phonemes"].numel()) for it in items)
    tmax = max(int(it["mel"].shape[1]) for it in items)
    ph = torch.zeros(b, lmax, dtype=torch.long)
    mel = torch.full((b, N_MELS, tmax), math.log(1e-5))
    prior = torch.full((b, tmax, lmax), 1e-8)
    lt, lf = torch.zeros(b, dtype=torch.long), torch.zeros(b, dtype=torch.long)
    for i, it in enumerate(items):
        n, t = int(it["phonemes"].numel()), int(it["mel"].shape[1])
        ph[i, :n] = it["phonemes"].long()
        mel[i, :, :t] = it["mel"].float()
        prior[i, :t, :n] = torch.from_numpy(beta_binomial_prior(n, t))
        lt[i], lf[i] = n, t
    keep = torch.arange(lmax)[None] < lt[:, None]
    return ph, mel, prior, lt, lf, keep


def align(out: Path, minutes: float, batch: int, threads: int, seed: int = 0) -> None:
    torch.set_num_threads(threads)
    data = load_state(out / PREPARED)
    if data is None:
        raise MobileSpeechError(f"run 'prepare' first: {out / PREPARED} is missing")
    items = data["items"]
    cfg = MobileSpeechConfig.from_dict(data["config"])
    aligner = Aligner(cfg.model.n_symbols, N_MELS)
    opt = torch.optim.Adam(aligner.parameters(), lr=1e-3)
    train = [it for it in items if it["split"] == "train"]
    rng = random.Random(seed)
    t0, step = time.time(), 0
    bar = tqdm(desc="align", dynamic_ncols=True)
    while time.time() - t0 < minutes * 60:
        ph, mel, prior, lt, lf, keep = _align_batch(rng.sample(train, min(batch, len(train))))
        logp = aligner(mel, ph, keep, prior if step < 2000 else None)
        loss = forward_sum_loss(logp, lt, lf)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(aligner.parameters(), 1.0)
        opt.step()
        step += 1
        bar.update(1)
        bar.set_postfix(loss=round(float(loss), 4))
    bar.close()
    aligner.eval()
    agree = []
    with torch.no_grad():
        for k in tqdm(range(0, len(items), 32), desc="durations"):
            chunk = items[k : k + 32]
            ph, mel, prior, lt, lf, keep = _align_batch(chunk)
            logp = aligner(mel, ph, keep, prior)
            for i, it in enumerate(chunk):
                lp = logp[i, : int(lf[i]), : int(lt[i])].numpy()
                it["durations"] = torch.from_numpy(monotonic_alignment(lp)).to(torch.int16)
                agree.append(
                    float(
                        (
                            lp.argmax(1)
                            == np.repeat(np.arange(lp.shape[1]), it["durations"].numpy())
                        ).mean()
                    )
                )
    save_state(out / ALIGNER, {"aligner": aligner.state_dict(), "steps": step})
    save_state(out / PREPARED, data)
    print(f"aligner: {step} steps; soft/hard agreement {np.mean(agree):.3f}; durations written")


# ---- train --------------------------------------------------------------------------------
def make_batches(
    items: list[dict[str, Any]], max_frames: int, rng: random.Random
) -> list[list[int]]:
    """Length-bucketed batches of at most ``max_frames`` padded frames."""
    order = sorted(range(len(items)), key=lambda i: int(items[i]["tokens"].shape[1]))
    batches, cur, longest = [], [], 0
    for i in order:
        t = int(items[i]["tokens"].shape[1])
        if cur and max(longest, t) * (len(cur) + 1) > max_frames:
            batches.append(cur)
            cur, longest = [], 0
        cur.append(i)
        longest = max(longest, t)
    if cur:
        batches.append(cur)
    rng.shuffle(batches)
    return batches


def cap_per_speaker(items: list[dict[str, Any]], cap: int | None) -> list[dict[str, Any]]:
    """At most ``cap`` utterances per speaker (the first by utterance id; None = all).

    Why: a corpus's engines grow at very different speeds (espeak writes hundreds of utterances
    while Kokoro writes one), so a partial corpus can be mostly one engine's voices; a cap per
    speaker keeps a warm start from drifting toward them."""
    if cap is None:
        return items
    if cap < 1:
        raise MobileSpeechError(f"--max-per-speaker must be >= 1, got {cap}")
    kept: dict[str, int] = {}
    out = []
    for it in sorted(items, key=lambda it: it["utt_id"]):
        if kept.get(it["speaker"], 0) < cap:
            kept[it["speaker"]] = kept.get(it["speaker"], 0) + 1
            out.append(it)
    return out


def other_prompts(
    items: list[dict[str, Any]], idx: list[int], p: float, rng: random.Random,
    by_speaker: dict[str, list[int]],
) -> list[torch.Tensor | None]:
    """For each utterance ``idx`` picks, with probability ``p``, another utterance of its
    speaker whose tokens become its prompt (``TrainConfig.prompt_other``); None keeps the
    prefix of its own. A speaker with one utterance always keeps the prefix."""
    out: list[torch.Tensor | None] = []
    for i in idx:
        mates = by_speaker[items[i]["speaker"]]
        if p > 0 and len(mates) > 1 and rng.random() < p:
            j = rng.choice([m for m in mates if m != i])
            out.append(items[j]["tokens"])
        else:
            out.append(None)
    return out


def collate(
    items: list[dict[str, Any]], prompts: list[torch.Tensor | None] | None = None
) -> Batch:
    b = len(items)
    lmax = max(int(it["phonemes"].numel()) for it in items)
    n = int(items[0]["tokens"].shape[0])
    tmax = max(int(it["tokens"].shape[1]) for it in items)
    ph = torch.zeros(b, lmax, dtype=torch.long)
    dur = torch.zeros(b, lmax, dtype=torch.long)
    tok = torch.zeros(b, n, tmax, dtype=torch.long)
    pl, tl = torch.zeros(b, dtype=torch.long), torch.zeros(b, dtype=torch.long)
    for i, it in enumerate(items):
        k, t = int(it["phonemes"].numel()), int(it["tokens"].shape[1])
        ph[i, :k] = it["phonemes"].long()
        dur[i, :k] = it["durations"].long()
        tok[i, :, :t] = it["tokens"].long()
        pl[i], tl[i] = k, t
    if prompts is None or all(x is None for x in prompts):
        return Batch(ph, pl, dur, tok, tl)
    omax = max(int(x.shape[1]) for x in prompts if x is not None)
    other = torch.zeros(b, n, omax, dtype=torch.long)
    olens = torch.zeros(b, dtype=torch.long)
    for i, x in enumerate(prompts):
        if x is not None:
            other[i, :, : x.shape[1]] = x.long()
            olens[i] = x.shape[1]
    return Batch(ph, pl, dur, tok, tl, other, olens)


class LossModule(nn.Module):
    """DDP wraps a module's forward; this forward is the model's training loss."""

    def __init__(self, model: MobileSpeech) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: Batch, gen: torch.Generator) -> dict[str, torch.Tensor]:
        return self.model.loss(batch, gen)


def _to(batch: Batch, device: torch.device) -> Batch:
    fields = ("phonemes", "phoneme_lens", "durations", "tokens", "token_lens", "other_tokens",
              "other_lens")
    return Batch(*(None if (v := getattr(batch, f)) is None else v.to(device) for f in fields))


@torch.no_grad()
def validate(
    model: MobileSpeech, items: list[dict[str, Any]], device: torch.device
) -> dict[str, float]:
    model.eval()
    gen = torch.Generator().manual_seed(1234)
    sums: dict[str, float] = {}
    n = 0
    for k in range(0, len(items), 16):
        out = model.loss(_to(collate(items[k : k + 16]), device), gen)
        for key, v in out.items():
            sums[key] = sums.get(key, 0.0) + float(v)
        n += 1
    model.train()
    return {k: round(v / max(n, 1), 4) for k, v in sums.items()}


def _warm_start(model: MobileSpeech, init: Path) -> None:
    """Start from a trained model (e.g. the demo, via ``export.recover``) instead of random
    weights. Its codec must be the one the corpus was tokenized with (prepare --codec INIT).
    A TTS weights file (``gpu_pack``: no codec, float16) starts from its weights alone."""
    if is_tts_weights(init):
        load_tts_weights(model, init)
        return
    other, _ = MobileSpeech.load(init)
    if other.cfg.model != model.cfg.model:
        raise MobileSpeechError(f"{init}: its model config differs from the prepared corpus's")
    theirs, mine = other.state_dict(), model.state_dict()
    if any(not torch.equal(theirs[k], v) for k, v in mine.items() if k.startswith("codec.")):
        raise MobileSpeechError(
            f"{init}: its codec is not the one the corpus was tokenized with (tokens differ); "
            f"run prepare with --codec {init}"
        )
    model.load_state_dict(theirs)


def train(
    out: Path,
    minutes: float,
    steps: int,
    max_frames: int,
    lr: float,
    threads: int,
    seed: int = 0,
    init: Path | None = None,
    text_dropout: float | None = None,
    prompt_dropout: float | None = None,
    max_per_speaker: int | None = None,
    prompt_other: float | None = None,
    save_every: int = 100,
) -> None:
    """SMD + duration training, resumable from ``out/tts_state.pt``: saved every ``save_every``
    steps (a session that ends abruptly loses fewer), validated every ``VALID_EVERY``."""
    if save_every < 1:
        raise MobileSpeechError(f"save_every must be >= 1, got {save_every}")
    rt = setup(threads)
    data = load_state(out / PREPARED)
    if data is None or "durations" not in data["items"][0]:
        raise MobileSpeechError("run 'prepare' and 'align' first")
    cfg = MobileSpeechConfig.from_dict(data["config"])
    if text_dropout is not None:
        cfg.train.text_dropout = text_dropout
    if prompt_dropout is not None:
        cfg.train.prompt_dropout = prompt_dropout
    if prompt_other is not None:
        cfg.train.prompt_other = prompt_other
    cfg.validate()
    model = MobileSpeech(cfg)
    model.codec.load_state_dict(data["codec"])
    for p in model.codec.parameters():
        p.requires_grad_(False)
    model.to(rt.device)
    opt = torch.optim.AdamW(model.tts_parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.01)
    state = load_state(out / STATE)
    step, history = 0, []
    if state:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, history = state["step"], state.get("history", [])
        if rt.main:
            print(f"resumed at step {step}")
    elif init is not None:
        _warm_start(model, init)
        if rt.main:
            print(f"warm start from {init}")
    warmup = max(1, min(1000, steps // 10))

    def lr_at(s: int) -> float:
        return min(1.0, (s + 1) / warmup) * max(
            0.05, 0.5 * (1 + math.cos(math.pi * min(s / steps, 1.0)))
        )

    wrapped: nn.Module = LossModule(model)
    if rt.world > 1:
        wrapped = nn.parallel.DistributedDataParallel(wrapped, find_unused_parameters=True)
    items = data["items"]
    train_items = cap_per_speaker([it for it in items if it["split"] == "train"], max_per_speaker)
    valid_items = [it for it in items if it["split"] == "valid"][:64]
    by_speaker: dict[str, list[int]] = {}
    for i, it in enumerate(train_items):
        by_speaker.setdefault(it["speaker"], []).append(i)
    rng = random.Random(seed + step)
    gen = torch.Generator().manual_seed(seed * 1000 + rt.rank + step)
    if rt.main:
        print(
            f"tts: {sum(p.numel() for p in model.tts_parameters()):,} trainable parameters, "
            f"{len(train_items)} train / {len(valid_items)} valid utterances, world {rt.world}"
        )
    t0 = time.time()
    bar = tqdm(total=steps, initial=step, desc="tts", disable=not rt.main, dynamic_ncols=True)
    model.train()
    stop = False
    while not stop:
        batches = make_batches(train_items, max_frames, rng)[rt.rank :: rt.world]
        for idx in batches:
            for g in opt.param_groups:
                g["lr"] = lr * lr_at(step)
            prompts = other_prompts(train_items, idx, cfg.train.prompt_other, rng, by_speaker)
            batch = collate([train_items[i] for i in idx], prompts)
            out_d = wrapped(_to(batch, rt.device), gen)
            opt.zero_grad(set_to_none=True)
            out_d["loss"].backward()
            torch.nn.utils.clip_grad_norm_(model.tts_parameters(), 1.0)
            opt.step()
            step += 1
            bar.update(1)
            if step % 10 == 0:
                bar.set_postfix({k: round(float(v), 3) for k, v in out_d.items()})
            timeout = bool(minutes) and time.time() - t0 > minutes * 60
            flag = torch.tensor([1.0 if (timeout or step >= steps) else 0.0])
            if rt.world > 1:
                torch.distributed.all_reduce(flag)
            stop = bool(flag.item() > 0)
            if rt.main and (step % VALID_EVERY == 0 or stop):
                val = validate(model, valid_items, rt.device)
                history.append(
                    {
                        "step": step,
                        "minutes": round((time.time() - t0) / 60, 2),
                        "train": {k: round(float(v), 4) for k, v in out_d.items()},
                        "valid": val,
                    }
                )
                bar.write(f"step {step}: valid {val}")
            if rt.main and (step % save_every == 0 or step % VALID_EVERY == 0 or stop):
                save_state(
                    out / STATE,
                    {
                        "model": model.state_dict(),
                        "opt": opt.state_dict(),
                        "step": step,
                        "history": history,
                    },
                )
            if stop:
                break
    bar.close()
    if rt.main:
        model.eval()
        model.save(
            out / MODEL, extra={"steps": step, "history": history, "symbols": data["symbols"]}
        )
        (out / "tts_history.json").write_text(json.dumps(history, indent=1))
        print(f"tts training stopped at step {step}; wrote {out / MODEL}")
    teardown(rt)


def swap_codec(model_path: Path, codec_path: Path, out: Path) -> None:
    """Put a codec whose decoder kept training (``train_codec --decoder-only``) into a model.

    Only valid when the encoder and codebooks are unchanged, so the tokens the SMD learned
    still mean the same; this is checked by comparing the encoder/quantizer weights.
    """
    model, extra = MobileSpeech.load(model_path)
    state = load_state(codec_path)
    if state is None:
        raise MobileSpeechError(f"codec checkpoint not found: {codec_path}")
    new = state["codec"]
    for k, v in model.codec.state_dict().items():
        decoder = k.startswith(("model.decoder.", "decoder."))  # EnCodec-family / mel codec
        if not decoder and not torch.equal(v, new[k]):
            raise MobileSpeechError(f"{codec_path} changed {k}: its tokens differ from the model's")
    model.codec.load_state_dict(new)
    model.save(out, extra={**extra, "codec_steps": state.get("step")})
    print(f"wrote {out} with the decoder of {codec_path} (step {state.get('step')})")


def snapshot(out: Path, to: Path) -> None:
    """Write a model checkpoint from the last saved training state, while ``train`` goes on
    (to export and evaluate a mid-run model)."""
    data, state = load_state(out / PREPARED), load_state(out / STATE)
    if data is None or state is None:
        raise MobileSpeechError(f"{out} has no {PREPARED} and {STATE} to snapshot")
    model = MobileSpeech(MobileSpeechConfig.from_dict(data["config"]))
    model.load_state_dict(state["model"])
    model.eval()
    history = state.get("history", [])
    model.save(to, extra={"steps": state["step"], "history": history, "symbols": data["symbols"]})
    print(f"wrote {to} from step {state['step']}")


def set_schedule(
    model_path: Path,
    to: Path,
    steps: tuple[int, ...] | None,
    temperature: float | None,
    guidance: float | None,
    mel_match: float | None = None,
    drops_prompt: bool | None = None,
    prompt_guidance: float | None = None,
) -> None:
    """Write a copy of a model with another decoding schedule (what export bakes in; mel_match
    is read by the runtime from the bundle manifest)."""
    model, extra = MobileSpeech.load(model_path)
    sc = model.cfg.schedule
    if steps is not None:
        sc.steps = steps
    if temperature is not None:
        sc.temperature = temperature
    if guidance is not None:
        sc.guidance = guidance
    if mel_match is not None:
        sc.mel_match = mel_match
    if drops_prompt is not None:
        sc.guidance_drops_prompt = drops_prompt
    if prompt_guidance is not None:
        sc.prompt_guidance = prompt_guidance
    model.cfg.validate()
    model.save(to, extra=extra)
    print(f"wrote {to} with schedule {sc}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--corpus", type=Path, required=True, action="append", help="repeatable")
    p.add_argument("--codec", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--exclude",
        type=Path,
        action="append",
        default=[],
        help="corpus (e.g. the evaluation set) whose speakers and sentences stay out of training "
        "(validation keeps its sentences); repeatable",
    )
    p.add_argument(
        "--leading-pause",
        action=argparse.BooleanOptionalAction,
        help="a <sil> before each utterance's phonemes, for its lead-in silence "
        "(FrontendConfig.leading_pause; default: the codec checkpoint's setting)",
    )
    a = sub.add_parser("align")
    a.add_argument("--out", type=Path, required=True)
    a.add_argument("--minutes", type=float, default=8.0)
    a.add_argument("--batch", type=int, default=16)
    a.add_argument("--threads", type=int, default=2)
    t = sub.add_parser("train")
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--minutes", type=float, default=0.0)
    t.add_argument("--steps", type=int, default=50000)
    t.add_argument(
        "--save-every", type=int, default=100, help="steps between saves of the resumable state"
    )
    t.add_argument("--max-frames", type=int, default=3000, help="padded frames per batch")
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument(
        "--init", type=Path, help="start from this model checkpoint (ignored when resuming)"
    )
    t.add_argument(
        "--text-dropout",
        type=float,
        help="P(text frames zeroed for the SMD): trains text guidance's unconditional pass",
    )
    t.add_argument(
        "--prompt-dropout",
        type=float,
        help="P(text frames and prompt memory zeroed): trains guidance that drops the prompt",
    )
    t.add_argument(
        "--max-per-speaker",
        type=int,
        help="train on at most this many utterances per speaker (balances a partial corpus)",
    )
    t.add_argument(
        "--prompt-other",
        type=float,
        help="P(an utterance is prompted by another utterance of its speaker instead of a "
        "prefix of itself; TrainConfig.prompt_other)",
    )
    w = sub.add_parser("swap-codec", help="use a decoder fine-tuned with frozen tokens")
    w.add_argument("--model", type=Path, required=True)
    w.add_argument("--codec", type=Path, required=True)
    w.add_argument("--out", type=Path, required=True)
    n = sub.add_parser("snapshot", help="a model checkpoint from the last training state")
    n.add_argument("--out", type=Path, required=True)
    n.add_argument("--to", type=Path, required=True)
    c = sub.add_parser("schedule", help="a copy of a model with another decoding schedule")
    c.add_argument("--model", type=Path, required=True)
    c.add_argument("--to", type=Path, required=True)
    c.add_argument("--steps", type=steps_arg, help="steps per codec layer, e.g. 8,2,1,1,1,1")
    c.add_argument("--temperature", type=float)
    c.add_argument("--guidance", type=float, help="text guidance weight (0 = off)")
    c.add_argument(
        "--guidance-drops-prompt",
        choices=("yes", "no"),
        help="the guided pass's second pass also zeroes the prompt (train with --prompt-dropout)",
    )
    c.add_argument(
        "--prompt-guidance",
        type=float,
        help="prompt guidance weight apart from the text's (0 = off; a third SMD pass; "
        "train with --prompt-dropout)",
    )
    c.add_argument(
        "--mel-match",
        type=float,
        help="pull each sentence's mel spectrum toward the prompt's (0 = off, 1 = full)",
    )
    args = ap.parse_args(argv)
    if args.cmd == "schedule":
        set_schedule(
            args.model,
            args.to,
            args.steps,
            args.temperature,
            args.guidance,
            args.mel_match,
            None if args.guidance_drops_prompt is None else args.guidance_drops_prompt == "yes",
            args.prompt_guidance,
        )
    elif args.cmd == "snapshot":
        snapshot(args.out, args.to)
    elif args.cmd == "swap-codec":
        swap_codec(args.model, args.codec, args.out)
    elif args.cmd == "prepare":
        prepare(args.corpus, args.codec, args.out, args.threads, args.exclude,
                args.leading_pause)
    elif args.cmd == "align":
        align(args.out, args.minutes, args.batch, args.threads)
    else:
        train(
            args.out,
            args.minutes,
            args.steps,
            args.max_frames,
            args.lr,
            args.threads,
            init=args.init,
            text_dropout=args.text_dropout,
            prompt_dropout=args.prompt_dropout,
            max_per_speaker=args.max_per_speaker,
            prompt_other=args.prompt_other,
            save_every=args.save_every,
        )


if __name__ == "__main__":
    main()
