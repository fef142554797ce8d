"""The ``mobilespeech`` command: synthesize speech, resynthesize through the codec, describe.

mobilespeech synth --text "Hello there." --out hello.wav            # bundled demo voice
mobilespeech synth --text "..." --prompt voice.wav --out out.wav --seed 3 --threads 2
mobilespeech resynth --in speech.wav --out codec.wav                # what the codec keeps
mobilespeech info

Arguments, text, paths and the bundle's manifest are checked before torch or ExecuTorch are
imported, so a bad input is reported in well under a second. Only our own lines reach stderr
(errors, and warnings we mean) unless ``--verbose``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .checks import (
    MAX_THREADS,
    SEED_MAX,
    check_length_scale,
    check_out_path,
    check_steps,
    check_text,
    read_text_file,
)
from .errors import BundleError, ConfigError, InvalidAudioError, MobileSpeechError

DEMO_BUNDLE = Path(__file__).resolve().parent.parent / "models" / "demo"
PACKAGE_DIR = Path(__file__).resolve().parent


def installed_demo_bundle() -> Path:
    """The demo bundle as ``pip install .`` places it (setup.cfg data_files)."""
    return Path(sys.prefix) / "share" / "mobilespeech" / "models" / "demo"


def default_bundle() -> Path:
    env = os.environ.get("MOBILESPEECH_BUNDLE")
    if env:
        return Path(env)
    if (DEMO_BUNDLE / "manifest.json").is_file():
        return DEMO_BUNDLE
    return installed_demo_bundle()


# ---- argument types (argparse reports their errors with status 2) ---------------------------
def steps_arg(value: str) -> tuple[int, ...]:
    try:
        return tuple(int(s) for s in value.split(","))
    except ValueError as e:
        raise argparse.ArgumentTypeError(
            f"{value!r}: steps are comma-separated integers, e.g. 8,2,1,1"
        ) from e


def _seed(value: str) -> int:
    try:
        n = int(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer") from e
    if not 0 <= n <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"{value} is outside 0..2**64-1")
    return n


def _threads(value: str) -> int:
    try:
        n = int(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer") from e
    if not 1 <= n <= MAX_THREADS:
        raise argparse.ArgumentTypeError(f"must be in 1..{MAX_THREADS}, got {n}")
    return n


def _number(value: str) -> float:
    try:
        return check_length_scale(value)
    except ConfigError as e:
        raise argparse.ArgumentTypeError(str(e)) from e


# ---- quiet: native log lines of ExecuTorch / XNNPACK go nowhere unless --verbose ------------
_REAL_STDERR: list[Any] = []


def err() -> Any:
    """Where our own lines go: the real stderr, also while the runtime's are discarded."""
    return _REAL_STDERR[-1] if _REAL_STDERR else sys.stderr


@contextlib.contextmanager
def quiet_native_stderr(verbose: bool) -> Iterator[None]:
    """Discard what the runtime writes to stderr: C++ lines on descriptor 2, and ExecuTorch's
    log lines, which its Python bindings write through ``sys.stderr``. Our own lines use
    ``err()``, the real stderr."""
    try:
        uses_fd2 = sys.stderr is not None and sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        uses_fd2 = False  # stderr is captured (pytest): leave it alone
    if verbose or not uses_fd2:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    old = sys.stderr
    real = open(saved, "w", buffering=1, closefd=False, errors="backslashreplace")  # noqa: SIM115
    sink = open(os.devnull, "w")  # noqa: SIM115
    _REAL_STDERR.append(real)
    sys.stderr = sink
    try:
        yield
    finally:
        _REAL_STDERR.pop()
        real.flush()
        sys.stderr = old
        sink.close()
        os.dup2(saved, 2)
        os.close(saved)


def _is_ours(w: warnings.WarningMessage) -> bool:
    """Warnings this package raises on purpose (trimmed prompt, sped-up sentence, ...)."""
    return issubclass(w.category, UserWarning) and str(PACKAGE_DIR) in str(w.filename)


