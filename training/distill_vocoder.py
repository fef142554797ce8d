"""Distil a fast student vocoder from the universal HiFi-GAN teacher, resumably, on CPU or GPU.

    # 1. label: the teacher vocodes mels from every source into OUT/pool/ (resumable, grows)
    python -m training.distill_vocoder label --out RUN --corpus CORPUS --bundle models/demo
    # 2. train: random crops of the pool, MR-STFT + mel + waveform L1 against the teacher
    python -m training.distill_vocoder train --out RUN --arch vocos --minutes 60
    # the two run side by side: train picks up new pool shards as label writes them

Why: the teacher is a pure function of the mel, so distillation is data-unlimited; its audio
for a mel is deterministic, so the student can learn the teacher's phase and a waveform L1 is
meaningful, while multi-resolution STFT and log-mel L1 (``MelAnalysis``, the teacher's exact
features) keep the spectrum right. Pool sources (``label``), in a deterministic plan:

- ``corpus``: whole utterances of the corpora's train/valid splits (never the zero-shot voices
  the TTS evaluation holds out), mel as the codec's analysis computes it;
- ``augment``: the same utterances shifted in pitch and formants (``training.augment``) and gain;
- ``smd``: what the vocoder really sees: the bundle's SMD generates tokens for a corpus text
  in a corpus speaker's voice and ``decoder.pte`` renders them to mel (random gain too).

Layout of RUN (outside git; default ``~/.cache/mobilespeech/runs/vocos``): ``pool/shard-*.pt``
(``{"items": [{"id", "source", "split"}], "mel": [[n_mels, F]], "teacher": [[F * hop]]}``),
``state.pt`` (student, optimizer, step, elapsed; re-run the same ``train`` command to resume),
``student.pt`` (``{"vocoder_config", "state_dict", "step"}``: ``hifigan.load_student`` reads it;
``python -m export.vocoder swap`` puts it in a bundle) and ``progress.jsonl`` (train and
held-out losses, steps/s, pool size). ``--device cuda`` trains on a GPU (the pool goes there
once); ``--arch hifigan`` trains the pruned-teacher HiFi-GAN student of the earlier runs.

No discriminator: with a deterministic teacher target the regression losses carry the signal
(measured in benchmarks/results/vocoder.md); an adversarial term is future work for a GPU.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mobilespeech_model.config import CodecConfig, VocoderConfig
from mobilespeech_model.nn.hifigan import HifiGanGenerator, load_teacher, prune_from_teacher
from mobilespeech_model.nn.mel import MelAnalysis
from mobilespeech_model.nn.vocos_vocoder import VocosVocoder

CACHE = Path(os.environ.get("MS_CACHE", Path.home() / ".cache" / "mobilespeech"))
DEFAULT_OUT = CACHE / "runs" / "vocos"
DEFAULT_CORPORA = (CACHE / "corpus" / "debian", CACHE / "corpus" / "mix")
SAMPLE_RATE = 22050
HOP = 256
STFT_RESOLUTIONS = ((512, 128), (1024, 256), (2048, 512))
SHARD_ITEMS = 32  # clips per pool shard: a crash loses at most this much labelling


# ---- students ----------------------------------------------------------------------------------
def vocos_config(args: argparse.Namespace) -> VocoderConfig:
    return VocoderConfig(
        kind="vocos",
        vocos_dim=args.vocos_dim,
        vocos_intermediate=args.vocos_intermediate or 3 * args.vocos_dim,
        vocos_layers=args.vocos_layers,
    )


def student_config(channels: int, kernels: tuple[int, ...]) -> VocoderConfig:
    return VocoderConfig(kind="student", initial_channels=channels, resblock_kernels=kernels)


def build_student(args: argparse.Namespace, calib_mel: Tensor | None = None) -> nn.Module:
    """Step 0: pruned from the teacher and gain-calibrated (hifigan), or fresh (vocos)."""
    if args.arch == "vocos":
        torch.manual_seed(args.seed)
        return VocosVocoder(vocos_config(args))
    teacher = load_teacher()
    student = prune_from_teacher(teacher, student_config(args.channels, args.kernels))
    if calib_mel is not None:
        calibrate_gains(student, teacher, calib_mel)
    return student


def _teacher_name(name: str, s: VocoderConfig, t: VocoderConfig) -> str:
    """The teacher's module name for a pruned student's conv (resblock indices differ when
    the student keeps a subset of kernels or dilations)."""
    parts = name.split(".")
    if parts[0] == "resblocks":
        i, j = divmod(int(parts[1]), len(s.resblock_kernels))
        parts[1] = str(
            i * len(t.resblock_kernels) + t.resblock_kernels.index(s.resblock_kernels[j])
        )
        if parts[2] == "convs1":
            parts[3] = str(t.resblock_dilations.index(s.resblock_dilations[int(parts[3])]))
    return ".".join(parts)


def _convs(m: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(n, c) for n, c in m.named_modules() if isinstance(c, nn.Conv1d | nn.ConvTranspose1d)]


@torch.no_grad()
def calibrate_gains(student: HifiGanGenerator, teacher: HifiGanGenerator, mel: Tensor) -> None:
    """Rescale each pruned conv so its output spread matches the teacher's conv, in order.

    Why: a conv that keeps a quarter of its input channels sums a quarter of the terms, and
    the shrinkage compounds through ~80 convs: the raw 128-channel pruned V1 outputs audio at
    3e-5 of the teacher's level (log-mel L1 6.8 vs the teacher). Matching each conv's output
    standard deviation (bias excluded) to the teacher's, layer by layer on real mels, gives a
    student that already speaks at step 0 (log-mel L1 ~2.6) for ~10 s of compute.
    """
    want: dict[str, float] = {}

    def keep(name: str) -> Any:
        def hook(mod: nn.Module, _i: Any, o: Tensor) -> None:
            want[name] = float((o - mod.bias.view(1, -1, 1)).std())

        return hook

    hooks = [c.register_forward_hook(keep(n)) for n, c in _convs(teacher)]
    teacher(mel)
    for h in hooks:
        h.remove()
    for name, conv in _convs(student):
        got: list[float] = []

        def hook(mod: nn.Module, _i: Any, o: Tensor, got: list[float] = got) -> None:
            got.append(float((o - mod.bias.view(1, -1, 1)).std()))

        h = conv.register_forward_hook(hook)
        student(mel)
        h.remove()
        conv.weight.mul_(want[_teacher_name(name, student.cfg, teacher.cfg)] / max(got[0], 1e-12))


def checkpoint_payload(student: nn.Module, step: int) -> dict[str, Any]:
    """The documented student format (``hifigan.load_student`` reads the hifigan kind)."""
    state = {k: v.detach().clone() for k, v in student.state_dict().items()}
    assert isinstance(student, HifiGanGenerator | VocosVocoder)
    cfg = dataclasses.asdict(student.cfg)
    return {"vocoder_config": cfg, "state_dict": state, "step": step}


# ---- losses --------------------------------------------------------------------------------------
class DistillLoss(nn.Module):
    """Waveform L1 + multi-resolution STFT (spectral convergence + log magnitude) + log-mel L1."""

    def __init__(self, w_wav: float, w_stft: float, w_mel: float) -> None:
        super().__init__()
        self.mel = MelAnalysis(CodecConfig())
        self.w = (w_wav, w_stft, w_mel)
        for n_fft, _ in STFT_RESOLUTIONS:
            self.register_buffer(f"win{n_fft}", torch.hann_window(n_fft), persistent=False)

    def _mag(self, x: Tensor, n_fft: int, hop: int) -> Tensor:
        win = getattr(self, f"win{n_fft}")
        s = torch.stft(x, n_fft, hop, window=win, return_complex=True)
        return s.abs().clamp_min(1e-5)

    def forward(self, y: Tensor, target: Tensor) -> dict[str, Tensor]:
        """y, target [B, S] -> loss parts and their weighted sum ``loss``."""
        wav = F.l1_loss(y, target)
        sc = mag = y.new_zeros(())
        for n_fft, hop in STFT_RESOLUTIONS:
            sy, st = self._mag(y, n_fft, hop), self._mag(target, n_fft, hop)
            sc = sc + torch.linalg.norm(st - sy) / torch.linalg.norm(st).clamp_min(1e-5)
            mag = mag + F.l1_loss(sy.log(), st.log())
        stft = (sc + mag) / len(STFT_RESOLUTIONS)
        mel = F.l1_loss(self.mel(y.unsqueeze(1)), self.mel(target.unsqueeze(1)))
        total = self.w[0] * wav + self.w[1] * stft + self.w[2] * mel
        return {"loss": total, "wav": wav, "stft": stft, "mel": mel}


# ---- the teacher pool ----------------------------------------------------------------------------
def read_audio(path: Path) -> np.ndarray:
    """Mono float32 at the teacher's 22,050 Hz."""
    import soundfile as sf

    a, sr = sf.read(str(path), dtype="float32", always_2d=True)
    a = a.mean(axis=1)
    if sr != SAMPLE_RATE:
        import soxr

        a = soxr.resample(a, sr, SAMPLE_RATE, quality="HQ").astype(np.float32)
    return a


