"""python -m benchmarks: RTF, first audio, peak RSS, size and load time for every bundle variant
and thread count, with baselines, FLOP limits, plots, JSON and a Markdown table.

python -m benchmarks                                  # models/demo, else small random-init bundles
python -m benchmarks --preset small --profile         # the full small-config benchmark
python -m benchmarks --bundle models/demo --threads 2 --lengths 5,10
python -m benchmarks --quick                          # CI: tiny preset, ~1 minute
python -m benchmarks --vocoder [STUDENT.pt]           # vocoder.pte: teacher vs student side by side

Run it niced on a shared machine: nice -n 19 python -m benchmarks ...  Every configuration
is measured in a fresh subprocess (honest peak RSS, clean thread settings); see
benchmarks/README.md for the method and for running on phones.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import SCHEMA
from .cli_bench import find_cli, run_cli
from .common import REPO, git_info, machine_info, now_iso, thread_env, versions

VARIANTS = ("fp32", "8da8w", "8da4w")
DEMO = REPO / "models" / "demo"


def _csv(kind: type) -> Any:
    def parse(s: str) -> list[Any]:
        try:
            return [kind(x) for x in s.split(",") if x.strip()]
        except ValueError as e:
            raise argparse.ArgumentTypeError(f"bad list {s!r}: {e}") from e

    return parse


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---- bundles ---------------------------------------------------------------------------------
def is_bundle(p: Path) -> bool:
    return (p / "manifest.json").is_file()


def discover(paths: list[Path]) -> list[Path]:
    """Bundle folders, or folders of variant bundles (python -m export --variant all)."""
    out = []
    for p in paths:
        if is_bundle(p):
            out.append(p)
        elif p.is_dir():
            subs = sorted(q for q in p.iterdir() if is_bundle(q))
            if not subs:
                raise SystemExit(f"error: {p} holds no bundle (no manifest.json)")
            out += subs
        else:
            raise SystemExit(f"error: bundle not found: {p}")
    return out


def synthetic_prompt(path: Path, seconds: float = 3.0, rate: int = 16000) -> Path:
    """A deterministic voiced test signal (harmonics, vibrato, syllable envelope)."""
    import numpy as np
    import soundfile as sf

    if path.is_file():
        return path
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * rate)) / rate
    pitch = 140.0 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    x = sum(np.sin(k * phase) / k for k in range(1, 8))
    x = x * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2) + 0.01 * rng.standard_normal(t.size)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, (0.3 * x / np.max(np.abs(x))).astype(np.float32), rate, subtype="PCM_16")
    return path


def export_random_init(
    preset: str, variants: list[str], export_dir: Path, prompt: Path | None, timeout: float
) -> list[Path]:
    """Random-init bundles of a preset (cached: python -m export's own cache, and an existing
    bundle folder is reused). The checkpoint is included for the eager baseline."""
    root = export_dir / preset
    prompt = prompt or synthetic_prompt(export_dir / "prompt_3s.wav")
    out = []
    for v in variants:
        dst = root / v
        if not is_bundle(dst):
            log(f"exporting {preset} {v} (random init) -> {dst}: minutes per variant")
            cmd = [
                sys.executable,
                "-m",
                "export",
                "--preset",
                preset,
                "--random-init",
                "--prompt",
                str(prompt),
                "--out",
                str(dst),
                "--variant",
                v,
                "--include-checkpoint",
                "--no-parity",
                "--threads",
                "1",
            ]
            p = subprocess.run(
                cmd, cwd=REPO, env=thread_env(1), capture_output=True, text=True, timeout=timeout
            )
            if p.returncode != 0:
                raise SystemExit(f"error: export failed ({p.returncode}):\n{p.stderr[-3000:]}")
        out.append(dst)
    return out


def bundle_info(path: Path) -> dict[str, Any]:
    m = json.loads((path / "manifest.json").read_text())
    programs = m.get("programs", {})
    files = m.get("files", {})
    return {
        "path": str(path),
        "variant": m.get("variant"),
        "config": m.get("config", {}).get("name"),
        "model_digest": m.get("model_digest"),
        "program_bytes": sum(int(p.get("bytes", 0)) for p in programs.values()),
        "files_bytes": sum(int(f.get("bytes", 0)) for f in files.values()),
        # what an app ships: every file but the optional PyTorch checkpoint
        "shipped_bytes": sum(
            int(f.get("bytes", 0)) for k, f in files.items() if k != m.get("checkpoint")
        ),
        "parameters": sum(int(p.get("parameters", 0)) for p in programs.values()),
        "programs": {
            k: {
                "bytes": p.get("bytes"),
                "parameters": p.get("parameters"),
                "delegated_calls": p.get("delegated_calls"),
                "portable_ops": p.get("portable_ops"),
                "non_trivial_portable": p.get("non_trivial_portable"),
            }
            for k, p in programs.items()
        },
        "has_checkpoint": bool(m.get("checkpoint")),
    }


# ---- subprocess runs -------------------------------------------------------------------------
def run_worker(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.worker",
            "--spec",
            json.dumps(spec),
            "--out",
            str(out),
        ]
        try:
            p = subprocess.run(
                cmd,
                cwd=REPO,
                env=thread_env(int(spec["threads"])),
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": f"timed out after {timeout:.0f} s"}
        if not out.is_file():
            return {"ok": False, "error": f"worker exit {p.returncode}: {p.stderr[-2000:]}"}
        r = json.loads(out.read_text())
        r.pop("spec", None)
        if not r.get("ok"):
            log(f"worker failed: {r.get('error')}\n{r.get('traceback', '')}")
        return r


def matmul_peaks(threads: list[int], seconds: float) -> dict[str, Any]:
    out = {}
    for t in threads:
        p = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.matmul",
                "--threads",
                str(t),
                "--seconds",
                str(seconds),
            ],
            cwd=REPO,
            env=thread_env(t),
            capture_output=True,
            text=True,
            timeout=300,
        )
        line = next((x for x in reversed(p.stdout.splitlines()) if x.startswith("{")), None)
        if line:
            out[str(t)] = json.loads(line)
    return out


def run_profile(bundle: Path, threads: int, timeout: float) -> dict[str, Any]:
    from .profile import to_markdown

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "profile.json"
        p = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.profile",
                "--bundle",
                str(bundle),
                "--threads",
                str(threads),
                "--runs",
                "7",
                "--out",
                str(out),
            ],
            cwd=REPO,
            env=thread_env(threads),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if not out.is_file():
            return {"ok": False, "bundle": str(bundle), "error": p.stderr[-2000:]}
        r = json.loads(out.read_text())
        r["ok"] = True
        r["markdown"] = to_markdown(r)
        return r


# ---- main --------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--bundle",
        type=Path,
        action="append",
        default=[],
        help="a bundle folder or a folder of variant bundles (repeatable)",
    )
    ap.add_argument(
        "--preset",
        choices=["tiny", "small", "base"],
        help="benchmark random-init bundles of this preset (exported and cached)",
    )
    ap.add_argument("--export-dir", type=Path, default=REPO / ".cache" / "bench_bundles")
    ap.add_argument("--prompt", type=Path, help="prompt wav for --preset exports")
    ap.add_argument(
        "--checkpoint",
        type=Path,
        help="checkpoint for the eager baseline when the bundles carry none",
    )
    ap.add_argument(
        "--variants", type=_csv(str), default=None, help="default fp32,8da8w,8da4w (--quick: fp32)"
    )
    ap.add_argument("--threads", type=_csv(int), default=[1, 2])
    ap.add_argument(
        "--lengths",
        type=_csv(float),
        default=[2.0, 5.0, 10.0, 20.0],
        help="utterance lengths in seconds",
    )
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--no-eager", action="store_true")
    ap.add_argument("--no-ar", action="store_true")
    ap.add_argument(
        "--ar-modes",
        type=_csv(str),
        default=["frame"],
        help="frame (one forward per frame, all codebooks) and/or codebook",
    )
    ap.add_argument("--no-cli", action="store_true")
    ap.add_argument("--cli", default=None, help="mobilespeech_cli path (default build/native)")
    ap.add_argument("--no-matmul", action="store_true")
    ap.add_argument("--matmul-seconds", type=float, default=1.5)
    ap.add_argument("--no-flops-check", action="store_true")
    ap.add_argument(
        "--profile",
        action="store_true",
        help="ETDump operator profile of smd.pte/decoder.pte (max thread count)",
    )
    ap.add_argument("--profile-variants", type=_csv(str), default=["fp32", "8da4w"])
    ap.add_argument(
        "--no-frontend",
        action="store_true",
        help="skip timing the text frontend (g2p load takes seconds)",
    )
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--out-dir", type=Path, default=REPO / "benchmarks" / "results")
    ap.add_argument("--tag", default=None, help="name of the result files")
    ap.add_argument("--timeout", type=float, default=1800.0, help="per subprocess, seconds")
    ap.add_argument(
        "--vocoder",
        nargs="?",
        const="default",
        default=None,
        metavar="STUDENT.pt",
        help="benchmark only vocoder.pte: the HiFi-GAN teacher vs a distilled student (default "
        "the distillation run's student.pt, else the step-0 pruned student), RTF and first audio "
        "per --threads; quality table: python -m benchmarks.vocoder table",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="CI smoke run: --preset tiny --threads 1 --lengths 1,2 --repeats 2 "
        "--no-frontend (about a minute once the tiny export is cached)",
    )
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quick:
        args.preset = args.preset or "tiny"
        args.threads, args.lengths, args.repeats = [1], [1.0, 2.0], 2
        args.no_frontend = True
        args.matmul_seconds = 0.3
        args.variants = args.variants or ["fp32"]
    if args.vocoder is not None:
        return vocoder_main(args)
    args.variants = args.variants or list(VARIANTS)
    bad = [v for v in args.variants if v not in VARIANTS]
    if bad:
        raise SystemExit(f"error: unknown variant(s) {bad}; choose from {VARIANTS}")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    torch.set_num_threads(1)  # the orchestrator itself only counts FLOPs
    t_start = time.time()
    results: dict[str, Any] = {
        "schema": SCHEMA,
        "created": now_iso(),
        "machine": machine_info(),
        "versions": versions(),
        "git": git_info(),
        "settings": {
            "threads": args.threads,
            "lengths": args.lengths,
            "repeats": args.repeats,
            "warmup": args.warmup,
            "variants": args.variants,
            "ar_modes": args.ar_modes,
            "niceness": os.nice(0),
            "frontend_timed": not args.no_frontend,
        },
        "bundles": {},
        "configs": [],
        "notes": [],
    }
    notes = results["notes"]

    # bundles
    if args.bundle:
        bundles = discover(args.bundle)
    elif args.preset:
        bundles = export_random_init(
            args.preset, args.variants, args.export_dir, args.prompt, args.timeout
        )
        notes.append(f"bundles: {args.preset} preset, RANDOM weights (speed only)")
    elif is_bundle(DEMO) or (DEMO.is_dir() and any(is_bundle(q) for q in DEMO.iterdir())):
        bundles = discover([DEMO])
    else:
        log("models/demo not found: benchmarking small random-init bundles")
        bundles = export_random_init(
            "small", args.variants, args.export_dir, args.prompt, args.timeout
        )
        notes.append("bundles: small preset, RANDOM weights (models/demo not present)")
    infos = {}
    for b in bundles:
        info = bundle_info(b)
        if info["variant"] not in args.variants:
            continue
        name = f"{info['config']}-{info['variant']}"
        if name in infos:
            name = f"{name}-{b.name}"
        infos[name] = info
    if not infos:
        raise SystemExit("error: no bundle matches --variants")
    results["bundles"] = infos
    log(
        "bundles: "
        + ", ".join(f"{k} ({v['program_bytes'] / 1e6:.2f} MB)" for k, v in infos.items())
    )

    # matmul peak
    if not args.no_matmul:
        log("measuring peak fp32 matmul throughput")
        results["matmul_peak_gflops"] = matmul_peaks(args.threads, args.matmul_seconds)

    base_spec = {
        "lengths": args.lengths,
        "repeats": args.repeats,
        "warmup": args.warmup,
        "no_frontend": args.no_frontend,
    }
    inputs_by_bundle: dict[str, dict[str, Any]] = {}
    prompt_frames = None
    for name, info in infos.items():
        for t in args.threads:
            log(f"pte {name}, {t} thread(s)")
            spec = {
                **base_spec,
                "kind": "pte",
                "bundle": info["path"],
                "threads": t,
                "inputs": inputs_by_bundle.get(name),
            }
            r = run_worker(spec, args.timeout)
            r.update(kind="pte", variant=info["variant"], threads=t, bundle_name=name)
            r.pop("traceback", None)
            results["configs"].append(r)
            if r.get("ok"):
                inputs_by_bundle.setdefault(name, r["inputs"])
                prompt_frames = prompt_frames or r.get("prompt_frames")

    # C ABI CLI
    cli = None if args.no_cli else find_cli(args.cli)
    if args.no_cli:
        notes.append("C CLI skipped (--no-cli)")
    elif cli is None:
        msg = (
            "C CLI not built (build/native/mobilespeech_cli missing): run "
            "scripts/build_native.sh, then rerun; C ABI figures skipped"
        )
        log(msg)
        notes.append(msg)
    else:
        for name, info in infos.items():
            if name not in inputs_by_bundle:
                continue
            for t in args.threads:
                log(f"C CLI {name}, {t} thread(s)")
                r = run_cli(
                    cli,
                    Path(info["path"]),
                    inputs_by_bundle[name],
                    t,
                    args.repeats,
                    args.warmup,
                    args.timeout,
                )
                r.update(kind="cli", variant=info["variant"], threads=t, bundle_name=name)
                results["configs"].append(r)

    # eager baseline (fp32 weights of the same model)
    ref_name = next((n for n, i in infos.items() if i["variant"] == "fp32"), next(iter(infos)))
    ref = infos[ref_name]
    if not args.no_eager:
        ckpt = args.checkpoint
        eager_bundle = next((i for i in infos.values() if i["has_checkpoint"]), None)
        if eager_bundle is None and ckpt is None:
            msg = "eager baseline skipped: no bundle carries model.pt and no --checkpoint given"
            log(msg)
            notes.append(msg)
        else:
            for t in args.threads:
                log(f"eager fp32, {t} thread(s)")
                spec = {
                    **base_spec,
                    "kind": "eager",
                    "bundle": (eager_bundle or ref)["path"],
                    "threads": t,
                    "checkpoint": str(ckpt) if ckpt else None,
                    "inputs": inputs_by_bundle.get(ref_name),
                }
                r = run_worker(spec, args.timeout)
                r.update(kind="eager", variant="fp32", threads=t, bundle_name=ref_name)
                r.pop("traceback", None)
                results["configs"].append(r)

    # autoregressive baseline
    if not args.no_ar:
        for mode in args.ar_modes:
            for t in args.threads:
                log(f"AR baseline ({mode}), {t} thread(s)")
                spec = {
                    **base_spec,
                    "kind": "ar",
                    "bundle": ref["path"],
                    "threads": t,
                    "ar_mode": mode,
                    "prompt_frames": prompt_frames,
                    "inputs": inputs_by_bundle.get(ref_name),
                }
                r = run_worker(spec, args.timeout)
                r.update(kind="ar", threads=t, bundle_name=ref_name)
                r.pop("traceback", None)
                results["configs"].append(r)

    # FLOPs and limits
    results["flops"] = flop_section(infos, inputs_by_bundle, prompt_frames, args)

    # operator profile
    if args.profile:
        results["profiles"] = []
        t = max(args.threads)
        for name, info in infos.items():
            if info["variant"] in args.profile_variants:
                log(f"profiling {name}, {t} thread(s)")
                results["profiles"].append(run_profile(Path(info["path"]), t, args.timeout))

    from .report import markdown, targets

    results["targets"] = targets(
        results,
        threads=max(args.threads),
        seconds=10.0 if 10.0 in args.lengths else max(args.lengths),
    )
    results["load_average_end"] = list(os.getloadavg())
    results["wall_s"] = round(time.time() - t_start, 1)

    config_names = sorted({i["config"] for i in infos.values()})
    tag = args.tag or f"{time.strftime('%Y%m%d-%H%M%S')}-{'-'.join(config_names)}"
    args.out_dir.mkdir(parents=True, exist_ok=True)
    if not args.no_plots:
        from .plots import plot_all

        results["plots"] = [str(p) for p in plot_all(results, args.out_dir / tag)]
    md = markdown(results)
    (args.out_dir / f"{tag}.json").write_text(json.dumps(results, indent=1, default=_json))
    (args.out_dir / f"{tag}.md").write_text(md)
    print(md)
    log(
        f"wrote {args.out_dir / (tag + '.json')}, {tag}.md"
        + (
            f" and {len(results.get('plots', []))} plots in {args.out_dir / tag}"
            if results.get("plots")
            else ""
        )
    )
    failed = [c for c in results["configs"] if not c.get("ok")]
    return 1 if failed else 0


def vocoder_main(args: argparse.Namespace) -> int:
    """Teacher vs student vocoder.pte, side by side (benchmarks/vocoder.py does the work)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    from . import vocoder

    torch.set_num_threads(1)
    student = args.vocoder
    if student == "default":
        student = str(vocoder.DEFAULT_STUDENT) if vocoder.DEFAULT_STUDENT.is_file() else "pruned"
    elif not Path(student).is_file():
        raise SystemExit(f"error: student vocoder not found: {student}")
    res = vocoder.compare(["teacher", student], args.threads, max(args.repeats, 3))
    res["git"] = git_info()
    md = "# vocoder.pte: teacher vs student\n\n" + vocoder.speed_markdown(res)
    tag = args.tag or f"{time.strftime('%Y%m%d-%H%M%S')}-vocoder"
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / f"{tag}.json").write_text(json.dumps(res, indent=1, default=_json))
    (args.out_dir / f"{tag}.md").write_text(md + "\n")
    print(md)
    log(f"wrote {args.out_dir / (tag + '.json')} and {tag}.md")
    return 0 if all(r.get("ok") for v in res["vocoders"].values() for r in v["speed"]) else 1


