#!/usr/bin/env bash
# The recipe that produced models/demo: synthetic corpora -> mel codec -> durations -> SMD ->
# bundle -> evaluation. Every step resumes (re-run the script after an interruption). Minutes are
# wall-clock budgets for a 2-core CPU; on a GPU the same commands run with more steps (the scripts
# pick CUDA when it is there).
#   Needs: bash scripts/setup.sh --test --eval, and the Debian voices (see README, Training data).
set -euo pipefail
# One torch thread per process and passive OpenMP waits: two training processes on 2 cores with
# 2 spinning threads each ran 7x slower here.
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
cd "$(dirname "$0")/.."
PY=.venv/bin/python
CACHE=${CACHE:-$HOME/.cache/mobilespeech}
DEBIAN=${DEBIAN:-$CACHE/corpus/debian}   # Debian voices only: minutes to build
MIX=${MIX:-$CACHE/corpus/mix}            # Kokoro-82M + augmented Debian voices: hours, grows
RUNS=${RUNS:-$CACHE/runs}
CODEC_MIN=${CODEC_MIN:-50}
ALIGN_MIN=${ALIGN_MIN:-7}
TTS_MIN=${TTS_MIN:-140}  # the demo: 1,355 steps in 42 min, resumed to 5,000 (98 min)
$PY -m training.corpus build --out "$DEBIAN" --utterances 3000 --sample-rate 22050 --workers 1
# the larger mixed corpus is built in the background and used as far as it has got
nohup nice -n 15 $PY -m training.corpus build --out "$MIX" --utterances 16000 --sample-rate 22050 \
    --engines debian --workers 1 >> "$CACHE/corpus/mix-debian.log" 2>&1 &
nohup nice -n 19 $PY -m training.corpus build --out "$MIX" --utterances 16000 --sample-rate 22050 \
    --engines kokoro --workers 1 >> "$CACHE/corpus/mix.log" 2>&1 &
$PY -m training.train_codec --corpus "$DEBIAN" --out "$RUNS/melcodec" --preset small --batch 16 \
    --segment 1.5 --minutes "$CODEC_MIN" --steps 8000 --lr 1e-3 --threads 1
[ -f "$RUNS/tts_mel/prepared.pt" ] || $PY -m training.train_tts prepare --corpus "$DEBIAN" \
    --corpus "$MIX" --codec "$RUNS/melcodec/codec.pt" --out "$RUNS/tts_mel" --threads 1
$PY -m training.train_tts align --out "$RUNS/tts_mel" --minutes "$ALIGN_MIN" --threads 1
# the mel decoder keeps training with frozen encoder/codebooks (beside the TTS training)
$PY -m training.train_codec --corpus "$DEBIAN" --corpus "$MIX" --out "$RUNS/melcodec_dec" \
    --init "$RUNS/melcodec/codec.pt" --decoder-only --batch 16 --segment 1.5 --minutes "$TTS_MIN" \
    --steps 8000 --lr 5e-4 --threads 1 &
$PY -m training.train_tts train --out "$RUNS/tts_mel" --minutes "$TTS_MIN" --steps 5000 --lr 2e-3 \
    --threads 1
wait
$PY -m training.train_tts swap-codec --model "$RUNS/tts_mel/model.pt" \
    --codec "$RUNS/melcodec_dec/codec.pt" --out "$RUNS/tts_mel/model_final.pt"
# the decoder learns the SMD's own tokens (3,000 generated utterances, ~20 min each step on one
# core), then text guidance 2.0 goes into the schedule that export bakes into smd.pte
$PY -m training.finetune_decoder generate --model "$RUNS/tts_mel/model_final.pt" \
    --prepared "$RUNS/tts_mel/prepared.pt" --out "$RUNS/decft" --utterances 3000
$PY -m training.finetune_decoder train --model "$RUNS/tts_mel/model_final.pt" --out "$RUNS/decft" \
    --corpus "$DEBIAN" --corpus "$MIX" --steps 4000
$PY -m training.finetune_decoder apply --model "$RUNS/tts_mel/model_final.pt" --out "$RUNS/decft" \
    --to "$RUNS/decft/model_ft.pt"
$PY -m training.train_tts schedule --model "$RUNS/decft/model_ft.pt" --guidance 2.0 \
    --to "$RUNS/decft/model_demo.pt"
