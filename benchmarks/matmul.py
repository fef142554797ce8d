"""This CPU's measured fp32 matmul throughput (torch.mm), the yardstick for the FLOP limit.

Run as a subprocess per thread count (``python -m benchmarks.matmul --threads N``) so the
thread setting is clean. Reports the best of several timed batches (a peak, not a median: a
shared machine only ever slows a batch down), for a large square matmul and for the skinny
shapes the small model actually runs (K = d_model).
"""

from __future__ import annotations

import argparse
import json
import time

SHAPES = {
    "square_2048": (2048, 2048, 2048),
    "smd_ffn_up_T500_d128": (500, 128, 512),
    "smd_head_T500_d128": (500, 128, 2048),
}


def measure(threads: int, seconds: float = 1.0) -> dict[str, float]:
    import torch

    torch.set_num_threads(threads)
    out: dict[str, float] = {"threads": threads}
    for name, (m, k, n) in SHAPES.items():
        a = torch.randn(m, k)
        b = torch.randn(k, n)
        c = torch.empty(m, n)
        torch.mm(a, b, out=c)
        flops = 2.0 * m * k * n
        reps = 1
        while (
            True
        ):  # size a batch to ~20 ms (short: a best-of over short batches finds uncontended slices)
            t0 = time.perf_counter()
            for _ in range(reps):
                torch.mm(a, b, out=c)
            dt = time.perf_counter() - t0
            if dt > 0.02:
                break
            reps *= 2
        best = dt / reps
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            for _ in range(reps):
                torch.mm(a, b, out=c)
            best = min(best, (time.perf_counter() - t0) / reps)
        out[name] = flops / best / 1e9
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=1.0)
    args = ap.parse_args()
    print(json.dumps(measure(args.threads, args.seconds)))


if __name__ == "__main__":
    main()
