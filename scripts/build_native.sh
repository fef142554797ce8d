#!/usr/bin/env bash
# Build the native runtime (libmobilespeech, mobilespeech_cli, C tests) against the ExecuTorch
# wheel of the project's venv. One command from a fresh clone once .venv exists:
#
#   scripts/build_native.sh              # Release -> build/native
#   scripts/build_native.sh --sanitize   # ASan + UBSan (+ LSan) -> build/native-asan
#   scripts/build_native.sh --clean      # wipe the build folder first
#
# Environment: PYTHON (default .venv/bin/python), CMAKE (default .venv/bin/cmake, else cmake on
# PATH; >= 3.28 is needed), JOBS (default 2), MS_BUILD_DIR (override the output folder).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SANITIZE=0
CLEAN=0
for arg in "$@"; do
  case "$arg" in
    --sanitize) SANITIZE=1 ;;
    --clean) CLEAN=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

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
if ! command -v c++ >/dev/null && ! command -v g++ >/dev/null && ! command -v clang++ >/dev/null; then
  echo "error: no C++ compiler found" >&2
  exit 1
fi

ET_DIR="$("$PYTHON" -c 'import importlib.util as u; print(list(u.find_spec("executorch").submodule_search_locations)[0])')"
if [[ -z "$ET_DIR" || ! -f "$ET_DIR/share/cmake/executorch-config.cmake" ]]; then
  echo "error: the executorch wheel in $PYTHON has no CMake package" >&2
  exit 1
fi

if [[ "$SANITIZE" == 1 ]]; then
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

"$CMAKE" -S "$ROOT/mobilespeech_runtime/native" -B "$BUILD" "${GEN[@]}" \
  -DCMAKE_PREFIX_PATH="$ET_DIR" -DPython3_EXECUTABLE="$PYTHON" "${EXTRA[@]}" >"$BUILD/configure.log" 2>&1 \
  || { cat "$BUILD/configure.log" >&2; exit 1; }
"$CMAKE" --build "$BUILD" -j "${JOBS:-2}"
echo "built: $BUILD/libmobilespeech.so $BUILD/mobilespeech_cli"
