"""Evaluate a model on held-out (zero-shot) voices: WER, speaker similarity, DNSMOS, with codec
resynthesis as the ceiling. Writes JSON and a Markdown table.

    python -m training.evaluate --corpus data/synth --bundle models/demo --out models/demo/EVAL
    python -m training.evaluate --corpus data/synth --checkpoint runs/tts/model.pt --n 40

For each validation sentence spoken by a held-out voice (split ``zeroshot``), the prompt is a
*different* utterance of the same voice, so similarity measures cloning, not copying.
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

from mobilespeech_runtime.audio import read_audio, resample, to_mono, write_wav
from mobilespeech_runtime.errors import MobileSpeechError
from mobilespeech_runtime.synthesizer import Synthesizer

from .corpus import Utterance, load_any
from .metrics import evaluate, format_table


def pairs(
    utts: list[Utterance], split: str, n: int, seed: int
) -> list[tuple[Utterance, Utterance]]:
    """(target, prompt) pairs: same speaker, different utterance."""
    by_spk: dict[str, list[Utterance]] = defaultdict(list)
    for u in utts:
        if u.split == split:
            by_spk[u.speaker].append(u)
    rng = random.Random(seed)
    out = []
    for _spk, us in sorted(by_spk.items()):
        if len(us) < 2:
            continue
        for i, u in enumerate(us):
            out.append((u, us[(i + 1) % len(us)]))
    rng.shuffle(out)
    return out[:n]


def _load(u: Utterance, sr: int) -> np.ndarray:
    data, file_sr = read_audio(u.wav_path)
    return resample(to_mono(data), file_sr, sr)


def run(
    synth: Synthesizer, corpus: Path, split: str, n: int, seed: int, out: Path, save_audio: int = 4
) -> dict[str, Any]:
    sr = synth.sample_rate
    chosen = pairs(load_any(corpus), split, n, seed)
    if not chosen:
        raise MobileSpeechError(f"no {split!r} utterances with two takes per voice in {corpus}")
    model_items, resynth_items, ground_items = [], [], []
    backend = synth.backend
    t0 = time.time()
    rtf = []
    for k, (target, prompt) in enumerate(chosen):
        prompt_wav = _load(prompt, sr)
        target_wav = _load(target, sr)
        t = time.perf_counter()
        result = synth.synthesize(target.text, prompt_wav, prompt_sample_rate=sr, seed=seed + k)
        rtf.append((time.perf_counter() - t) / max(result.seconds, 1e-6))
        model_items.append((target.text, result.samples, sr, prompt_wav, sr))
        # codec resynthesis of the real target: the ceiling the SMD can reach
        hop = synth.config.codec.hop_length
        frames = target_wav.size // hop
        tokens_parts = []
        for s in range(0, frames, synth.config.model.max_prompt_frames):
            seg = target_wav[s * hop : (s + synth.config.model.max_prompt_frames) * hop]
            window = np.zeros(synth.config.model.max_prompt_frames * hop, np.float32)
            window[: seg.size] = seg
            tok = backend.encode_prompt(torch.from_numpy(window).view(1, 1, -1))
            tokens_parts.append(tok[0, :, : seg.size // hop].numpy())
        tokens = np.concatenate(tokens_parts, axis=1)
        resynth = np.concatenate(list(synth._decode(tokens, synth.last_timings)))
        resynth_items.append((target.text, resynth, sr, prompt_wav, sr))
        ground_items.append((target.text, target_wav, sr, prompt_wav, sr))
        if k < save_audio:
            out.mkdir(parents=True, exist_ok=True)
            write_wav(out / f"sample_{k}_model.wav", result.samples, sr)
            write_wav(out / f"sample_{k}_prompt.wav", prompt_wav, sr)
            write_wav(out / f"sample_{k}_resynth.wav", resynth, sr)
    gen_seconds = time.time() - t0
    results = {
        "model": evaluate(model_items),
        "codec resynthesis": evaluate(resynth_items),
        "ground truth (synthetic voice)": evaluate(ground_items),
    }
    report = {
        "split": split,
        "n": len(chosen),
        "seed": seed,
        "results": results,
        "median_rtf": float(np.median(rtf)),
        "generation_seconds": round(gen_seconds, 1),
        "info": synth.info(),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval.json").write_text(json.dumps(report, indent=1))
    table = format_table(results)
    (out / "EVAL.md").write_text(
        f"# Evaluation on held-out voices ({split}, {len(chosen)} utterances)\n\n{table}\n\n"
        "WER: Whisper tiny.en (faster-whisper). SIM: resemblyzer cosine to the prompt (another "
        "utterance of the same held-out voice). DNSMOS: Microsoft DNSMOS P.835.\n"
    )
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--corpus", type=Path, required=True)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--bundle", type=Path)
    src.add_argument("--checkpoint", type=Path)
    ap.add_argument("--split", default="zeroshot")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    if args.bundle:
        synth = Synthesizer.from_bundle(args.bundle, args.threads)
    else:
        synth = Synthesizer.from_checkpoint(args.checkpoint, args.threads)
    report = run(synth, args.corpus, args.split, args.n, args.seed, args.out)
    print(format_table(report["results"]))
    print(f"median RTF while evaluating: {report['median_rtf']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
