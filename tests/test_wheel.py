"""The runtime-only wheel (issue 25): ``scripts/build_wheel.sh`` builds it from build/native, a
fresh venv installs it with its declared dependencies (numpy, soundfile), and there, with no
torch to be found, ``mobilespeech synth`` speaks the demo bundle and refuses a missing prompt
with one line. It runs from a folder outside the repository, with no PYTHONPATH and no
MOBILESPEECH_NATIVE_LIB, so only what the wheel installed can be used.

The dependencies come from pip's configured indexes and its cache; where none can be reached
(offline), the venv gets them by a .pth file over links to this venv's copies instead (the
wheel itself is still installed by pip, and its declared requirements are checked apart).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "models" / "demo"
README_TEXT = "Hello from MobileSpeech. It runs on your phone."
# what the offline fallback links into the test venv: the runtime's imports and theirs
OFFLINE_DEPS = ("numpy", "soundfile", "_soundfile", "cffi", "_cffi_backend", "pycparser")


def _env() -> dict[str, str]:
    """The user's environment: nothing that points back into the repository."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "MOBILESPEECH_NATIVE_LIB", "MOBILESPEECH_BUNDLE",
                        "LD_LIBRARY_PATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["OMP_NUM_THREADS"] = "1"
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("MOBILESPEECH_NATIVE_LIB"):
        build = Path(os.environ["MOBILESPEECH_NATIVE_LIB"]).parent
    else:
        from test_native import _build

        build = _build(sanitize=False)
    out = tmp_path_factory.mktemp("wheel")
    env = dict(os.environ, MS_BUILD_DIR=str(build), MS_DIST_DIR=str(out / "dist"),
               MS_STAGE_DIR=str(out / "stage"), PYTHON=sys.executable)
    r = subprocess.run(["bash", str(REPO / "scripts" / "build_wheel.sh")], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    (whl,) = (out / "dist").glob("mobilespeech_runtime-*.whl")
    return whl


def _link_offline_deps(venv_site: Path) -> None:
    """This venv's numpy/soundfile (and theirs) seen by the test venv through a .pth file:
    links in a folder of their own, so torch and the rest stay out of reach."""
    here = Path(sysconfig.get_paths()["purelib"])
    links = venv_site.parent / "offline-deps"
    links.mkdir()
    for entry in here.iterdir():
        if entry.name.split(".")[0].split("-")[0] in OFFLINE_DEPS:
            (links / entry.name).symlink_to(entry)
    (venv_site / "offline-deps.pth").write_text(str(links) + "\n")


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=120,
                   env=_env())
    py = root / "bin" / "python"
    pip = [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    r = subprocess.run(pip + [str(wheel)], capture_output=True, text=True, timeout=300,
                       env=_env())
    if r.returncode != 0:  # offline: no index or cache has numpy/soundfile
        subprocess.run(pip + ["--no-deps", "--no-index", str(wheel)], check=True, timeout=120,
                       env=_env())
        site = Path(subprocess.run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True, env=_env()).stdout.strip())
        _link_offline_deps(site)
    return root


def _run(venv: Path, args: list[str], cwd: Path, timeout: float = 180) -> \
        subprocess.CompletedProcess[str]:
    """``args[0]`` in the venv's bin/, run from ``cwd`` (outside the repository)."""
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=timeout)


def test_wheel_is_the_runtime_alone(wheel: Path) -> None:
    assert not wheel.name.endswith("-none-any.whl"), wheel.name
    assert wheel.name.endswith(f"-py3-none-{sysconfig.get_platform().replace('-', '_')}.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = next(z.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
        entry = next(z.read(n).decode() for n in names if n.endswith("entry_points.txt"))
        modes = {n: z.getinfo(n).external_attr >> 16 for n in names}
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"mobilespeech_runtime"}, tops
    lib = "mobilespeech_runtime/_lib/"
    assert {f"{lib}libmobilespeech.so.0", f"{lib}libexecutorch.so",
            f"{lib}mobilespeech_cli"} <= set(names)
    assert modes[f"{lib}mobilespeech_cli"] & 0o111  # installs executable
    assert not [n for n in names if n.endswith((".pte", ".cc", ".h", ".bin"))
                or "/native/" in n], "sources or model files in the wheel"
    requires = [ln.split(":", 1)[1].strip() for ln in meta.splitlines()
                if ln.startswith("Requires-Dist:")]
    assert {r.split(";")[0].split("<")[0].split(">")[0] for r in requires} == \
        {"numpy", "soundfile", "tqdm"}, requires
    assert all("extra ==" in r for r in requires if r.startswith("tqdm")), requires
    assert "mobilespeech = mobilespeech_runtime.cli:main" in entry
    assert wheel.stat().st_size < 8 * 2**20, f"{wheel.stat().st_size / 2**20:.1f} MiB"


