"""The runtime wheel as a user gets it (issue 25): its size, the cold error of its
``mobilespeech`` for a missing prompt, warm synthesis RTF through its Python ``Synthesizer``
against ``build/native/mobilespeech_cli`` (same sentence, threads and seed), and whether the two
give bit-identical audio.

    .venv/bin/python -m benchmarks.wheel_check              # -> benchmarks/results/wheel_check.md

The wheel is built by ``scripts/build_wheel.sh`` and installed into ``--venv`` (default
build/wheel-venv, made once; the wheel is reinstalled each run). Everything from the wheel runs
from a folder outside the repository with no PYTHONPATH, so only what the wheel installed is
used. RTF rounds alternate the two runtimes (one C process ``--bench 1 --warmup 1`` per round;
one warm Python process for all rounds) so that load from other work on the machine falls on
both alike. This file is also the Python worker (``--worker``), run by the venv's Python: it
imports only the wheel's package, numpy and soundfile.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
README_TEXT = "Hello from MobileSpeech. It runs on your phone."
RESULTS = REPO / "benchmarks" / "results" / "wheel_check.md"


# ---- the worker (in the wheel's venv) ------------------------------------------------------------
def worker(bundle: str, threads: int, seed: int, text: str) -> None:
    """Line protocol on stdin: ``run`` -> one JSON line (rtf, seconds, first audio);
    ``dump PATH [PROMPT]`` -> the samples as float32 .npy (PROMPT: a prompt file)."""
    import numpy as np

    from mobilespeech_runtime import Synthesizer, native_lib

    synth = Synthesizer.from_bundle(bundle, threads)
    synth.synthesize(text, seed=seed)  # warm-up
    print(json.dumps({"library": str(native_lib.library_path()),
                      "torch_loaded": "torch" in sys.modules}), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "run":
            t0 = time.perf_counter()
            r = synth.synthesize(text, seed=seed)
            elapsed = time.perf_counter() - t0
            print(json.dumps({"rtf": elapsed / r.seconds, "seconds": r.seconds,
                              "first_audio": r.timings.first_audio}), flush=True)
        elif cmd[0] == "dump":
            prompt = cmd[2] if len(cmd) > 2 else None
            np.save(cmd[1], synth.synthesize(text, prompt, seed=seed).samples)
            print("{}", flush=True)


# ---- the driver (in the development venv) ------------------------------------------------------
def user_env(threads: int) -> dict[str, str]:
    """A user's environment: nothing pointing back into the repository, fixed threads."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "MOBILESPEECH_NATIVE_LIB", "MOBILESPEECH_BUNDLE",
                        "LD_LIBRARY_PATH", "VIRTUAL_ENV")}
    env.update(OMP_NUM_THREADS=str(threads), OMP_WAIT_POLICY="PASSIVE")
    return env


def build_wheel() -> Path:
    subprocess.run(["bash", str(REPO / "scripts" / "build_wheel.sh")], cwd=REPO, check=True)
    (whl,) = (REPO / "dist").glob("mobilespeech_runtime-*.whl")
    return whl


def install(wheel: Path, venv: Path) -> None:
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True,
                       env=user_env(1))
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run(pip + [str(wheel)], check=True, env=user_env(1))  # + numpy, soundfile
    subprocess.run(pip + ["--force-reinstall", "--no-deps", str(wheel)], check=True,
                   env=user_env(1))


def cold_error(venv: Path, bundle: Path, runs: int, cwd: Path) -> dict[str, Any]:
    """Wall time of ``mobilespeech synth ... --prompt /nonexistent.wav`` (a fresh process each
    time: interpreter start, imports, argument and file checks, library load)."""
    cmd = [str(venv / "bin" / "mobilespeech"), "synth", "--bundle", str(bundle), "--text",
           README_TEXT, "--prompt", "/nonexistent.wav", "--out", str(cwd / "never.wav")]
    times, rcs, errs = [], set(), set()
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, cwd=cwd, env=user_env(2), capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        rcs.add(r.returncode)
        errs.add(r.stderr.strip())
    return {"command": shlex.join(["mobilespeech", *cmd[1:]]), "seconds": times,
            "exit_codes": sorted(rcs), "stderr": sorted(errs)}


