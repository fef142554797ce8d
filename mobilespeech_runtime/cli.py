"""The ``mobilespeech`` command: synthesize speech, resynthesize through the codec, describe.

mobilespeech synth --text "Hello there." --out hello.wav            # bundled demo voice
mobilespeech synth --text "..." --prompt voice.wav --out out.wav --seed 3 --threads 2
mobilespeech resynth --in speech.wav --out codec.wav                # what the codec keeps
mobilespeech info
mobilespeech normalize --text "On 12/03/2026 Henry VIII paid EUR 5.50."  # the words said

Everything runs in the native core (libmobilespeech), the same code as mobilespeech_cli and
the apps; this module parses arguments, reads files and prints. Arguments, text, paths and the
bundle's manifest are checked before the core loads the bundle, so a bad input is reported at
once. A checkpoint or the eager backend runs in the PyTorch reference instead:
``python -m mobilespeech_model.cli synth --checkpoint model.pt ...``. Only our
own lines reach stderr (errors, and warnings we mean) unless ``--verbose``. The output is
written atomically (a temporary file renamed over it): a failed run leaves no partial file and
an older output intact. Exit codes (the same from mobilespeech_cli): 0 ok, 1 internal error,
2 usage, 3 bad text or audio, 4 bad bundle, 5 file I/O error, 6 out of memory, 130
interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .argtypes import length_scale_arg, seed_arg, steps_arg, threads_arg
from .checks import (
    MAX_THREADS,
    check_out_path,
    check_steps,
    check_text,
    read_text_file,
)
from .console import err, quiet_native_stderr
from .errors import (
    BundleError,
    ConfigError,
    FileAccessError,
    InvalidAudioError,
    InvalidTextError,
    MobileSpeechError,
    exit_code,
)

MAX_MANIFEST_BYTES = 16 << 20  # as native/src/bundle.cc
MAX_NORMALIZE_CHARS = 2000  # `normalize` has no bundle: the frontend's default max_chars
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
    """max_chars and n_codebooks from a bundle's manifest, before the core loads it."""
    path = bundle / "manifest.json"
    if not bundle.is_dir():
        raise BundleError(
            f"no model bundle at {bundle} (bundle folder not found); pass --bundle, "
            "--checkpoint, or build the demo bundle (see README)"
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
            "bundle": bundle,
        }
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise BundleError(f"{path}: malformed manifest ({e})") from e
    except RecursionError as e:
        raise BundleError(f"{path} is not valid JSON: nested too deeply") from e


def _moved(command: str, flag: str) -> ConfigError:
    return ConfigError(
        f"{flag} runs the PyTorch reference, which is no longer part of the runtime: use "
        f"`python -m mobilespeech_model.cli {command} {flag} ...` (in the repository's venv)"
    )


def _limits(args: argparse.Namespace) -> dict[str, Any]:
    if getattr(args, "checkpoint", None):
        raise _moved(args.command, "--checkpoint")
    if getattr(args, "untrained_tiny", False):
        raise _moved(args.command, "--untrained-tiny")
    if getattr(args, "backend", "native") == "eager":
        raise _moved(args.command, "--backend eager")
    bundle = args.bundle or default_bundle()
    if args.bundle is None and not os.environ.get("MOBILESPEECH_BUNDLE") and not bundle.is_dir():
        # the runtime wheel (scripts/build_wheel.sh) carries no model
        raise BundleError(
            f"no model bundle given and no demo bundle installed (looked in {bundle}); pass "
            "--bundle DIR (a bundle folder, e.g. the repository's models/demo) or set "
            "MOBILESPEECH_BUNDLE"
        )
    return _manifest_limits(bundle)


def _read_audio_input(
    path: Path, what: str, max_seconds: float, max_frames: int
) -> tuple[Any, int]:
    """An input audio file read once (it may be a pipe): header first, then the samples."""
    from .audio import read_audio

    data, rate = read_audio(path, max_seconds, what, max_frames)
    if data.shape[0] == 0:
        raise InvalidAudioError(f"{what} {path} holds no samples")
    return data, rate


def _check_pronounceable(text: str, bundle: Path | None) -> str:
    """The words the core's normalizer reads in ``text`` (the bundle's lexicon, no program
    loaded); text with nothing to say is refused before the model loads."""
    from .native_binding import normalize_text

    words = normalize_text(text, bundle)
    if not words.strip():
        raise InvalidTextError(
            "text has nothing to pronounce: no English letters or numbers were left after "
            "removing unsupported characters (emoji, symbols, non-Latin scripts)"
        )
    return words


