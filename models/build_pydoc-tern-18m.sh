#!/usr/bin/env bash
# Rebuild pydoc-tern-18m from scratch: corpus -> tokenizer -> QAT model + full-precision twin ->
# Hugging Face export -> GGUF (TQ2_0, TQ1_0, F16) -> perplexities -> loss curve.
# Needs the [train] extra (torch, matplotlib) and the Debian package python3.11-doc (the corpus).
# Every stage can be re-run: training resumes from its last checkpoint.
#   usage: models/build_pydoc-tern-18m.sh [WORK_DIR]        (default: ./build/pydoc-tern-18m)
# STAGES="data train export gguf eval" selects stages (default: all).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
NAME=pydoc-tern-18m
WORK="${1:-build/$NAME}"
STAGES="${STAGES:-data train export gguf eval}"
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
    quantize convert "$WORK/hf-qat" -o "$WORK/$NAME-$t.gguf" --type "$t"
  done
  quantize convert "$WORK/hf-fp" -o "$WORK/$NAME-fp-twin-f16.gguf" --type f16 --allow-ptq
  cp "$WORK/$NAME-tq2_0.gguf" "$WORK/$NAME-tq1_0.gguf" "$HERE/"
fi
if has eval; then
  for f in "$NAME-f16" "$NAME-tq2_0" "$NAME-tq1_0" "$NAME-fp-twin-f16"; do
    for text in heldout_prose heldout; do
      echo "== $f on $text"
      quantize eval "$WORK/$f.gguf" --text "$WORK/corpus/$text.txt" --ctx 256 | tee "$WORK/eval-$f-$text.txt"
    done
  done
  "${QAT[@]}" plot "$WORK/qat" "$WORK/fp" -o "$HERE/$NAME-loss.png"
fi