def _show(caught: list[warnings.WarningMessage], verbose: bool) -> None:
    seen: set[str] = set()
    for w in caught:
        msg = str(w.message)
        if (verbose or _is_ours(w)) and msg not in seen:
            seen.add(msg)
            print(f"warning: {msg}", file=err())


# ---- cheap checks before heavy imports ---------------------------------------------------------
def _manifest_limits(bundle: Path) -> dict[str, Any]:
    """max_chars and n_codebooks from a bundle's manifest, without the runtime."""
    from .bundle import MAX_MANIFEST_BYTES

    path = bundle / "manifest.json"
    if not bundle.is_dir():
        raise ConfigError(
            f"no model bundle at {bundle}; pass --bundle, --checkpoint, or build the "
            "demo bundle (see README)"
        )
    if not path.is_file():
        raise BundleError(f"{path} is missing: not a MobileSpeech bundle")
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise BundleError(f"{path} is over {MAX_MANIFEST_BYTES} bytes")
        m = json.loads(path.read_text(encoding="utf-8"))
        cfg = m["config"]
        return {
            "max_chars": int(cfg.get("frontend", {}).get("max_chars", 2000)),
            "n_codebooks": int(cfg["codec"]["n_codebooks"]),
        }
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise BundleError(f"{path}: malformed manifest ({e})") from e
    except RecursionError as e:
        raise BundleError(f"{path} is not valid JSON: nested too deeply") from e


def _limits(args: argparse.Namespace) -> dict[str, Any]:
    if getattr(args, "checkpoint", None) or getattr(args, "untrained_tiny", False):
        from .config import FrontendConfig

        if args.checkpoint and not Path(args.checkpoint).is_file():
            raise ConfigError(f"no checkpoint file at {args.checkpoint}")
        return {"max_chars": FrontendConfig().max_chars, "n_codebooks": None}
    return _manifest_limits(args.bundle or default_bundle())


def _check_audio_file(path: Path, what: str) -> None:
    """Existence and a readable header (rate, channels) of an input audio file."""
    from .audio import MAX_CHANNELS, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE

    if path.is_dir():
        raise InvalidAudioError(f"{what} {path} is a directory, not a file")
    if not path.is_file():
        raise InvalidAudioError(f"{what} file not found: {path}")
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except (RuntimeError, TypeError, ValueError, OSError, EOFError) as e:
        raise InvalidAudioError(f"cannot read audio from {path}: {e}") from e
    if not MIN_SAMPLE_RATE <= info.samplerate <= MAX_SAMPLE_RATE:
        raise InvalidAudioError(
            f"{path} declares {info.samplerate} Hz; supported rates are "
            f"{MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz"
        )
    if not 1 <= info.channels <= MAX_CHANNELS:
        raise InvalidAudioError(f"{path} has {info.channels} channels; 1..{MAX_CHANNELS} supported")
    if info.frames == 0:
        raise InvalidAudioError(f"{what} {path} holds no samples")


def _load(args: argparse.Namespace):  # noqa: ANN202 - returns a Synthesizer
    from .synthesizer import Synthesizer

    if args.untrained_tiny:
        from .config import tiny_config
        from .eager import EagerBackend
        from .model import MobileSpeech

        print(
            "WARNING: --untrained-tiny uses random weights; the output is noise, not speech.",
            file=err(),
        )
        return Synthesizer(
            EagerBackend(MobileSpeech(tiny_config()), num_threads=args.threads), args.threads
        )
    if args.checkpoint:
        return Synthesizer.from_checkpoint(args.checkpoint, args.threads)
    bundle = args.bundle or default_bundle()
    return Synthesizer.from_bundle(bundle, args.threads, backend=args.backend)


