"""Small shared helpers: statistics, process memory, machine description, subprocess env."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

# provenance of a measurement (machine, versions, commit): export's, which release reports use too
from export.provenance import cpu_flags, cpu_model, git_info, machine_info, versions  # noqa: F401

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
