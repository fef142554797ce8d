"""``python -m mobilespeech_model.cli``: the PyTorch reference from the command line.

    python -m mobilespeech_model.cli synth --checkpoint runs/tts/model.pt --text "Hi." --out a.wav
    python -m mobilespeech_model.cli synth --bundle models/demo --backend eager --text "Hi." ...
    python -m mobilespeech_model.cli synth --untrained-tiny --text "Hi." --out noise.wav
    python -m mobilespeech_model.cli info --checkpoint runs/tts/model.pt

What the runtime's ``mobilespeech`` command did with ``--checkpoint``, ``--untrained-tiny`` and
``--backend eager`` before the runtime became a binding over the C++ core. It runs the eager
reference loop (``ReferenceSynthesizer``): for researchers checking a checkpoint before
export, not for serving. Exit codes are the runtime's (errors.exit_code).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from mobilespeech_runtime.checks import check_out_path, check_text, check_threads
from mobilespeech_runtime.errors import FileAccessError, MobileSpeechError, exit_code

from .audio import MAX_INPUT_FRAMES, MAX_INPUT_SECONDS, read_audio, write_wav


def _load(args: argparse.Namespace):  # noqa: ANN202 - returns a ReferenceSynthesizer
    from .reference import ReferenceSynthesizer

    threads = check_threads(args.threads)
    if args.untrained_tiny:
        from .config import tiny_config
        from .eager import EagerBackend
        from .nn import MobileSpeech

        print("WARNING: --untrained-tiny uses random weights; the output is noise.",
              file=sys.stderr)
        model = MobileSpeech(tiny_config())
        return ReferenceSynthesizer(EagerBackend(model, num_threads=threads), threads)
    if args.checkpoint:
        if not Path(args.checkpoint).is_file():
            raise FileAccessError(f"no checkpoint file at {args.checkpoint}")
        return ReferenceSynthesizer.from_checkpoint(args.checkpoint, threads)
    if args.bundle is None:
        raise FileAccessError("give --checkpoint, --bundle or --untrained-tiny")
    return ReferenceSynthesizer.from_bundle(args.bundle, threads, backend=args.backend)


def cmd_synth(args: argparse.Namespace) -> int:
    check_out_path(args.out, keep=[args.prompt, args.checkpoint], protect=[args.bundle])
    synth = _load(args)
    check_text(args.text, synth.config.frontend.max_chars)
    prompt, rate = None, None
    if args.prompt is not None:
        prompt, rate = read_audio(args.prompt, MAX_INPUT_SECONDS, "--prompt", MAX_INPUT_FRAMES)
    steps = tuple(int(s) for s in args.steps.split(",")) if args.steps else None
    t0 = time.perf_counter()
    result = synth.synthesize(args.text, prompt, rate, seed=args.seed, steps=steps,
                              length_scale=args.length_scale)
    elapsed = time.perf_counter() - t0
    write_wav(args.out, result.samples, result.sample_rate)
    print(f"wrote {args.out}: {result.seconds:.2f} s at {result.sample_rate} Hz "
          f"(reference loop, RTF {elapsed / max(result.seconds, 1e-9):.3f})")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    print(json.dumps(_load(args).info(), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m mobilespeech_model.cli", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("synth", help="text (+ prompt voice) -> wav, by the reference loop")
    s.add_argument("--text", required=True)
    s.add_argument("--prompt", type=Path)
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--steps", default=None, help="steps per codec layer, e.g. 8,2,1,1")
    s.add_argument("--length-scale", type=float, default=1.0)
    s.set_defaults(func=cmd_synth)
    i = sub.add_parser("info", help="describe a model")
    i.set_defaults(func=cmd_info)
    for p in (s, i):
        src = p.add_mutually_exclusive_group()
        src.add_argument("--checkpoint", type=Path, help="training checkpoint (eager PyTorch)")
        src.add_argument("--bundle", type=Path, help="bundle folder")
        src.add_argument("--untrained-tiny", action="store_true",
                         help="a randomly initialised tiny model: its output is NOISE")
        p.add_argument("--backend", choices=["executorch", "eager"], default="eager",
                       help="with --bundle: its checkpoint in eager PyTorch (default) or its "
                            ".pte programs through ExecuTorch's Python runtime")
        p.add_argument("--threads", type=int, default=None)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except MobileSpeechError as e:
        print(f"error: {e}", file=sys.stderr)
        return exit_code(e)


if __name__ == "__main__":
    sys.exit(main())
