"""Motion extraction speed (frames per second, MediaPipe face mesh + geometric solver).

    python benchmarks/extract_fps.py --frames 250
Builds a test video of the skimage astronaut portrait turning, then times `extract_motion`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from avatar_omnitalker.render.video import write_mp4
from avatar_omnitalker.video.extract import extract_motion
from tests.video.portrait import astronaut_face, turn


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=250)
    args = parser.parse_args()
    img, centre = astronaut_face()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v.mp4"
        rolls = np.radians(15 * np.sin(np.linspace(0, 8, args.frames)))
        write_mp4(
            path, (turn(img, centre, 0.0, 0.0, r) for r in rolls), np.zeros(args.frames * 960, np.float32), args.frames
        )
        extract_motion(path)  # warm the environment
        start = time.perf_counter()
        ex = extract_motion(path)
        seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "frames": len(ex.motion),
                "size": "512x512",
                "seconds": round(seconds, 2),
                "fps": round(len(ex.motion) / seconds, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