PROMPT=$(awk -F'\t' '$2=="flite-slt" {print $3; exit}' "$DEBIAN/metadata.tsv")
$PY -m export --checkpoint "$RUNS/decft/model_demo.pt" --prompt "$DEBIAN/$PROMPT" \
    --out models/demo --variant 8da4w --threads 2
# ---- session 8: warm start with guidance as a trained condition --------------------------------
# The bundle above, recovered, fine-tuned with text dropout (so guidance's text-free pass is a
# condition the SMD has seen; prompt dropout as in session 7's measured run) on a
# speaker-balanced corpus: every Kokoro pseudo-speaker 6 times, every Debian voice 16 times
# (fortune sentences where installed), evaluation voices and sentences left out.
EVALSET=${EVALSET:-$CACHE/corpus/zeroshot-eval}  # the frozen 60-utterance zero-shot set
BAL=${BAL:-$CACHE/corpus/mix-balanced}
# --sentences builtin: the same texts and ids as the frozen set of sessions 5-8 on any machine
$PY -m training.corpus build --out "$EVALSET" --utterances 16000 --sample-rate 22050 \
    --splits zeroshot --per-speaker 4 --workers 1 --sentences builtin
$PY -m training.corpus build --out "$BAL" --utterances 16000 --sample-rate 22050 --engines kokoro \
    --splits train,valid --per-speaker 6 --workers 1 &   # ~40 min
$PY -m training.corpus build --out "$BAL" --utterances 16000 --sample-rate 22050 --engines debian \
    --splits train,valid --per-speaker 16 --workers 1    # ~3 min
wait
$PY -m export.recover --bundle models/demo --out "$RUNS/demo.pt"
$PY -m training.train_tts prepare --corpus "$BAL" --exclude "$EVALSET" --codec "$RUNS/demo.pt" \
    --out "$RUNS/ft8" --threads 1
$PY -m training.train_tts align --out "$RUNS/ft8" --minutes 6 --threads 1
$PY -m training.train_tts train --out "$RUNS/ft8" --init "$RUNS/demo.pt" --lr 3e-4 \
    --minutes "${FT_MIN:-68}" --steps 2400 --text-dropout 0.1 --prompt-dropout 0.1 \
    --max-per-speaker 16 --threads 1
# ---- session 9: the same run continued (a warm restart of the cosine schedule to 4,400 steps;
# 70 more minutes stopped it at 3,957) and decoded at temperature 0.7. Better on every zero-shot
# figure than models/demo, but NOT shipped: the README sentence is exact for 4 of 10 seeds (the
# demo: 8), seed 0 included. The bundle stays in the cache for the next session.
# Hard links, not copies: training only reads prepared.pt/aligner.pt and saves its state by
# write-then-rename, so ft8's files stay as they were.
[ -d "$RUNS/ft9" ] || { mkdir -p "$RUNS/ft9"; cp -l "$RUNS/ft8"/{prepared.pt,aligner.pt,tts_state.pt} "$RUNS/ft9/"; }
$PY -m training.train_tts train --out "$RUNS/ft9" --lr 3e-4 --minutes "${FT9_MIN:-70}" \
    --steps 4400 --text-dropout 0.1 --prompt-dropout 0.1 --max-per-speaker 16 --threads 1
$PY -m training.train_tts schedule --model "$RUNS/ft9/model.pt" --to "$RUNS/ft9/model_t07.pt" \
    --temperature 0.7
$PY -m export --checkpoint "$RUNS/ft9/model_t07.pt" --prompt models/demo/default_prompt.wav \
    --out "$CACHE/staging9" --variant 8da4w --threads 2
$PY -m training.evaluate --corpus "$EVALSET" --bundle "$CACHE/staging9" --n 34 --threads 2
# ---- session 10: the Vocos student vocoder (issue 22), distilled from the HiFi-GAN teacher on
# one core, then the demo re-exported from its recovered checkpoint with it (token tables fp16).
MIX=${MIX:-$CACHE/corpus/mix}
$PY -m training.corpus build --out "$MIX" --utterances 16000 --sample-rate 22050 --engines debian \
    --splits train,valid --per-speaker 8 --workers 1
$PY -m training.distill_vocoder label --out "$RUNS/vocos" --corpus "$MIX" --bundle models/demo \
    --minutes "${LABEL_MIN:-45}" &
