"""Stage and build the runtime-only wheel (``scripts/build_wheel.sh`` runs this).

The wheel holds ``mobilespeech_runtime`` alone: its Python files, ``libmobilespeech`` from a
native build folder and the ExecuTorch runtime libraries it links, taken from the venv's
ExecuTorch wheel (only the ``libexecutorch*.so`` it needs, which need no torch), plus
``mobilespeech_cli``. They sit together in ``mobilespeech_runtime/_lib/``, each with the runpath
``$ORIGIN`` (rewritten in place: the build folder's absolute entries point at this machine's
venv), ``libmobilespeech`` and the CLI stripped. The wheel itself is built by setuptools from a
staging folder with ``pip wheel --no-build-isolation --no-deps``: no isolated build env, so no
torch is ever resolved. Its tag is ``py3-none-<platform>`` (ctypes, no CPython ABI; the platform
is that of the ELF files inside).

    python scripts/wheel_stage.py [--build build/native] [--dist dist] [--stage DIR] [--no-strip]
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "mobilespeech_runtime"
DIST_NAME = "mobilespeech-runtime"
LIB_DIR = "_lib"  # inside the package; native_lib.PACKAGED_LIBRARY looks here
DEPENDENCIES = ["numpy>=1.26,<2.5", "soundfile>=0.12"]  # what the runtime imports
OPTIONAL = {"progress": ["tqdm>=4.60"]}  # the CLI's progress bar on a terminal
# never in the wheel: the C++ sources (build them from the repository) and lint config
SKIP = ("native", "__pycache__", "ruff.toml", "*.pyc", LIB_DIR)

DT_NULL, DT_NEEDED, DT_STRTAB, DT_SONAME, DT_RPATH, DT_RUNPATH = 0, 1, 5, 14, 15, 29
PT_LOAD, PT_DYNAMIC = 1, 2
SHT_SYMTAB = 2


# ---- ELF (64-bit little-endian, what this build makes) ------------------------------------------
class Elf:
    """The few fields of an ELF64 file this needs: dynamic entries, strings, symbol table."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = bytearray(path.read_bytes())
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
            raise SystemExit(f"{path}: not a 64-bit little-endian ELF file")
        phoff, shoff = struct.unpack_from("<QQ", d, 0x20)
        phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", d, 0x36)
        self.loads: list[tuple[int, int, int]] = []  # (vaddr, offset, filesz)
        self.dynamic: tuple[int, int] | None = None
        for i in range(phnum):
            p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from(
                "<IIQQQQ", d, phoff + i * phentsize)
            if p_type == PT_LOAD:
                self.loads.append((p_vaddr, p_offset, p_filesz))
            elif p_type == PT_DYNAMIC:
                self.dynamic = (p_offset, p_filesz)
        self.has_symtab = any(
            struct.unpack_from("<I", d, shoff + i * shentsize + 4)[0] == SHT_SYMTAB
            for i in range(shnum)) if shoff else False

    def _offset(self, vaddr: int) -> int:
        for start, off, size in self.loads:
            if start <= vaddr < start + size:
                return vaddr - start + off
        raise SystemExit(f"{self.path}: address {vaddr:#x} is in no loaded segment")

    def entries(self) -> list[tuple[int, int, int]]:
        """(tag, value, file offset of the entry) of each dynamic entry before DT_NULL."""
        if self.dynamic is None:
            return []
        off, size = self.dynamic
        out = []
        for pos in range(off, off + size, 16):
            tag, val = struct.unpack_from("<qQ", self.data, pos)
            if tag == DT_NULL:
                break
            out.append((tag, val, pos))
        return out

    def _strtab(self) -> int:
        return self._offset(next(v for t, v, _ in self.entries() if t == DT_STRTAB))

    def string(self, index: int) -> str:
        start = self._strtab() + index
        return self.data[start:self.data.index(0, start)].decode()

    def strings(self, tag: int) -> list[str]:
        return [self.string(v) for t, v, _ in self.entries() if t == tag]

    def set_runpath(self, value: str) -> None:
        """Overwrite DT_RUNPATH/DT_RPATH in place with a string no longer than the old one
        (CMake's install-time rewrite does the same); the rest of the old one becomes NULs."""
        new = value.encode()
        for tag, index, _ in self.entries():
            if tag not in (DT_RUNPATH, DT_RPATH):
                continue
            start = self._strtab() + index
            old_len = self.data.index(0, start) - start
            if len(new) > old_len:
                raise SystemExit(f"{self.path}: runpath {value!r} is longer than the old one")
            self.data[start:start + old_len] = new + b"\0" * (old_len - len(new))
        self.path.write_bytes(self.data)


