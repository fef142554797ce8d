#!/usr/bin/env bash
# Distil the Vocos student on a lent GPU machine, in minutes, from a teacher-labelled pool.
#
#   # here (CPU): label a pool small enough to travel (the device carries <= 64 MiB):
#   python -m training.distill_vocoder label --out .cache/gpu_vocos --corpus CORPUS \
#       --bundle models/demo --half --minutes 20
#   # optional: start from the CPU run's state (copy RUN/state.pt to .cache/gpu_vocos/)
#   # on the device (run tool, carry .cache/gpu_vocos), then bring student.pt back from $OUT:
#   bash training/gpu_distill_vocoder.sh .cache/gpu_vocos 8
#
# Arguments: the run folder (pool/ and optionally state.pt) and the minutes to train. The same
# train command resumes on the CPU afterwards (state.pt is copied to $OUT with the student).
set -euo pipefail
RUN="${1:?run folder with pool/}"
MINUTES="${2:-8}"
OUT_DIR="${OUT:-$RUN/out}"
# The device has its own Python with torch (it reaches no index): packages it lacks travel as
# wheels (see the device tool's README); the repo is on PYTHONPATH. Not yet run on a device
# (none was lent to the session that wrote it): the CPU path of the same command is tested.
PY="${PYTHON:-python3}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi -L || true
# A GPU takes a 16x larger batch of longer crops at the same number of steps per minute.
"$PY" -m training.distill_vocoder train --out "$RUN" --device cuda --threads 4 \
  --batch 128 --segment-frames 64 --lr 1e-3 --minutes "$MINUTES" --log-every 100 --eval-every 500
mkdir -p "$OUT_DIR"
cp "$RUN/student.pt" "$RUN/state.pt" "$RUN/progress.jsonl" "$OUT_DIR/"
echo "student in $OUT_DIR/student.pt; put it in a bundle with:"
echo "  python -m export.vocoder swap --bundle models/demo --student $OUT_DIR/student.pt"
