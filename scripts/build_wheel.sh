#!/usr/bin/env bash
# The runtime-only wheel: dist/mobilespeech_runtime-<version>-py3-none-<platform>.whl with
# mobilespeech_runtime (Python), libmobilespeech, the ExecuTorch runtime libraries it links
# (from the venv's ExecuTorch wheel; they need no torch) and mobilespeech_cli, all in
# mobilespeech_runtime/_lib/ with an $ORIGIN runpath, plus the `mobilespeech` command. It
# depends on numpy and soundfile only (tqdm optional: [progress]); no model inside.
#
#   bash scripts/build_wheel.sh              # from build/native (built first if missing)
#   bash scripts/build_wheel.sh --no-strip   # keep symbols in libmobilespeech/mobilespeech_cli
#
# Built by setuptools from a staging folder (build/wheel-stage) with `pip wheel
# --no-build-isolation --no-deps`: nothing is downloaded and no torch is resolved.
# Environment: PYTHON (default .venv/bin/python), MS_BUILD_DIR (native build folder, default
# build/native), MS_DIST_DIR (default dist), MS_STAGE_DIR (default build/wheel-stage).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
BUILD="${MS_BUILD_DIR:-$ROOT/build/native}"
[[ -x "$PYTHON" ]] || { echo "error: $PYTHON not found: run scripts/setup.sh first" >&2; exit 1; }
if [[ ! -f "$BUILD/libmobilespeech.so" ]]; then
  MS_BUILD_DIR="$BUILD" bash "$ROOT/scripts/build_native.sh" >/dev/null
fi
exec "$PYTHON" "$ROOT/scripts/wheel_stage.py" --build "$BUILD" --dist "${MS_DIST_DIR:-$ROOT/dist}" \
  --stage "${MS_STAGE_DIR:-$ROOT/build/wheel-stage}" "$@"
