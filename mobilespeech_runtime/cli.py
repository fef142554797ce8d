"""The ``mobilespeech`` command: synthesize speech, describe a model, time it.

mobilespeech synth --text "Hello there." --out hello.wav            # bundled demo voice
mobilespeech synth --text "..." --prompt voice.wav --out out.wav --seed 3 --threads 2
mobilespeech info
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

from .errors import ConfigError, MobileSpeechError

DEMO_BUNDLE = Path(__file__).resolve().parent.parent / "models" / "demo"


def default_bundle() -> Path:
    return Path(os.environ.get("MOBILESPEECH_BUNDLE", DEMO_BUNDLE))


def _steps(value: str) -> tuple[int, ...]:
    try:
        return tuple(int(s) for s in value.split(","))
    except ValueError as e:
        raise argparse.ArgumentTypeError("steps are comma-separated integers, e.g. 8,2,1,1") from e


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer") from e
    if n < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return n


def _add_model_args(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument("--bundle", type=Path, help="bundle folder (default: the bundled demo model)")
    src.add_argument("--checkpoint", type=Path, help="training checkpoint (eager PyTorch backend)")
    src.add_argument(
        "--untrained-tiny",
        action="store_true",
        help="a randomly initialised tiny model: its output is NOISE (for testing)",
    )
    p.add_argument(
        "--backend",
        choices=["executorch", "eager"],
        default="executorch",
        help="with --bundle: run the .pte programs (default) or the eager reference",
    )
    p.add_argument("--threads", type=_positive_int, default=None, help="CPU threads")


def _load(args: argparse.Namespace):  # noqa: ANN202 - returns a Synthesizer
    from .synthesizer import Synthesizer

    if args.untrained_tiny:
        from .config import tiny_config
        from .eager import EagerBackend
        from .model import MobileSpeech

        print(
            "WARNING: --untrained-tiny uses random weights; the output is noise, not speech.",
            file=sys.stderr,
        )
        return Synthesizer(
            EagerBackend(MobileSpeech(tiny_config()), num_threads=args.threads), args.threads
        )
    if args.checkpoint:
        return Synthesizer.from_checkpoint(args.checkpoint, args.threads)
    bundle = args.bundle or default_bundle()
    if not bundle.exists():
        raise ConfigError(
            f"no model bundle at {bundle}; pass --bundle, --checkpoint, or build the "
            "demo bundle (see README)"
        )
    return Synthesizer.from_bundle(bundle, args.threads, backend=args.backend)


def cmd_synth(args: argparse.Namespace) -> int:
    from .audio import write_wav

    if args.text_file:
        try:
            text = Path(args.text_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"cannot read --text-file {args.text_file}: {e}") from e
    else:
        text = args.text
    synth = _load(args)
    synth.frontend.load()  # g2p model and lexicon load in seconds: keep that out of the RTF
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = synth.synthesize(
            text, args.prompt, seed=args.seed, steps=args.steps, length_scale=args.length_scale
        )
    elapsed = time.perf_counter() - t0
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    write_wav(args.out, result.samples, result.sample_rate)
    t = result.timings
    rtf = elapsed / max(result.seconds, 1e-9)
    print(f"wrote {args.out}: {result.seconds:.2f} s at {result.sample_rate} Hz")
    print(
        f"RTF: {elapsed:.3f}/{result.seconds:.3f} = {rtf:.3f} (first audio "
        f"{(t.first_audio or 0) * 1000:.0f} ms; SMD calls {t.smd_calls})"
    )
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    synth = _load(args)
    print(json.dumps(synth.info(), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="mobilespeech",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("synth", help="text (+ prompt voice) -> wav")
    txt = s.add_mutually_exclusive_group(required=True)
    txt.add_argument("--text")
    txt.add_argument("--text-file", type=Path)
    s.add_argument("--prompt", type=Path, help="a few seconds of the voice to clone (any wav)")
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--steps", type=_steps, default=None, help="steps per codec layer, e.g. 8,2,1,1")
    s.add_argument("--length-scale", type=float, default=1.0, help=">1 slower, <1 faster")
    _add_model_args(s)
    s.set_defaults(func=cmd_synth)
    i = sub.add_parser("info", help="describe a model")
    _add_model_args(i)
    i.set_defaults(func=cmd_info)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except MobileSpeechError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