def rtf_rounds(venv: Path, cli: Path, bundle: Path, threads: int, seed: int, runs: int,
               cwd: Path) -> dict[str, Any]:
    py = subprocess.Popen(
        [str(venv / "bin" / "python"), str(Path(__file__).resolve()), "--worker",
         "--bundle", str(bundle), "--threads", str(threads), "--seed", str(seed)],
        cwd=cwd, env=user_env(threads), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True)
    assert py.stdin is not None and py.stdout is not None

    def ask(line: str) -> dict[str, Any]:
        py.stdin.write(line + "\n")
        py.stdin.flush()
        return json.loads(py.stdout.readline())

    hello = json.loads(py.stdout.readline())
    c_cmd = [str(cli), "--bundle", str(bundle), "--text", README_TEXT, "--threads",
             str(threads), "--seed", str(seed), "--bench", "1", "--warmup", "1", "--json"]
    c_rtf, p_rtf, seconds = [], [], set()
    for _ in range(runs):
        out = subprocess.run(c_cmd, cwd=cwd, env=user_env(threads), capture_output=True,
                             text=True, check=True).stdout
        c = json.loads(out.strip().splitlines()[-1])
        c_rtf.append(c["rtf"]["median"])
        p = ask("run")
        p_rtf.append(p["rtf"])
        seconds.add(round(p["seconds"], 4))
        seconds.add(round(c["audio_s"], 4))
    # bit-identical audio: the bundle's own voice, then the same voice as a prompt file
    same: dict[str, Any] = {}
    prompt = bundle / "default_prompt.wav"
    for label, extra in (("bundle voice", []), ("--prompt default_prompt.wav", [str(prompt)])):
        npy = cwd / "py.npy"
        wav = cwd / "c.wav"
        ask(" ".join(["dump", str(npy), *extra]))
        subprocess.run([str(cli), "--bundle", str(bundle), "--text", README_TEXT, "--threads",
                        str(threads), "--seed", str(seed), "--float32", "--quiet", "--out",
                        str(wav)] + (["--prompt", extra[0]] if extra else []),
                       cwd=cwd, env=user_env(threads), check=True)
        same[label] = compare(npy, wav)
    py.stdin.close()
    py.wait(timeout=60)
    return {"c": c_rtf, "python": p_rtf, "audio_seconds": sorted(seconds), "worker": hello,
            "c_command": shlex.join(["build/native/mobilespeech_cli", *c_cmd[1:]]),
            "identical": same}


def compare(npy: Path, wav: Path) -> dict[str, Any]:
    import numpy as np
    import soundfile as sf

    a = np.load(npy)
    b, _ = sf.read(wav, dtype="float32")
    n = min(a.size, b.size)
    diff = float(np.max(np.abs(a[:n] - b[:n]))) if n else float("nan")
    return {"python_samples": int(a.size), "c_samples": int(b.size),
            "bit_identical": bool(a.size == b.size and np.array_equal(a, b)),
            "max_abs_diff": diff}


def report(res: dict[str, Any]) -> str:
    from benchmarks.common import stats

    cold = stats(res["cold"]["seconds"])
    c, p = stats(res["rtf"]["c"]), stats(res["rtf"]["python"])
    lines = [
        f"# Runtime wheel check ({res['date']}, {res['threads']} threads, seed {res['seed']})",
        "",
        f"Command: `{res['command']}`; commit {res['commit']}; load average before "
        f"{res['load']}. Machine: {res['cpu']} (shared with other work: read the spread).",
        "",
        "| what | value |",
        "|---|---|",
        f"| wheel | `{res['wheel']}`, {res['wheel_bytes'] / 1e6:.2f} MB "
        f"({res['wheel_bytes'] / 2**20:.2f} MiB) |",
        f"| cold error, missing prompt (`{res['cold']['command']}`) | median "
        f"{cold['median']:.3f} s of {cold['n']} (min {cold['min']:.3f}, max {cold['max']:.3f});"
        f" exit {res['cold']['exit_codes']}; `{' / '.join(res['cold']['stderr'])}` |",
        f"| warm RTF, Python `Synthesizer` (wheel) | median {p['median']:.4f} of {p['n']} "
        f"(min {p['min']:.4f}, max {p['max']:.4f}) |",
        f"| warm RTF, `{res['rtf']['c_command']}` | median {c['median']:.4f} of {c['n']} "
        f"(min {c['min']:.4f}, max {c['max']:.4f}) |",
        f"| Python / C | {p['median'] / c['median']:.3f} |",
        f"| audio | {', '.join(f'{s:.3f}' for s in res['rtf']['audio_seconds'])} s |",
    ]
    for label, s in res["rtf"]["identical"].items():
        lines.append(
            f"| bit-identical, {label} | {'yes' if s['bit_identical'] else 'NO'} "
            f"({s['python_samples']} vs {s['c_samples']} samples, max abs diff "
            f"{s['max_abs_diff']:.3g}) |")
    lines += ["", "Per-round RTF (C, Python): " + ", ".join(
        f"({a:.4f}, {b:.4f})" for a, b in zip(res["rtf"]["c"], res["rtf"]["python"],
                                              strict=True)), ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", type=Path, default=REPO / "models" / "demo")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--venv", type=Path, default=REPO / "build" / "wheel-venv")
    ap.add_argument("--cli", type=Path, default=REPO / "build" / "native" / "mobilespeech_cli")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(str(args.bundle), args.threads, args.seed, README_TEXT)
        return
    from benchmarks.common import cpu_model, git_info

    bundle = args.bundle.resolve()
    load = [round(x, 2) for x in os.getloadavg()]
    wheel = build_wheel()
    install(wheel, args.venv.resolve())
    with tempfile.TemporaryDirectory() as tmp:
        cold = cold_error(args.venv.resolve(), bundle, args.runs, Path(tmp))
        rtf = rtf_rounds(args.venv.resolve(), args.cli.resolve(), bundle, args.threads,
                         args.seed, args.runs, Path(tmp))
    res = {"date": time.strftime("%Y-%m-%d"), "threads": args.threads, "seed": args.seed,
           "command": "python -m benchmarks.wheel_check " + " ".join(sys.argv[1:]),
           "commit": (git_info().get("commit") or "?")[:10], "load": load, "cpu": cpu_model(),
           "wheel": wheel.name, "wheel_bytes": wheel.stat().st_size, "cold": cold, "rtf": rtf}
    text = report(res)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
