"""The same measurement through the C ABI: ``mobilespeech_cli --bench N --json``.

The CLI reads phoneme symbols (``--phonemes``, sentences separated by '|'), so it gets exactly
the ids and ``--length-scale`` the Python worker calibrated for the same bundle, hence the
same frame counts. Each length is a fresh CLI process: its load time and peak RSS (VmHWM) are
the native runtime's own, without Python.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from pathlib import Path
from typing import Any

from .common import REPO, thread_env

DEFAULT_CLI = REPO / "build" / "native" / "mobilespeech_cli"


def find_cli(path: str | None) -> Path | None:
    p = Path(path) if path else DEFAULT_CLI
    return p if p.is_file() and os.access(p, os.X_OK) else None


def run_cli(
    cli: Path,
    bundle: Path,
    inputs: dict[str, Any],
    threads: int,
    repeats: int,
    warmup: int,
    timeout: float = 900.0,
) -> dict[str, Any]:
    """One bundle at one thread count, every calibrated length; a failure is recorded."""
    lengths = []
    for key, inp in sorted(inputs.items(), key=lambda kv: float(kv[0])):
        phonemes = " | ".join([inp["symbols"]] * int(inp["sentences"]))
        cmd = [
            str(cli),
            "--bundle",
            str(bundle),
            "--phonemes",
            phonemes,
            "--length-scale",
            repr(float(inp["length_scale"])),
            "--threads",
            str(threads),
            "--seed",
            "0",
            "--bench",
            str(repeats),
            "--warmup",
            str(warmup),
            "--json",
        ]
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        try:
            p = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout, env=thread_env(threads)
            )
            wall = time.perf_counter() - t0
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": f"timed out after {timeout} s", "lengths": lengths}
        line = next((x for x in reversed(p.stdout.splitlines()) if x.startswith("{")), None)
        if p.returncode != 0 or line is None:
            return {
                "ok": False,
                "error": f"exit {p.returncode}: {p.stderr.strip()[-2000:]}",
                "lengths": lengths,
            }
        r = json.loads(line)
        audio = float(r["audio_s"])
        st = r.get("stages_s", {})
        lengths.append(
            {
                "seconds_target": float(key),
                "frames": int(r.get("frames", 0)),
                "audio_s": audio,
                "smd_calls": int(r.get("smd_calls", 0)),
                "rtf": {**r["rtf"], "n": int(r.get("runs", repeats))},
                # stages of the last run (the CLI reports one run's timings)
                "stages_s": {
                    k: float(st.get(k, 0.0))
                    for k in ("frontend", "prompt", "text", "smd", "decoder")
                },
                "stages_rtf": {
                    k: float(st.get(k, 0.0)) / audio
                    for k in ("frontend", "prompt", "text", "smd", "decoder")
                },
                "first_audio_ms": r["first_audio_ms"],
                "load_s": float(r["load_ms"]) / 1e3,
                "peak_rss_mib": float(r["peak_rss_mib"]),
                "threads_reported": r.get("threads"),
                # whole CLI process (load, warm-up and all runs): CPU seconds / (wall x threads)
                "cpu_utilization": cpu / (wall * threads) if wall > 0 else None,
                "raw": r,
            }
        )
    return {
        "ok": True,
        "load_s": min((x["load_s"] for x in lengths), default=float("nan")),
        "rss_mib": {"peak": max((x["peak_rss_mib"] for x in lengths), default=float("nan"))},
        "lengths": lengths,
    }
