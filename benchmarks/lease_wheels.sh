#!/usr/bin/env bash
# The wheels the device machine's image lacks, into .whl/ (git-ignored), for gpu_lease.sh to
# install there without a network. The image runs Python 3.12 with torch; everything else the
# package imports travels as wheels of its own. With SESSIONS=1 also jieba and pypinyin (20 MB:
# the `base` preset's char+pinyin front end imports them, so the handler-session phase needs them;
# they leave no room for a corpus pack in the same call, whose carry is 64 MiB in all).
#
#   SESSIONS=1 bash benchmarks/lease_wheels.sh && du -sh .whl
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-.whl}
PY=${PY:-python3}
mkdir -p "$OUT"
PURE="loguru annotated-types typing-inspection vocos encodec"
"$PY" -m pip wheel -q --no-deps -c constraints.txt -w "$OUT" $PURE pydantic  # encodec ships only an sdist
# pydantic-core is compiled: the image's CPython 3.12 build of the version that pydantic wheel pins
core=$("$PY" - "$OUT"/pydantic-[0-9]*.whl <<'PYEOF'
import re, sys, zipfile
wheel = zipfile.ZipFile(sys.argv[1])
meta = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
print(re.search(r"^Requires-Dist: pydantic-core\s*\(?==+\s*([\w.]+)", wheel.read(meta).decode(), re.M).group(1))
PYEOF
)
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp --abi cp312 \
  --platform manylinux2014_x86_64 -d "$OUT" "pydantic-core==$core"
if [ "${SESSIONS:-0}" = 1 ]; then
  "$PY" -m pip wheel -q --no-deps -c constraints.txt -w "$OUT" jieba pypinyin  # jieba: an sdist too
fi
ls -l "$OUT"