def flop_section(
    infos: dict[str, Any],
    inputs: dict[str, Any],
    prompt_frames: int | None,
    args: argparse.Namespace,
) -> dict[str, Any]:
    from mobilespeech_model.config import MobileSpeechConfig

    from . import flops

    out: dict[str, Any] = {}
    seen = set()
    for name, info in infos.items():
        manifest = json.loads((Path(info["path"]) / "manifest.json").read_text())
        cfg = MobileSpeechConfig.from_dict(manifest["config"])
        key = json.dumps(manifest["config"], sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        s = prompt_frames or int(round(3 * cfg.codec.frame_rate))
        per = []
        for sec in args.lengths:
            inp = inputs.get(name, {}).get(f"{float(sec):g}")
            n_ph = len(inp["ids"]) if inp else None
            per.append(flops.per_utterance(cfg, float(sec), s, n_ph))
        section: dict[str, Any] = {
            "prompt_frames": s,
            "schedule_steps": list(cfg.schedule.steps),
            "smd_passes_per_sentence": sum(cfg.schedule.steps),
            "per_utterance": per,
        }
        if not args.no_flops_check:
            t = min(cfg.model.max_frames, int(round(5 * cfg.codec.frame_rate)))
            section["flop_counter_check"] = flops.counted_flops(cfg, t, s, max(2, t // 5))
        out[info["config"]] = section
    return out


def _json(o: Any) -> Any:
    if isinstance(o, float) and math.isnan(o):
        return None
    if isinstance(o, Path):
        return str(o)
    return str(o)


if __name__ == "__main__":
    sys.exit(main())
