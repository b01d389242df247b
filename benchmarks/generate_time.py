"""Wall time of `Pipeline.generate` for a ~10-second text (prints figures, asserts nothing).

python benchmarks/generate_time.py [--checkpoint DIR] [--nfe 16] [--device cpu] [--render]
"""

from __future__ import annotations

import argparse
import json
import time

from avatar_omnitalker.infer.config import PipelineConfig
from avatar_omnitalker.infer.pipeline import Pipeline
from avatar_omnitalker.render.factory import make_renderer

TEXT = (
    "Good afternoon, and welcome to the show. Today we are going to talk about the weather, "
    "the news, and a few things that made us smile this week. Let us begin."
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--render", action="store_true", help="also render the frames")
    PipelineConfig.add_arguments(parser)
    args = parser.parse_args()
    config = PipelineConfig.from_args(args)
    pipe = Pipeline.load(config)
    start = time.perf_counter()
    result = pipe.generate(TEXT, progress=False)
    gen = time.perf_counter() - start
    render = 0.0
    if args.render:
        start = time.perf_counter()
        for _ in make_renderer(config, pipe.reference).frames(result.motion):
            pass
        render = time.perf_counter() - start
    print(
        json.dumps(
            {
                "audio_seconds": round(result.duration, 2),
                "generate_seconds": round(gen, 3),
                "rtf": round(gen / result.duration, 4),
                "render_seconds": round(render, 3),
                "nfe": config.nfe,
                "model": pipe.model.config.name,
            }
        )
    )


if __name__ == "__main__":
    main()