def test_wheel_venv_has_no_torch_and_uses_its_own_library(venv: Path, tmp_path: Path) -> None:
    code = ("import importlib.util as u, sys; from mobilespeech_runtime import native_lib; "
            "print(u.find_spec('torch') is None, u.find_spec('executorch') is None); "
            "print(native_lib.library_path()); print(native_lib.version())")
    r = _run(venv, ["python", "-c", code], tmp_path)
    assert r.returncode == 0, r.stderr
    flags, lib, _ = r.stdout.splitlines()
    assert flags == "True True", "torch or executorch is importable in the wheel's venv"
    assert Path(lib).is_relative_to(venv) and Path(lib).is_file(), lib
    ldd = subprocess.run(["ldd", lib], capture_output=True, text=True, env=_env()).stdout
    et = [ln for ln in ldd.splitlines() if "libexecutorch" in ln]
    assert et and all(str(Path(lib).parent) in ln for ln in et), ldd
    assert "not found" not in ldd and str(REPO) not in ldd, ldd


def test_wheel_cli_speaks_the_demo_bundle(venv: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.wav"
    r = _run(venv, ["mobilespeech", "synth", "--bundle", str(DEMO),
                    "--text", README_TEXT, "--out", str(out), "--threads", "2", "--seed", "0"],
             tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    audio, rate = sf.read(out, dtype="float32")
    assert rate == 22050
    assert audio.ndim == 1 and audio.size / rate > 1.0, audio.shape
    assert float(np.sqrt(np.mean(audio**2))) > 1e-3, "silent output"


def test_wheel_cli_refuses_a_missing_prompt_in_one_line(venv: Path, tmp_path: Path) -> None:
    out = tmp_path / "y.wav"
    r = _run(venv, ["mobilespeech", "synth", "--bundle", str(DEMO),
                    "--text", README_TEXT, "--prompt", "/nonexistent.wav", "--out", str(out)],
             tmp_path, timeout=60)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), r.stderr
    assert "/nonexistent.wav" in lines[0], lines[0]
    assert not out.exists()


def test_wheel_cli_without_a_bundle_says_to_pass_one(venv: Path, tmp_path: Path) -> None:
    r = _run(venv, ["mobilespeech", "info"], tmp_path, timeout=60)
    assert r.returncode == 4, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "--bundle" in lines[0], r.stderr


def test_wheel_c_cli_runs_from_the_package(venv: Path, tmp_path: Path) -> None:
    (cli,) = venv.glob("lib/python*/site-packages/mobilespeech_runtime/_lib/mobilespeech_cli")
    out = tmp_path / "c.wav"
    r = subprocess.run([str(cli), "--bundle", str(DEMO), "--text", "Hello.", "--out", str(out),
                        "--threads", "2", "--quiet"], cwd=tmp_path, env=_env(),
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    audio, rate = sf.read(out, dtype="float32")
    assert rate == 22050 and audio.size > rate // 4


def test_library_path_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """$MOBILESPEECH_NATIVE_LIB first; in a checkout (no packaged copy) build/native; the
    installed wheel's own copy is checked in its venv above."""
    from mobilespeech_runtime import native_lib

    monkeypatch.setenv("MOBILESPEECH_NATIVE_LIB", str(tmp_path / "lib.so"))
    assert native_lib.library_path() == tmp_path / "lib.so"
    monkeypatch.delenv("MOBILESPEECH_NATIVE_LIB")
    assert not native_lib.PACKAGED_LIBRARY.exists()  # the checkout has no _lib/
    assert native_lib.library_path() == native_lib.DEFAULT_LIBRARY
