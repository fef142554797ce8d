#!/usr/bin/env bash
# Release export with the project's venv, niced and with passive OpenMP waiting (a shared
# machine stays usable). Arguments go to python -m export.release unchanged, e.g.
#
#   export/release.sh --checkpoint runs/tts/model.pt --prompt voice.wav --out dist/release
#   export/release.sh --preset tiny --random-init --prompt voice.wav --out /tmp/rel   # CI
#
# Environment: PYTHON (default .venv/bin/python), NICE (default 10).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
exec nice -n "${NICE:-10}" env OMP_WAIT_POLICY=PASSIVE "$PYTHON" -m export.release "$@"
