"""Markdown tables and the target check from a results dict (benchmarks/__main__.py)."""

from __future__ import annotations

import math
from typing import Any

from .labels import STAGES, label

TARGETS = {
    "rtf_10s": 0.05,  # quantized bundle, 2 threads, 10 s utterance
    "vs_eager": 3.0,
    "vs_ar": 10.0,
    "first_audio_ms": 200.0,
}


def _fmt(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.{digits}f}"


def find(
    results: dict[str, Any],
    kind: str,
    threads: int,
    variant: str | None = None,
    ar_mode: str | None = None,
) -> dict[str, Any] | None:
    for c in results["configs"]:
        if c["kind"] != kind or c["threads"] != threads or not c.get("ok"):
            continue
        if variant is not None and c.get("variant") != variant:
            continue
        if ar_mode is not None and c.get("ar_mode") != ar_mode:
            continue
        return c
    return None


def length_entry(cfg: dict[str, Any] | None, seconds: float) -> dict[str, Any] | None:
    if cfg is None:
        return None
    for e in cfg.get("lengths", []):
        if abs(e["seconds_target"] - seconds) < 1e-6:
            return e
    return None


def main_table(results: dict[str, Any]) -> str:
    lines = [
        "| config | thr | length s | frames | RTF median [min-max] | CPU util % | CPU RTF | "
        "frontend | "
        "text | SMD | "
        "decoder | first audio ms | SMD step (AR forward) ms | peak RSS MiB | programs / bundle MB "
        "| load s |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in results["configs"]:
        if not c.get("ok"):
            lines.append(
                f"| {label(c)} | {c['threads']} | - | - | FAILED: "
                f"{str(c.get('error', '?'))[:80]} | | | | | | | | | | | |"
            )
            continue
        binfo = results["bundles"].get(c.get("bundle_name", ""), {})
        size = binfo.get("program_bytes")
        shipped = binfo.get("shipped_bytes")
        for e in c["lengths"]:
            r = e["rtf"]
            st = e.get("stages_rtf", {})
            fa = e.get("first_audio_ms", {})
            lines.append(
                f"| {label(c)} | {c['threads']} | {e['seconds_target']:g} | {e['frames']} | "
                f"{_fmt(r['median'])} [{_fmt(r['min'])}-{_fmt(r['max'])}] | "
                f"{_fmt(100 * e['cpu_utilization'] if e.get('cpu_utilization') else None, 0)} | "
                f"{_fmt(e['cpu_rtf']['median'] if e.get('cpu_rtf') else None)} | "
                + " | ".join(_fmt(st.get(s)) if s in st else "-" for s in STAGES)
                + f" | {_fmt(fa.get('median') if fa else None, 0)} | "
                f"{_fmt(e.get('smd_step_ms') or e.get('ms_per_forward'), 2)} | "
                f"{_fmt(e.get('peak_rss_mib'), 0)} | "
                + (
                    f"{size / 1e6:.2f} / {shipped / 1e6:.2f} | "
                    if size and shipped and c["kind"] in ("pte", "cli")
                    else "- | "
                )
                + f"{_fmt(e.get('load_s', c.get('load_s')), 2)} |"
            )
    return "\n".join(lines)


def flops_table(results: dict[str, Any]) -> str:
    lines = [
        "| config | length s | SMD passes | SMD GFLOP/s-audio | pipeline GFLOP/s-audio | "
        "AR GFLOP/s-audio | AR passes | FLOP-limit RTF 1 thr | FLOP-limit RTF 2 thr |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    peak = results.get("matmul_peak_gflops", {})
    for name, f in results.get("flops", {}).items():
        for u in f["per_utterance"]:
            lim = []
            for t in ("1", "2"):
                p = peak.get(t, {}).get("square_2048")
                lim.append(_fmt(u["pipeline_gflops_per_audio_second"] / p, 4) if p else "-")
            lines.append(
                f"| {name} | {u['seconds']:g} | {u['smd_passes']} | "
                f"{u['smd_gflops_per_audio_second']:.2f} | "
                f"{u['pipeline_gflops_per_audio_second']:.2f} | "
                f"{u['ar_gflops_per_audio_second']:.2f} | {u['ar_forward_passes']} | "
                + " | ".join(lim)
                + " |"
            )
    return "\n".join(lines)


def ratios(results: dict[str, Any], threads: int, seconds: float) -> list[dict[str, Any]]:
    """Per variant at one thread count and length: speed-ups vs eager and the AR baseline."""
    out = []
    eager = length_entry(find(results, "eager", threads), seconds)
    ar = length_entry(find(results, "ar", threads, ar_mode="frame"), seconds)
    ar_cb = length_entry(find(results, "ar", threads, ar_mode="codebook"), seconds)
    for c in results["configs"]:
        if c["kind"] != "pte" or c["threads"] != threads or not c.get("ok"):
            continue
        e = length_entry(c, seconds)
        if e is None:
            continue
        rtf = e["rtf"]["median"]
        smd = e["stages_rtf"]["smd"]
        row: dict[str, Any] = {
            "variant": c["variant"],
            "threads": threads,
            "seconds": seconds,
            "rtf": rtf,
            "smd_rtf": smd,
            "first_audio_ms": e["first_audio_ms"]["median"],
        }
        if eager:
            row["vs_eager"] = eager["rtf"]["median"] / rtf
        for name, a in (("ar", ar), ("ar_codebook", ar_cb)):
            if a:
                ar_gen = a["rtf"]["median"]
                row[f"vs_{name}_generation"] = ar_gen / smd
                # the pipeline with the AR decoder in place of the SMD (other stages as measured)
                row[f"vs_{name}_pipeline"] = (rtf - smd + ar_gen) / rtf
        cli = length_entry(find(results, "cli", threads, variant=c["variant"]), seconds)
        if cli:
            row["cli_rtf"] = cli["rtf"]["median"]
            row["cli_first_audio_ms"] = cli["first_audio_ms"]["median"]
        out.append(row)
    return out


def ratio_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| variant | thr | length s | RTF (Python) | RTF (C CLI) | x vs eager | "
        "x vs AR gen (frame) | x vs AR pipeline (frame) | x vs AR gen (codebook) | "
        "first audio ms (Py / C) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['variant']} | {r['threads']} | {r['seconds']:g} | {_fmt(r['rtf'], 4)} | "
            f"{_fmt(r.get('cli_rtf'), 4)} | {_fmt(r.get('vs_eager'), 2)} | "
            f"{_fmt(r.get('vs_ar_generation'), 2)} | {_fmt(r.get('vs_ar_pipeline'), 2)} | "
            f"{_fmt(r.get('vs_ar_codebook_generation'), 2)} | "
            f"{_fmt(r['first_audio_ms'], 0)} / {_fmt(r.get('cli_first_audio_ms'), 0)} |"
        )
    return "\n".join(lines)


def targets(results: dict[str, Any], threads: int = 2, seconds: float = 10.0) -> dict[str, Any]:
    """The issue's targets for the best quantized bundle (2 threads, 10 s utterance)."""
    rows = [r for r in ratios(results, threads, seconds) if r["variant"] != "fp32"]
    if not rows:
        return {
            "evaluated": False,
            "reason": f"no quantized bundle measured at {threads} threads and {seconds:g} s",
        }
    best = min(rows, key=lambda r: r.get("cli_rtf") or r["rtf"])
    rtf = best["rtf"]
    out: dict[str, Any] = {
        "evaluated": True,
        "variant": best["variant"],
        "threads": threads,
        "seconds": seconds,
        "rtf": rtf,
        "cli_rtf": best.get("cli_rtf"),
    }
    out["rtf_ok"] = min(rtf, best.get("cli_rtf") or rtf) <= TARGETS["rtf_10s"]
    if "vs_eager" in best:
        out["vs_eager"] = best["vs_eager"]
        out["vs_eager_ok"] = best["vs_eager"] >= TARGETS["vs_eager"]
    if "vs_ar_generation" in best:
        out["vs_ar_generation"] = best["vs_ar_generation"]
        out["vs_ar_pipeline"] = best["vs_ar_pipeline"]
        out["vs_ar_ok"] = best["vs_ar_pipeline"] >= TARGETS["vs_ar"]
    fa = min(best["first_audio_ms"], best.get("cli_first_audio_ms") or math.inf)
    out["first_audio_ms"] = fa
    out["first_audio_ok"] = fa <= TARGETS["first_audio_ms"]
    return out


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    parts = [
        f"# MobileSpeech benchmark ({results['created']})",
        "",
        f"Machine: {m['cpu_model']}, {m['logical_cpus']} logical CPUs, load average at start "
        f"{', '.join(f'{x:.1f}' for x in (m.get('load_average') or []))} and end "
        f"{', '.join(f'{x:.1f}' for x in (results.get('load_average_end') or []))}. "
        f"Versions: "
        + ", ".join(f"{k} {v}" for k, v in results["versions"].items())
        + f". Commit {str(results['git'].get('commit'))[:10]}"
        + (" (dirty)" if results["git"].get("dirty") else "")
        + ".",
        "",
        f"Repeats {results['settings']['repeats']} after {results['settings']['warmup']} "
        "warm-up; stage columns are RTF (stage seconds / audio seconds, medians); first audio "
        "is streaming time to the first decoded chunk; peak RSS is the measuring process's "
        "VmHWM (Python workers include the interpreter, torch and the g2p model; the C CLI is "
        "the native runtime alone). The prompt voice is encoded once per voice and cached "
        "(prompt_encode_s in the JSON). C CLI stage columns are from its last run (the CLI "
        "reports one run's stage timings); its frontend is 0 (phoneme input). CPU util = "
        "process CPU seconds / (wall seconds x threads) while synthesizing: well below 100 % "
        "means the process waited for a core (a shared machine), and the wall-clock RTF is "
        "then pessimistic by about that factor (the C CLI figure covers its whole process). "
        "CPU RTF = CPU seconds of all threads per audio second (the work, without the "
        "waiting; with 1 thread about the idle-machine RTF).",
        "",
        main_table(results),
        "",
    ]
    rat = []
    for t in results["settings"]["threads"]:
        for s in results["settings"]["lengths"]:
            rat += ratios(results, t, s)
    if rat:
        parts += ["## Speed-ups", "", ratio_table(rat), ""]
    if results.get("flops"):
        peak = results.get("matmul_peak_gflops", {})
        parts += [
            "## FLOPs and the physical limit",
            "",
            "Peak fp32 matmul (torch.mm 2048^3, best of short batches): "
            + ", ".join(f"{t} thread(s) {v['square_2048']:.1f} GFLOP/s" for t, v in peak.items())
            + ". FLOP-limit RTF = pipeline FLOPs per second of audio / that peak.",
            "",
            flops_table(results),
            "",
        ]
        for name, f in results["flops"].items():
            c = f.get("flop_counter_check")
            if c:
                parts.append(
                    f"flop_counter cross-check ({name}, T={c['T']}, S={c['S']}, L={c['L']}): "
                    f"SMD step analytic {c['smd_step_analytic']:,} vs counted "
                    f"{c['smd_step_counted']:,} (rel. diff {c['smd_step_rel_diff']:.2e}); text "
                    f"{c['text_rel_diff']:.2e}; decoder chunk {c['decoder_chunk_rel_diff']:.2e}."
                )
        parts.append("")
    tg = results.get("targets")
    if tg and tg.get("evaluated"):

        def ok(k: str) -> str:
            return "yes" if tg.get(k) else "NO"

        parts += [
            f"## Targets ({', '.join(results.get('flops', {}).keys()) or '?'} config, "
            f"{tg['threads']} threads, {tg['seconds']:g} s; the issue sets them for 'small' at 2 "
            "threads, 10 s)",
            "",
            f"- RTF <= {TARGETS['rtf_10s']}: {tg['variant']} RTF {tg['rtf']:.4f} (Python), "
            f"{_fmt(tg.get('cli_rtf'), 4)} (C CLI) -> {ok('rtf_ok')}",
            f"- >= {TARGETS['vs_eager']:g}x eager fp32: {_fmt(tg.get('vs_eager'), 2)}x -> "
            f"{ok('vs_eager_ok')}",
            f"- >= {TARGETS['vs_ar']:g}x AR baseline (pipeline with AR in place of the SMD): "
            f"{_fmt(tg.get('vs_ar_pipeline'), 2)}x (generation only "
            f"{_fmt(tg.get('vs_ar_generation'), 2)}x) -> {ok('vs_ar_ok')}",
            f"- first audio <= {TARGETS['first_audio_ms']:g} ms: "
            f"{_fmt(tg.get('first_audio_ms'), 0)} ms -> {ok('first_audio_ok')}",
            "",
        ]
    for p in results.get("profiles", []):
        if p.get("markdown"):
            parts += [p["markdown"], ""]
    for note in results.get("notes", []) + contention_notes(results):
        parts.append(f"- {note}")
    return "\n".join(parts) + "\n"


def contention_notes(results: dict[str, Any], threshold: float = 0.8) -> list[str]:
    """Flag configurations that did not get their cores (CPU util below ``threshold``)."""
    flagged = {}
    for c in results["configs"]:
        utils = [e["cpu_utilization"] for e in c.get("lengths", []) if e.get("cpu_utilization")]
        if utils and min(utils) < threshold:
            flagged.setdefault(c["threads"], []).append(
                f"{label(c)} ({100 * min(utils):.0f}-{100 * max(utils):.0f} %)"
            )
    return [
        f"CONTENDED: at {t} thread(s) these ran with CPU util below {100 * threshold:.0f} % - "
        "another process held a core, so their wall-clock figures are upper bounds, not this "
        "CPU's speed: " + ", ".join(v)
        for t, v in sorted(flagged.items())
    ]


def main() -> None:
    """python -m benchmarks.report RESULTS.json [--plots]: re-render the Markdown (and plots)."""
    import argparse
    import json
    from pathlib import Path

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("results", type=Path)
    ap.add_argument("--plots", action="store_true")
    args = ap.parse_args()
    results = json.loads(args.results.read_text())
    md = markdown(results)
    args.results.with_suffix(".md").write_text(md)
    if args.plots:
        from .plots import plot_all

        plot_all(results, args.results.with_suffix(""))
    print(md)


if __name__ == "__main__":
    main()