def _load(args: argparse.Namespace):  # noqa: ANN202 - returns a Synthesizer
    from .synthesizer import Synthesizer

    return Synthesizer.from_bundle(args.bundle or default_bundle(), args.threads)


# ---- commands ----------------------------------------------------------------------------------
def _write_output(out: Path, samples: Any, sample_rate: int) -> None:
    from .audio import wav_bytes
    from .checks import write_file_atomic

    write_file_atomic(out, wav_bytes(samples, sample_rate), "--out")


def _progress_bar(total: Callable[[], int], quiet: bool) -> Any:
    """A tqdm bar over ``total()`` sentences on the real stderr when it is a terminal; None
    otherwise (a pipe, a file, ``--quiet``, or tqdm missing)."""
    stream = err()
    try:
        tty = stream.isatty()
    except (AttributeError, OSError, ValueError):
        tty = False
    if quiet or not tty:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    try:
        cols = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        cols = 0
    # a terminal that reports no width (a bare pty, a serial console) gets 80 columns: tqdm
    # draws nothing at width 0
    return tqdm(total=total(), desc="synth", file=stream, leave=False, mininterval=0.1,
                dynamic_ncols=cols > 0, ncols=None if cols > 0 else 80,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} sentences "
                           "[{elapsed}<{remaining}{postfix}]",
                postfix="0.0 s of audio")


def _synthesize_with_progress(synth: Any, text: str, prompt: Any, rate: int | None,
                              args: argparse.Namespace) -> Any:
    """``synth.synthesize`` through its stream, with a progress bar (sentences done, seconds
    of audio produced) when stderr is a terminal."""
    import numpy as np

    from .synthesizer import SynthesisResult

    stream = synth.stream(
        text, prompt, rate, seed=args.seed, steps=args.steps, length_scale=args.length_scale
    )
    bar = _progress_bar(lambda: len(synth.encode_text(text)), args.quiet)
    chunks: list[Any] = []
    samples, frames, sentence = 0, -1, 0
    try:
        for chunk in stream:
            chunks.append(chunk)
            samples += chunk.size
            if bar is None:
                continue
            # a sentence's frames are counted before its first chunk: a change is a new one
            now = synth.last_timings.frames
            if now != frames:
                if frames >= 0:
                    sentence += 1
                frames = now
            bar.n = min(sentence, bar.total)
            bar.set_postfix_str(f"{samples / synth.sample_rate:.1f} s of audio")
        if bar is not None:
            bar.n = bar.total
            bar.refresh()
    finally:
        if bar is not None:
            bar.close()
    out = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return SynthesisResult(out, synth.sample_rate, synth.last_timings)


def cmd_synth(args: argparse.Namespace) -> int:
    from .audio import MAX_INPUT_FRAMES, MAX_INPUT_SECONDS

    limits = _limits(args)
    if args.text_file is not None:
        text = read_text_file(args.text_file, limits["max_chars"])
    else:
        text = args.text
    check_text(text, limits["max_chars"])
    _check_pronounceable(text, limits["bundle"])
    if limits["n_codebooks"] is not None:
        check_steps(args.steps, limits["n_codebooks"])
    keep = [args.prompt, args.text_file]
    check_out_path(args.out, keep=keep, protect=[limits["bundle"]])

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prompt, rate = None, None
        if args.prompt is not None:
            prompt, rate = _read_audio_input(
                args.prompt, "--prompt", MAX_INPUT_SECONDS, MAX_INPUT_FRAMES
            )
        synth = _load(args)
        t0 = time.perf_counter()
        result = _synthesize_with_progress(synth, text, prompt, rate, args)
        elapsed = time.perf_counter() - t0
    if not args.quiet:
        _show(caught, args.verbose)
    _write_output(args.out, result.samples, result.sample_rate)
    if args.quiet:
        return 0
    t = result.timings
    rtf = elapsed / max(result.seconds, 1e-9)
    print(f"wrote {args.out}: {result.seconds:.2f} s at {result.sample_rate} Hz")
    print(
        f"RTF: {elapsed:.3f}/{result.seconds:.3f} = {rtf:.3f} (first audio "
        f"{(t.first_audio or 0) * 1000:.0f} ms; SMD calls {t.smd_calls})"
    )
    return 0


