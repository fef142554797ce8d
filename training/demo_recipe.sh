#!/usr/bin/env bash
# The recipe that produced models/demo: synthetic corpus -> codec -> durations -> SMD -> bundle
# -> evaluation. Every step resumes. Minutes are wall-clock budgets for a 2-core CPU; on a GPU
# the same commands run with more steps (the scripts pick CUDA when it is there).
#   Needs: bash scripts/setup.sh --eval, and the Debian voices (see README).
set -euo pipefail
# One torch thread per process and passive OpenMP waits: two training processes on 2 cores with
# 2 spinning threads each ran 7x slower here.
export OMP_WAIT_POLICY=PASSIVE
cd "$(dirname "$0")/.."
PY=.venv/bin/python
CORPUS=${CORPUS:-data/synth}
RUNS=${RUNS:-runs}
CODEC_MIN=${CODEC_MIN:-45}
ALIGN_MIN=${ALIGN_MIN:-8}
TTS_MIN=${TTS_MIN:-50}
$PY -m training.corpus build --out "$CORPUS" --utterances 4000 --workers 2
$PY -m training.train_codec --corpus "$CORPUS" --out "$RUNS/codec" --preset small --batch 8 \
    --segment 1.0 --minutes "$CODEC_MIN" --steps 6000 --threads 1
$PY -m training.train_tts prepare --corpus "$CORPUS" --codec "$RUNS/codec/codec.pt" --out "$RUNS/tts"
$PY -m training.train_tts align --out "$RUNS/tts" --minutes "$ALIGN_MIN" --threads 1
# the decoder keeps training with frozen encoder/codebooks (run beside the TTS training)
$PY -m training.train_codec --corpus "$CORPUS" --out "$RUNS/codec_dec" --init "$RUNS/codec/codec.pt" \
    --decoder-only --batch 8 --minutes "$TTS_MIN" --steps 8000 --lr 5e-4 --threads 1 &
$PY -m training.train_tts train --out "$RUNS/tts" --minutes "$TTS_MIN" --steps 2000 --lr 2e-3 \
    --threads 1
wait
$PY -m training.train_tts swap-codec --model "$RUNS/tts/model.pt" --codec "$RUNS/codec_dec/codec.pt" \
    --out "$RUNS/tts/model_final.pt"
PROMPT=$(awk -F'\t' '$2=="flite-slt" {print $3; exit}' "$CORPUS/metadata.tsv")
$PY -m export --checkpoint "$RUNS/tts/model_final.pt" --prompt "$CORPUS/$PROMPT" --out models/demo \
    --variant 8da4w
$PY -m training.evaluate --corpus "$CORPUS" --bundle models/demo --out models/demo --n 40
