"""Distil a fast student vocoder from the universal HiFi-GAN teacher, on a CPU, resumably.

python -m training.distill_vocoder --out /root/.cache/mobilespeech/runs/student --minutes 30

Why this recipe (facts in docs/offline.md and issue 10): a V2-size HiFi-GAN trained from
scratch for 20 minutes here lost most words, so the student starts from the teacher
(``prune_from_teacher``: the teacher's strongest channels) and is fine-tuned against the
teacher's own waveform for the same mel. That target is deterministic, so phase is learnable
and a waveform L1 is meaningful; multi-resolution STFT and log-mel L1 (``MelAnalysis``, the
teacher's exact features) keep the spectrum right. No discriminator: on two shared cores it
would roughly triple the step cost, and with a deterministic teacher target the regression
losses already carry the phase; a GAN is the thing to add on a GPU.

The teacher is slow (RTF ~0.7 on one thread), so its audio is computed once for a fixed pool
of mel segments and cached in ``OUT/pool.pt`` (built in resumable chunks). Everything is
resumable: re-run the same command and it continues from ``OUT/state.pt``; ``--minutes`` is
the budget of one invocation, ``--steps`` the total. Outputs in ``OUT``:

- ``student.pt``: ``{"vocoder_config": dataclasses.asdict(VocoderConfig), "state_dict": ...,
  "step": int}`` -- ``hifigan.load_student(path)`` reads it; ``python -m export`` takes it;
- ``state.pt`` (optimizer, step, elapsed), ``progress.jsonl`` (losses, held-out losses).

``--arch vocos`` trains the Vocos-style student instead (ConvNeXt at the mel frame rate +
inverse STFT head, reusing ``ConvNeXtBlock``/``ISTFTHead``); it is from scratch (nothing to
prune), is not a ``VocoderConfig`` kind yet, and its checkpoint holds ``vocos_config``.
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

from mobilespeech_runtime.config import CodecConfig, VocoderConfig
from mobilespeech_runtime.model.codec import ConvNeXtBlock, ISTFTHead
from mobilespeech_runtime.model.hifigan import HifiGanGenerator, load_teacher, prune_from_teacher
from mobilespeech_runtime.model.layers import LayerNorm
from mobilespeech_runtime.model.mel import MelAnalysis

DEFAULT_OUT = Path("/root/.cache/mobilespeech/runs/student")
DEFAULT_CORPORA = (
    Path("/root/.cache/mobilespeech/corpus/debian"),
    Path("/root/.cache/mobilespeech/corpus/mix"),
)
SAMPLE_RATE = 22050
HOP = 256
STFT_RESOLUTIONS = ((512, 128), (1024, 256), (2048, 512))


# ---- students ----------------------------------------------------------------------------------
@dataclasses.dataclass
class VocosConfig:
    """A Vocos-style vocoder at the mel frame rate: n_fft = hop * overlap."""

    dim: int = 256
    intermediate: int = 768
    layers: int = 8
    kernel: int = 7
    hop: int = HOP
    overlap: int = 4


class VocosVocoder(nn.Module):
    """log-mel [B, n_mels, F] -> waveform [B, 1, F * hop]: ConvNeXt blocks + inverse STFT.

    All work is at the 86 Hz frame rate (no upsampling convs), which is why it is cheap; the
    blocks and head are the codec's own (``codec.py``) so export behaviour is already known.
    """

    def __init__(self, cfg: VocosConfig, n_mels: int = 80) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Conv1d(n_mels, cfg.dim, cfg.kernel, padding=cfg.kernel // 2)
        self.norm = LayerNorm(cfg.dim)
        self.blocks = nn.ModuleList(
            ConvNeXtBlock(cfg.dim, cfg.intermediate, cfg.kernel) for _ in range(cfg.layers)
        )
        self.final_norm = LayerNorm(cfg.dim)
        self.head = ISTFTHead(cfg.dim, cfg.hop, cfg.overlap)

    def forward(self, mel: Tensor) -> Tensor:
        x = self.norm(self.embed(mel).transpose(1, 2))
        for blk in self.blocks:
            x = blk(x)
        return torch.clamp(self.head(self.final_norm(x)), -1.0, 1.0)


def student_config(channels: int, kernels: tuple[int, ...]) -> VocoderConfig:
    return VocoderConfig(kind="student", initial_channels=channels, resblock_kernels=kernels)


def build_student(args: argparse.Namespace, calib_mel: Tensor | None = None) -> nn.Module:
    """Step 0: pruned from the teacher and gain-calibrated (hifigan), or fresh (vocos)."""
    if args.arch == "vocos":
        torch.manual_seed(args.seed)
        return VocosVocoder(VocosConfig(dim=args.vocos_dim, layers=args.vocos_layers))
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
    if isinstance(student, VocosVocoder):
        return {"vocos_config": dataclasses.asdict(student.cfg), "state_dict": state, "step": step}
    assert isinstance(student, HifiGanGenerator)
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
def _read(path: Path) -> np.ndarray:
    import soundfile as sf

    a, sr = sf.read(str(path), dtype="float32", always_2d=True)
    a = a.mean(axis=1)
    if sr != SAMPLE_RATE:
        import soxr

        a = soxr.resample(a, sr, SAMPLE_RATE, quality="HQ").astype(np.float32)
    return a


def pick_segments(
    corpora: list[Path], splits: tuple[str, ...], n: int, seed: int
) -> list[tuple[Path, str]]:
    """``n`` utterances spread over corpora and speakers (round robin), deterministic."""
    from training.corpus import load_any

    rng = random.Random(seed)
    per_corpus = []
    for root in corpora:
        if not root.is_dir():
            continue
        utts = [u for u in load_any(root) if u.split in splits]
        by_spk: dict[str, list] = {}
        for u in utts:
            by_spk.setdefault(u.speaker, []).append(u)
        order = []
        for spk in sorted(by_spk):
            rng.shuffle(by_spk[spk])
        while any(by_spk.values()):
            for spk in sorted(by_spk):
                if by_spk[spk]:
                    order.append(by_spk[spk].pop())
        per_corpus.append(order)
    out: list[tuple[Path, str]] = []
    i = 0
    while len(out) < n and any(i < len(c) for c in per_corpus):
        for c in per_corpus:
            if i < len(c) and len(out) < n:
                out.append((c[i].wav_path, c[i].utt_id))
        i += 1
    return out


@torch.no_grad()
def segment(wav: np.ndarray, analysis: MelAnalysis, frames: int, rng: random.Random) -> Any:
    """A voiced window of ``frames`` mel frames (mel computed with real context) + its audio."""
    s = len(wav) // HOP * HOP
    if s < frames * HOP:
        wav = np.pad(wav, (0, frames * HOP - s))
        s = frames * HOP
    x = torch.from_numpy(wav[:s]).view(1, 1, -1)
    mel = analysis(x)[0]  # [80, F]
    energy = mel.exp().sum(0)
    f = mel.shape[1]
    starts = list(range(0, f - frames + 1))
    scores = torch.stack([energy[i : i + frames].mean() for i in starts])
    good = [i for i, sc in zip(starts, scores.tolist(), strict=True) if sc >= scores.median()]
    off = rng.choice(good)
    return mel[:, off : off + frames].clone(), x[0, 0, off * HOP : (off + frames) * HOP].clone()


def build_pool(
    path: Path, corpora: list[Path], n_train: int, n_valid: int, frames: int, seed: int
) -> dict[str, Any]:
    """Mel segments, their original audio and the teacher's audio; resumable in chunks."""
    if path.is_file():
        pool = torch.load(path, weights_only=False)
        if pool["done"] == len(pool["items"]):
            return pool
    else:
        train = pick_segments(corpora, ("train",), n_train, seed)
        valid = pick_segments(corpora, ("valid", "zeroshot"), n_valid, seed + 1)
        items = [(str(p), u, "train") for p, u in train] + [(str(p), u, "valid") for p, u in valid]
        pool = {"items": items, "frames": frames, "done": 0, "mel": [], "wav": [], "teacher": []}
    analysis = MelAnalysis(CodecConfig())
    teacher = load_teacher()
    t0 = time.time()
    while pool["done"] < len(pool["items"]):
        p, _utt, _split = pool["items"][pool["done"]]
        rng = random.Random(f"{seed}-{pool['done']}")  # per item: resuming changes nothing
        mel, wav = segment(_read(Path(p)), analysis, frames, rng)
        with torch.no_grad():
            tw = teacher(mel.unsqueeze(0))[0, 0]
        pool["mel"].append(mel)
        pool["wav"].append(wav)
        pool["teacher"].append(tw)
        pool["done"] += 1
        if pool["done"] % 32 == 0 or pool["done"] == len(pool["items"]):
            _atomic_save(pool, path)
            rate = (time.time() - t0) / max(1, pool["done"])
            log(f"teacher pool {pool['done']}/{len(pool['items'])} ({rate:.2f} s/segment)")
    return pool


