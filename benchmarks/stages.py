"""Per-stage profile of one synthesis through both runtimes: where the milliseconds go.

    python -m benchmarks.stages --bundle models/demo --threads 1,2 --repeats 5

For each thread count, in a fresh process per runtime (clean thread settings, warm after one
untimed call): the Python runtime (``Synthesizer.stream``) and the C CLI (``mobilespeech_cli
--bench --json``, the engine Android and iOS run) synthesize the README sentence (~3 s) and a
~10 s sentence with the bundle's default voice. Stages, in ms per utterance (median of the
runs) and as a share of the wall time:

- ``frontend``: text -> phoneme ids (normalizer, lexicon, g2p);
- ``prompt``: prompt conditioning (read, resample, checks) + encoder programs; cached after the
  first call with the same voice, so the cold first call is reported beside the warm median;
- ``text``: the text/duration program; ``smd``: every SMD step (with text guidance each step
  is one batch-2 pass); ``decoder``: tokens -> mel (decoder.pte); ``vocoder``: mel -> audio;
- ``other``: wall minus the stages: the runtime loop's own work (noise, windowing, copies,
  Python overhead).

It also reports how much of the vocoder's work is overlap: each window is ``chunk + 2 x
context`` tokens for ``chunk`` kept. Results: ``benchmarks/results/stages.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from mobilespeech_model.config import MobileSpeechConfig

REPO = Path(__file__).resolve().parent.parent
TEXTS = {
    "readme": "Hello from MobileSpeech. It runs on your phone.",
    "10s": (
        "The old lighthouse keeper climbed the winding stairs every evening, lit the great "
        "lamp, and watched the ships pass safely through the narrow channel until morning, "
        "when the fishing boats returned with their nets full of silver herring."
    ),
}
STAGES = ("frontend", "prompt", "text", "smd", "decoder", "vocoder")


def _env(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS=str(threads), OMP_WAIT_POLICY="PASSIVE", PYTHONWARNINGS="ignore")
    return env


def python_worker(bundle: str, threads: int, repeats: int, texts: dict[str, str]) -> dict:
    """Runs inside a fresh process: the Python runtime (the binding over the native core; no
    torch in the process), warm, per text."""
    import warnings

    warnings.simplefilter("ignore")
    from mobilespeech_runtime import Synthesizer

    t0 = time.perf_counter()
    synth = Synthesizer.from_bundle(bundle, num_threads=threads)
    load_s = time.perf_counter() - t0
    out: dict[str, Any] = {"load_s": load_s, "texts": {}}
    for name, text in texts.items():
        runs = []
        for _ in range(repeats + 1):
            t0 = time.perf_counter()
            audio = sum(c.size for c in synth.stream(text, seed=0))
            wall = time.perf_counter() - t0
            tm = synth.last_timings.as_dict()
            runs.append({"wall_s": wall, "audio_s": audio / synth.sample_rate, **tm})
        out["texts"][name] = {"cold": runs[0], "runs": runs[1:]}
    out["peak_rss_mib"] = _peak_rss_mib()
    return out


def _peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def vocoder_worker(bundle: str, threads: int, repeats: int) -> dict:
    """The bundle's vocoder.pte alone, one decode window per call (fresh process)."""
    import torch
    from executorch.extension.pybindings import portable_lib

    from mobilespeech_model._et_import import runtime

    torch.set_num_threads(threads)
    portable_lib._unsafe_reset_threadpool(threads)
    manifest = json.loads((Path(bundle) / "manifest.json").read_text())
    shape = manifest["programs"]["vocoder.pte"]["methods"]["vocode"]["inputs"][0]["max_shape"]
    method = runtime().load_program(Path(bundle) / "vocoder.pte").load_method("vocode")
    mel = torch.randn(*shape, generator=torch.Generator().manual_seed(0)) * 2.0 - 5.0
    method.execute([mel])
    times = []
    for _ in range(max(repeats, 5)):
        t0 = time.perf_counter()
        method.execute([mel])
        times.append(time.perf_counter() - t0)
    audio = (
        shape[-1] * manifest["config"]["codec"]["mel_hop"] / manifest["constants"]["sample_rate"]
    )
    return {
        "call_ms": 1000 * statistics.median(times),
        "rtf": statistics.median(times) / audio,
        "window_s": audio,
    }


def kokoro_worker(threads: int, repeats: int, texts: dict[str, str]) -> dict:
    """Peer: Kokoro-82M int8 (ONNX Runtime) on the same texts, one of its voices."""
    from training import kokoro

    engine = kokoro.KokoroEngine(num_threads=threads)
    weights = [1.0] + [0.0] * (len(kokoro.VOICE_NAMES) - 1)
    out: dict[str, Any] = {"texts": {}}
    for name, text in texts.items():
        engine.synthesize(text, weights)
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            audio = engine.synthesize(text, weights)
            runs.append(
                {"wall_s": time.perf_counter() - t0, "audio_s": audio.size / kokoro.SAMPLE_RATE}
            )
        out["texts"][name] = runs
    out["peak_rss_mib"] = _peak_rss_mib()
    return out


