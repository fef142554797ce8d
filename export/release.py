"""Release export: checkpoint -> every bundle variant, checked, benchmarked and checksummed.

python -m export.release --checkpoint runs/tts/model.pt --prompt voice.wav --out dist/release
python -m export.release --preset tiny --random-init --prompt voice.wav --out /tmp/rel   # CI

For each variant (fp32, 8da8w, 8da4w) it writes DIR/<variant>/ with python -m export's
bundle_export (parity.json included), then checks, and exits non-zero on any regression:

1. parity: the failures export's parity check records (fp32 tolerances, token agreement,
   decoder SNR) - printed loudly;
2. delegation: per program, the XNNPACK delegate calls and the non-trivial ops left outside
   XNNPACK (manifest.json "programs"/"non_trivial_portable") against the committed baseline
   export/delegation_baseline.json: more delegate pieces, a new portable op or a higher count
   is a regression (a lower count is reported, so the baseline can be tightened with
   --update-baseline). A config without baseline counts gets an op-kind check against every
   config's baseline for the variant;
3. a short benchmark (python -m benchmarks on the new bundles: RTF, first audio, RSS; the C CLI
   too when built), optionally bounded by --max-rtf.

Then DIR/release.json (machine-readable manifest of the release), DIR/SUMMARY.md (table) and
DIR/SHA256SUMS (every file, `sha256sum -c` format) are written - also when a check fails, so a
failed release can be inspected.
Exit codes: 0 released, 1 a check failed (regression), 2 bad arguments / model errors.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BASELINE = Path(__file__).resolve().parent / "delegation_baseline.json"
RELEASE_FORMAT = "mobilespeech-release"
RELEASE_VERSION = 1
ALL_VARIANTS = ("fp32", "8da8w", "8da4w")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---- checks ------------------------------------------------------------------------------------
def delegation_stats(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{program: {"delegated_calls": n, "non_trivial_portable": {"method:op": count}}}."""
    return {
        name: {
            "delegated_calls": int(p.get("delegated_calls", 0)),
            "non_trivial_portable": {
                k: int(v) for k, v in (p.get("non_trivial_portable") or {}).items()
            },
        }
        for name, p in manifest.get("programs", {}).items()
    }


