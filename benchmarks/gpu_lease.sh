#!/usr/bin/env bash
# One GPU lease, one call: train the natural-voice model, then measure the sampler and the
# handler sessions. Prepared here, run there (the device tool), results written under $OUT.
#
#   here:  omnitalker pack-corpus --corpus runs/corpus-kokoro --corpus runs/corpus-kokoro4 \
#            --corpus runs/corpus-kokoro5 --out .carry/pack-voices   (as recipes/natural_voices.sh --gpu)
#          bash benchmarks/lease_wheels.sh   (the wheels the image lacks, into .whl/; SESSIONS=1
#           adds jieba + pypinyin, which the sessions phase needs: then carry no pack)
#   there: TRAIN_S=270 bash benchmarks/gpu_lease.sh        (carry .carry and .whl)
#          PHASES=train|sampler|sessions (comma-separated) picks the phases; all three by default
#          CFG=config/train/builtin_open4_gpu.yaml trains that stage instead (carry .carry/pack-open4)
#
# Each phase has its own time cap, so one failing phase leaves the others' results.
set -u
OUT=${OUT:-out/gpu-lease}
TRAIN_S=${TRAIN_S:-270}
DEVICE=${DEVICE:-cuda}   # DEVICE=cpu CAL_STEPS=3 TRAIN_S=60: a dry run of the plumbing on a CPU
CAL_STEPS=${CAL_STEPS:-120}  # on the H200, steps 20-60 ran 2-3x slower than later ones
SESSIONS_MODEL=${SESSIONS_MODEL:-random:base}
PHASES=${PHASES:-train,sampler,sessions}
has() { case ",$PHASES," in *,"$1",*) return 0 ;; *) return 1 ;; esac; }
LOGS=$(mktemp -d)/logs  # outside $OUT: at most 8 files come back, so logs travel as one tarball
mkdir -p "$LOGS" "$OUT"
log() { echo "[$(date +%T)] $*"; }
keep() { tar -czf "$OUT/logs.tar.gz" -C "$(dirname "$LOGS")" logs; }  # after every phase: a cut-off run keeps what it did

WHEELS=${WHEELS:-.whl}  # WHEELS=none where the packages are installed already
if ls "$WHEELS"/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*.whl \
    || exit 1
  export PYTHONPATH=/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}
else
  export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONUNBUFFERED=1
OT="python3 -m avatar_omnitalker.cli"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$LOGS/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())" | tee -a "$LOGS/gpu.txt"

# ---- 1. natural-voice training: calibrate the step rate, then fill the time budget
if has train; then
CFG=${CFG:-config/train/builtin_voices_gpu.yaml}  # CFG=config/train/builtin_open4_gpu.yaml: the open-text stage
RUN=$(python3 -c "import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))['out'])" "$CFG")
rm -rf "$RUN"  # a lease starts bare; here too, so the step rate is this run's
start=$(date +%s)
log "train: calibration"
timeout 180 $OT \
  train --config $CFG --steps "$CAL_STEPS" --device "$DEVICE" > "$LOGS/train-1.log" 2>&1