def _worker(call: str, threads: int) -> dict:
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import json; from benchmarks.stages import *; print(json.dumps({call}))",
        ],
        cwd=REPO,
        env=_env(threads),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if res.returncode != 0:
        raise RuntimeError(f"{call} failed: {res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def run_python(bundle: Path, threads: int, repeats: int) -> dict:
    return _worker(f"python_worker({str(bundle)!r}, {threads}, {repeats}, TEXTS)", threads)


def run_cli(cli: Path, bundle: Path, threads: int, repeats: int) -> dict:
    out: dict[str, Any] = {"texts": {}}
    for name, text in TEXTS.items():
        cmd = [
            str(cli),
            "--bundle",
            str(bundle),
            "--text",
            text,
            "--threads",
            str(threads),
            "--bench",
            str(repeats),
            "--warmup",
            "1",
            "--json",
            "--seed",
            "0",
        ]
        res = subprocess.run(cmd, env=_env(threads), capture_output=True, text=True, timeout=1800)
        if res.returncode != 0:
            raise RuntimeError(f"{cli} failed ({res.returncode}): {res.stderr[-2000:]}")
        out["texts"][name] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


def _row(stages: dict[str, float], wall: float) -> dict[str, float]:
    row = {k: stages.get(k, 0.0) * 1000.0 for k in STAGES}
    row["other"] = max(0.0, wall * 1000.0 - sum(row.values()))
    row["wall"] = wall * 1000.0
    return row


def summarize(py: dict, cli: dict | None) -> dict[str, Any]:
    """Median stage times (ms) per runtime x text."""
    rows: dict[str, Any] = {}
    for name, d in py["texts"].items():
        runs = d["runs"]
        med = {k: statistics.median(r[k] for r in runs) for k in STAGES}
        wall = statistics.median(r["wall_s"] for r in runs)
        rows[f"python/{name}"] = {
            **_row(med, wall),
            "audio_s": runs[0]["audio_s"],
            "rtf": statistics.median(r["wall_s"] / r["audio_s"] for r in runs),
            "first_audio_ms": 1000.0 * statistics.median(r["first_audio"] for r in runs),
            "cold_prompt_ms": 1000.0 * d["cold"]["prompt"],
            "smd_calls": runs[0]["smd_calls"],
            "frames": runs[0]["frames"],
            "peak_rss_mib": py.get("peak_rss_mib"),
        }
    for name, d in (cli or {}).get("texts", {}).items():
        stages = d["stages_s"]
        rtf = d["rtf"]["median"] if isinstance(d["rtf"], dict) else d["rtf"]
        first = d["first_audio_ms"]
        wall = rtf * d["audio_s"]  # stages_s are the last run's; wall from the median RTF
        rows[f"c/{name}"] = {
            **_row(stages, wall),
            "audio_s": d["audio_s"],
            "rtf": rtf,
            "first_audio_ms": first["median"] if isinstance(first, dict) else first,
            "smd_calls": d["smd_calls"],
            "frames": d["frames"],
            "peak_rss_mib": d.get("peak_rss_mib"),
        }
    return rows


def overlap(bundle: Path) -> dict[str, Any]:
    manifest = json.loads((bundle / "manifest.json").read_text())
    codec = manifest["config"]["codec"]
    schedule = MobileSpeechConfig.from_dict(manifest["config"]).schedule  # old fields: defaults
    chunk, ctx = codec["decode_chunk_frames"], codec["decode_context_frames"]
    return {
        "chunk": chunk,
        "context": ctx,
        "window_over_kept": (chunk + 2 * ctx) / chunk,
        "guidance": schedule.guidance,
        "smd_passes": schedule.smd_passes,
        "steps": list(schedule.steps),
        "vocoder": codec.get("vocoder", {}).get("kind"),
    }


def bundle_mb(bundle: Path) -> float:
    """Bytes of every file the manifest lists (+ the manifest), in MB."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    return (
        sum(m["bytes"] for m in manifest["files"].values())
        + (bundle / "manifest.json").stat().st_size
    ) / 1e6


def _stage_table(res: dict[str, Any]) -> list[str]:
    head = (
        "| bundle | runtime / text | threads | audio s | "
        + " | ".join(f"{k} ms (%)" for k in (*STAGES, "other"))
        + " | wall ms | RTF | first audio ms | peak RSS MiB |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for b, per in res["bundles"].items():
        for th, rows in per["threads"].items():
            for key, r in rows.items():
                cells = [
                    f"{r[k]:.0f} ({100 * r[k] / max(r['wall'], 1e-9):.0f})"
                    for k in (*STAGES, "other")
                ]
                rss = r.get("peak_rss_mib")
                lines.append(
                    f"| {b} | {key} | {th} | {r['audio_s']:.2f} | "
                    + " | ".join(cells)
                    + f" | {r['wall']:.0f} | {r['rtf']:.3f} | {r['first_audio_ms']:.0f} | "
                    + (f"{rss:.0f}" if rss else "")
                    + " |"
                )
    return lines


def markdown(res: dict[str, Any]) -> str:
    lines = [
        f"# Per-stage profile and vocoders side by side ({res['when']})",
        "",
        f"{res['machine']}; load average {res['load']} at start, {res.get('load_end')} "
        f"at end; median of {res['repeats']} warm runs after one untimed call, a fresh "
        "process per bundle x runtime x threads; default voice, seed 0. Texts: "
        + "; ".join(f'`{k}` = "{v}"' for k, v in TEXTS.items())
        + ".",
        "",
        "| bundle | vocoder | bundle MB | vocoder.pte MB | vocoder alone RTF 1T / 2T "
        "(one window) | decode window (tokens) | text guidance | steps |",
        "|---|---|---:|---:|---|---|---|---|",
    ]
    for b, per in res["bundles"].items():
        o = per["overlap"]
        voc = " / ".join(f"{v['rtf']:.4f}" for v in per["vocoder_alone"].values())
        lines.append(
            f"| {b} | {o['vocoder']} | {per['bundle_mb']:.1f} | {per['vocoder_mb']:.1f} | "
            f"{voc} | {o['chunk']} + 2 x {o['context']} ({o['window_over_kept']:.2f}x "
            f"computed per kept) | {o['guidance']} (batch-{o['smd_passes']} SMD pass) | "
            f"{o['steps']} |"
        )
    lines += ["", *_stage_table(res), ""]
    if res.get("peers"):
        lines += ["Peers, same texts and threads (wall / audio, median):", ""]
        for peer, per in res["peers"].items():
            for th, d in per.items():
                parts = [
                    f"{name} RTF {statistics.median(r['wall_s'] / r['audio_s'] for r in runs):.3f}"
                    for name, runs in d["texts"].items()
                ]
                lines.append(
                    f"- {peer}, {th} threads: "
                    + ", ".join(parts)
                    + f"; peak RSS {d['peak_rss_mib']:.0f} MiB"
                )
        lines.append("")
    lines += [
        "Cold prompt (first call with a voice: read, resample, encode), Python: "
        + "; ".join(
            f"{b} {th}T {rows[next(iter(rows))]['cold_prompt_ms']:.0f} ms"
            for b, per in res["bundles"].items()
            for th, rows in per["threads"].items()
        ),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.stages",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--bundle",
        type=Path,
        action="append",
        default=None,
        help="bundle folder (repeatable; default models/demo)",
    )
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cli", type=Path, default=REPO / "build" / "native" / "mobilespeech_cli")
    ap.add_argument("--no-cli", action="store_true")
    ap.add_argument("--peers", default="", help="comma list: kokoro (Kokoro-82M int8, ONNX)")
    ap.add_argument("--out-dir", type=Path, default=REPO / "benchmarks" / "results")
    ap.add_argument("--tag", default="stages")
    args = ap.parse_args(argv)
    bundles = args.bundle or [REPO / "models" / "demo"]
    if not args.no_cli and not args.cli.is_file():
        print(
            f"error: {args.cli} not found: build it (scripts/build_native.sh) or --no-cli",
            file=sys.stderr,
        )
        return 2
    threads = [int(x) for x in args.threads.split(",")]
    res: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "load": [round(x, 2) for x in os.getloadavg()],
        "repeats": args.repeats,
        "bundles": {},
        "peers": {},
    }
    for bundle in bundles:
        per: dict[str, Any] = {
            "path": str(bundle),
            "overlap": overlap(bundle),
            "bundle_mb": bundle_mb(bundle),
            "vocoder_mb": (bundle / "vocoder.pte").stat().st_size / 1e6,
            "vocoder_alone": {},
            "threads": {},
        }
        for th in threads:
            per["vocoder_alone"][str(th)] = _worker(
                f"vocoder_worker({str(bundle)!r}, {th}, {args.repeats})", th
            )
            py = run_python(bundle, th, args.repeats)
            cli = None if args.no_cli else run_cli(args.cli, bundle, th, args.repeats)
            per["threads"][str(th)] = summarize(py, cli)
        res["bundles"][bundle.name] = per
    for peer in filter(None, args.peers.split(",")):
        if peer != "kokoro":
            raise SystemExit(f"unknown peer {peer!r}")
        res["peers"][peer] = {
            str(th): _worker(f"kokoro_worker({th}, {args.repeats}, TEXTS)", th) for th in threads
        }
    res["load_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / f"{args.tag}.json").write_text(json.dumps(res, indent=1))
    md = markdown(res)
    (args.out_dir / f"{args.tag}.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