def load_baseline(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {"configs": {}}
    data = json.loads(path.read_text())
    data.setdefault("configs", {})
    return data


def check_delegation(
    config: str, variant: str, stats: dict[str, dict[str, Any]], baseline: dict[str, Any]
) -> dict[str, Any]:
    """Compare one bundle's delegation against the baseline; returns regressions and notes."""
    regressions: list[str] = []
    notes: list[str] = []
    base = baseline.get("configs", {}).get(config, {}).get(variant)
    if base is None:
        # no counts for this config: op kinds must be ones some baseline config already has
        notes.append(f"no delegation baseline for config {config!r} {variant}: op-kind check only")
        for prog, st in stats.items():
            known: set[str] = set()
            for cfg in baseline.get("configs", {}).values():
                known |= set(cfg.get(variant, {}).get(prog, {}).get("non_trivial_portable", {}))
            for op in st["non_trivial_portable"]:
                if op not in known:
                    regressions.append(
                        f"{variant} {prog}: op {op} left outside XNNPACK (in no baseline config)"
                    )
        return {"baseline": None, "regressions": regressions, "notes": notes}
    for prog, st in stats.items():
        b = base.get(prog)
        if b is None:
            regressions.append(f"{variant} {prog}: program not in the baseline")
            continue
        if st["delegated_calls"] > b["delegated_calls"]:
            regressions.append(
                f"{variant} {prog}: {st['delegated_calls']} XNNPACK delegate calls, baseline "
                f"{b['delegated_calls']} (the graph is split into more pieces)"
            )
        elif st["delegated_calls"] < b["delegated_calls"]:
            notes.append(
                f"{variant} {prog}: fewer delegate calls than the baseline "
                f"({st['delegated_calls']} < {b['delegated_calls']})"
            )
        bops = b.get("non_trivial_portable", {})
        for op, n in st["non_trivial_portable"].items():
            if op not in bops:
                regressions.append(f"{variant} {prog}: new non-delegated op {op} x{n}")
            elif n > bops[op]:
                regressions.append(
                    f"{variant} {prog}: {op} x{n} outside XNNPACK, baseline x{bops[op]}"
                )
            elif n < bops[op]:
                notes.append(f"{variant} {prog}: {op} x{n} < baseline x{bops[op]}")
        for op in bops:
            if op not in st["non_trivial_portable"]:
                notes.append(f"{variant} {prog}: {op} no longer outside XNNPACK")
    for prog in base:
        if prog not in stats:
            regressions.append(f"{variant} {prog}: program missing from the bundle")
    return {"baseline": base, "regressions": regressions, "notes": notes}


def check_parity(bundle: Path) -> dict[str, Any]:
    """Failures recorded by export's parity check (parity.json); a missing report fails."""
    p = bundle / "parity.json"
    if not p.is_file():
        return {"failures": ["parity.json missing: the parity check did not run"]}
    r = json.loads(p.read_text())
    pipe = r.get("pipeline", {})
    return {
        "failures": list(r.get("failures", [])),
        "layer_token_agreement": pipe.get("layer_token_agreement"),
        "decoder_snr_db_same_tokens": pipe.get("decoder_snr_db_same_tokens"),
        "pipeline_snr_db": pipe.get("pipeline_snr_db"),
        "same_length": pipe.get("same_length"),
    }


def update_baseline(path: Path, config: str, variant: str, stats: dict[str, Any]) -> None:
    data = load_baseline(path)
    data.setdefault("configs", {}).setdefault(config, {})[variant] = stats
    data["updated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


# ---- benchmark -----------------------------------------------------------------------------------
def run_benchmark(out: Path, bundles: list[Path], args: argparse.Namespace) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks",
        *sum((["--bundle", str(b)] for b in bundles), []),
        "--variants",
        ",".join(args.variants),
        "--threads",
        args.bench_threads,
        "--lengths",
        args.bench_lengths,
        "--repeats",
        str(args.bench_repeats),
        "--warmup",
        "1",
        "--no-eager",
        "--no-ar",
        "--no-matmul",
        "--no-flops-check",
        "--no-plots",
        "--no-frontend",
        "--out-dir",
        str(out / "benchmark"),
        "--tag",
        "benchmark",
    ]
    if args.bench_no_cli:
        cmd.append("--no-cli")
    env = dict(__import__("os").environ, OMP_WAIT_POLICY="PASSIVE", TQDM_DISABLE="1")
    env["PYTHONPATH"] = str(REPO) + ((":" + env["PYTHONPATH"]) if env.get("PYTHONPATH") else "")
    p = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=args.bench_timeout
    )
    res_path = out / "benchmark" / "benchmark.json"
    if not res_path.is_file():
        return {"ok": False, "error": f"benchmark exit {p.returncode}: {p.stderr[-2000:]}"}
    res = json.loads(res_path.read_text())
    failed = [
        f"{c['kind']} {c.get('variant')} {c['threads']}t: {c.get('error')}"
        for c in res["configs"]
        if not c.get("ok")
    ]
    per_variant: dict[str, Any] = {}
    for c in res["configs"]:
        if not c.get("ok"):
            continue
        key = "python" if c["kind"] == "pte" else "c_cli"
        for e in c["lengths"]:
            per_variant.setdefault(c["variant"], {}).setdefault(key, []).append(
                {
                    "threads": c["threads"],
                    "seconds": e["seconds_target"],
                    "rtf_median": e["rtf"]["median"],
                    "first_audio_ms": e["first_audio_ms"]["median"],
                    "peak_rss_mib": e.get("peak_rss_mib"),
                }
            )
    return {
        "ok": not failed and p.returncode == 0,
        "errors": failed,
        "results": str(res_path.relative_to(out)),
        "per_variant": per_variant,
        "notes": res.get("notes", []),
    }


# ---- outputs -------------------------------------------------------------------------------------
def write_sha256sums(out: Path) -> Path:
    """`sha256sum -c SHA256SUMS` format over every file under ``out`` (itself excluded)."""
    target = out / "SHA256SUMS"
    lines = []
    for f in sorted(p for p in out.rglob("*") if p.is_file() and p != target):
        lines.append(f"{sha256(f)}  {f.relative_to(out).as_posix()}")
    target.write_text("\n".join(lines) + "\n")
    return target