def pool_tensors(pool: dict[str, Any], split: str) -> tuple[Tensor, Tensor, Tensor]:
    idx = [i for i, it in enumerate(pool["items"]) if it[2] == split]
    return (
        torch.stack([pool["mel"][i] for i in idx]),
        torch.stack([pool["teacher"][i] for i in idx]),
        torch.stack([pool["wav"][i] for i in idx]),
    )


# ---- training ------------------------------------------------------------------------------------
def log(msg: str) -> None:
    print(f"[distill {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _atomic_save(obj: Any, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


@torch.no_grad()
def evaluate(student: nn.Module, loss: DistillLoss, mel: Tensor, target: Tensor) -> dict:
    student.eval()
    parts: dict[str, float] = {}
    for i in range(0, mel.shape[0], 8):
        y = student(mel[i : i + 8])[:, 0]
        for k, v in loss(y, target[i : i + 8]).items():
            parts[k] = parts.get(k, 0.0) + float(v) * y.shape[0]
    student.train()
    return {k: v / mel.shape[0] for k, v in parts.items()}


def train(args: argparse.Namespace) -> dict[str, Any]:
    """Run one budgeted invocation; returns the last progress record."""
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pool = build_pool(
        out / "pool.pt", args.corpus, args.pool, args.valid, args.segment_frames, args.seed
    )
    mel_tr, tgt_tr, _ = pool_tensors(pool, "train")
    mel_va, tgt_va, _ = pool_tensors(pool, "valid")
    state_path = out / "state.pt"
    fresh = not state_path.is_file()
    student = build_student(args, mel_tr[: args.calib] if fresh and args.calib else None)
    student.train()
    opt = torch.optim.AdamW(student.parameters(), lr=args.lr, betas=(0.8, 0.99), weight_decay=0.0)
    step, elapsed = 0, 0.0
    if not fresh:
        st = torch.load(state_path, weights_only=False)
        if st["arch"] != args.arch:
            raise SystemExit(f"{out} holds a {st['arch']} run; use another --out")
        student.load_state_dict(st["student"])
        opt.load_state_dict(st["optim"])
        step, elapsed = int(st["step"]), float(st["elapsed"])
        log(f"resumed at step {step} ({elapsed / 60:.1f} min trained)")
    loss_fn = DistillLoss(args.w_wav, args.w_stft, args.w_mel)
    progress = out / "progress.jsonl"
    if step == 0:
        rec = {"step": 0, "elapsed_s": 0.0, "valid": evaluate(student, loss_fn, mel_va, tgt_va)}
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
    t_last_save = t_start
    budget = args.minutes * 60.0
    acc: dict[str, float] = {}
    n_acc = 0
    last: dict[str, Any] = {"step": step}
    while step < args.steps and time.time() - t_start < budget:
        t0 = time.time()
        g = torch.Generator().manual_seed(args.seed * 1_000_003 + step)
        idx = torch.randint(0, mel_tr.shape[0], (args.batch,), generator=g)
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * args.lr_decay ** (step / 1000)
        for group in opt.param_groups:
            group["lr"] = lr
        parts = loss_fn(student(mel_tr[idx])[:, 0], tgt_tr[idx])
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
            rec = {"step": step, "elapsed_s": round(elapsed, 1), "lr": lr}
            rec["train"] = {k: v / n_acc for k, v in acc.items()}
            acc, n_acc = {}, 0
            if step % args.eval_every == 0:
                rec["valid"] = evaluate(student, loss_fn, mel_va, tgt_va)
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
    save()
    log(f"saved {out / 'student.pt'} at step {step} ({elapsed / 60:.1f} min trained)")
    return last


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m training.distill_vocoder",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="run folder (outside git)")
    ap.add_argument(
        "--corpus",
        type=Path,
        action="append",
        default=None,
        help="corpus folder(s) for training.corpus.load_any (repeatable)",
    )
    ap.add_argument("--arch", choices=["hifigan", "vocos"], default="hifigan")
    ap.add_argument("--channels", type=int, default=128, help="student initial channels")
    ap.add_argument(
        "--kernels",
        type=lambda s: tuple(int(x) for x in s.split(",")),
        default=(3, 7, 11),
        help="student resblock kernels (subset of 3,7,11)",
    )
    ap.add_argument("--vocos-dim", type=int, default=256)
    ap.add_argument("--vocos-layers", type=int, default=8)
    ap.add_argument(
        "--calib",
        type=int,
        default=4,
        help="segments for the step-0 gain calibration (0: raw pruning)",
    )
    ap.add_argument("--pool", type=int, default=448, help="training segments (teacher audio)")
    ap.add_argument("--valid", type=int, default=32, help="held-out segments")
    ap.add_argument("--segment-frames", type=int, default=32, help="mel frames per segment")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--lr-decay", type=float, default=0.95, help="per 1000 steps")
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--clip", type=float, default=10.0)
    ap.add_argument("--w-wav", type=float, default=10.0)
    ap.add_argument("--w-stft", type=float, default=1.0)
    ap.add_argument("--w-mel", type=float, default=1.0)
    ap.add_argument("--minutes", type=float, default=30.0, help="budget of this invocation")
    ap.add_argument("--steps", type=int, default=1_000_000, help="total steps")
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--save-minutes", type=float, default=3.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    return ap


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    args = build_parser().parse_args(argv)
    args.corpus = args.corpus or [c for c in DEFAULT_CORPORA if c.is_dir()]
    if args.eval_every % args.log_every:
        raise SystemExit("--eval-every must be a multiple of --log-every")
    last = train(args)
    print(json.dumps(last))
    return 0 if math.isfinite(float(last.get("train", {}).get("loss", 0.0))) else 1


if __name__ == "__main__":
    sys.exit(main())
