"""Soak: handler sessions in an engine's own ChatSession for a long time. Figures only.

    python benchmarks/soak.py --minutes 20 --sessions 1 --out runs/soak-1
    python benchmarks/soak.py --minutes 5 --sessions 3 --out runs/soak-3
    OAC_SRC=/path/to/OpenAvatarChat/src python benchmarks/soak.py ...   # the real engine

Each session gets an English or Mandarin reply (streamed as LLM deltas), plays it, idles for 2 s,
and gets the next, until the time is up. Printed (and written as soak.json + soak.png): audio and
video frames per session (equal when in sync), idle frames inside replies (gaps the model did not
fill in time), the A/V arrival offset at the start and at the end (video frame k arrives this long
after audio frame k), frames per second on the wall clock, and the process's resident memory over
time with its slope after the first minute (flat = no leak).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.handlers.engine_path import use_engine

ENGINE = use_engine()
from chat_engine.data_models.chat_data_type import ChatDataType

from avatar_omnitalker.realtime.timeline import idle_frames_inside
from tests.handlers.oac_host import Host

REPLIES = [
    "Good morning! Today we talk about the weather. It will be sunny, with a light breeze from the west.",
    "你好！今天天气很好。我们下午去公园散步吧，好吗？",
    "Thanks for asking. The museum opens at nine, and tickets are cheaper before noon.",
    "这个问题很好。我想先听听你的看法，然后我们再一起决定。",
    "Sure. First, preheat the oven. Then mix the flour, the sugar and two eggs in a large bowl.",
]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def drive(session, seconds: float, offset: int) -> None:
    """Replies one after another, each after the previous one's last frame and 2 s of idle."""
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end - 8:
        session.say(REPLIES[(offset + n) % len(REPLIES)])
        n += 1
        while time.monotonic() < end:
            ends = sum(1 for e in list(session.client.log) if e[3])
            if ends >= n:
                break
            time.sleep(0.05)
        time.sleep(2.0)


def summarize(session) -> dict:
    log = list(session.client.log)
    audio = [e for e in log if e[1] == ChatDataType.AVATAR_AUDIO]
    video = [e for e in log if e[1] == ChatDataType.AVATAR_VIDEO]
    ids = [e[2] for e in audio]
    gaps = []
    for speech_id in dict.fromkeys(i for i in ids if i is not None):
        gaps.append(idle_frames_inside(ids, speech_id))
    n = min(len(audio), len(video))
    offsets = np.array([video[k][0] - audio[k][0] for k in range(n)])
    span = audio[-1][0] - audio[0][0]
    return {
        "audio_frames": len(audio),
        "video_frames": len(video),
        "replies": len(gaps),
        "replies_with_gaps": sum(1 for g in gaps if g),
        "idle_frames_inside_replies": int(sum(gaps)),
        "max_gap_frames": max(gaps, default=0),
        "av_offset_ms_start": round(1e3 * float(offsets[:250].mean()), 2),
        "av_offset_ms_end": round(1e3 * float(offsets[-250:].mean()), 2),
        "frames_per_s": round((len(audio) - 1) / span, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--sessions", type=int, default=1)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--out", default="runs/soak")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config = {"size": args.size, "device": args.device}
    if args.checkpoint:
        config["checkpoint"] = args.checkpoint
    host = Host(config, concurrent_limit=args.sessions)
    sessions = [host.session(f"soak-{i}", keep_data=False) for i in range(args.sessions)]
    seconds = args.minutes * 60
    memory: list[tuple[float, float]] = []
    start = time.monotonic()
    drivers = [threading.Thread(target=drive, args=(s, seconds, i)) for i, s in enumerate(sessions)]
    for d in drivers:
        d.start()
    while any(d.is_alive() for d in drivers):
        memory.append((time.monotonic() - start, rss_mb()))
        time.sleep(5.0)
    for s in sessions:
        s.close()
    host.shutdown()
    t, mb = np.array(memory).T
    late = t > 60
    slope = float(np.polyfit(t[late] / 60, mb[late], 1)[0]) if late.sum() > 2 else float("nan")
    report = {
        "engine": str(ENGINE),
        "minutes": args.minutes,
        "sessions": [summarize(s) for s in sessions],
        "rss_mb_start": round(float(mb[0]), 1),
        "rss_mb_after_1_min": round(float(mb[late][0]), 1) if late.any() else None,
        "rss_mb_end": round(float(mb[-1]), 1),
        "rss_slope_mb_per_min_after_1_min": round(slope, 3),
        "failed_chunks": host.handler.scheduler.failures,
        "size": args.size,
    }
    (out / "soak.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot(t / 60, mb)
    ax.set_xlabel("minutes")
    ax.set_ylabel("resident memory (MB)")
    ax.set_title(f"soak: {args.sessions} session(s), {args.size}px, slope {slope:.2f} MB/min after 1 min")
    fig.tight_layout()
    fig.savefig(out / "soak.png", dpi=100)


if __name__ == "__main__":
    main()
