"""One benchmark configuration in a fresh process (honest peak RSS, clean thread settings).

python -m benchmarks.worker --spec '{"kind": "pte", "bundle": "DIR", "threads": 2}' --out r.json

Kinds:
- ``pte``: the bundle's .pte programs through the Python ExecuTorch runtime (ReferenceSynthesizer);
- ``eager``: the same model in eager PyTorch (ReferenceSynthesizer over the bundle's checkpoint);
- ``ar``: the autoregressive baseline decoder (benchmarks/ar_baseline.py) of the same size.

Utterance lengths are fixed regardless of the model's predicted durations (an untrained model
predicts arbitrary ones): for a target of T frames the worker picks a deterministic phoneme id
sequence and searches the ``length_scale`` (a runtime input, [0.25, 4]) at which the bundle's
own text/duration program predicts exactly T frames (or the closest count), then feeds those
ids to ``ReferenceSynthesizer.stream`` in place of the text frontend. The frontend is timed
separately on an English text with as many phonemes and its time is added to the pipeline's. Targets
past the model's frame limit are split into equal sentences, as the frontend would split text.
"""

from __future__ import annotations

import argparse
import json
import math
import time
import traceback
from pathlib import Path
from typing import Any

from .common import rss_mib, stats

ENGLISH = (
    "The quick brown fox jumps over the lazy dog. A small model can speak on a phone. "
    "She sells sea shells by the sea shore, and the waves carry them away. "
    "Please call Stella and ask her to bring these things with her from the store. "
    "Six spoons of fresh snow peas, five thick slabs of blue cheese, and maybe a snack. "
    "We also need a small plastic snake and a big toy frog for the kids. "
    "When the sunlight strikes raindrops in the air, they act as a prism and form a rainbow. "
    "The rainbow is a division of white light into many beautiful colors. "
)


def phoneme_ids(symbols: Any, n: int, seed: int = 0) -> list[int]:
    """A deterministic sequence of n phoneme ids (no specials), ending with <sil>."""
    import numpy as np

    from mobilespeech_model.frontend.symbols import PHONEMES, SIL

    rng = np.random.default_rng(seed)
    pool = [symbols.id(p) for p in PHONEMES if p in symbols]
    ids = [int(x) for x in rng.choice(pool, size=max(n - 1, 1))]
    return ids + [symbols.id(SIL)]


def english_text(frontend: Any, n_phonemes: int) -> str:
    """English text with at least ``n_phonemes`` phonemes (for timing the real frontend)."""
    words = ENGLISH.split()
    out: list[str] = []
    i = 0
    while True:
        out.append(words[i % len(words)])
        i += 1
        if i % 12 == 0:
            text = " ".join(out)
            if sum(len(c) for c in frontend.encode(text)) >= n_phonemes:
                return text
        if i > 5000:
            return " ".join(out)


