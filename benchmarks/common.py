"""Small shared helpers: statistics, process memory, machine description, subprocess env."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def stats(values: list[float]) -> dict[str, float]:
    """Median and spread of repeated measurements (min, max, interquartile range)."""
    v = sorted(float(x) for x in values)
    if not v:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan"), "iqr": 0.0}
    if len(v) >= 4:
        q = statistics.quantiles(v, n=4, method="inclusive")
        iqr = q[2] - q[0]
    else:
        iqr = v[-1] - v[0]
    return {"median": statistics.median(v), "min": v[0], "max": v[-1], "iqr": iqr, "n": len(v)}


def rss_mib() -> dict[str, float]:
    """Current (VmRSS) and peak (VmHWM) resident set size of this process, in MiB."""
    out = {"current": float("nan"), "peak": float("nan")}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out["current"] = int(line.split()[1]) / 1024.0
            elif line.startswith("VmHWM:"):
                out["peak"] = int(line.split()[1]) / 1024.0
    except OSError:
        import resource

        out["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return out


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                keep = ("avx", "fma", "vnni", "amx", "neon", "asimd", "sve", "dotprod")
                return sorted(f for f in line.split(":", 1)[1].split() if f.startswith(keep))
    except OSError:
        pass
    return []


def machine_info() -> dict[str, Any]:
    mem = float("nan")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) / 1024.0 / 1024.0
    except OSError:
        pass
    return {
        "hostname": platform.node(),
        "cpu_model": cpu_model(),
        "cpu_flags": cpu_flags(),
        "logical_cpus": os.cpu_count(),
        "affinity_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": round(mem, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("torch", "executorch", "torchao", "numpy", "mobilespeech", "matplotlib"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def git_info() -> dict[str, Any]:
    def run(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=30
        ).stdout.strip()

    try:
        commit = run("rev-parse", "HEAD")
        dirty = bool(run("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit or None, "dirty": dirty}


def thread_env(threads: int) -> dict[str, str]:
    """Environment for a measurement subprocess: exactly ``threads`` threads, no spinning.

    OMP_WAIT_POLICY=PASSIVE keeps idle OpenMP workers from spinning on a shared machine (two
    spinning pools on 2 cores slowed a concurrent training run 7x).
    """
    env = dict(os.environ)
    env.update(
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
        OMP_WAIT_POLICY="PASSIVE",
        PYTHONWARNINGS="ignore",
        TQDM_DISABLE="1",
    )
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
