"""Frames per second of the parametric renderer on this machine (prints figures, asserts nothing).

python benchmarks/render_fps.py --size 512 --frames 250
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from avatar_omnitalker.data.style import SpeakerStyle, face_motion
from avatar_omnitalker.render.parametric import ParametricRenderer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--frames", type=int, default=250)
    args = parser.parse_args()
    motion = face_motion([], args.frames, SpeakerStyle(), rng=np.random.default_rng(0))
    renderer = ParametricRenderer(args.size)
    renderer.render(motion[:5])
    start = time.perf_counter()
    for _ in renderer.frames(motion):
        pass
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "size": args.size,
                "frames": args.frames,
                "seconds": round(seconds, 3),
                "fps": round(args.frames / seconds, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
