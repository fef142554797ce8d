"""Train the demo codec: EnCodec's SEANet encoder + RVQ with a Vocos-style decoder.

Losses: multi-resolution mel/log-STFT L1 + waveform L1 + RVQ commitment (the RVQ codebooks
themselves follow EnCodec's EMA updates). Adversarial losses are left out so it trains on a
CPU in well under an hour; add them for a production codec on GPUs.

    python -m training.train_codec --corpus data/synth --out runs/codec --preset small --minutes 30
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from mobilespeech_model.audio import read_audio, resample, to_mono, write_wav
from mobilespeech_model.config import MobileSpeechConfig, preset
from mobilespeech_model.nn.codec import Codec, make_codec
from mobilespeech_model.nn.mel_codec import MelCodec

from .common import load_state, save_state, setup
from .corpus import load_any
from .features import multiscale_spectral_loss

CODEC_CHECKPOINT = "codec.pt"


def load_waves(
    root: Path, split: str, sample_rate: int, limit: int | None = None
) -> list[np.ndarray]:
    """All utterances of a split as mono float32 arrays at the codec rate."""
    utts = [u for u in load_any(root) if u.split == split][:limit]
    waves = []
    for u in tqdm(utts, desc=f"load {split}", leave=False):
        data, sr = read_audio(u.wav_path)
        waves.append(resample(to_mono(data), sr, sample_rate))
    return waves


def random_crops(
    waves: list[np.ndarray], batch: int, length: int, rng: np.random.Generator
) -> torch.Tensor:
    out = np.zeros((batch, 1, length), dtype=np.float32)
    for i in range(batch):
        w = waves[rng.integers(len(waves))]
        if w.size <= length:
            out[i, 0, : w.size] = w
        else:
            s = rng.integers(0, w.size - length)
            out[i, 0] = w[s : s + length]
    return torch.from_numpy(out)


def mel_codec_loss(
    codec: MelCodec, wav: torch.Tensor, commit_weight: float, decoder_only: bool = False
) -> dict[str, torch.Tensor]:
    """Mel codec: L1 + L2 on the normalised log-mel the vocoder reads, + RVQ commitment."""
    with torch.no_grad():
        target = codec.normalize(codec.mel(wav))
    if decoder_only:
        with torch.no_grad():
            q = codec.tokens_to_latent(codec.encode(wav))
        commit = q.new_zeros(())
    else:
        q, _, commit = codec.quantize(codec.encoder(target))
    pred = codec.decoder(q)
    l1 = F.l1_loss(pred, target)
    l2 = F.mse_loss(pred, target)
    return {
        "loss": l1 + l2 + commit_weight * commit,
        "l1": l1.detach(),
        "l2": l2.detach(),
        "commit": commit.detach(),
    }


def codec_loss(
    codec: Codec, wav: torch.Tensor, commit_weight: float, decoder_only: bool = False
) -> dict[str, torch.Tensor]:
    if isinstance(codec, MelCodec):
        return mel_codec_loss(codec, wav, commit_weight, decoder_only)
    if decoder_only:
        # encoder and codebooks frozen: the tokens a TTS model was trained on stay valid
        with torch.no_grad():
            q = codec.tokens_to_latent(codec.encode(wav))
        commit = q.new_zeros(())
    else:
        q, _, commit = codec.quantize(codec.latent(wav))
    out = codec.decode_latent(q)[..., : wav.shape[-1]]
    spec = multiscale_spectral_loss(out.squeeze(1), wav.squeeze(1), codec.cfg.sample_rate)
    wave = F.l1_loss(out, wav)
    return {
        "loss": spec + 0.1 * wave + commit_weight * commit,
        "spec": spec.detach(),
        "wave": wave.detach(),
        "commit": commit.detach(),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--corpus", type=Path, required=True, action="append", help="repeat to mix corpora"
    )
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--preset", default="small")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--segment", type=float, default=1.0, help="seconds per training crop")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--steps", type=int, default=100000)
    ap.add_argument(
        "--minutes", type=float, default=0.0, help="stop after this wall time (0 = off)"
    )
    ap.add_argument("--commit-weight", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--decoder-only",
        action="store_true",
        help="keep training only the decoder (start from --init): tokens stay fixed",
    )
    ap.add_argument("--init", type=Path, help="start from this codec checkpoint's weights")
    args = ap.parse_args(argv)

    rt = setup(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    ckpt_path = args.out / CODEC_CHECKPOINT
    state = load_state(ckpt_path)
    cfg = MobileSpeechConfig.from_dict(state["config"]) if state else preset(args.preset)
    if state is None and args.init:
        init = load_state(args.init)
        if init is None:
            raise SystemExit(f"--init checkpoint not found: {args.init}")
        cfg = MobileSpeechConfig.from_dict(init["config"])
    codec = make_codec(cfg.codec).to(rt.device)
    if state is None and args.init:
        codec.load_state_dict(init["codec"])
    parts = codec if isinstance(codec, MelCodec) else codec.model
    params = parts.decoder.parameters() if args.decoder_only else codec.parameters()
    opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.8, 0.99))
    step = 0
    if state:
        codec.load_state_dict(state["codec"])
        opt.load_state_dict(state["opt"])
        step = state["step"]
        print(f"resumed from {ckpt_path} at step {step}")
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 500) * max(0.1, 1.0 - s / max(args.steps, 1))
    )
    for _ in range(step):
        sched.step()

    sr = cfg.codec.sample_rate
    hop = cfg.codec.hop_length
    length = int(args.segment * sr) // hop * hop
    waves = [w for root in args.corpus for w in load_waves(root, "train", sr)]
    print(
        f"codec: {sum(p.numel() for p in codec.parameters()):,} parameters; "
        f"{len(waves)} utterances, {sum(w.size for w in waves) / sr / 3600:.2f} h"
    )
    t0 = time.time()
    bar = tqdm(total=args.steps, initial=step, desc="codec", dynamic_ncols=True)
    codec.train()
    if args.decoder_only:
        parts.encoder.eval()
        parts.quantizer.eval()  # no EMA codebook updates
        for p in list(parts.encoder.parameters()) + list(parts.quantizer.parameters()):
            p.requires_grad_(False)
    history = []
    while step < args.steps:
        wav = random_crops(waves, args.batch, length, rng).to(rt.device)
        out = codec_loss(codec, wav, args.commit_weight, args.decoder_only)
        opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        torch.nn.utils.clip_grad_norm_(codec.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
        bar.update(1)
        if step % 10 == 0:
            vals = {k: round(float(v), 4) for k, v in out.items()}
            bar.set_postfix(vals)
            history.append({"step": step, **vals})
        done = args.minutes and (time.time() - t0) > args.minutes * 60
        if step % 500 == 0 or done or step >= args.steps:
            save_state(
                ckpt_path,
                {
                    "config": cfg.to_dict(),
                    "codec": codec.state_dict(),
                    "opt": opt.state_dict(),
                    "step": step,
                },
            )
        if done:
            break
    bar.close()
    save_state(
        ckpt_path,
        {
            "config": cfg.to_dict(),
            "codec": codec.state_dict(),
            "opt": opt.state_dict(),
            "step": step,
        },
    )
    (args.out / "codec_history.json").write_text(json.dumps(history))

    codec.eval()
    valid = load_waves(args.corpus[0], "valid", sr, limit=4)
    with torch.no_grad():
        for i, w in enumerate(valid):
            x = torch.from_numpy(w[: w.size // hop * hop]).view(1, 1, -1).to(rt.device)
            y = codec.decode(codec.encode(x)).squeeze().cpu().numpy()
            write_wav(args.out / f"resynth_{i}.wav", y, sr)
            write_wav(args.out / f"orig_{i}.wav", w, sr)
    print(f"codec training stopped at step {step} after {(time.time() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()
