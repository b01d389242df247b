"""Wall time of `Pipeline.generate` for a ~10-second text (prints figures, asserts nothing).

    python benchmarks/generate_time.py [--checkpoint DIR] [--nfe 16] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import time

from avatar_omnitalker.infer.pipeline import GenerationSettings, Pipeline

TEXT = ("Good afternoon, and welcome to the show. Today we are going to talk about the weather, "
        "the news, and a few things that made us smile this week. Let us begin.")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint")
    parser.add_argument("--nfe", type=int, default=16)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--render", action="store_true", help="also render 512x512 frames")
    args = parser.parse_args()
    pipe = Pipeline.load(args.checkpoint, renderer="parametric" if args.render else None, device=args.device,
                         settings=GenerationSettings(nfe=args.nfe))
    start = time.perf_counter()
    result = pipe.generate(TEXT, progress=False)
    gen = time.perf_counter() - start
    render = 0.0
    if args.render:
        start = time.perf_counter()
        for _ in pipe.frames(result.motion):
            pass
        render = time.perf_counter() - start
    print(json.dumps({"audio_seconds": round(result.duration, 2), "generate_seconds": round(gen, 3),
                      "rtf": round(gen / result.duration, 4), "render_seconds": round(render, 3), "nfe": args.nfe,
                      "model": pipe.model.config.name}))


if __name__ == "__main__":
    main()