def cmd_resynth(args: argparse.Namespace) -> int:
    from .audio import MAX_INPUT_FRAMES, MAX_RESYNTH_INPUT_SECONDS

    limits = _limits(args)
    check_out_path(args.out, keep=[args.input], protect=[limits["bundle"]])
    data, rate = _read_audio_input(
        args.input, "--in", MAX_RESYNTH_INPUT_SECONDS, 2 * MAX_INPUT_FRAMES
    )

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        synth = _load(args)
        t0 = time.perf_counter()
        result = synth.resynthesize(data, rate)
        elapsed = time.perf_counter() - t0
    _show(caught, args.verbose)
    _write_output(args.out, result.samples, result.sample_rate)
    n, k, fr = synth.n_codebooks, synth.codebook_size, synth.frame_rate
    print(f"wrote {args.out}: {result.seconds:.2f} s at {result.sample_rate} Hz")
    print(
        f"codec: {result.timings.frames} frames; {fr:.2f} frames/s x {n} codebooks = "
        f"{fr * n:.1f} tokens/s; {synth.bits_per_second:.0f} bits/s "
        f"({n} x log2({k}) bits x {fr:.2f}/s)"
    )
    print(f"RTF: {elapsed:.3f}/{result.seconds:.3f} = {elapsed / max(result.seconds, 1e-9):.3f}")
    return 0


def cmd_normalize(args: argparse.Namespace) -> int:
    """The words the voice will say, on one line (the core's normalizer)."""

    text = read_text_file(args.text_file, MAX_NORMALIZE_CHARS) if args.text_file else args.text
    check_text(text, MAX_NORMALIZE_CHARS)
    print(_check_pronounceable(text, None))
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
    # moved to the PyTorch reference (python -m mobilespeech_model.cli): kept so that old
    # command lines get a message naming the replacement
    src.add_argument("--checkpoint", type=Path, help=argparse.SUPPRESS)
    src.add_argument("--untrained-tiny", action="store_true", help=argparse.SUPPRESS)
    p.add_argument(
        "--backend",
        choices=["native", "executorch", "eager"],
        default="native",
        help="the native core runs the bundle's ExecuTorch programs ('executorch' is the same); "
        "'eager' moved to `python -m mobilespeech_model.cli`",
    )
    p.add_argument("--threads", type=threads_arg, default=None,
                   help=f"CPU threads (1..{MAX_THREADS})")
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
    s.add_argument("--seed", type=seed_arg, default=None, help="noise seed, 0..2**64-1")
    s.add_argument(
        "--steps", type=steps_arg, default=None, help="steps per codec layer, e.g. 8,2,1,1"
    )
    s.add_argument("--length-scale", type=length_scale_arg, default=1.0,
                   help=">1 slower, <1 faster")
    s.add_argument(
        "--quiet", action="store_true",
        help="print errors only (no progress bar, warnings or summary); the bar shows only "
             "when stderr is a terminal",
    )
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
    n = sub.add_parser("normalize", help="print the words the voice will say for a text")
    ntxt = n.add_mutually_exclusive_group(required=True)
    ntxt.add_argument("--text")
    ntxt.add_argument("--text-file", type=Path)
    n.set_defaults(func=cmd_normalize)
    return ap


# Options whose value may start with '-' ("--steps -1,1", "--text -hello"): argparse would
# read such a value as an option and say "expected one argument".
_VALUE_OPTIONS = frozenset({"--text", "--text-file", "--prompt", "--out", "--in", "--steps",
                            "--seed", "--length-scale", "--threads", "--bundle", "--checkpoint"})


def _attach_dash_values(argv: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in _VALUE_OPTIONS and i + 1 < len(argv) and argv[i + 1].startswith("-") and (
            argv[i + 1] not in _VALUE_OPTIONS and not argv[i + 1].startswith("--")
        ):
            out.append(f"{a}={argv[i + 1]}")
            i += 2
            continue
        out.append(a)
        i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(_attach_dash_values(argv))
    with quiet_native_stderr(getattr(args, "verbose", False)):
        try:
            return args.func(args)
        except MobileSpeechError as e:
            print(f"error: {e}", file=err())
            return exit_code(e)
        except MemoryError as e:
            print("error: out of memory", file=err())
            return exit_code(e)
        except KeyboardInterrupt as e:
            print("interrupted", file=err())
            return exit_code(e)
        except OSError as e:  # one our checks did not name (a file changed under us)
            where = f" {e.filename}" if e.filename else ""
            print(f"error: input/output error{where}: {e.strerror or e}", file=err())
            return exit_code(FileAccessError(str(e)))


if __name__ == "__main__":
    sys.exit(main())
