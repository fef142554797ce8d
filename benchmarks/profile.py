"""Operator profile of the SMD step and the codec decoder .pte programs (ETDump + Inspector).

python -m benchmarks.profile --bundle DIR --threads 2 --frames 500 --prompt-frames 150

The executorch wheel records XNNPACK's per-operator timings inside each delegate call and
every portable (non-delegated) kernel, so the profile shows which ops dominate and whether
the ops left outside XNNPACK matter. Besides the operator table it measures:

- the step time without profiling (ETDump adds a little overhead);
- all times are the best of ``runs`` calls (min, not median): on a shared CPU other processes
  only add time, and a few-ms call is easily preempted;
- the same step with a 2-frame prompt: the difference is what cross-attention to the prompt
  costs per step (memory K/V projections + scores); the K/V projections alone are constant
  across the schedule's steps and could be computed once per utterance (their FLOP share
  comes from benchmarks/flops.py);
- the Python runtime loop's own per-step work (counter-based noise for T x (V+1) values).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import torch

STRUCTURAL = {"Method::execute", "Method::init", "Program::load_method", "OPERATOR_CALL"}


def _op_kind(name: str) -> tuple[str, str]:
    """('portable', 'topk.values') / ('xnnpack', 'Fully Connected (NC, F32) GEMM') / ..."""
    if name.startswith("native_call_"):
        op = name[len("native_call_") :]
        return "portable", re.sub(r"(_out|\.out|_out\b)$", "", op)
    if name == "DELEGATE_CALL":
        return "delegate_call", name
    return "xnnpack", re.sub(r" #\d+$", "", name)


def _best(raw: list[float], skip_first: bool = True) -> float:
    """Best of the runs (the first, a warm-up, skipped): on a shared CPU other processes only
    ever add time, so the minimum is the least contaminated estimate of an op's cost."""
    vals = raw[1:] if skip_first and len(raw) > 1 else raw
    return min(vals) if vals else 0.0


def profile_method(pte: Path, method: str, inputs: list[torch.Tensor], runs: int) -> dict[str, Any]:
    from executorch.devtools import Inspector
    from executorch.runtime import Runtime

    rt = Runtime.get()
    # plain timing first (no ETDump)
    prog = rt.load_program(pte)
    m = prog.load_method(method)
    m.execute(inputs)
    plain = []
    for _ in range(runs):
        t0 = time.perf_counter()
        m.execute(inputs)
        plain.append(time.perf_counter() - t0)
    del m, prog
    prog = rt.load_program(pte, enable_etdump=True)
    m = prog.load_method(method)
    for _ in range(runs + 1):  # the first is a warm-up (skipped)
        m.execute(inputs)
    with tempfile.TemporaryDirectory() as tmp:
        etdump = Path(tmp) / "run.etdp"
        prog.write_etdump_result_to_file(str(etdump), str(Path(tmp) / "debug.bin"))
        insp = Inspector(etdump_path=str(etdump))
        raws: list[tuple[str, str, list[float]]] = []  # (kind, op, per-run ms)
        execute: list[float] = []
        for block in insp.event_blocks:
            if block.name != "Execute":
                continue
            for e in block.events:
                if e.perf_data is None:
                    continue
                raw = [float(x) for x in e.perf_data.raw]
                if e.name == "Method::execute":
                    execute = raw
                elif e.name not in STRUCTURAL:
                    raws.append((*_op_kind(e.name), raw))
    n_runs = len(execute)
    # the least-disturbed run (first run skipped as a warm-up): its own split of the time
    best_run = min(range(1, n_runs), key=lambda i: execute[i]) if n_runs > 1 else 0

    def run_total(kind: str, i: int) -> float:
        return sum(r[i] for k, _, r in raws if k == kind and i < len(r))

    execute_ms = execute[best_run] if execute else 0.0
    delegate_total = run_total("delegate_call", best_run)
    port = run_total("portable", best_run)
    delegate_calls = sum(1 for k, _, _ in raws if k == "delegate_call")
    by_op: dict[tuple[str, str], float] = defaultdict(float)
    count: dict[tuple[str, str], int] = defaultdict(int)
    for kind, op, raw in raws:
        if kind != "delegate_call":
            by_op[(kind, op)] += _best(raw)  # per op: best of its runs
            count[(kind, op)] += 1
    xnn_best = sum(v for (k, _), v in by_op.items() if k == "xnnpack")
    port_best = sum(v for (k, _), v in by_op.items() if k == "portable")
    ops = sorted(
        (
            {
                "kind": k,
                "op": op,
                "ms": ms,
                "instances": count[(k, op)],
                "share": ms / (xnn_best + port_best) if xnn_best + port_best else 0.0,
            }
            for (k, op), ms in by_op.items()
        ),
        key=lambda r: -r["ms"],
    )
    return {
        "program": pte.name,
        "method": method,
        "runs": runs,
        "plain_ms": {"median": statistics.median(plain) * 1e3, "min": min(plain) * 1e3},
        # the fastest profiled run, split into XNNPACK delegate calls, portable kernels, rest
        "profiled_execute_ms": execute_ms,
        "delegate_calls": delegate_calls,
        "delegate_ms": delegate_total,
        "portable_ops_ms": port,
        "other_ms": max(0.0, execute_ms - delegate_total - port),
        "delegate_share": delegate_total / execute_ms if execute_ms else 0.0,
        "portable_share": port / execute_ms if execute_ms else 0.0,
        # per operator, best of the runs (preemption by other processes removed): their sum
        # estimates the call's time on an idle core
        "ops_best_sum_ms": xnn_best + port_best,
        "xnnpack_ops_best_ms": xnn_best,
        "portable_ops_best_ms": port_best,
        "portable_share_of_ops": port_best / (xnn_best + port_best) if xnn_best else 0.0,
        "ops": ops,
    }