def readelf(path: Path) -> str:
    """Dynamic section, dynamic symbols and symbol versions, less the runpath: what the
    in-place edit must leave exactly as it was."""
    out = subprocess.run(["readelf", "-W", "--dynamic", "--dyn-syms", "--version-info", str(path)],
                         check=True, capture_output=True, text=True).stdout
    return "\n".join(ln for ln in out.splitlines() if "(RUNPATH)" not in ln and "(RPATH)" not in ln)


# ---- staging ------------------------------------------------------------------------------------
def executorch_lib_dir() -> Path:
    """The venv's ExecuTorch wheel's lib/ (found, not imported: importing it loads torch)."""
    spec = importlib.util.find_spec("executorch")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("error: the executorch package is not installed in this Python")
    return Path(list(spec.submodule_search_locations)[0]) / "lib"


def bundled_libraries(lib: Path, search: Path) -> list[Path]:
    """The NEEDED closure of ``lib`` inside ``search``: what the wheel must carry (libc,
    libstdc++ and the other system libraries stay the system's)."""
    seen: dict[str, Path] = {}
    todo = [lib]
    while todo:
        for name in Elf(todo.pop()).strings(DT_NEEDED):
            cand = search / name
            if name not in seen and cand.is_file():
                seen[name] = cand
                todo.append(cand)
    return sorted(seen.values())


def stage_package(stage: Path, build: Path, strip: bool) -> list[Path]:
    """Copy the package and its libraries into ``stage``; returns the ELF files staged."""
    src = ROOT / PACKAGE
    pkg = stage / PACKAGE
    shutil.copytree(src, pkg, ignore=shutil.ignore_patterns(*SKIP))
    libdir = pkg / LIB_DIR
    libdir.mkdir()
    built = build / "libmobilespeech.so"
    if not built.is_file():
        raise SystemExit(f"error: {built} not found: run scripts/build_native.sh first")
    soname = (Elf(built.resolve()).strings(DT_SONAME) or ["libmobilespeech.so"])[0]
    if soname != "libmobilespeech.so.0":
        raise SystemExit(f"error: {built}'s soname is {soname}, native_lib expects "
                         "libmobilespeech.so.0")
    staged = [libdir / soname]
    shutil.copy2(built.resolve(), staged[0])
    for dep in bundled_libraries(built.resolve(), executorch_lib_dir()):
        staged.append(libdir / dep.name)
        shutil.copy2(dep, staged[-1])
    cli = build / "mobilespeech_cli"
    if cli.is_file():
        staged.append(libdir / cli.name)
        shutil.copy2(cli, staged[-1])
    for f in staged:
        f.chmod(0o755)
        before = readelf(f)
        if strip and Elf(f).has_symtab:
            subprocess.run(["strip", "--strip-unneeded", str(f)], check=True)
            before = readelf(f)  # strip leaves the dynamic symbols; compare from here on
        Elf(f).set_runpath("$ORIGIN")
        if readelf(f) != before:
            raise SystemExit(f"error: rewriting the runpath of {f.name} changed other entries")
        if Elf(f).strings(DT_RUNPATH) + Elf(f).strings(DT_RPATH) not in ([], ["$ORIGIN"]):
            raise SystemExit(f"error: {f.name}'s runpath is not $ORIGIN")
    missing = subprocess.run(["ldd", str(staged[0])], capture_output=True, text=True,
                             env={"PATH": "/usr/bin:/bin"}).stdout
    if "not found" in missing:
        raise SystemExit(f"error: the staged library does not resolve by itself:\n{missing}")
    return staged


def version() -> str:
    text = (ROOT / PACKAGE / "__init__.py").read_text(encoding="utf-8")
    m = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    if not m:
        raise SystemExit("error: no __version__ in mobilespeech_runtime/__init__.py")
    return m.group(1)


def toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