# Rounds, each a cosine that resumes the last: the calibration's rate runs low (the H200's first
# 100-odd steps are slow), so a round can end early; while over MORE_S seconds are left, another
# round fills them at the rate the last one measured. Each round's last step is kept (ENDS).
saved() { ls -d "$RUN"/checkpoints/step-* 2>/dev/null | tail -1; }  # the last saved checkpoint folder
step_of() { local n=${1##*step-}; echo $((10#${n:-0})); }           # its step; 0 for none
ENDS=""
round=2
while :; do
  steps=$(python3 - "$RUN/loss.jsonl" "$TRAIN_S" "$start" <<'EOF'
import json, sys, time
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
cut = max((i for i in range(1, len(rows)) if rows[i]["seconds"] < rows[i - 1]["seconds"]), default=0)
rows = rows[cut:]  # the last trainer process: its clock starts at 0
b = rows[-1]
# the whole process's rate, warm-up included: each trainer call ramps up again (on the H200 about 3
# steps/s for its first 200 steps, then 8-9), so a later half's rate overran a round's budget
a = rows[0] if len(rows) > 1 else {"step": 0, "seconds": 0.0}
rate = (b["step"] - a["step"]) / max(1e-3, b["seconds"] - a["seconds"])
left = float(sys.argv[2]) - (time.time() - float(sys.argv[3]))
print(int(b["step"] + rate * max(0.0, left - 25) * 0.95))
EOF
)
  [ -n "$steps" ] && [ "$steps" -gt "$(step_of "$(saved)")" ] || break  # no rate, or no time left for a step
  log "train: round $((round - 1)), to step $steps"
  timeout $((TRAIN_S + 60)) $OT \
    train --config $CFG --device "$DEVICE" --steps "$steps" --time-limit $((TRAIN_S - $(date +%s) + start - 15)) \
    > "$LOGS/train-$round.log" 2>&1
  last=$(saved)
  [ -n "$last" ] || break
  ENDS="$ENDS ${last##*/}"
  log "train: round $((round - 1)) done ($(tail -c 300 "$LOGS/train-$round.log" | tr '\r' '\n' | tail -1))"
  round=$((round + 1))
  # another round only when this one reached its last step and over MORE_S s (+25 s reserve) are left
  [ $((TRAIN_S - $(date +%s) + start)) -gt $((${MORE_S:-90} + 25)) ] && [ "$(step_of "$last")" -ge "$steps" ] || break
done
cp "$RUN/loss.jsonl" "$RUN/loss.png" "$LOGS/" 2>/dev/null
python3 - "$RUN" "$OUT" $ENDS <<'EOF'
# the last two rounds' last checkpoints (one round: its last and the one nearest half-way), in
# float16 (as `ship` stores the built-in model), each cut into parts under the 16 MiB a returned
# file may have
import sys
import tempfile
from pathlib import Path

from avatar_omnitalker.ship import fp16_copy

run, out, ends = Path(sys.argv[1]), Path(sys.argv[2]), sorted(set(sys.argv[3:]))
done = sorted(p for p in (run / "checkpoints").glob("step-*") if (p / "model.safetensors").is_file())
if done:
    last = done[-1]
    half = int(last.name.split("-")[1]) // 2
    mid = min(done[:-1], key=lambda p: abs(int(p.name.split("-")[1]) - half), default=None)
    if len(ends) > 1:
        mid = run / "checkpoints" / ends[-2]  # the end of the round before: a cosine's last step
    for ck in filter(None, (mid, last)):
        small = Path(tempfile.mkdtemp()) / "model.safetensors"
        fp16_copy(ck / "model.safetensors", small)
        data = small.read_bytes()
        cut = 15 * 2**20
        for i in range(0, len(data), cut):
            (out / f"{ck.name}.part{i // cut}").write_bytes(data[i : i + cut])
        print("saved", ck.name, len(data))
EOF
ls "$RUN/checkpoints/"* >> "$LOGS/checkpoints.txt" 2>&1
keep
fi

# ---- 2. the sampler: the graph tests on CUDA, then eager vs CUDA graphs, base preset, bf16
if has sampler; then
log "sampler"
timeout 90 python3 -m pytest -q -p no:cacheprovider tests/model/test_graphs.py > "$LOGS/pytest-graphs.log" 2>&1
tail -1 "$LOGS/pytest-graphs.log"
timeout 150 python3 benchmarks/gpu_sampler.py --config base --batch 1 --nfe 32 16 7 --runs 5 --json "$LOGS/sampler-b1.json" \
  > "$LOGS/sampler.log" 2>&1
timeout 100 python3 benchmarks/gpu_sampler.py --config base --batch 16 --nfe 32 --runs 3 --json "$LOGS/sampler-b16.json" \
  >> "$LOGS/sampler.log" 2>&1
grep "^|" "$LOGS/sampler.log"
keep
fi

# ---- 3. handler sessions in the engine's ChatSession (repository fake of OAC b4e8d15), base, NFE 16
# (the base preset's char+pinyin text needs jieba and pypinyin: carry their wheels, 19 MB, which
# leaves no room for the corpus pack; run this phase in a lease of its own: PHASES=sampler,sessions)
if has sessions; then
log "sessions"
timeout 80 python3 benchmarks/handler_sessions.py --sessions 16 32 --checkpoint "$SESSIONS_MODEL" --nfe 16 --mode motion \
  --device "$DEVICE" --seconds 8 --max-batch 32 > "$LOGS/sessions-motion.log" 2>&1
keep
timeout 70 python3 benchmarks/handler_sessions.py --sessions 8 16 --checkpoint "$SESSIONS_MODEL" --nfe 16 --mode video \
  --size 512 --device "$DEVICE" --seconds 8 --max-batch 32 > "$LOGS/sessions-video.log" 2>&1
grep -h "^{" "$LOGS"/sessions-*.log
keep
fi
keep
log "end"