def smd_inputs(cfg: Any, t: int, s: int, n_phonemes: int, seed: int = 0) -> list[torch.Tensor]:
    """A mid-schedule step: layer 0 with half its frames still masked."""
    g = torch.Generator().manual_seed(seed)
    n, v, d = cfg.codec.n_codebooks, cfg.codec.codebook_size, cfg.model.d_model
    tokens = torch.full((1, n, t), v, dtype=torch.long)
    filled = torch.rand(t, generator=g) < 0.5
    tokens[0, 0, filled] = torch.randint(0, v, (int(filled.sum()),), generator=g)
    return [
        tokens,
        torch.tensor([0]),
        torch.randn(1, n_phonemes, d, generator=g),
        torch.sort(torch.randint(0, n_phonemes, (1, t), generator=g), dim=1).values,
        torch.randn(1, s, d, generator=g),
        torch.rand(1, t, v + 1, generator=g),
        torch.tensor([0.5]),
        torch.tensor([t // 4]),
    ]


def decoder_inputs(cfg: Any, seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    c = cfg.codec
    w = c.decode_chunk_frames + 2 * c.decode_context_frames
    return [torch.randint(0, c.codebook_size, (1, c.n_codebooks, w), generator=g), torch.ones(1, w)]


def run(
    bundle: Path, threads: int, frames: int | None, prompt_frames: int | None, runs: int
) -> dict[str, Any]:
    from mobilespeech_model import rng
    from mobilespeech_model.bundle import Bundle
    from mobilespeech_model.executorch_backend import _load_runtime

    from . import flops

    _load_runtime()
    torch.set_num_threads(threads)
    from executorch.extension.pybindings import portable_lib

    portable_lib._unsafe_reset_threadpool(threads)
    b = Bundle.open(bundle)
    cfg = b.config
    t = frames or min(cfg.model.max_frames, int(round(10 * cfg.codec.frame_rate)))
    s = prompt_frames or min(cfg.model.max_prompt_frames, int(round(3 * cfg.codec.frame_rate)))
    n_ph = max(2, min(cfg.model.max_phonemes, t // 5))
    smd = profile_method(b.root / "smd.pte", "step", smd_inputs(cfg, t, s, n_ph), runs)
    dec = profile_method(b.root / "decoder.pte", "decode", decoder_inputs(cfg), runs)
    short = profile_method(b.root / "smd.pte", "step", smd_inputs(cfg, t, 2, n_ph), runs)
    v = cfg.codec.codebook_size
    ts = []
    for i in range(max(3, runs)):
        t0 = time.perf_counter()
        torch.from_numpy(rng.uniform(0, 0, i, t * (v + 1))).view(1, t, v + 1)
        ts.append(time.perf_counter() - t0)
    step_flops = flops.smd_step_flops(cfg, t, s)
    cross = step_flops["cross_attn_kv"] + step_flops["cross_attn_scores"]
    return {
        "bundle": str(bundle),
        "variant": b.variant,
        "config": cfg.name,
        "threads": threads,
        "T": t,
        "S": s,
        "L": n_ph,
        "smd_step": smd,
        "decoder_chunk": dec,
        "smd_step_flops": step_flops,
        "smd_step_gflops_per_s": step_flops["total"] / (smd["plain_ms"]["min"] / 1e3) / 1e9,
        "smd_step_gflops_per_s_ops_best": step_flops["total"]
        / (smd["ops_best_sum_ms"] / 1e3)
        / 1e9,
        "decoder_chunk_gflops_per_s": flops.decoder_chunk_flops(cfg)
        / (dec["plain_ms"]["min"] / 1e3)
        / 1e9,
        "cross_attention": {
            # per-op best sums (robust to preemption) with the real prompt and a 2-frame one
            "step_ms_prompt_S": smd["ops_best_sum_ms"],
            "step_ms_prompt_2": short["ops_best_sum_ms"],
            "measured_cost_ms": smd["ops_best_sum_ms"] - short["ops_best_sum_ms"],
            "measured_share": (smd["ops_best_sum_ms"] - short["ops_best_sum_ms"])
            / smd["ops_best_sum_ms"],
            "kv_flop_share": step_flops["cross_attn_kv"] / step_flops["total"],
            "kv_plus_scores_flop_share": cross / step_flops["total"],
        },
        "head_flop_share": step_flops["head"] / step_flops["total"],
        "runtime_noise_ms": min(ts) * 1e3,
    }


def to_markdown(p: dict[str, Any], top: int = 12) -> str:
    lines = [
        f"### Profile: {p['config']} {p['variant']}, {p['threads']} threads "
        f"(SMD step T={p['T']}, S={p['S']}, L={p['L']})",
        "",
    ]
    for key, title in (("smd_step", "SMD step"), ("decoder_chunk", "Decoder chunk")):
        r = p[key]
        lines += [
            f"**{title}** ({r['program']}): {r['plain_ms']['min']:.2f} ms per call (best of "
            f"{r['runs']}; median {r['plain_ms']['median']:.2f}). Fastest profiled run "
            f"{r['profiled_execute_ms']:.2f} ms = {r['delegate_calls']} XNNPACK delegate calls "
            f"{r['delegate_ms']:.2f} ms + portable kernels {r['portable_ops_ms']:.2f} ms + "
            f"other {r['other_ms']:.2f} ms. Sum of per-op best times {r['ops_best_sum_ms']:.2f} "
            f"ms (XNNPACK {r['xnnpack_ops_best_ms']:.2f}, portable "
            f"{r['portable_ops_best_ms']:.2f} = {100 * r['portable_share_of_ops']:.1f} %).",
            "",
            "| kind | op | ms/call (best) | share of op time | instances |",
            "|---|---|---:|---:|---:|",
        ]
        for o in r["ops"][:top]:
            lines.append(
                f"| {o['kind']} | {o['op']} | {o['ms']:.3f} | {100 * o['share']:.1f} % | "
                f"{o['instances']} |"
            )
        lines.append("")
    c = p["cross_attention"]
    lines += [
        f"SMD step throughput {p['smd_step_gflops_per_s']:.1f} GFLOP/s (per-op best: "
        f"{p['smd_step_gflops_per_s_ops_best']:.1f}); decoder "
        f"{p['decoder_chunk_gflops_per_s']:.1f} GFLOP/s.",
        f"Cross-attention to the prompt (S={p['S']} vs 2 frames, per-op best sums): "
        f"{c['measured_cost_ms']:.2f} ms of {c['step_ms_prompt_S']:.2f} ms per step "
        f"({100 * c['measured_share']:.1f} %); "
        f"memory K/V projections are {100 * c['kv_flop_share']:.1f} % of step FLOPs "
        f"(K/V + scores {100 * c['kv_plus_scores_flop_share']:.1f} %).",
        f"Output head: {100 * p['head_flop_share']:.1f} % of step FLOPs (computes all "
        f"codebooks, uses one). Runtime noise generation: {p['runtime_noise_ms']:.2f} ms/step.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--frames", type=int, default=None, help="SMD frames (default 10 s)")
    ap.add_argument("--prompt-frames", type=int, default=None, help="default 3 s")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", type=Path, default=None, help="write the JSON here")
    args = ap.parse_args()
    p = run(args.bundle, args.threads, args.frames, args.prompt_frames, args.runs)
    if args.out:
        args.out.write_text(json.dumps(p, indent=1))
    print(to_markdown(p))


if __name__ == "__main__":
    main()