def summary_markdown(release: dict[str, Any]) -> str:
    src = release["source"]
    lines = [
        f"# MobileSpeech release: {release['name']}",
        "",
        f"- status: **{release['status'].upper()}**",
        f"- created: {release['created']}; commit {str(release['git'].get('commit'))[:10]}"
        + (" (dirty)" if release["git"].get("dirty") else ""),
        "- source: "
        + (
            f"checkpoint {src['checkpoint']} (sha256 {src['sha256'][:16]}...)"
            if src.get("checkpoint")
            else f"preset {src.get('preset')} with RANDOM weights (seed {src.get('seed')})"
        ),
        f"- config: {release['config']}; model digest {str(release.get('model_digest'))[:16]}",
        "",
        "| variant | programs MB | parameters | parity | layer-1 agreement | decoder SNR dB | "
        "XNNPACK calls | non-trivial portable ops | delegation | RTF (median) | "
        "first audio ms |",
        "|---|---:|---:|---|---:|---:|---:|---:|---|---|---|",
    ]
    for v, r in release["variants"].items():
        if r.get("error"):
            lines.append(
                f"| {v} | - | - | - | - | - | - | - | EXPORT FAILED: {r['error'][:80]} | - | - |"
            )
            continue
        par = r["parity"]
        agree = par.get("layer_token_agreement") or [float("nan")]
        snr = par.get("decoder_snr_db_same_tokens")
        st = r["delegation"]["stats"]
        calls = sum(p["delegated_calls"] for p in st.values())
        ntp = sum(sum(p["non_trivial_portable"].values()) for p in st.values())
        bench = release.get("benchmark", {}).get("per_variant", {}).get(v, {})
        rtf = (
            "; ".join(
                f"{b['seconds']:g}s/{b['threads']}t {b['rtf_median']:.4f}"
                + (f" (C {c['rtf_median']:.4f})" if c else "")
                for b in bench.get("python", [])
                for c in [
                    next(
                        (
                            x
                            for x in bench.get("c_cli", [])
                            if x["seconds"] == b["seconds"] and x["threads"] == b["threads"]
                        ),
                        None,
                    )
                ]
            )
            or "-"
        )
        fa = (
            "; ".join(
                f"{b['seconds']:g}s {b['first_audio_ms']:.0f}" for b in bench.get("python", [])
            )
            or "-"
        )
        lines.append(
            f"| {v} | {r['program_bytes'] / 1e6:.2f} | {r['parameters']:,} | "
            f"{'ok' if not par['failures'] else 'FAILED'} | {agree[0]:.3f} | "
            f"{snr if snr is None else round(snr, 1)} | {calls} | {ntp} | "
            f"{'ok' if not r['delegation']['regressions'] else 'REGRESSED'} | {rtf} | {fa} |"
        )
    if release["regressions"]:
        lines += ["", "## Regressions", ""] + [f"- {x}" for x in release["regressions"]]
    if release.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {x}" for x in release["notes"]]
    lines += ["", "Verify the files with `sha256sum -c SHA256SUMS` in this folder.", ""]
    return "\n".join(lines)


