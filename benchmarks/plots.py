"""PNG plots of a results dict: RTF vs length, per-stage breakdown, variants side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .labels import STAGES, label


def plot_all(results: dict[str, Any], out_dir: Path) -> list[Path]:
    """Writes the plots; returns their paths (empty, with a note, without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        results.setdefault("notes", []).append(
            "plots skipped: matplotlib is not installed (pip install -e .[test])"
        )
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    threads = results["settings"]["threads"]
    configs = [c for c in results["configs"] if c.get("ok") and c.get("lengths")]
    paths = []

    # 1. RTF vs utterance length, one panel per thread count, with the FLOP limit
    fig, axes = plt.subplots(1, len(threads), figsize=(6 * len(threads), 4.5), squeeze=False)
    for ax, t in zip(axes[0], threads, strict=True):
        for c in configs:
            if c["threads"] != t:
                continue
            xs = [e["seconds_target"] for e in c["lengths"]]
            ys = [e["rtf"]["median"] for e in c["lengths"]]
            lo = [e["rtf"]["median"] - e["rtf"]["min"] for e in c["lengths"]]
            hi = [e["rtf"]["max"] - e["rtf"]["median"] for e in c["lengths"]]
            style = "--" if c["kind"] == "cli" else (":" if c["kind"] == "ar" else "-")
            ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o" + style, capsize=3, label=label(c))
        peak = results.get("matmul_peak_gflops", {}).get(str(t), {}).get("square_2048")
        for name, f in results.get("flops", {}).items():
            if peak:
                xs = [u["seconds"] for u in f["per_utterance"]]
                ys = [u["pipeline_gflops_per_audio_second"] / peak for u in f["per_utterance"]]
                ax.plot(xs, ys, "k-.", lw=1, label=f"FLOP limit ({name})")
        ax.axhline(0.05, color="grey", lw=0.8, ls=":")
        ax.set_yscale("log")
        ax.set_xlabel("utterance length (s)")
        ax.set_ylabel("RTF (lower is faster)")
        ax.set_title(f"{t} thread(s)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    p = out_dir / "rtf_vs_length.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    paths.append(p)

    # 2. per-stage breakdown at the reference length (10 s, else the longest measured)
    lengths = results["settings"]["lengths"]
    ref = 10.0 if 10.0 in [float(x) for x in lengths] else float(max(lengths))
    rows = []
    for c in configs:
        e = next((e for e in c["lengths"] if abs(e["seconds_target"] - ref) < 1e-6), None)
        if e and c["kind"] != "ar":
            rows.append((f"{label(c)}\n{c['threads']} thr", e["stages_rtf"]))
    if rows:
        fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(rows)), 4.5))
        bottom = [0.0] * len(rows)
        for s in STAGES:
            vals = [r[1].get(s, 0.0) for r in rows]
            ax.bar(range(len(rows)), vals, bottom=bottom, label=s)
            bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
        ax.set_xticks(range(len(rows)), [r[0] for r in rows], fontsize=7, rotation=30)
        ax.set_ylabel(f"RTF at {ref:g} s (stacked stages)")
        ax.set_title("Per-stage breakdown")
        ax.legend()
        ax.grid(True, axis="y", alpha=0.3)
        fig.tight_layout()
        p = out_dir / "stages.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(p)

    # 3. variants side by side: RTF, first audio, peak RSS, size, load time
    pte = [c for c in configs if c["kind"] in ("pte", "cli")]
    if pte:
        metrics = [
            ("RTF", lambda c, e: e["rtf"]["median"]),
            ("first audio (ms)", lambda c, e: e["first_audio_ms"]["median"]),
            ("peak RSS (MiB)", lambda c, e: e.get("peak_rss_mib")),
            (
                "bundle (MB)",
                lambda c, e: (
                    results["bundles"].get(c.get("bundle_name"), {}).get("program_bytes", 0) / 1e6
                ),
            ),
            ("load (s)", lambda c, e: e.get("load_s", c.get("load_s"))),
        ]
        fig, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 4.2))
        names = [f"{label(c)} {c['threads']}t" for c in pte]
        for ax, (title, fn) in zip(axes, metrics, strict=True):
            vals = []
            for c in pte:
                e = next(
                    (e for e in c["lengths"] if abs(e["seconds_target"] - ref) < 1e-6),
                    c["lengths"][-1],
                )
                v = fn(c, e)
                vals.append(float(v) if v is not None else 0.0)
            colors = ["C0" if c["kind"] == "pte" else "C1" for c in pte]
            ax.bar(range(len(pte)), vals, color=colors)
            ax.set_xticks(range(len(pte)), names, fontsize=6, rotation=60)
            ax.set_title(f"{title} @ {ref:g} s" if title in ("RTF", "first audio (ms)") else title)
            ax.grid(True, axis="y", alpha=0.3)
        fig.tight_layout()
        p = out_dir / "variants.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(p)
    return paths