_read = read_audio  # the name benchmarks/vocoder.py imported


@dataclasses.dataclass(frozen=True)
class PoolItem:
    """One clip of the plan: ``source`` corpus | augment | smd, from utterance ``utt``."""

    id: str
    source: str
    split: str
    wav: str  # the corpus utterance (audio for corpus/augment, the prompt voice for smd)
    text: str  # smd: what the SMD says


def plan_pool(
    corpora: list[Path], seed: int, augment_share: float, smd_share: float, valid_per_source: int
) -> list[PoolItem]:
    """The deterministic labelling order: speakers round robin (every voice early), each
    utterance once as ``corpus`` and, by a seeded draw, also as ``augment`` and/or ``smd``.
    A corpus that grows (e.g. Kokoro still being synthesized) only appends new items."""
    from training.corpus import load_any

    items: list[PoolItem] = []
    for root in corpora:
        if not root.is_dir():
            continue
        utts = sorted(
            (u for u in load_any(root) if u.split in ("train", "valid")), key=lambda u: u.utt_id
        )
        texts = [u.text for u in utts]
        by_spk: dict[str, list] = {}
        for u in utts:
            by_spk.setdefault(u.speaker, []).append(u)
        rng = random.Random(f"{seed}-{root.name}")
        for spk in sorted(by_spk):
            rng.shuffle(by_spk[spk])
        order = []
        depth = max((len(v) for v in by_spk.values()), default=0)
        for i in range(depth):
            order += [by_spk[s][i] for s in sorted(by_spk) if i < len(by_spk[s])]
        valid_left = {
            "corpus": valid_per_source,
            "augment": valid_per_source,
            "smd": valid_per_source,
        }
        for u in order:
            draw = random.Random(f"{seed}-{u.utt_id}")
            kinds = ["corpus"]
            if draw.random() < augment_share:
                kinds.append("augment")
            if draw.random() < smd_share:
                kinds.append("smd")
            for k in kinds:
                split = "train"
                if u.split == "valid":
                    if valid_left[k] <= 0:
                        continue
                    valid_left[k] -= 1
                    split = "valid"
                text = texts[draw.randrange(len(texts))] if k == "smd" else ""
                items.append(
                    PoolItem(f"{root.name}/{u.utt_id}/{k}", k, split, str(u.wav_path), text)
                )
    return items


