"""The OpenAvatarChat handler in an engine's own ChatSession: frame rate and first-frame latency.

    python benchmarks/handler_sessions.py --sessions 1 2 3 [--checkpoint random:tiny] [--size 512]
    python benchmarks/handler_sessions.py --sessions 16 32 --checkpoint random:base --nfe 16 \
        --engine graphs --mode motion --device cuda                     # a GPU
    OAC_SRC=/path/to/OpenAvatarChat/src python benchmarks/handler_sessions.py ...   # the real engine

For each session count, every session receives one reply streamed as LLM deltas. Printed per
count: the frame rate each session kept on the wall clock over the run, the time from the end of
the first sentence's text to its first speaking frame, idle frames inside the reply, A/V counts.
Figures only; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.handlers.engine_path import use_engine

ENGINE = use_engine()
from chat_engine.data_models.chat_data_type import ChatDataType

from avatar_omnitalker import spec
from avatar_omnitalker.infer.config import DTYPES, ENGINES
from avatar_omnitalker.realtime.timeline import idle_frames_inside
from tests.handlers.oac_host import Host, first_speaking_latency

REPLY = "Hello! I am glad you came by today. Let me tell you about the weather, which is lovely."


def run(sessions: int, config: dict, seconds: float) -> dict:
    host = Host(config, concurrent_limit=sessions)
    live = [host.session(f"s{i}") for i in range(sessions)]
    time.sleep(1.0)
    for s in live:
        s.say(REPLY)
    time.sleep(seconds)
    for s in live:
        s.close()
    host.shutdown()
    rates, latencies, gaps, counts = [], [], [], []
    motion = ChatDataType.AVATAR_MOTION_DATA
    kind = motion if config.get("output_mode") == "motion" else ChatDataType.AVATAR_AUDIO
    nominal = spec.ARKIT_FPS if kind == motion else config.get("fps", 25)
    for s in live:
        audio = s.received(kind)  # video mode: one per frame; motion mode: a bundle of ARKit frames
        counts.append((len(audio), len(s.received(ChatDataType.AVATAR_VIDEO))))
        frames = [r.data.data.get_main_data().shape[0] for r in audio] if kind == motion else [1] * len(audio)
        span = audio[-1].time - audio[0].time if len(audio) > 1 else float("inf")
        rates.append((sum(frames) - frames[-1]) / span if audio else 0.0)
        speech_id = s.llm.speech_ids[0] if s.llm.speech_ids else None
        latency = first_speaking_latency(s, speech_id, kind) if speech_id else None
        latencies.append(float("nan") if latency is None else latency)
        ids = [r.data.data.get_meta("speech_id") for r in audio]
        gaps.append(idle_frames_inside(ids, speech_id) if speech_id in ids else -1)  # -1: never started
    return {
        "engine": str(ENGINE),
        "mode": config.get("output_mode", "video"),
        "sessions": sessions,
        "fps_min": round(min(rates), 2),  # in the stream's own frames: 25/s video, 30/s ARKit
        "realtime_min": round(min(rates) / nominal, 3),  # >= ~1: every session kept real time
        "fps_mean": round(float(np.mean(rates)), 2),
        "first_frame_latency_s": round(float(np.nanmean(latencies)), 3),
        "idle_frames_inside_reply": gaps,
        "audio_video_frames": counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--checkpoint", default=None, help="model folder, or random:PRESET for untrained weights")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--nfe", type=int, default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--reference", help="reference .npz (with face frames: the photo renderer)")
    parser.add_argument("--engine", default="torch", choices=ENGINES)
    parser.add_argument("--mode", default="video", choices=("video", "motion"), help="the handler's output_mode")
    parser.add_argument("--dtype", default="auto", choices=DTYPES)
    parser.add_argument("--max-batch", type=int, default=8, help="the handler's max_batch (requests per solve)")
    parser.add_argument("--prompt-s", type=float, default=0.0, help="the handler's prompt_s (0: the whole reference)")
    args = parser.parse_args()
    config = {"size": args.size, "device": args.device, "output_mode": args.mode, "dtype": args.dtype}
    config["max_batch"], config["prompt_s"] = args.max_batch, args.prompt_s
    if args.nfe:
        config["nfe"] = args.nfe
    if args.checkpoint:
        config["checkpoint"] = args.checkpoint
    if args.reference:
        config["reference"] = args.reference
    config["engine"] = args.engine
    for n in args.sessions:
        print(json.dumps(run(n, config, args.seconds)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
