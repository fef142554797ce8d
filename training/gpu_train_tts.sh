#!/usr/bin/env bash
# Train the SMD + durations on a lent GPU machine, in minutes, from a packed run.
#
#   # here (CPU): prepare + align as usual, then pack (prepared corpus without mels + the
#   # warm start as float16 TTS weights; refused over the device's 64 MiB):
#   python -m training.gpu_pack pack --prepared runs/ft/prepared.pt --init runs/demo.pt \
#       --to .cache/gpu_tts
#   # on the device (run tool, carry .cache/gpu_tts), then bring tts_weights.pt back from $OUT:
#   bash training/gpu_train_tts.sh .cache/gpu_tts 8 --text-dropout 0.1 --prompt-dropout 0.1
#   # here: a full checkpoint for export (python -m export) or more CPU training (--init)
#   python -m training.gpu_pack unpack --prepared runs/ft/prepared.pt \
#       --weights tts_weights.pt --to runs/ft/gpu_model.pt
#
# Arguments: the packed folder, the minutes to train, then any further train_tts train flags.
# What comes back (each under the device's 16 MiB a file): tts_weights.pt, tts_history.json.
set -euo pipefail
RUN="${1:?packed folder with prepared.pt}"
MINUTES="${2:-8}"
shift 2 || shift $#
OUT_DIR="${OUT:-$RUN/out}"
# The device has its own Python with torch (it reaches no index): packages it lacks travel as
# wheels (see the device tool's README); the repo is on PYTHONPATH. Not yet run on a device
# (none was lent to the session that wrote it): the CPU path of the same command is tested.
PY="${PYTHON:-python3}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi -L 2>/dev/null || echo "no GPU: training on the CPU"
INIT=()
[ -f "$RUN/init_tts.pt" ] && [ ! -f "$RUN/tts_state.pt" ] && INIT=(--init "$RUN/init_tts.pt")
# A GPU takes ~10x the CPU's padded frames per batch at a similar number of steps per minute.
"$PY" -m training.train_tts train --out "$RUN" --minutes "$MINUTES" \
  --max-frames "${MAX_FRAMES:-30000}" --lr "${LR:-3e-4}" --threads 4 "${INIT[@]}" "$@"
mkdir -p "$OUT_DIR"
"$PY" -m training.gpu_pack weights --model "$RUN/model.pt" --to "$OUT_DIR/tts_weights.pt"
cp "$RUN/tts_history.json" "$OUT_DIR/"
echo "TTS weights in $OUT_DIR/tts_weights.pt; make a checkpoint with:"
echo "  python -m training.gpu_pack unpack --prepared PREPARED --weights $OUT_DIR/tts_weights.pt --to model.pt"