PYPROJECT = """\
# Generated by scripts/wheel_stage.py: the runtime-only wheel (the repository's setup.cfg is the
# development install). No torch, no executorch: the ExecuTorch runtime is the bundled .so files.
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
description = "MobileSpeech runtime: on-device zero-shot TTS (C++ core over ExecuTorch)"
readme = "README.md"
license = "MIT"
requires-python = ">=3.11"
dependencies = {deps}

[project.optional-dependencies]
{optional}

[project.scripts]
mobilespeech = "mobilespeech_runtime.cli:main"

[tool.setuptools]
packages = ["{package}"]
include-package-data = false

[tool.setuptools.package-data]
{package} = ["{libdir}/*"]
"""

SETUP_PY = '''\
"""A platform wheel: py3-none-<platform>. The package is pure Python over ctypes (no CPython
ABI), but the ELF libraries in _lib/ are for this platform: the distribution says it has
extension modules so that setuptools lays it out as a platform (platlib) wheel."""
from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.dist import Distribution


class BinaryDistribution(Distribution):
    def has_ext_modules(self) -> bool:
        return True


class PlatformWheel(bdist_wheel):
    def get_tag(self) -> tuple[str, str, str]:
        return "py3", "none", super().get_tag()[2]


setup(distclass=BinaryDistribution, cmdclass={"bdist_wheel": PlatformWheel})
'''

README = """\
# mobilespeech-runtime

The MobileSpeech runtime alone: `mobilespeech_runtime` (a ctypes binding over the C++ core,
`libmobilespeech`) with ExecuTorch's runtime libraries and the C CLI (`_lib/mobilespeech_cli`)
inside it. No torch. Models are not included: pass a bundle folder.

    mobilespeech synth --bundle models/demo --text "Hello from MobileSpeech." --out hello.wav

    from mobilespeech_runtime import Synthesizer
    synth = Synthesizer.from_bundle("models/demo", num_threads=2)
"""


def build(build_dir: Path, dist: Path, strip: bool, stage: Path) -> Path:
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    staged = stage_package(stage, build_dir, strip)
    optional = "\n".join(f"{k} = {toml_list(v)}" for k, v in OPTIONAL.items())
    (stage / "pyproject.toml").write_text(PYPROJECT.format(
        name=DIST_NAME, version=version(), deps=toml_list(DEPENDENCIES), optional=optional,
        package=PACKAGE, libdir=LIB_DIR), encoding="utf-8")
    (stage / "setup.py").write_text(SETUP_PY, encoding="utf-8")
    (stage / "README.md").write_text(README, encoding="utf-8")
    dist.mkdir(parents=True, exist_ok=True)
    for old in dist.glob(f"{DIST_NAME.replace('-', '_')}-*.whl"):
        old.unlink()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-build-isolation",
                    "--no-deps", "--no-index", "-w", str(dist), str(stage)], check=True)
    (whl,) = dist.glob(f"{DIST_NAME.replace('-', '_')}-*.whl")
    with zipfile.ZipFile(whl) as z:
        names = z.namelist()
    info = f"{DIST_NAME.replace('-', '_')}-{version()}.dist-info/"
    stray = [n for n in names if not n.startswith((f"{PACKAGE}/", info))]
    if stray or whl.name.endswith("-none-any.whl"):
        raise SystemExit(f"error: {whl.name} is not the runtime platform wheel: {stray[:5]}")
    size = whl.stat().st_size
    libs = sum(f.stat().st_size for f in staged)
    print(f"{whl.relative_to(ROOT) if whl.is_relative_to(ROOT) else whl}: {size / 1e6:.1f} MB "
          f"({len(names)} files; {len(staged)} ELF files, {libs / 1e6:.1f} MB unpacked)")
    return whl


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", type=Path, default=ROOT / "build" / "native",
                    help="native build folder with libmobilespeech.so (scripts/build_native.sh)")
    ap.add_argument("--dist", type=Path, default=ROOT / "dist", help="where the wheel goes")
    ap.add_argument("--stage", type=Path, default=ROOT / "build" / "wheel-stage",
                    help="staging folder (emptied first)")
    ap.add_argument("--no-strip", action="store_true",
                    help="keep the symbol tables of libmobilespeech and mobilespeech_cli")
    args = ap.parse_args()
    build(args.build.resolve(), args.dist.resolve(), not args.no_strip, args.stage.resolve())


if __name__ == "__main__":
    main()