mkdir -p "$RUNS/vocos2"; ln -sfn "$RUNS/vocos/pool" "$RUNS/vocos2/pool"
sleep 120  # the first pool shards
$PY -m training.distill_vocoder train --out "$RUNS/vocos2" --arch vocos --minutes "${VOC_MIN:-60}"
wait
$PY -m export.recover --bundle models/demo --out "$RUNS/demo-recovered.pt"
$PY -m export --checkpoint "$RUNS/demo-recovered.pt" --vocoder "$RUNS/vocos2/student.pt" \
    --prompt models/demo/default_prompt.wav --out "$CACHE/staging10" --variant 8da4w --threads 2
$PY -m export.vocoder teacher --bundle "$CACHE/staging10" --out "$CACHE/staging10-teacher"
$PY -m training.evaluate --corpus "$EVALSET" --bundle "$CACHE/staging10" --n 34 --threads 1
$PY -m training.evaluate --corpus "$EVALSET" --bundle "$CACHE/staging10-teacher" --n 34 --threads 1
# ---- session 13 (issue 23): the recovered demo fine-tuned with a leading <sil> per utterance
# (the cause of the dropped sentence-initial "It"), text and prompt dropout 0.1, on the mix corpus
# as far as it had got (3,708 utterances, 207 voices after --exclude), then two schedules: text
# guidance 2.0, and guidance whose second pass also drops the prompt (classifier-free guidance on
# the voice too; trained by --prompt-dropout). Both evaluated on the frozen set.
EVAL2=${EVAL2:-$CACHE/corpus/zeroshot-eval-v2}  # issue 23's frozen set: 130 cases, 26 voices
$PY -m training.corpus build --out "$EVAL2" --utterances 16000 --sample-rate 22050 \
    --splits zeroshot --per-speaker 5 --sentences builtin --eval-voices --workers 1
$PY -m training.train_tts prepare --corpus "$MIX" --codec "$RUNS/demo-recovered.pt" \
    --out "$RUNS/ft13" --exclude "$EVAL2" --exclude "$EVALSET" --leading-pause --threads 1
$PY -m training.train_tts align --out "$RUNS/ft13" --minutes 6 --threads 1
$PY -m training.train_tts train --out "$RUNS/ft13" --init "$RUNS/demo-recovered.pt" --lr 3e-4 \
    --minutes "${FT13_MIN:-80}" --steps 2400 --text-dropout 0.1 --prompt-dropout 0.1 --threads 1
for v in g2:no g2p:yes; do
  $PY -m training.train_tts schedule --model "$RUNS/ft13/model.pt" --to "$RUNS/ft13/model_${v%:*}.pt" \
      --guidance 2.0 --guidance-drops-prompt "${v#*:}"
  $PY -m export --checkpoint "$RUNS/ft13/model_${v%:*}.pt" --vocoder "$RUNS/vocos2/student.pt" \
      --prompt models/demo/default_prompt.wav --out "$CACHE/staging13-${v%:*}" --variant 8da4w \
      --threads 2
  $PY -m training.evaluate --corpus "$EVAL2" --bundle "$CACHE/staging13-${v%:*}" --n 130 \
      --threads 1 --out "$CACHE/eval-runs/s13-${v%:*}"
done

# ---- session 14 (issue 23): two more levers on ft13's recipe, each evaluated on the frozen set.
# (a) compositional guidance on ft13: text 2.0 and the prompt apart at 1.0 (a batch-3 SMD pass).
$PY -m training.train_tts schedule --model "$RUNS/ft13/model.pt" --to "$RUNS/ft13/model_g2p1.pt" \
    --guidance 2.0 --guidance-drops-prompt no --prompt-guidance 1.0
# (b) ft13o: ft13's run (same prepared corpus and aligner, copied) with half the utterances
# prompted by another whole take of their speaker (--prompt-other 0.5), text guidance 2.0.
mkdir -p "$RUNS/ft13o" && cp -n "$RUNS/ft13/prepared.pt" "$RUNS/ft13/aligner.pt" "$RUNS/ft13o/"
$PY -m training.train_tts train --out "$RUNS/ft13o" --init "$RUNS/demo-recovered.pt" --lr 3e-4 \
    --minutes "${FT13O_MIN:-100}" --steps 2400 --text-dropout 0.1 --prompt-dropout 0.1 \
    --prompt-other 0.5 --threads 1
