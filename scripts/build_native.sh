#!/usr/bin/env bash
# Build the native runtime (libmobilespeech, mobilespeech_cli, C tests) against the ExecuTorch
# wheel of the project's venv. One command from a fresh clone once .venv exists:
#
#   scripts/build_native.sh                 # Release -> build/native
#   scripts/build_native.sh --sanitize      # ASan + UBSan (+ LSan) -> build/native-asan
#   scripts/build_native.sh --arch aarch64  # ARM64 Linux (glibc) cross build -> build/native-aarch64
#   scripts/build_native.sh --clean         # wipe the build folder first
#
# --arch aarch64 needs Debian's g++-aarch64-linux-gnu + libc6-dev-arm64-cross (run the results
# with qemu-aarch64-static -L /usr/aarch64-linux-gnu). It links the executorch==1.5.1
# manylinux_2_28_aarch64 wheel, fetched once with `pip download` into MS_AARCH64_CACHE
# (default .cache/aarch64) and unpacked there; it is never installed into the venv. Offline:
# MS_AARCH64_WHEEL=<that .whl> uses a wheel already at hand.
#
# Environment: PYTHON (default .venv/bin/python), CMAKE (default .venv/bin/cmake, else cmake on
# PATH; >= 3.28 is needed), JOBS (default 2), MS_BUILD_DIR (override the output folder).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SANITIZE=0
CLEAN=0
ARCH=native
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sanitize) SANITIZE=1 ;;
    --clean) CLEAN=1 ;;
    --arch) [[ $# -ge 2 ]] || { echo "--arch needs a value (aarch64)" >&2; exit 2; }; ARCH="$2"; shift ;;
    --arch=*) ARCH="${1#--arch=}" ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
case "$ARCH" in
  native|"$(uname -m)") ARCH=native ;;
  aarch64|arm64) ARCH=aarch64 ;;
  *) echo "unsupported --arch $ARCH (aarch64, or the host's $(uname -m)); Android: android_demo/build_android.sh" >&2
     exit 2 ;;
esac
if [[ "$ARCH" == aarch64 && "$SANITIZE" == 1 ]]; then
  echo "error: --sanitize is for the host build only" >&2
  exit 2
fi

PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
if [[ ! -x "$PYTHON" ]]; then
  echo "error: $PYTHON not found: create the venv first (see README)" >&2
  exit 1
fi
if [[ -z "${CMAKE:-}" ]]; then
  if [[ -x "$ROOT/.venv/bin/cmake" ]]; then CMAKE="$ROOT/.venv/bin/cmake"; else CMAKE="$(command -v cmake || true)"; fi
fi
if [[ -z "$CMAKE" ]]; then
  echo "error: cmake not found (pip install 'cmake>=3.28' into the venv)" >&2
  exit 1
fi

# The aarch64 ExecuTorch package: the wheel's executorch/{lib,include,share} unpacked into
# $MS_AARCH64_CACHE/executorch-<version>/ (once; a marker file says it is complete).
fetch_aarch64_executorch() {
  local version cache dest whl
  version="$("$PYTHON" -c 'from importlib.metadata import version; print(version("executorch"))')"
  cache="${MS_AARCH64_CACHE:-$ROOT/.cache/aarch64}"
  dest="$cache/executorch-$version"
  if [[ ! -f "$dest/.complete" ]]; then
    whl="${MS_AARCH64_WHEEL:-}"
    if [[ -z "$whl" ]]; then
      mkdir -p "$cache/wheels"
      whl="$(ls "$cache/wheels"/executorch-"$version"-*manylinux*aarch64*.whl 2>/dev/null | head -n 1 || true)"
      if [[ -z "$whl" ]]; then
        echo "== pip download executorch==$version (manylinux_2_28_aarch64) into $cache/wheels" >&2
        "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --platform manylinux_2_28_aarch64 \
          --python-version 3.11 "executorch==$version" -d "$cache/wheels" >&2
        whl="$(ls "$cache/wheels"/executorch-"$version"-*manylinux*aarch64*.whl | head -n 1)"
      fi
    fi
    [[ -f "$whl" ]] || { echo "error: no aarch64 executorch wheel ($whl)" >&2; return 1; }
    echo "== unpacking $(basename "$whl") into $dest" >&2
    rm -rf "$dest" "$dest.tmp"
    "$PYTHON" - "$whl" "$dest.tmp" <<'PY' >&2 || return 1
import sys, zipfile
whl, out = sys.argv[1:3]
with zipfile.ZipFile(whl) as z:
    names = [n for n in z.namelist()
             if n.startswith(("executorch/lib/", "executorch/include/", "executorch/share/"))]
    z.extractall(out, names)
print(f"{len(names)} files")
PY
    mv "$dest.tmp/executorch" "$dest" && rm -rf "$dest.tmp"
    touch "$dest/.complete"
  fi
  echo "$dest"
}

CROSS=()
if [[ "$ARCH" == aarch64 ]]; then
  if ! command -v aarch64-linux-gnu-g++ >/dev/null; then
    echo "error: aarch64-linux-gnu-g++ not found: apt-get install g++-aarch64-linux-gnu libc6-dev-arm64-cross" >&2
    exit 1
  fi
  ET_DIR="$(fetch_aarch64_executorch)"
  # The toolchain-file pattern of android_demo/build_android.sh: the target's ExecuTorch is both
  # the prefix path and a find root.
  CROSS=(-DCMAKE_TOOLCHAIN_FILE="$ROOT/mobilespeech_runtime/native/cmake/aarch64-linux-gnu.cmake"
         -DCMAKE_FIND_ROOT_PATH="$ET_DIR")
else
  if ! command -v c++ >/dev/null && ! command -v g++ >/dev/null && ! command -v clang++ >/dev/null; then
    echo "error: no C++ compiler found" >&2
    exit 1
  fi
  ET_DIR="$("$PYTHON" -c 'import importlib.util as u; print(list(u.find_spec("executorch").submodule_search_locations)[0])')"
fi
if [[ -z "$ET_DIR" || ! -f "$ET_DIR/share/cmake/executorch-config.cmake" ]]; then
  echo "error: the executorch package at '$ET_DIR' has no CMake package" >&2
  exit 1
fi

if [[ "$ARCH" == aarch64 ]]; then
  BUILD="${MS_BUILD_DIR:-$ROOT/build/native-aarch64}"
  EXTRA=(-DCMAKE_BUILD_TYPE=Release)
elif [[ "$SANITIZE" == 1 ]]; then
  BUILD="${MS_BUILD_DIR:-$ROOT/build/native-asan}"
  EXTRA=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMS_SANITIZE=ON)
else
  BUILD="${MS_BUILD_DIR:-$ROOT/build/native}"
  EXTRA=(-DCMAKE_BUILD_TYPE=Release)
fi
[[ "$CLEAN" == 1 ]] && rm -rf "$BUILD"
mkdir -p "$BUILD"

GEN=()
if command -v ninja >/dev/null && [[ ! -f "$BUILD/Makefile" ]]; then GEN=(-G Ninja); fi

"$CMAKE" -S "$ROOT/mobilespeech_runtime/native" -B "$BUILD" "${GEN[@]}" "${CROSS[@]}" \
  -DCMAKE_PREFIX_PATH="$ET_DIR" -DPython3_EXECUTABLE="$PYTHON" "${EXTRA[@]}" >"$BUILD/configure.log" 2>&1 \
  || { cat "$BUILD/configure.log" >&2; exit 1; }
"$CMAKE" --build "$BUILD" -j "${JOBS:-2}"
echo "built: $BUILD/libmobilespeech.so $BUILD/mobilespeech_cli"