# ---- main ----------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m export.release",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from .bundle_export import add_model_source_args

    add_model_source_args(ap)
    ap.add_argument(
        "--variants",
        default=",".join(ALL_VARIANTS),
        help="comma-separated subset of fp32,8da8w,8da4w (default: all)",
    )
    ap.add_argument("--name", default=None, help="release name (default: <config>-<date>)")
    ap.add_argument("--cache-dir", type=Path, default=Path(".cache") / "export")
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--threads", type=int, default=2, help="torch threads for export/parity")
    ap.add_argument(
        "--include-checkpoint",
        action="store_true",
        help="also ship model.pt in each bundle (enables the eager backend)",
    )
    ap.add_argument("--baseline", type=Path, default=BASELINE)
    ap.add_argument(
        "--update-baseline",
        action="store_true",
        help="record this release's delegation as the baseline (no delegation "
        "check); commit the file",
    )
    ap.add_argument("--skip-bench", action="store_true")
    ap.add_argument("--bench-threads", default="2")
    ap.add_argument("--bench-lengths", default="2,5")
    ap.add_argument("--bench-repeats", type=int, default=3)
    ap.add_argument("--bench-no-cli", action="store_true")
    ap.add_argument("--bench-timeout", type=float, default=1800.0)
    ap.add_argument(
        "--max-rtf",
        type=float,
        default=None,
        help="fail when a variant's median RTF (Python runtime) exceeds this",
    )
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    if args.preset and not args.random_init:
        ap.error("--preset needs --random-init (an untrained model); use --checkpoint otherwise")
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    bad = [v for v in args.variants if v not in ALL_VARIANTS]
    if bad or not args.variants:
        ap.error(f"unknown variant(s) {bad}; choose from {', '.join(ALL_VARIANTS)}")
    if not args.prompt.is_file():
        ap.error(f"prompt not found: {args.prompt}")

    import torch

    from mobilespeech_runtime.errors import MobileSpeechError

    from .bundle_export import export_bundle, load_model

    torch.set_num_threads(args.threads)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.time()
    try:
        model, symbols = load_model(args.checkpoint, args.preset, args.seed, args.vocoder)
    except MobileSpeechError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    cfg = model.cfg
    try:  # the repository's benchmarks package (run from the repository root)
        from .provenance import git_info, machine_info, versions
    except ImportError:  # pragma: no cover - installed without the benchmarks folder

        def git_info() -> dict[str, Any]:
            return {"commit": None, "dirty": None}

        def machine_info() -> dict[str, Any]:
            import platform

            return {"os": platform.platform(), "python": platform.python_version()}

        def versions() -> dict[str, str]:
            return {"torch": torch.__version__}

    source: dict[str, Any] = (
        {"checkpoint": str(args.checkpoint), "sha256": sha256(args.checkpoint)}
        if args.checkpoint
        else {"preset": args.preset, "random_init": True, "seed": args.seed}
    )
    release: dict[str, Any] = {
        "format": RELEASE_FORMAT,
        "version": RELEASE_VERSION,
        "name": args.name or f"{cfg.name}-{time.strftime('%Y%m%d')}",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "source": source,
        "config": cfg.name,
        "git": git_info(),
        "versions": versions(),
        "machine": {k: v for k, v in machine_info().items() if k != "cpu_flags"},
        "prompt": {"path": str(args.prompt), "sha256": sha256(args.prompt)},
        "variants": {},
        "regressions": [],
        "notes": [],
    }
    baseline = load_baseline(args.baseline)
    bundles = []
    for v in args.variants:
        dst = out / v
        print(f"== {v}: export + parity -> {dst}", flush=True)
        try:
            manifest = export_bundle(
                model,
                symbols,
                dst,
                v,
                args.prompt,
                None if args.no_cache else args.cache_dir,
                args.include_checkpoint,
                True,
                name=f"{release['name']}-{v}",
            )
        except Exception as e:  # noqa: BLE001 - a failed variant is a failed release, reported
            traceback.print_exc()
            release["variants"][v] = {"error": f"{type(e).__name__}: {e}"}
            release["regressions"].append(f"{v}: export failed: {type(e).__name__}: {e}")
            continue
        release.setdefault("model_digest", manifest.get("model_digest"))
        bundles.append(dst)
        parity = check_parity(dst)
        stats = delegation_stats(manifest)
        if args.update_baseline:
            update_baseline(args.baseline, cfg.name, v, stats)
            deleg = {
                "baseline": "updated",
                "regressions": [],
                "notes": [f"{v}: delegation baseline for {cfg.name!r} updated in {args.baseline}"],
            }
        else:
            deleg = check_delegation(cfg.name, v, stats, baseline)
        deleg["stats"] = stats
        for f in parity["failures"]:
            release["regressions"].append(f"{v}: PARITY: {f}")
            print(f"!! PARITY FAILURE {v}: {f}", file=sys.stderr, flush=True)
        for r in deleg["regressions"]:
            release["regressions"].append(f"{v}: DELEGATION: {r}")
            print(f"!! DELEGATION REGRESSION {v}: {r}", file=sys.stderr, flush=True)
        release["notes"] += deleg["notes"]
        release["variants"][v] = {
            "path": v,
            "program_bytes": sum(p["bytes"] for p in manifest["programs"].values()),
            "parameters": sum(p["parameters"] for p in manifest["programs"].values()),
            "files": {f"{v}/{k}": meta for k, meta in manifest["files"].items()},
            "parity": parity,
            "delegation": {k: deleg[k] for k in ("regressions", "notes", "stats")},
            "export_seconds": manifest.get("export_seconds"),
        }

    if args.skip_bench:
        release["notes"].append("benchmark skipped (--skip-bench)")
    elif bundles:
        print("== benchmark", flush=True)
        bench = run_benchmark(out, bundles, args)
        release["benchmark"] = bench
        release["notes"] += bench.get("notes", [])
        if not bench["ok"]:
            release["regressions"].append(
                f"BENCHMARK failed: {bench.get('error') or bench.get('errors')}"
            )
        if args.max_rtf is not None:
            for v, r in bench.get("per_variant", {}).items():
                for b in r.get("python", []):
                    if b["rtf_median"] > args.max_rtf:
                        release["regressions"].append(
                            f"{v}: RTF {b['rtf_median']:.4f} > --max-rtf {args.max_rtf} "
                            f"({b['seconds']:g} s, {b['threads']} threads)"
                        )

    release["status"] = "failed" if release["regressions"] else "ok"
    release["seconds"] = round(time.time() - t_start, 1)
    (out / "release.json").write_text(json.dumps(release, indent=1, default=str))
    (out / "SUMMARY.md").write_text(summary_markdown(release))
    write_sha256sums(out)
    print(summary_markdown(release))
    if release["regressions"]:
        print(f"RELEASE FAILED: {len(release['regressions'])} regression(s):", file=sys.stderr)
        for r in release["regressions"]:
            print(f"  - {r}", file=sys.stderr)
        return 1
    print(f"release ok: {out} ({release['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
