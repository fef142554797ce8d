"""Speed and size of the Vocos student's vocoder.pte at several widths and depths.

    python -m benchmarks.vocos_sizes --threads 1      # -> benchmarks/results/vocos_sizes.md

Untrained weights (speed and size do not depend on them): one decode window of the demo's
config (168 mel frames = 1.95 s) per call through XNNPACK, fp32 and 8da4w (the head fp32, as a
bundle exports it), median of 9 calls after one. Quality needs a trained student per size.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIZES = ((256, 4), (256, 8), (384, 8), (512, 8))


def measure(dim: int, layers: int, variant: str) -> dict:
    from export.lower import lower_program
    from export.programs import vocoder_spec
    from mobilespeech_model._et_import import runtime
    from mobilespeech_model.config import VocoderConfig, small_config
    from mobilespeech_model.nn.vocos_vocoder import VocosVocoder

    cfg = VocoderConfig(kind="vocos", vocos_dim=dim, vocos_intermediate=3 * dim,
                        vocos_layers=layers)  # fmt: skip
    voc = VocosVocoder(cfg).eval()
    spec = vocoder_spec(voc, small_config())
    spec.methods[0].quantize = variant != "fp32"
    buf = lower_program(spec, variant, {}).buffer
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vocoder.pte"
        path.write_bytes(buf)
        method = runtime().load_program(path).load_method("vocode")
        mel = spec.methods[0].inputs[0]
        method.execute([mel])
        times = []
        for _ in range(9):
            t0 = time.perf_counter()
            method.execute([mel])
            times.append(time.perf_counter() - t0)
    seconds = mel.shape[-1] * 256 / 22050
    call = statistics.median(times)
    return {"dim": dim, "layers": layers, "variant": variant, "mb": len(buf) / 1e6,
            "params_m": sum(p.numel() for p in voc.parameters()) / 1e6,
            "call_ms": 1000 * call, "rtf": call / seconds}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.vocos_sizes", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out-dir", type=Path, default=REPO / "benchmarks" / "results")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    rows = [measure(d, n, v) for d, n in SIZES for v in ("fp32", "8da4w")]
    lines = [f"# Vocos student sizes ({time.strftime('%Y-%m-%d')}, {args.threads} thread(s))", "",
             "| width x blocks | params | variant | vocoder.pte MB | ms per 1.95 s window | RTF |",
             "|---|---:|---|---:|---:|---:|"]  # fmt: skip
    for r in rows:
        lines.append(f"| {r['dim']} x {r['layers']} | {r['params_m']:.2f} M | {r['variant']} | "
                     f"{r['mb']:.2f} | {r['call_ms']:.1f} | {r['rtf']:.4f} |")  # fmt: skip
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "vocos_sizes.json").write_text(json.dumps(rows, indent=1))
    (args.out_dir / "vocos_sizes.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