def calibrate(synth: Any, frames: int, seed: int = 0) -> dict[str, Any]:
    """Phoneme ids + length_scale at which the bundle's duration program gives ``frames``."""
    import torch

    cfg = synth.config
    prompt, _ = synth._prompt(None, None)
    backend = synth.backend
    limit = min(cfg.model.max_phonemes, 256)

    def total(ids: list[int], scale: float) -> int:
        ph = torch.tensor([ids], dtype=torch.long)
        _, fr = backend.text_and_durations(ph, prompt, torch.tensor([scale]))
        return int(fr.sum())

    n = max(2, min(limit, round(frames / 5)))
    for _ in range(4):  # adjust the phoneme count so that the scale lands well inside [0.25, 4]
        ids = phoneme_ids(synth.backend.symbols, n, seed)
        per = max(total(ids, 1.0), 1) / n
        want = max(2, min(limit, round(frames / per)))
        if abs(want - n) <= max(1, n // 10):
            break
        n = want
    ids = phoneme_ids(synth.backend.symbols, n, seed)
    lo, hi = 0.25, 4.0
    best = (abs(total(ids, 1.0) - frames), 1.0)
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        got = total(ids, mid)
        best = min(best, (abs(got - frames), mid))
        if got == frames:
            break
        if got < frames:
            lo = mid
        else:
            hi = mid
    scale = best[1]
    return {"ids": ids, "length_scale": scale, "frames": total(ids, scale)}


def _pipeline(spec: dict[str, Any]) -> dict[str, Any]:
    import torch

    from mobilespeech_model.reference import ReferenceSynthesizer

    threads = int(spec["threads"])
    torch.set_num_threads(threads)
    # Import the runtime first: load time is the bundle's, not Python's import time.
    if spec["backend"] == "executorch":
        from mobilespeech_model.executorch_backend import _load_runtime

        _load_runtime()
    else:
        import mobilespeech_model.eager  # noqa: F401
    rss0 = rss_mib()
    t0 = time.perf_counter()
    if spec.get("checkpoint"):  # eager baseline from a checkpoint beside a bundle without one
        from mobilespeech_model.bundle import Bundle

        prompt = Bundle.open(Path(spec["bundle"]), verify_checksums=False).default_prompt()
        synth = ReferenceSynthesizer.from_checkpoint(spec["checkpoint"], threads, prompt)
    else:
        synth = ReferenceSynthesizer.from_bundle(spec["bundle"], threads, backend=spec["backend"])
    load_s = time.perf_counter() - t0
    rss_load = rss_mib()
    timed_frontend = not spec.get("no_frontend")
    t0 = time.perf_counter()
    if timed_frontend:
        synth.frontend.load()
    frontend_load_s = time.perf_counter() - t0 if timed_frontend else None
    cfg = synth.config
    fr, sr = cfg.codec.frame_rate, cfg.codec.sample_rate

    # Prompt conditioning: a one-off per voice (the ReferenceSynthesizer caches it); timed apart.
    prompt_runs = []
    for _ in range(max(2, int(spec.get("repeats", 3)) // 2)):
        synth._prompt_cache = None
        t0 = time.perf_counter()
        p_tokens, _ = synth._prompt(None, None)
        prompt_runs.append(time.perf_counter() - t0)
    prompt_frames = int(p_tokens.shape[2])

    inputs = spec.get("inputs") or {}
    lengths_out = []
    for seconds in spec["lengths"]:
        key = f"{float(seconds):g}"
        target = int(round(float(seconds) * fr))
        sentences = max(1, math.ceil(target / cfg.model.max_frames))
        per_sentence = math.ceil(target / sentences)
        if key in inputs:
            cal = inputs[key]
        else:
            cal = calibrate(synth, per_sentence, seed=int(spec.get("seed", 0)))
            cal["sentences"] = sentences
        chunks = [cal["ids"]] * cal["sentences"]
        n_ph = len(cal["ids"]) * cal["sentences"]
        text = english_text(synth.frontend, n_ph) if timed_frontend else ""
        real_encode = ReferenceSynthesizer.encode_text
        real_ids: list[list[int]] = []
        runs = []
        for i in range(int(spec.get("warmup", 1)) + int(spec["repeats"])):
            frontend_s = 0.0
            if timed_frontend:  # the real frontend on English text with as many phonemes
                t0 = time.perf_counter()
                real_ids = real_encode(synth, text)
                frontend_s = time.perf_counter() - t0
            synth.encode_text = lambda _text, c=chunks: c  # the calibrated ids
            n_samples = 0
            c0 = time.process_time()
            t0 = time.perf_counter()
            for chunk in synth.stream("benchmark", None, seed=0, length_scale=cal["length_scale"]):
                n_samples += chunk.size
            stream_s = time.perf_counter() - t0
            stream_cpu = time.process_time() - c0
            del synth.encode_text
            tm = synth.last_timings
            audio_s = n_samples / sr
            if i < int(spec.get("warmup", 1)):
                continue
            runs.append(
                {
                    "total_s": frontend_s + stream_s,
                    "stream_s": stream_s,
                    # CPU seconds of all this process's threads during the stream: on a shared
                    # machine wall time includes waiting for a core, CPU time does not
                    "stream_cpu_s": stream_cpu,
                    "frontend_s": frontend_s,
                    "prompt_s": tm.prompt,  # cached voice: load + hash + cache lookup
                    "text_s": tm.text,
                    "smd_s": tm.smd,
                    # the codec decoder and the mel codec's vocoder (timed apart since session 10)
                    "decoder_s": tm.decoder + tm.vocoder,
                    "vocoder_s": tm.vocoder,
                    "first_audio_s": frontend_s + (tm.first_audio or stream_s),
                    "audio_s": audio_s,
                    "frames": tm.frames,
                    "smd_calls": tm.smd_calls,
                }
            )
        audio = runs[0]["audio_s"]
        entry = {
            "seconds_target": float(seconds),
            "frames": runs[0]["frames"],
            "frames_target": target,
            "sentences": cal["sentences"],
            "phonemes": len(cal["ids"]) * cal["sentences"],
            "frontend_phonemes": sum(len(c) for c in real_ids) if timed_frontend else None,
            "length_scale": cal["length_scale"],
            "audio_s": audio,
            "smd_calls": runs[0]["smd_calls"],
            "rtf": stats([r["total_s"] / r["audio_s"] for r in runs]),
            "stages_rtf": {
                k: stats([r[f"{k}_s"] / r["audio_s"] for r in runs])["median"]
                for k in ("frontend", "prompt", "text", "smd", "decoder")
            },
            "stages_s": {
                k: stats([r[f"{k}_s"] for r in runs])["median"]
                for k in ("frontend", "prompt", "text", "smd", "decoder")
            },
            "smd_step_ms": stats([r["smd_s"] / r["smd_calls"] * 1e3 for r in runs])["median"],
            "cpu_rtf": stats([r["stream_cpu_s"] / r["audio_s"] for r in runs]),
            "cpu_utilization": stats([r["stream_cpu_s"] / (r["stream_s"] * threads) for r in runs])[
                "median"
            ],
            "first_audio_ms": stats([r["first_audio_s"] * 1e3 for r in runs]),
            "peak_rss_mib": rss_mib()["peak"],
            "runs": runs,
        }
        inputs[key] = {k: cal[k] for k in ("ids", "length_scale", "frames", "sentences")}
        lengths_out.append(entry)
    symbols = synth.backend.symbols
    return {
        "load_s": load_s,
        "frontend_load_s": frontend_load_s,
        "prompt_encode_s": stats(prompt_runs),
        "prompt_frames": prompt_frames,
        "rss_mib": {
            "before_load": rss0["current"],
            "after_load": rss_load["current"],
            "peak": rss_mib()["peak"],
        },
        "lengths": lengths_out,
        "inputs": {
            k: {**v, "symbols": " ".join(symbols.decode(v["ids"]))} for k, v in inputs.items()
        },
        "sample_rate": sr,
    }


def _ar(spec: dict[str, Any]) -> dict[str, Any]:
    import torch

    from mobilespeech_model.bundle import Bundle

    from .ar_baseline import ARDecoder, time_generation

    threads = int(spec["threads"])
    torch.set_num_threads(threads)
    bundle = Bundle.open(Path(spec["bundle"]), verify_checksums=False)
    cfg = bundle.config
    fr = cfg.codec.frame_rate
    per = spec.get("ar_mode", "frame")
    inputs = spec.get("inputs") or {}
    prompt_frames = int(spec.get("prompt_frames") or 150)
    rss0 = rss_mib()
    max_frames = max(int(round(float(s) * fr)) for s in spec["lengths"])
    n_mult = 1 if per == "frame" else cfg.codec.n_codebooks
    max_len = 256 * 2 + (prompt_frames + max_frames) * n_mult + 8
    t0 = time.perf_counter()
    torch.manual_seed(0)
    model = ARDecoder(cfg, max_len).eval()
    load_s = time.perf_counter() - t0
    params = sum(p.numel() for p in model.parameters())
    lengths_out = []
    for seconds in spec["lengths"]:
        key = f"{float(seconds):g}"
        frames = int(round(float(seconds) * fr))
        n_ph = (
            len(inputs[key]["ids"]) * inputs[key]["sentences"]
            if key in inputs
            else max(2, round(frames / 5))
        )
        times, cpus = [], []
        for i in range(int(spec.get("warmup", 1)) + int(spec["repeats"])):
            c0 = time.process_time()
            dt = time_generation(model, n_ph, prompt_frames, frames, per, seed=i)
            if i >= int(spec.get("warmup", 1)):
                times.append(dt)
                cpus.append(time.process_time() - c0)
        audio = frames / fr
        lengths_out.append(
            {
                "seconds_target": float(seconds),
                "frames": frames,
                "audio_s": audio,
                "phonemes": n_ph,
                "forward_passes": frames * n_mult + 1,
                "rtf": stats([t / audio for t in times]),
                "stages_rtf": {"smd": stats([t / audio for t in times])["median"]},
                "stages_s": {"smd": stats(times)["median"]},
                "ms_per_forward": stats(times)["median"] / (frames * n_mult) * 1e3,
                "cpu_rtf": stats([c / audio for c in cpus]),
                "cpu_utilization": stats(
                    [c / (t * threads) for c, t in zip(cpus, times, strict=True)]
                )["median"],
                "peak_rss_mib": rss_mib()["peak"],
            }
        )
    return {
        "ar_mode": per,
        "parameters": params,
        "prompt_frames": prompt_frames,
        "load_s": load_s,
        "rss_mib": {"before_load": rss0["current"], "peak": rss_mib()["peak"]},
        "lengths": lengths_out,
    }


def run(spec: dict[str, Any]) -> dict[str, Any]:
    kind = spec["kind"]
    t0 = time.perf_counter()
    try:
        if kind in ("pte", "eager"):
            out = _pipeline({**spec, "backend": "executorch" if kind == "pte" else "eager"})
        elif kind == "ar":
            out = _ar(spec)
        else:
            raise ValueError(f"unknown kind {kind!r}")
        out["ok"] = True
    except Exception as e:  # noqa: BLE001 - reported in the results, never hidden
        out = {
            "ok": False,
            "error": f"{type(e).__name__}: {e}",
            "traceback": traceback.format_exc(),
        }
    out["wall_s"] = time.perf_counter() - t0
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", required=True, help="JSON object")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    spec = json.loads(args.spec)
    result = run(spec)
    args.out.write_text(json.dumps({"spec": spec, **result}, default=float))


if __name__ == "__main__":
    main()