def _gain_db(rng: random.Random) -> float:
    """Random loudness: most clips near the corpus level, some much quieter or louder."""
    return rng.uniform(-18.0, 4.0)


class Labeller:
    """Turns plan items into (mel, teacher audio) pairs."""

    def __init__(self, bundle: Path | None, threads: int, device: str = "cpu") -> None:
        self.analysis = MelAnalysis(CodecConfig())
        self.teacher = load_teacher().eval().to(device)
        self.device = device
        self.bundle = bundle
        self.threads = threads
        self._synth: Any = None

    def _smd_mel(self, item: PoolItem, rng: random.Random) -> Tensor:
        from mobilespeech_model.reference import ReferenceSynthesizer, Timings
        from mobilespeech_runtime.errors import MobileSpeechError

        if self.bundle is None:
            raise MobileSpeechError("smd items need --bundle")
        if self._synth is None:
            self._synth = ReferenceSynthesizer.from_bundle(self.bundle, num_threads=self.threads)
        s = self._synth
        prompt = read_audio(Path(item.wav))
        lo = int(s.config.audio.min_prompt_seconds * SAMPLE_RATE) + HOP
        hi = int(min(s.config.audio.max_prompt_seconds, 6.0) * SAMPLE_RATE)
        if prompt.size > hi:  # a random window of a long utterance
            off = rng.randrange(prompt.size - hi)
            prompt = prompt[off : off + hi]
        if prompt.size < lo:
            raise MobileSpeechError("prompt too short")
        ids = s.encode_text(item.text)[0]
        ptoks, memory = s._prompt(prompt, SAMPLE_RATE)
        steps = s._check_steps(None)
        tokens = s._generate(ids, ptoks, memory, rng.randrange(2**31), steps, 1.0, Timings())
        mel = np.concatenate([m for m, _, _ in s._decode_mels(tokens)], axis=1)
        return torch.from_numpy(np.ascontiguousarray(mel, dtype=np.float32))

    @torch.inference_mode()
    def label(self, item: PoolItem, seed: int) -> tuple[Tensor, Tensor]:
        """(log-mel [n_mels, F], teacher audio [F * hop])."""
        from training import augment

        rng = random.Random(f"{seed}-{item.id}")
        if item.source == "smd":
            mel = self._smd_mel(item, rng) + math.log(10 ** (_gain_db(rng) / 20))
        else:
            wav = read_audio(Path(item.wav))
            if item.source == "augment":
                pitch = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 3.0)
                formant = 2 ** (rng.uniform(-1.5, 1.5) / 12)
                wav = augment.apply(wav, SAMPLE_RATE, augment.Augmentation(pitch, formant, 1.0))
                wav = wav * 10 ** (_gain_db(rng) / 20)
            peak = float(np.abs(wav).max()) if wav.size else 0.0
            if peak > 0.99:
                wav = wav * (0.99 / peak)
            n = wav.size // HOP * HOP
            mel = self.analysis(torch.from_numpy(np.ascontiguousarray(wav[:n])).view(1, 1, -1))[0]
        audio = self.teacher(mel.unsqueeze(0).to(self.device))[0, 0].cpu()
        return mel.contiguous(), audio.contiguous()


