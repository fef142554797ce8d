"""The native runtime built for ARM64 Linux (aarch64, glibc) and run under qemu-user, against
the x86-64 build: same bundle, text, prompt and seed.

``scripts/build_native.sh --arch aarch64`` cross-compiles libmobilespeech, mobilespeech_cli and
the C tests with Debian's aarch64-linux-gnu toolchain against ExecuTorch's manylinux aarch64
wheel (cached under .cache/aarch64, fetched by the script the first time). Both builds run the
CLI with ``libmobilespeech_et_trace.so`` preloaded, which records every ExecuTorch program call
(inputs and outputs), so the two runs are compared call by call: integer outputs (prompt
tokens, phoneme durations, codec tokens after every unmasking step) for agreement, float outputs
for relative error, and the two WAVs for SNR. The XNNPACK kernels are the ISA's own (NEON on
ARM, AVX2/AVX-512 on x86), so float outputs are not bitwise equal; what must hold is below.

Everything about a bundle (programs, method and input names, which methods are quantized, the
schedule, the sample rate, the default prompt, whether it has a text frontend) comes from its
manifest. Skips only when the cross compiler, the aarch64 C library or qemu is not installed
(``scripts/setup.sh --test`` installs them). Run: ``pytest tests/test_arm64.py -s`` (-s prints
the parity report). qemu's wall time is not phone time: no speed figure is measured here.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from test_native import native_build  # noqa: F401  (the x86-64 build fixture, reused)

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "build_native.sh"
BUILD_ARM = Path(os.environ.get("MS_ARM64_BUILD_DIR", REPO / "build" / "native-aarch64"))
SYSROOT = Path(os.environ.get("MS_CROSS_SYSROOT", "/usr/aarch64-linux-gnu"))
TRACER = "libmobilespeech_et_trace.so"
TEXT = "The quick brown fox jumps over the lazy dog. It was a bright cold day in April."
SEED = 3
THREADS = 2


def _qemu() -> str | None:
    return shutil.which("qemu-aarch64-static") or shutil.which("qemu-aarch64")


def _cross_missing() -> str | None:
    if shutil.which("aarch64-linux-gnu-g++") is None:
        return "aarch64-linux-gnu-g++ is not installed (apt-get install g++-aarch64-linux-gnu)"
    if not (SYSROOT / "lib" / "ld-linux-aarch64.so.1").exists():
        return f"no aarch64 C library under {SYSROOT} (apt-get install libc6-dev-arm64-cross)"
    if _qemu() is None:
        return "qemu-aarch64-static is not installed (apt-get install qemu-user-static)"
    return None


def _qemu_cmd(*extra_env: str) -> list[str]:
    cmd = [str(_qemu()), "-L", str(SYSROOT)]
    if os.environ.get("MS_QEMU_CPU"):  # e.g. cortex-a76; default: qemu's "max" CPU
        cmd += ["-cpu", os.environ["MS_QEMU_CPU"]]
    for e in extra_env:
        cmd += ["-E", e]
    return cmd


@pytest.fixture(scope="session")
def arm64_build() -> Path:
    reason = _cross_missing()
    if reason:
        pytest.skip(f"ARM64 cross build unavailable: {reason}")
    env = dict(os.environ, MS_BUILD_DIR=str(BUILD_ARM))
    r = subprocess.run([str(SCRIPT), "--arch", "aarch64"], cwd=REPO, capture_output=True,
                       text=True, timeout=1800, env=env)
    if r.returncode != 0:
        pytest.fail("build_native.sh --arch aarch64 failed:\n"
                    f"{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
    out = subprocess.run(["file", "-b", str(BUILD_ARM / "mobilespeech_cli")], capture_output=True,
                         text=True).stdout if shutil.which("file") else "aarch64"
    assert "aarch64" in out, f"not an ARM64 executable: {out}"
    return BUILD_ARM


@pytest.fixture(scope="session")
def x86_build(request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue("native_build")


# The demo bundle (quantized, a real-size model) takes about a minute under qemu on 2 cores.
@pytest.fixture(scope="session", params=["tiny_fp32", pytest.param("demo", marks=pytest.mark.slow)])
def bundle(request: pytest.FixtureRequest) -> Path:
    if request.param == "tiny_fp32":
        return request.getfixturevalue("tiny_bundle")
    path = REPO / "models" / "demo"
    assert (path / "manifest.json").exists(), "models/demo has no manifest.json"
    return path


# ---- trace files written by native/tests/et_trace.cc -----------------------------------------
_DTYPES = {0: np.uint8, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.int64, 5: np.float16,
           6: np.float32, 7: np.float64, 11: np.bool_}


@dataclass
class Call:
    method: str
    inputs: list
    outputs: list
    status: int


def _read_trace(path: Path) -> list[Call]:
    b = path.read_bytes()
    o = 0

    def take(fmt: str):  # noqa: ANN202
        nonlocal o
        v = struct.unpack_from("<" + fmt, b, o)
        o += struct.calcsize("<" + fmt)
        return v if len(v) > 1 else v[0]

    def value():  # noqa: ANN202
        nonlocal o
        kind = take("I")
        if kind == 0:
            dtype, ndim = take("iI")
            sizes = take(f"{ndim}q") if ndim else ()
            sizes = (sizes,) if isinstance(sizes, int) else tuple(sizes)
            nbytes = take("Q")
            arr = np.frombuffer(b, _DTYPES[dtype], nbytes // np.dtype(_DTYPES[dtype]).itemsize,
                                o).reshape(sizes)
            o += nbytes
            return arr
        if kind == 1:
            return take("q")
        if kind == 2:
            return take("d")
        if kind == 3:
            return bool(take("B"))
        return None

    calls = []
    while o < len(b):
        assert b[o:o + 4] == b"MSTR", f"{path}: bad record at byte {o}"
        o += 4
        n = take("I")
        name = b[o:o + n].decode()
        o += n
        n_in, n_out, status = take("III")
        ins = [value() for _ in range(n_in)]
        outs = [value() for _ in range(n_out)]
        calls.append(Call(name, ins, outs, status))
    return calls


# ---- the two runs -----------------------------------------------------------------------------
def _cli_args(bundle: Path, manifest: dict, out: Path) -> list[str]:
    args = ["--bundle", str(bundle), "--out", str(out), "--float32", "--seed", str(SEED),
            "--threads", str(THREADS), "--quiet",
            "--prompt", str(bundle / manifest.get("default_prompt", "default_prompt.wav"))]
    if manifest.get("frontend"):
        return args + ["--text", TEXT]
    # no text frontend in this bundle: phoneme symbols straight from its symbol table
    syms = [s for s in manifest["symbols"] if s and not s.startswith("<")]
    return args + ["--phonemes", " ".join(syms[4:24]) + " | " + " ".join(syms[10:20])]


def _run_both(x86: Path, arm: Path, bundle: Path, tmp: Path) -> tuple[list[Call], list[Call],
                                                                       np.ndarray, np.ndarray, int]:
    import soundfile as sf

    manifest = json.loads((bundle / "manifest.json").read_text())
    tracer_x86, tracer_arm = x86 / TRACER, arm / TRACER
    assert tracer_x86.exists() and tracer_arm.exists(), "the et_trace test library was not built"
    tx, ta = tmp / "x86.trace", tmp / "arm64.trace"
    wx, wa = tmp / "x86.wav", tmp / "arm64.wav"
    env = dict(os.environ, MS_TRACE_FILE=str(tx), LD_PRELOAD=str(tracer_x86))
    r = subprocess.run([str(x86 / "mobilespeech_cli"), *_cli_args(bundle, manifest, wx)],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, f"x86 CLI failed: {r.stderr[-3000:]}"
    r = subprocess.run(_qemu_cmd(f"MS_TRACE_FILE={ta}", f"LD_PRELOAD={tracer_arm}")
                       + [str(arm / "mobilespeech_cli"), *_cli_args(bundle, manifest, wa)],
                       capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, f"ARM64 CLI under qemu failed: {r.stderr[-3000:]}"
    ax, rx = sf.read(wx, dtype="float32")
    aa, ra = sf.read(wa, dtype="float32")
    assert rx == ra, f"sample rates differ: x86 {rx}, arm64 {ra}"
    want = manifest.get("constants", {}).get("sample_rate")
    assert want is None or rx == want, f"WAV at {rx} Hz, manifest says {want}"
    return _read_trace(tx), _read_trace(ta), ax, aa, rx


def _snr_db(ref: np.ndarray, test: np.ndarray) -> float:
    ref64, err = ref.astype(np.float64), ref.astype(np.float64) - test.astype(np.float64)
    noise = float(np.sum(err * err))
    return math.inf if noise == 0.0 else 10.0 * math.log10(float(np.sum(ref64 * ref64)) / noise)


def _methods(manifest: dict) -> dict[str, dict]:
    return {name: meta for prog in manifest["programs"].values()
            for name, meta in prog["methods"].items()}


def _compare(manifest: dict, cx: list[Call], ca: list[Call]) -> dict:
    """Call-by-call comparison; returns a JSON-able report."""
    methods = _methods(manifest)
    smd = [m for m, meta in methods.items()
           if {"tokens", "noise"} <= {i["name"] for i in meta["inputs"]}
           and "tokens" in meta["outputs"]]
    assert len(smd) == 1, f"cannot tell the SMD step method from the manifest: {smd}"
    smd = smd[0]
    steps = [int(s) for s in manifest.get("constants", {}).get("schedule_steps")
             or manifest["config"]["schedule"]["steps"]]
    rep: dict = {"variant": manifest.get("variant"), "calls": len(cx), "smd_method": smd,
                 "schedule": steps, "methods": {}, "first_int_divergence": None,
                 "max_rel_err_same_inputs": {}, "int_mismatch_same_inputs": []}
    seq_x, seq_a = [c.method for c in cx], [c.method for c in ca]
    rep["same_call_sequence"] = seq_x == seq_a
    if seq_x != seq_a:
        return rep
    sentence, step_in_sentence, finals_x, finals_a = -1, 0, [], []
    for i, (x, a) in enumerate(zip(cx, ca, strict=True)):
        assert x.status == 0 and a.status == 0, f"call {i} ({x.method}) failed"
        names = [s["name"] for s in methods.get(x.method, {}).get("inputs", [])]
        same_inputs = all(
            (not isinstance(u, np.ndarray)) and u == v
            or isinstance(u, np.ndarray) and u.shape == v.shape and np.array_equal(u, v)
            for u, v in zip(x.inputs, a.inputs, strict=True))
        if x.method == smd:
            if i == 0 or cx[i - 1].method != smd:
                sentence, step_in_sentence = sentence + 1, 0
                finals_x.append(None)
                finals_a.append(None)
            finals_x[-1], finals_a[-1] = x.outputs[0], a.outputs[0]
        st = rep["methods"].setdefault(x.method, {"calls": 0, "int_values": 0, "int_equal": 0,
                                                  "max_rel_err": 0.0})
        st["calls"] += 1
        for k, (u, v) in enumerate(zip(x.outputs, a.outputs, strict=True)):
            if not isinstance(u, np.ndarray):
                continue
            assert u.shape == v.shape, f"call {i} {x.method} output {k}: {u.shape} vs {v.shape}"
            if u.dtype.kind in "iub":
                eq = int(np.sum(u == v))
                st["int_values"] += u.size
                st["int_equal"] += eq
                if eq != u.size and same_inputs:
                    rep["int_mismatch_same_inputs"].append({"call": i, "method": x.method})
                if eq != u.size and rep["first_int_divergence"] is None:
                    where = {"call": i, "method": x.method, "output": k,
                             "differing": int(u.size - eq), "of": int(u.size)}
                    if x.method == smd:
                        layer = int(np.cumsum(steps).searchsorted(step_in_sentence, "right"))
                        where.update(sentence=sentence, layer=layer,
                                     step=step_in_sentence - int(sum(steps[:layer])),
                                     steps_in_layer=steps[min(layer, len(steps) - 1)])
                    where["inputs_that_differ"] = {
                        (names[j] if j < len(names) else str(j)):
                            float(np.max(np.abs(p.astype(np.float64) - q)))
                            if isinstance(p, np.ndarray) and p.shape == q.shape else "shape"
                        for j, (p, q) in enumerate(zip(x.inputs, a.inputs, strict=True))
                        if isinstance(p, np.ndarray) and not np.array_equal(p, q)}
                    rep["first_int_divergence"] = where
            else:
                u64 = u.astype(np.float64)
                d = np.linalg.norm(u64 - v) / max(np.linalg.norm(u64), 1e-30)
                st["max_rel_err"] = max(st["max_rel_err"], float(d))
                if same_inputs:
                    key = x.method
                    rep["max_rel_err_same_inputs"][key] = max(
                        rep["max_rel_err_same_inputs"].get(key, 0.0), float(d))
        if x.method == smd:
            step_in_sentence += 1
    layers = []
    for fx, fa in zip(finals_x, finals_a, strict=True):
        layers.append([float(np.mean(fx[0, q] == fa[0, q])) for q in range(fx.shape[1])])
    rep["final_token_agreement_per_sentence_and_layer"] = layers
    total = sum(int(f.size) for f in finals_x)
    same = sum(int(np.sum(fx == fa)) for fx, fa in zip(finals_x, finals_a, strict=True))
    rep["final_token_agreement"] = same / max(total, 1)
    rep["final_tokens"] = total
    return rep


def _summary(name: str, rep: dict) -> str:
    lines = [f"ARM64 (qemu-aarch64) vs x86-64: bundle {name} ({rep['variant']}), "
             f"{rep['calls']} program calls, same sequence: {rep['same_call_sequence']}",
             f"  {'method':<20} {'calls':>5} {'integer outputs equal':>22} {'max rel err':>12}"
             f" {'(same inputs)':>13}"]
    for m, st in rep["methods"].items():
        if not (st["int_values"] or st["max_rel_err"] or m in rep["max_rel_err_same_inputs"]):
            continue  # constant methods
        ints = f"{st['int_equal']}/{st['int_values']}" if st["int_values"] else "-"
        same = rep["max_rel_err_same_inputs"].get(m)
        lines.append(f"  {m:<20} {st['calls']:>5} {ints:>22} {st['max_rel_err']:>12.3g} "
                     f"{'-' if same is None else format(same, '.3g'):>13}")
    d = rep["first_int_divergence"]
    if d is None:
        lines.append("  integer outputs (prompt tokens, durations, every unmasking step): "
                     "identical")
    else:
        where = (f"sentence {d['sentence']}, layer {d['layer']}, step {d['step'] + 1} of "
                 f"{d['steps_in_layer']}" if "layer" in d else f"output {d['output']}")
        diff = ", ".join(f"{k} {v:.2g}" if isinstance(v, float) else f"{k} {v}"
                         for k, v in d["inputs_that_differ"].items()) or "none"
        lines.append(f"  first integer divergence: call {d['call']} {d['method']} ({where}): "
                     f"{d['differing']} of {d['of']} values; inputs that differed (max |diff|): "
                     f"{diff}")
    for i, layers in enumerate(rep["final_token_agreement_per_sentence_and_layer"]):
        lines.append(f"  final tokens, sentence {i}, per codec layer: "
                     + " ".join(f"{100 * a:.1f}%" for a in layers))
    lines.append(f"  final tokens overall: {100 * rep['final_token_agreement']:.2f}% of "
                 f"{rep['final_tokens']} equal")
    lines.append(f"  audio: {rep['samples']} samples at {rep['sample_rate']} Hz, SNR "
                 f"{rep['audio_snr_db']:.1f} dB, max |diff| {rep['max_abs_audio_diff']:.3g}")
    return "\n".join(lines)


# ---- tests ------------------------------------------------------------------------------------
def test_c_tests_under_qemu(arm64_build: Path, tiny_bundle: Path) -> None:
    """The C unit tests, the C11 smoke test and a short ABI fuzz, ARM64 binaries under qemu.

    On the tiny bundle only: the C API test synthesizes a dozen times, and with the demo's
    HiFi-GAN vocoder that takes over 15 minutes under qemu. The demo bundle runs under qemu in
    ``test_arm64_matches_x86[demo]`` (one synthesis, compared with x86)."""
    bundle = tiny_bundle
    q = _qemu_cmd()
    r = subprocess.run(q + [str(arm64_build / "mobilespeech_unit_test")], capture_output=True,
                       text=True, timeout=300, cwd=arm64_build)
    assert r.returncode == 0 and "unit_test: OK" in r.stdout, r.stdout + r.stderr[-3000:]
    r = subprocess.run(q + [str(arm64_build / "mobilespeech_capi_test"), str(bundle)],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0 and "capi_test: OK" in r.stdout, r.stdout + r.stderr[-3000:]
    r = subprocess.run(q + [str(arm64_build / "mobilespeech_fuzz"), "--bundle", str(bundle),
                            "--calls", "40", "--seed", "7"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["violations"] == 0 and summary["status"]["MS_ERR_INTERNAL"] == 0, summary


def test_arm64_matches_x86(arm64_build: Path, x86_build: Path, bundle: Path, tmp_path: Path,
                           record_property) -> None:  # noqa: ANN001
    manifest = json.loads((bundle / "manifest.json").read_text())
    cx, ca, wx, wa, rate = _run_both(x86_build, arm64_build, bundle, tmp_path)
    rep = _compare(manifest, cx, ca)
    assert rep["same_call_sequence"], "the two runs called different programs / methods"
    assert wx.shape == wa.shape, f"audio lengths differ: {wx.shape} vs {wa.shape}"
    rep["samples"], rep["sample_rate"] = int(wx.size), rate
    rep["audio_snr_db"] = _snr_db(wx, wa)
    rep["max_abs_audio_diff"] = float(np.max(np.abs(wx - wa))) if wx.size else 0.0
    name = manifest.get("name", bundle.name)
    text = _summary(name, rep)
    print("\n" + text)
    record_property("arm64_parity", text)
    BUILD_ARM.mkdir(parents=True, exist_ok=True)
    (BUILD_ARM / f"parity-{name}.json").write_text(json.dumps(rep, indent=1, default=str))

    methods = _methods(manifest)
    # A program that is not quantized, given bitwise-equal inputs, gives the same numbers up to
    # float rounding (the kernels differ by ISA, not by formula).
    for m, err in rep["max_rel_err_same_inputs"].items():
        if m in methods and not methods[m].get("quantized", False):
            assert err < 1e-4, f"{m}: relative error {err:.3g} on identical inputs\n{text}"
    if rep["variant"] == "fp32":
        assert rep["first_int_divergence"] is None, f"fp32: integer outputs diverge\n{text}"
        assert rep["final_token_agreement"] == 1.0
        assert rep["audio_snr_db"] > 60.0, text
    else:
        # quantized (dynamic int8 activations): a near-tie in the unmasking can flip; what must
        # hold is that it is the same utterance, token for token nearly everywhere.
        for layers in rep["final_token_agreement_per_sentence_and_layer"]:
            assert min(layers) >= 0.8, f"per-layer token agreement below 80 %\n{text}"
        assert rep["final_token_agreement"] >= 0.9, text
        assert rep["audio_snr_db"] > 3.0, text
    # ... and its integer outputs (prompt tokens, durations) are equal
    bad = [c for c in rep["int_mismatch_same_inputs"]
           if c["method"] in methods and not methods[c["method"]].get("quantized", False)]
    assert not bad, f"integer outputs differ on identical inputs: {bad}\n{text}"