# ---- commands ----------------------------------------------------------------------------------
def cmd_synth(args: argparse.Namespace) -> int:
    limits = _limits(args)
    if args.text_file is not None:
        text = read_text_file(args.text_file, limits["max_chars"])
    else:
        text = args.text
    check_text(text, limits["max_chars"])
    if limits["n_codebooks"] is not None:
        check_steps(args.steps, limits["n_codebooks"])
    if args.prompt is not None:
        _check_audio_file(args.prompt, "--prompt")
    check_out_path(args.out, keep=[args.prompt])

    from .audio import write_wav

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        synth = _load(args)
        synth.frontend.load()  # g2p model and lexicon load in seconds: keep that out of the RTF
        t0 = time.perf_counter()
        result = synth.synthesize(
            text, args.prompt, seed=args.seed, steps=args.steps, length_scale=args.length_scale
        )
        elapsed = time.perf_counter() - t0
    _show(caught, args.verbose)
    write_wav(args.out, result.samples, result.sample_rate)
    t = result.timings
    rtf = elapsed / max(result.seconds, 1e-9)
    print(f"wrote {args.out}: {result.seconds:.2f} s at {result.sample_rate} Hz")
    print(
        f"RTF: {elapsed:.3f}/{result.seconds:.3f} = {rtf:.3f} (first audio "
        f"{(t.first_audio or 0) * 1000:.0f} ms; SMD calls {t.smd_calls})"
    )
    return 0


def cmd_resynth(args: argparse.Namespace) -> int:
    _limits(args)
    _check_audio_file(args.input, "--in")
    check_out_path(args.out, keep=[args.input])

    from .audio import write_wav

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        synth = _load(args)
        t0 = time.perf_counter()
        result = synth.resynthesize(args.input)
        elapsed = time.perf_counter() - t0
    _show(caught, args.verbose)
    write_wav(args.out, result.samples, result.sample_rate)
    n, k, fr = synth.n_codebooks, synth.codebook_size, synth.frame_rate
    print(f"wrote {args.out}: {result.seconds:.2f} s at {result.sample_rate} Hz")
    print(
        f"codec: {result.timings.frames} frames; {fr:.2f} frames/s x {n} codebooks = "
        f"{fr * n:.1f} tokens/s; {synth.bits_per_second:.0f} bits/s "
        f"({n} x log2({k}) bits x {fr:.2f}/s)"
    )
    print(f"RTF: {elapsed:.3f}/{result.seconds:.3f} = {elapsed / max(result.seconds, 1e-9):.3f}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    _limits(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        synth = _load(args)
    _show(caught, args.verbose)
    print(json.dumps(synth.info(), indent=2))
    return 0


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
    p.add_argument("--threads", type=_threads, default=None, help=f"CPU threads (1..{MAX_THREADS})")
    p.add_argument(
        "--verbose", action="store_true", help="also show the runtime's own log lines"
    )


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
    s.add_argument("--out", type=Path, required=True, help="output .wav")
    s.add_argument("--seed", type=_seed, default=None, help="noise seed, 0..2**64-1")
    s.add_argument(
        "--steps", type=steps_arg, default=None, help="steps per codec layer, e.g. 8,2,1,1"
    )
    s.add_argument("--length-scale", type=_number, default=1.0, help=">1 slower, <1 faster")
    _add_model_args(s)
    s.set_defaults(func=cmd_synth)
    r = sub.add_parser(
        "resynth", help="wav -> codec tokens -> wav: hear what the bundle's codec keeps"
    )
    r.add_argument("--in", dest="input", type=Path, required=True, help="input audio (any wav)")
    r.add_argument("--out", type=Path, required=True, help="output .wav")
    _add_model_args(r)
    r.set_defaults(func=cmd_resynth)
    i = sub.add_parser("info", help="describe a model")
    _add_model_args(i)
    i.set_defaults(func=cmd_info)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with quiet_native_stderr(args.verbose):
        try:
            return args.func(args)
        except MobileSpeechError as e:
            print(f"error: {e}", file=err())
            return 2
        except MemoryError:
            print("error: out of memory", file=err())
            return 1
        except KeyboardInterrupt:
            print("interrupted", file=err())
            return 130


if __name__ == "__main__":
    sys.exit(main())
