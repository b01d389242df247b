#!/usr/bin/env bash
# Reproduce the shipped built-in model, vocoder and default reference (2-core CPU: about 1.5 h;
# every step resumes where it stopped when rerun). On a GPU, set `device: cuda` in the config.
set -euo pipefail
cd "$(dirname "$0")/.."
omnitalker synth-corpus --out runs/corpus-builtin --minutes 60 --langs en --seed 1 --workers 2
OMP_NUM_THREADS=1 omnitalker train-vocoder --corpus runs/corpus-builtin --out runs/vocoder --steps 1400 --batch 8
OMP_NUM_THREADS=2 omnitalker train --config config/train/builtin.yaml
omnitalker ship --run runs/builtin --vocoder runs/vocoder --corpus runs/corpus-builtin
omnitalker eval --corpus runs/corpus-builtin --out runs/builtin/eval.json --nfe 7
