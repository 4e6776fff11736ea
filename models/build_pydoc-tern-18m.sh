#!/usr/bin/env bash
# Rebuild pydoc-tern-18m from scratch: corpus -> tokenizer -> QAT model + full-precision twin ->
# Hugging Face export -> GGUF (TQ2_0, TQ1_0, F16) -> perplexities -> loss curve.
# Needs the [train] extra (torch, matplotlib) and the Debian package python3.11-doc (the corpus).
# Every stage can be re-run: training resumes from its last checkpoint.
#   usage: models/build_pydoc-tern-18m.sh [WORK_DIR]        (default: ./build/pydoc-tern-18m)
# STAGES="data train export gguf eval verify" selects stages (default: all).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
NAME=pydoc-tern-18m
WORK="${1:-build/$NAME}"
STAGES="${STAGES:-data train export gguf eval verify}"
PY="${PYTHON:-python}"
QAT=("$PY" -m quantize.qat qat)
export TORCHINDUCTOR_COMPILE_THREADS=1 OMP_NUM_THREADS=1
# Same budget for both models: 1500 steps x 8 sequences x 256 tokens = 3.07M tokens, 1 CPU thread.
TRAIN_ARGS=(--corpus "$WORK/corpus" --preset base --steps 1500 --batch-size 8 --seq-len 256 --lr 1.5e-3
            --warmup 100 --eval-every 250 --checkpoint-every 250 --seed 1234 --threads 1 --resume)
has() { [[ " $STAGES " == *" $1 "* ]]; }
mkdir -p "$WORK"

if has data; then
  if [ ! -d /usr/share/doc/python3.11/html/_sources ]; then
    echo "corpus source missing: run 'apt-get install python3.11-doc' (Debian)" >&2; exit 1
  fi
  "${QAT[@]}" corpus --out "$WORK/corpus"
  "${QAT[@]}" tokenizer --corpus "$WORK/corpus" --vocab 4096
fi
if has train; then
  "${QAT[@]}" train "${TRAIN_ARGS[@]}" --run "$WORK/qat"
  "${QAT[@]}" train "${TRAIN_ARGS[@]}" --run "$WORK/fp" --full-precision
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
  cp "$WORK/corpus/manifest.json" "$HERE/$NAME-corpus.json"
fi
if has eval; then
  for f in "$NAME-f16" "$NAME-tq2_0" "$NAME-tq1_0" "$NAME-fp-twin-f16" "$NAME-fp-twin-ptq-tq2_0"; do
    for text in "$WORK/corpus/heldout_prose.txt" "$HERE/$NAME-eval-general.txt"; do
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