def pool_done(pool_dir: Path) -> set[str]:
    done: set[str] = set()
    for shard in sorted(pool_dir.glob("shard-*.pt")):
        done.update(it["id"] for it in torch.load(shard, weights_only=False)["items"])
    return done


def label(args: argparse.Namespace) -> int:
    """Label plan items not yet in the pool, a shard at a time, for ``--minutes``."""
    torch.set_num_threads(args.threads)
    pool_dir = Path(args.out) / "pool"
    pool_dir.mkdir(parents=True, exist_ok=True)
    plan = plan_pool(args.corpus, args.seed, args.augment_share, args.smd_share, args.valid)
    if args.bundle is None:
        plan = [it for it in plan if it.source != "smd"]
    done = pool_done(pool_dir)
    todo = [it for it in plan if it.id not in done]
    log(f"pool plan {len(plan)} clips, {len(done)} labelled, {len(todo)} to go")
    labeller = Labeller(args.bundle, args.threads, args.device)
    t_start = time.time()
    shard: dict[str, list] = {"items": [], "mel": [], "teacher": []}
    n_shard = len(list(pool_dir.glob("shard-*.pt")))
    audio_s = 0.0

    def flush() -> None:
        nonlocal shard, n_shard
        if shard["items"]:
            _atomic_save(shard, pool_dir / f"shard-{n_shard:05d}.pt")
            n_shard += 1
            rate = audio_s / max(1e-9, time.time() - t_start)
            log(f"shard {n_shard}: {len(done)} clips labelled ({rate:.2f} s audio / s)")
        shard = {"items": [], "mel": [], "teacher": []}

    for it in todo:
        if time.time() - t_start > args.minutes * 60:
            break
        try:
            mel, audio = labeller.label(it, args.seed)
        except Exception as e:  # noqa: BLE001 - one bad clip (unreadable, too short) is skipped
            log(f"skipped {it.id}: {e}")
            continue
        if mel.shape[1] < args.min_frames:
            continue
        shard["items"].append(dataclasses.asdict(it))
        shard["mel"].append(mel.half() if args.half else mel)
        shard["teacher"].append(audio)
        done.add(it.id)
        audio_s += audio.numel() / SAMPLE_RATE
        if len(shard["items"]) >= SHARD_ITEMS:
            flush()
    flush()
    return 0