$PY -m training.train_tts schedule --model "$RUNS/ft13o/model.pt" --to "$RUNS/ft13o/model_g2.pt" \
    --guidance 2.0 --guidance-drops-prompt no
for m in ft13/model_g2p1:staging14-g2p1 ft13o/model_g2:staging14-o-g2; do
  $PY -m export --checkpoint "$RUNS/${m%:*}.pt" --vocoder "$RUNS/vocos2/student.pt" \
      --prompt models/demo/default_prompt.wav --out "$CACHE/${m#*:}" --variant 8da4w --threads 2
  $PY -m training.evaluate --corpus "$EVAL2" --bundle "$CACHE/${m#*:}" --n 130 \
      --threads 1 --out "$CACHE/eval-runs/s14-${m#*staging14-}"
done
# (c) ft14b: ft13's recipe on an engine-balanced corpus (ft13 forgot the non-Kokoro voices and the
# real LibriVox reader): the Debian engines' share of a 4x plan, at most 32 utterances per voice.
$PY -m training.corpus build --out "$CACHE/corpus/debian-x4" --utterances 64000 --sample-rate 22050 \
    --engines debian --per-speaker 32 --workers 1
$PY -m training.train_tts prepare --corpus "$MIX" --corpus "$CACHE/corpus/debian-x4" \
    --codec "$RUNS/demo-recovered.pt" --out "$RUNS/ft14b" --exclude "$EVAL2" --exclude "$EVALSET" \
    --leading-pause --threads 1
$PY -m training.train_tts align --out "$RUNS/ft14b" --minutes 6 --threads 1
$PY -m training.train_tts train --out "$RUNS/ft14b" --init "$RUNS/demo-recovered.pt" --lr 3e-4 \
    --minutes "${FT14B_MIN:-100}" --steps 2400 --text-dropout 0.1 --prompt-dropout 0.1 --threads 1
$PY -m training.train_tts schedule --model "$RUNS/ft14b/model.pt" --to "$RUNS/ft14b/model_g2.pt" \
    --guidance 2.0 --guidance-drops-prompt no --mel-match 1.0
$PY -m export --checkpoint "$RUNS/ft14b/model_g2.pt" --vocoder "$RUNS/vocos2/student.pt" \
    --prompt models/demo/default_prompt.wav --out "$CACHE/staging14-b-g2" --variant 8da4w --threads 2
$PY -m training.evaluate --corpus "$EVAL2" --bundle "$CACHE/staging14-b-g2" --n 130 --threads 1 \
    --out "$CACHE/eval-runs/s14-b-g2"

# ---- session 15 (issue 23): a new machine, with none of the cache above (corpora, runs, ft14b).
# (a) the frozen set rebuilt from the plan alone and the shipped demo re-evaluated on it: the
# same 130 ids and texts, every similarity equal to 1e-7 (the audio is the same); Whisper's
# transcripts differ for 35 of 130 TTS cases across machines (WER base 26.1 vs 26.2 %).
$PY -m training.evaluate --corpus "$EVAL2" --bundle models/demo --n 130 --threads 1 \
    --out "$CACHE/eval-runs/s15-demo"
# (b) the shipped demo, recovered, with prompt guidance apart from text guidance (W = 1.0).
# NOT reproducible as written: recover left the Vocos student at its random init (its tensors
# were not found in the demo's vocoder.pte), and now refuses. The measured run swapped the demo's
# own vocoder.pte (and its manifest entries) into staging15-pg1 -> staging15-pg1-demovoc.
# Kept as a record, commented out: recover now stops the recipe here.
# $PY -m export.recover --bundle models/demo --out "$RUNS/demo-recovered.pt" --threads 1
# $PY -m training.train_tts schedule --model "$RUNS/demo-recovered.pt" --to "$RUNS/demo_pg1.pt" \
#     --guidance 2.0 --guidance-drops-prompt no --prompt-guidance 1.0 --mel-match 1.0
# $PY -m export --checkpoint "$RUNS/demo_pg1.pt" --prompt models/demo/default_prompt.wav \
#     --out "$CACHE/staging15-pg1" --variant 8da4w --threads 1
# $PY -m training.evaluate --corpus "$EVAL2" --bundle "$CACHE/staging15-pg1" --n 130 --threads 1 \
#     --out "$CACHE/eval-runs/s15-pg1"
