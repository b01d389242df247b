"""The OpenAvatarChat handler in the stand-in host: first-frame latency and concurrent sessions.

    python benchmarks/handler_sessions.py --sessions 1 2 3 --checkpoint random:tiny --size 512
For each session count: every session receives one reply as streamed deltas; we report the
frame rate each session kept over 10 s and the time from the end of the first sentence's text to
its first speaking frame. A session keeps real time when it holds 25 fps within 5 %.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from avatar_omnitalker.standin.converse import default_handlers_dir, text_bundle
from avatar_omnitalker.standin.engine import StandInEngine

from chat_engine.data_models.chat_data_type import ChatDataType  # noqa: E402

REPLY = "Hello! I am glad you came by today. Let me tell you about the weather, which is lovely."


def run(sessions: int, config: dict, seconds: float = 10.0) -> dict:
    engine = StandInEngine({"default": {"chat_engine": {"concurrent_limit": sessions, "handler_search_path": [str(default_handlers_dir())],
                                                        "handler_configs": {"OmniTalker": {"module": "omnitalker_avatar/omnitalker_handler", **config}}}}})
    engine.load()
    live = [engine.session(f"s{i}") for i in range(sessions)]
    time.sleep(1.0)
    start = time.monotonic()
    sentence_end = {}
    for s in live:
        for i in range(0, len(REPLY), 4):
            piece = REPLY[i:i + 4]
            s.inject(ChatDataType.AVATAR_TEXT, text_bundle(piece, "r", False))
            if s not in sentence_end and "!" in piece:
                sentence_end[s] = time.monotonic()
        s.inject(ChatDataType.AVATAR_TEXT, text_bundle("", "r", True))
    time.sleep(seconds)
    for s in live:
        s.close()
    engine.shutdown()
    rates, latencies = [], []
    for s in live:
        video = [r.time for r in s.received(ChatDataType.AVATAR_VIDEO) if start + 1 <= r.time <= start + seconds - 0.5]
        rates.append(len(video) / (seconds - 1.5))
        speaking = [r.time for r in s.received(ChatDataType.AVATAR_AUDIO) if r.data.data.get_meta("speech_id") == "r"]
        latencies.append(speaking[0] - sentence_end[s] if speaking else float("nan"))
    return {"sessions": sessions, "fps_min": round(min(rates), 2), "fps_mean": round(float(np.mean(rates)), 2),
            "real_time": bool(min(rates) >= 25 * 0.95), "first_frame_latency_s": round(float(np.nanmean(latencies)), 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--checkpoint", default=None, help="model folder, or random:tiny for untrained weights")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--nfe", type=int, default=16)
    args = parser.parse_args()
    config = {"frame_size": args.size, "nfe": args.nfe}
    if args.checkpoint:
        config["checkpoint"] = args.checkpoint
    for n in args.sessions:
        print(json.dumps(run(n, config)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
