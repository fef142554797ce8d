"""Fine-tune the mel codec's decoder on the tokens the SMD actually generates.

Why: the SMD's tokens are not the codec's. Teacher-forced on voices it never saw, the demo
SMD gets about a quarter of the first layer's tokens and a few percent of the upper layers'
right, while the decoder was only ever trained on the encoder's exact tokens. Like a vocoder
fine-tuned on a TTS model's predicted features (Tacotron 2, FastSpeech), the decoder here
learns to map *generated* tokens to the ground-truth mel. The SMD generates with the
aligner's durations (so its frames line up with the recording) and a prompt from another
utterance of the same speaker, with the shipped schedule, as at inference. Encoder and
codebooks stay frozen, so the tokens of prompts and of the SMD's training data keep their
meaning; a share of batches keeps the exact tokens so resynthesis does not regress.

    python -m training.finetune_decoder generate --model runs/tts/model_final.pt \\
        --prepared runs/tts/prepared.pt --out runs/decft --utterances 3000
    python -m training.finetune_decoder train --model runs/tts/model_final.pt \\
        --prepared runs/tts/prepared.pt --corpus DIR --corpus DIR2 --out runs/decft --minutes 30
    python -m training.finetune_decoder apply --model runs/tts/model_final.pt --out runs/decft \\
        --to runs/tts/model_decft.pt

Both steps resume: ``generate`` appends to ``generated.pt`` (saved every 100 utterances),
``train`` continues from ``decoder.pt``.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from mobilespeech_model.audio import read_audio, resample, to_mono
from mobilespeech_model.nn.mel_codec import MelCodec
from mobilespeech_model.nn.mobilespeech import MobileSpeech
from mobilespeech_model.reference import unmask
from mobilespeech_runtime.errors import MobileSpeechError

from .common import load_state, save_state
from .corpus import load_any

GENERATED = "generated.pt"
DECODER = "decoder.pt"


def _model(path: Path) -> MobileSpeech:
    model, _ = MobileSpeech.load(path)
    return model.eval()


@torch.no_grad()
def generate_tokens(
    model: MobileSpeech,
    phonemes: torch.Tensor,
    durations: torch.Tensor,
    prompt: torch.Tensor,
    seed: int,
) -> torch.Tensor:
    """SMD tokens [N, T] for one utterance with given durations (the inference schedule)."""
    text = model.text_encoder(phonemes.view(1, -1))
    memory = model.prompt_encoder(prompt)
    index = torch.repeat_interleave(torch.arange(durations.numel()), durations).view(1, -1)
    cfg = model.cfg
    tokens, _ = unmask(model.smd_step, text, index, memory, cfg, tuple(cfg.schedule.steps), seed)
    return tokens[0]


def generate(model_path: Path, prepared: Path, out: Path, utterances: int, seed: int) -> None:
    model = _model(model_path)
    data = load_state(prepared)
    if data is None:
        raise MobileSpeechError(f"prepared corpus not found: {prepared}")
    by_spk: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for it in data["items"]:
        if it["split"] == "train" and "durations" in it:
            by_spk[it["speaker"]].append(it)
    pool = [it for us in by_spk.values() if len(us) > 1 for it in us]
    random.Random(seed).shuffle(pool)
    pool = pool[:utterances]
    out.mkdir(parents=True, exist_ok=True)
    state = load_state(out / GENERATED) or {"model": str(model_path), "items": []}
    done = {it["utt_id"] for it in state["items"]}
    r = random.Random(seed + 1)
    todo = [it for it in pool if it["utt_id"] not in done]
    print(f"generate: {len(done)} done, {len(todo)} to go")
    for k, it in enumerate(tqdm(todo, desc="generate", dynamic_ncols=True)):
        others = [o for o in by_spk[it["speaker"]] if o["utt_id"] != it["utt_id"]]
        pr = r.choice(others)
        prompt = pr["tokens"].long()[:, : model.cfg.model.max_prompt_frames].unsqueeze(0)
        gen = generate_tokens(
            model, it["phonemes"].long(), it["durations"].long(), prompt, seed + len(done) + k
        )
        state["items"].append(
            {"utt_id": it["utt_id"], "gen": gen.to(torch.int16), "tokens": it["tokens"]}
        )
        if (k + 1) % 100 == 0:
            save_state(out / GENERATED, state)
    save_state(out / GENERATED, state)
    print(f"generated tokens for {len(state['items'])} utterances -> {out / GENERATED}")


def _target_mels(
    model: MobileSpeech, items: list[dict[str, Any]], corpora: list[Path]
) -> list[torch.Tensor]:
    """The normalised log-mel of each recording, cut to its token frames."""
    paths = {}
    for root in corpora:
        for u in load_any(root):
            paths.setdefault(u.utt_id, u.wav_path)
    codec, c = model.codec, model.cfg.codec
    mels = []
    for it in tqdm(items, desc="mels", dynamic_ncols=True):
        data, sr = read_audio(paths[it["utt_id"]])
        wav = resample(to_mono(data), sr, c.sample_rate)
        t = int(it["tokens"].shape[1])
        wav = np.pad(wav, (0, max(0, t * c.hop_length - wav.size)))[: t * c.hop_length]
        with torch.no_grad():
            mel = codec.normalize(codec.mel(torch.from_numpy(wav).view(1, 1, -1)))[0]
        mels.append(mel.to(torch.float16))
    return mels


def train(
    model_path: Path,
    out: Path,
    corpora: list[Path],
    minutes: float,
    steps: int,
    batch: int,
    window: int,
    lr: float,
    exact_share: float,
    seed: int,
) -> None:
    model = _model(model_path)
    gen = load_state(out / GENERATED)
    if gen is None:
        raise MobileSpeechError(f"run 'generate' first: {out / GENERATED} is missing")
    if not isinstance(model.codec, MelCodec):
        raise MobileSpeechError("decoder fine-tuning needs a mel-codec model (codec.kind 'mel')")
    items = gen["items"]
    codec, stride = model.codec, model.cfg.codec.token_stride
    mels = _target_mels(model, items, corpora)
    decoder = codec.decoder
    opt = torch.optim.AdamW(decoder.parameters(), lr=lr, betas=(0.8, 0.99))
    state = load_state(out / DECODER)
    step = 0
    history: list[dict[str, float]] = []
    if state:
        decoder.load_state_dict(state["decoder"])
        opt.load_state_dict(state["opt"])
        step, history = state["step"], state["history"]
        print(f"resumed at step {step}")
    table = codec.codebooks().detach()
    rnd = random.Random(seed + step)
    decoder.train()
    t0 = time.time()

    def save() -> None:
        save_state(
            out / DECODER,
            {
                "decoder": decoder.state_dict(),
                "opt": opt.state_dict(),
                "step": step,
                "history": history,
            },
        )

    bar = tqdm(total=steps, initial=step, desc="decoder", dynamic_ncols=True)
    while step < steps:
        toks, tgts, exact = [], [], 0
        for _ in range(batch):
            i = rnd.randrange(len(items))
            it, t = items[i], int(items[i]["tokens"].shape[1])
            s = rnd.randrange(max(1, t - window + 1))
            use_exact = rnd.random() < exact_share
            exact += use_exact
            src = it["tokens"] if use_exact else it["gen"]
            tok = torch.full((src.shape[0], window), 0, dtype=torch.long)
            mel = torch.zeros(mels[i].shape[0], window * stride)
            w = min(window, t - s)
            tok[:, :w] = src[:, s : s + w].long()
            mel[:, : w * stride] = mels[i][:, s * stride : (s + w) * stride].float()
            toks.append(tok)
            tgts.append((mel, w))
        latent = codec.tokens_to_latent(torch.stack(toks), table)
        pred = decoder(latent)
        keep = torch.zeros_like(pred, dtype=torch.bool)
        for b, (_, w) in enumerate(tgts):
            keep[b, :, : w * stride] = True
        target = torch.stack([m for m, _ in tgts])
        l1 = F.l1_loss(pred[keep], target[keep])
        l2 = F.mse_loss(pred[keep], target[keep])
        loss = l1 + l2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(decoder.parameters(), 1.0)
        opt.step()
        step += 1
        bar.update(1)
        if step % 10 == 0:
            history.append({"step": step, "l1": round(float(l1), 4), "l2": round(float(l2), 4)})
            bar.set_postfix(history[-1])
        if step % 200 == 0:
            save()
        if minutes and time.time() - t0 > minutes * 60:
            break
    bar.close()
    save()
    (out / "decoder_history.json").write_text(json.dumps(history))
    print(f"decoder fine-tune stopped at step {step} -> {out / DECODER}")


def apply(model_path: Path, out: Path, to: Path) -> None:
    """A model checkpoint with the fine-tuned decoder (everything else unchanged)."""
    model, extra = MobileSpeech.load(model_path)
    state = load_state(out / DECODER)
    if state is None:
        raise MobileSpeechError(f"run 'train' first: {out / DECODER} is missing")
    model.codec.decoder.load_state_dict(state["decoder"])
    model.save(to, {**extra, "decoder_finetune_steps": state["step"]})
    print(f"wrote {to} (decoder fine-tuned {state['step']} steps)")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="SMD tokens for training utterances")
    g.add_argument("--model", type=Path, required=True)
    g.add_argument("--prepared", type=Path, required=True)
    g.add_argument("--out", type=Path, required=True)
    g.add_argument("--utterances", type=int, default=3000)
    t = sub.add_parser("train", help="fine-tune the decoder on them")
    t.add_argument("--model", type=Path, required=True)
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--corpus", type=Path, action="append", required=True)
    t.add_argument("--minutes", type=float, default=0.0)
    t.add_argument("--steps", type=int, default=3000)
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--window", type=int, default=64, help="token frames per crop")
    t.add_argument("--lr", type=float, default=3e-4)
    t.add_argument("--exact-share", type=float, default=0.25)
    a = sub.add_parser("apply", help="write a model with the fine-tuned decoder")
    a.add_argument("--model", type=Path, required=True)
    a.add_argument("--out", type=Path, required=True)
    a.add_argument("--to", type=Path, required=True)
    for p in (g, t):
        p.add_argument("--threads", type=int, default=1)
        p.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.cmd == "apply":
        apply(args.model, args.out, args.to)
        return
    torch.set_num_threads(args.threads)
    if args.cmd == "generate":
        generate(args.model, args.prepared, args.out, args.utterances, args.seed)
    else:
        train(
            args.model,
            args.out,
            args.corpus,
            args.minutes,
            args.steps,
            args.batch,
            args.window,
            args.lr,
            args.exact_share,
            args.seed,
        )


if __name__ == "__main__":
    main()