class Pool:
    """The labelled clips in memory (train / valid), reloaded as label adds shards."""

    def __init__(self, pool_dir: Path) -> None:
        self.dir = pool_dir
        self.seen: set[str] = set()
        self.train: list[tuple[Tensor, Tensor]] = []
        self.valid: list[tuple[Tensor, Tensor]] = []
        self.sources: dict[str, int] = {}

    def refresh(self) -> int:
        new = 0
        for shard in sorted(self.dir.glob("shard-*.pt")):
            if shard.name in self.seen:
                continue
            data = torch.load(shard, weights_only=False)
            for it, mel, wav in zip(data["items"], data["mel"], data["teacher"], strict=True):
                pair = (mel.float(), wav.float())
                (self.valid if it["split"] == "valid" else self.train).append(pair)
                self.sources[it["source"]] = self.sources.get(it["source"], 0) + 1
                new += 1
            self.seen.add(shard.name)
        return new

    @property
    def train_seconds(self) -> float:
        return sum(w.numel() for _, w in self.train) / SAMPLE_RATE


def crop_batch(
    clips: list[tuple[Tensor, Tensor]], batch: int, frames: int, context: int, g: torch.Generator
) -> tuple[Tensor, Tensor]:
    """``batch`` random crops: mel [B, n_mels, frames + 2 context] (zero log-mel floor past the
    clip's ends, as a decode window pads) and the teacher audio of the middle [B, frames * hop].
    Clips are drawn in proportion to their length."""
    lengths = torch.tensor([m.shape[1] for m, _ in clips], dtype=torch.float64)
    pick = torch.multinomial(lengths, batch, replacement=True, generator=g)
    floor = math.log(CodecConfig().mel_floor)
    mels, wavs = [], []
    for i in pick.tolist():
        mel, wav = clips[i]
        f = mel.shape[1]
        off = int(torch.randint(0, max(1, f - frames + 1), (1,), generator=g))
        lo, hi = off - context, off + frames + context
        m = torch.full((mel.shape[0], hi - lo), floor)
        a, b = max(lo, 0), min(hi, f)
        m[:, a - lo : b - lo] = mel[:, a:b]
        w = torch.zeros(frames * HOP)
        seg = wav[off * HOP : (off + frames) * HOP]
        w[: seg.numel()] = seg
        mels.append(m)
        wavs.append(w)
    return torch.stack(mels), torch.stack(wavs)


def valid_batches(clips: list[tuple[Tensor, Tensor]], frames: int, context: int) -> list:
    """Fixed held-out crops: the start of every held-out clip (deterministic)."""
    g = torch.Generator().manual_seed(1234)
    return [crop_batch([c], 1, frames, context, g) for c in clips]


