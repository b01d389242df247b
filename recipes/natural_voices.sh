#!/usr/bin/env bash
# The natural-voice stage: the built-in model (recipes/builtin.sh) and its vocoder fine-tuned on
# the Kokoro corpus, English + Mandarin, then scored. Not shipped yet: after 600 CPU steps it is
# worse than the model it starts from (README, "How it scores"); it needs many more steps.
set -euo pipefail
cd "$(dirname "$0")/.."
test -d runs/corpus-kokoro || { echo "run recipes/builtin.sh first (it makes runs/builtin and runs/corpus-kokoro)"; exit 2; }
OMP_NUM_THREADS=1 omnitalker train-vocoder --corpus runs/corpus-kokoro --out runs/vocoder-voices --init runs/vocoder --steps 500 --batch 8
OMP_NUM_THREADS=2 omnitalker train --config config/train/builtin_voices.yaml
omnitalker eval --checkpoint runs/builtin-voices/checkpoints/step-0000600 --vocoder runs/vocoder-voices \
    --corpus runs/corpus-kokoro --out runs/builtin-voices/eval.json --nfe 7 --per-source 2