# ---- training ------------------------------------------------------------------------------------
def log(msg: str) -> None:
    print(f"[distill {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _atomic_save(obj: Any, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


@torch.no_grad()
def evaluate(
    student: nn.Module, loss: DistillLoss, batches: list, context: int, device: str
) -> dict:
    student.eval()
    parts: dict[str, float] = {}
    for mel, target in batches:
        y = _trim(student(mel.to(device))[:, 0], context)
        for k, v in loss(y, target.to(device)).items():
            parts[k] = parts.get(k, 0.0) + float(v)
    student.train()
    return {k: v / max(1, len(batches)) for k, v in parts.items()}


def _trim(y: Tensor, context: int) -> Tensor:
    return y[:, context * HOP : y.shape[1] - context * HOP] if context else y


def train(args: argparse.Namespace) -> dict[str, Any]:
    """Run one budgeted invocation; returns the last progress record."""
    torch.set_num_threads(args.threads)
    device = args.device
    out = Path(args.out)
    pool = Pool(out / "pool")
    pool.refresh()
    if not pool.train or not pool.valid:
        raise SystemExit(f"{out / 'pool'} has no train or no held-out clips yet: run `label` first")
    valid = valid_batches(pool.valid, args.segment_frames, args.context)
    state_path = out / "state.pt"
    fresh = not state_path.is_file()
    calib = None
    if fresh and args.arch == "hifigan" and args.calib:
        calib = torch.stack(
            [
                crop_batch(pool.train, 1, args.segment_frames, 0, torch.Generator().manual_seed(i))[
                    0
                ][0]
                for i in range(args.calib)
            ]
        )
    student = build_student(args, calib).to(device)
    student.train()
    opt = torch.optim.AdamW(student.parameters(), lr=args.lr, betas=(0.8, 0.99), weight_decay=0.0)
    step, elapsed = 0, 0.0
    if not fresh:
        st = torch.load(state_path, weights_only=False, map_location=device)
        if st["arch"] != args.arch:
            raise SystemExit(f"{out} holds a {st['arch']} run; use another --out")
        student.load_state_dict(st["student"])
        opt.load_state_dict(st["optim"])
        step, elapsed = int(st["step"]), float(st["elapsed"])
        log(f"resumed at step {step} ({elapsed / 60:.1f} min trained)")
    loss_fn = DistillLoss(args.w_wav, args.w_stft, args.w_mel).to(device)
    progress = out / "progress.jsonl"
    log(
        f"pool: {len(pool.train)} train clips ({pool.train_seconds / 60:.1f} min), "
        f"{len(pool.valid)} held out, sources {pool.sources}"
    )
    if step == 0:
        rec = {
            "step": 0,
            "elapsed_s": 0.0,
            "valid": evaluate(student, loss_fn, valid, args.context, device),
        }
        with progress.open("a") as f:
            f.write(json.dumps(rec) + "\n")
        log(f"step 0 valid {rec['valid']}")

    def save() -> None:
        _atomic_save(
            {
                "arch": args.arch,
                "student": student.state_dict(),
                "optim": opt.state_dict(),
                "step": step,
                "elapsed": elapsed,
                "args": {k: str(v) for k, v in vars(args).items()},
            },
            state_path,
        )
        _atomic_save(checkpoint_payload(student, step), out / "student.pt")

    t_start = time.time()
    t_last_save = t_last_reload = t_last_log = t_start
    budget = args.minutes * 60.0
    acc: dict[str, float] = {}
    n_acc = 0
    last: dict[str, Any] = {"step": step}
    while step < args.steps and time.time() - t_start < budget:
        t0 = time.time()
        g = torch.Generator().manual_seed(args.seed * 1_000_003 + step)
        mel, target = crop_batch(pool.train, args.batch, args.segment_frames, args.context, g)
        mel, target = mel.to(device), target.to(device)
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * args.lr_decay ** (step / 1000)
        for group in opt.param_groups:
            group["lr"] = lr
        parts = loss_fn(_trim(student(mel)[:, 0], args.context), target)
        opt.zero_grad(set_to_none=True)
        parts["loss"].backward()
        gn = torch.nn.utils.clip_grad_norm_(student.parameters(), args.clip)
        if torch.isfinite(gn):
            opt.step()
        step += 1
        elapsed += time.time() - t0
        for k, v in parts.items():
            acc[k] = acc.get(k, 0.0) + float(v.detach())
        n_acc += 1
        if step % args.log_every == 0 or step == args.steps:
            now = time.time()
            rec = {
                "step": step,
                "elapsed_s": round(elapsed, 1),
                "lr": lr,
                "steps_per_s": round(n_acc / max(1e-9, now - t_last_log), 3),
                "pool_clips": len(pool.train),
                "pool_minutes": round(pool.train_seconds / 60, 1),
            }
            t_last_log = now
            rec["train"] = {k: v / n_acc for k, v in acc.items()}
            acc, n_acc = {}, 0
            if step % args.eval_every == 0:
                rec["valid"] = evaluate(student, loss_fn, valid, args.context, device)
            with progress.open("a") as f:
                f.write(json.dumps(rec) + "\n")
            log(
                f"step {step} {elapsed / 60:.1f} min train {rec['train']['loss']:.4f}"
                + (f" valid {rec['valid']}" if "valid" in rec else "")
            )
            last = rec
        if time.time() - t_last_save > args.save_minutes * 60:
            save()
            t_last_save = time.time()
        if time.time() - t_last_reload > args.reload_minutes * 60:
            t_last_reload = time.time()
            if pool.refresh():
                log(f"pool grew: {len(pool.train)} train clips ({pool.train_seconds / 60:.1f} min)")
    save()
    log(f"saved {out / 'student.pt'} at step {step} ({elapsed / 60:.1f} min trained)")
    return last


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m training.distill_vocoder",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    lab = sub.add_parser("label", help="teacher-label pool clips (resumable; grows the pool)")
    trn = sub.add_parser("train", help="train the student on the pool (resumable)")
    for p in (lab, trn):
        p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="run folder (outside git)")
        p.add_argument("--threads", type=int, default=1)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--minutes", type=float, default=30.0, help="budget of this invocation")
        p.add_argument("--device", default="cpu", help="cpu or cuda (the teacher / the student)")
    lab.add_argument(
        "--corpus",
        type=Path,
        action="append",
        default=None,
        help="corpus folder(s) for training.corpus.load_any (repeatable)",
    )
    lab.add_argument(
        "--bundle",
        type=Path,
        default=None,
        help="bundle whose SMD + decoder render the 'smd' clips (none: no smd clips)",
    )
    lab.add_argument("--augment-share", type=float, default=0.35)
    lab.add_argument("--smd-share", type=float, default=0.35)
    lab.add_argument("--valid", type=int, default=12, help="held-out clips per source and corpus")
    lab.add_argument("--min-frames", type=int, default=16)
    lab.add_argument("--half", action="store_true", help="store mels as float16 (smaller pool)")

    trn.add_argument("--arch", choices=["hifigan", "vocos"], default="vocos")
    trn.add_argument("--channels", type=int, default=128, help="hifigan: initial channels")
    trn.add_argument(
        "--kernels",
        type=lambda s: tuple(int(x) for x in s.split(",")),
        default=(3, 7, 11),
        help="hifigan: resblock kernels (subset of 3,7,11)",
    )
    trn.add_argument("--calib", type=int, default=4, help="hifigan: step-0 gain calibration clips")
    trn.add_argument("--vocos-dim", type=int, default=256)
    trn.add_argument("--vocos-intermediate", type=int, default=0, help="0: 3 x dim")
    trn.add_argument("--vocos-layers", type=int, default=8)
    trn.add_argument("--segment-frames", type=int, default=48, help="mel frames per crop")
    trn.add_argument("--context", type=int, default=8, help="extra mel frames each side, no loss")
    trn.add_argument("--batch", type=int, default=16)
    trn.add_argument("--lr", type=float, default=5e-4)
    trn.add_argument("--lr-decay", type=float, default=0.97, help="per 1000 steps")
    trn.add_argument("--warmup", type=int, default=200)
    trn.add_argument("--clip", type=float, default=10.0)
    trn.add_argument("--w-wav", type=float, default=10.0)
    trn.add_argument("--w-stft", type=float, default=1.0)
    trn.add_argument("--w-mel", type=float, default=1.0)
    trn.add_argument("--steps", type=int, default=10_000_000, help="total steps")
    trn.add_argument("--log-every", type=int, default=50)
    trn.add_argument("--eval-every", type=int, default=250)
    trn.add_argument("--save-minutes", type=float, default=3.0)
    trn.add_argument("--reload-minutes", type=float, default=5.0, help="look for new pool shards")
    return ap


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    args = build_parser().parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device here")
    if args.cmd == "label":
        args.corpus = args.corpus or [c for c in DEFAULT_CORPORA if c.is_dir()]
        return label(args)
    if args.eval_every % args.log_every:
        raise SystemExit("--eval-every must be a multiple of --log-every")
    last = train(args)
    print(json.dumps(last))
    return 0 if math.isfinite(float(last.get("train", {}).get("loss", 0.0))) else 1


if __name__ == "__main__":
    sys.exit(main())
