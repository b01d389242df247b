"""Frames per second of a renderer on one CPU core (prints figures, asserts nothing).

    python benchmarks/render_fps.py --renderer parametric --size 512
    python benchmarks/render_fps.py --renderer photo --size 256 512 [--reference REF.npz]

The photo renderer needs a reference with face frames; without --reference one is made from
skimage's public-domain astronaut portrait (as the tests do) and kept in runs/astronaut_ref.npz.
The motion is the synthetic corpus's face model (blinks, brows, head sway) with a speech-like jaw.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from avatar_omnitalker import spec
from avatar_omnitalker.data.style import SpeakerStyle, face_motion
from avatar_omnitalker.infer.config import PipelineConfig
from avatar_omnitalker.infer.reference import Reference
from avatar_omnitalker.render.factory import make_renderer

ASTRONAUT = Path("runs/astronaut_ref.npz")


def astronaut_reference() -> Reference:
    if not ASTRONAUT.is_file():
        from avatar_omnitalker.render.video import write_mp4
        from avatar_omnitalker.video.landmarks import video_landmarks
        from avatar_omnitalker.video.prepare import prepare_reference
        from tests.video.portrait import astronaut_face, talking_video

        ASTRONAUT.parent.mkdir(parents=True, exist_ok=True)
        img, centre = astronaut_face()
        still = ASTRONAUT.with_suffix(".still.mp4")
        write_mp4(still, iter([img] * 2), np.zeros(2 * 960, np.float32), 2)
        face = (img, centre, video_landmarks(still).points[0])
        clip, *_ = talking_video(ASTRONAUT.with_suffix(".mp4"), face, sway_deg=(4, 6, 5))
        prepare_reference(ASTRONAUT.with_suffix(".mp4"), clip.text, ASTRONAUT)
    return Reference.load(ASTRONAUT)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renderer", default="parametric", choices=("parametric", "photo"))
    parser.add_argument("--size", type=int, nargs="+", default=[512])
    parser.add_argument("--frames", type=int, default=250)
    parser.add_argument("--reference", help="a reference .npz (photo: one with face frames)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.reference:
        reference = Reference.load(args.reference)
    elif args.renderer == "photo":
        reference = astronaut_reference()
    else:
        from avatar_omnitalker.infer import defaults

        reference = defaults.builtin_reference()
    motion = face_motion([], args.frames, SpeakerStyle(), rng=np.random.default_rng(0))
    t = np.arange(args.frames) / spec.FPS  # speech-like jaw: opens and closes about 4 times a second
    motion[:, spec.MOTION_INDEX["jawOpen"]] = 0.45 * np.clip(np.sin(2 * np.pi * 4 * t), 0, 1)
    if reference.faces is not None:  # talk around the reference's own neutral frame
        motion = motion + reference.faces.motion[0] * (np.arange(spec.MOTION_DIM) >= spec.BLENDSHAPES.stop)
    for size in args.size:
        renderer = make_renderer(PipelineConfig(renderer=args.renderer, size=size), reference)
        renderer.render(motion[:5])
        start = time.perf_counter()
        for _ in renderer.frames(motion):
            pass
        seconds = time.perf_counter() - start
        print(
            json.dumps(
                {
                    "renderer": args.renderer,
                    "size": size,
                    "frames": args.frames,
                    "threads": 1,
                    "seconds": round(seconds, 3),
                    "fps": round(args.frames / seconds, 1),
                }
            )
        )


if __name__ == "__main__":
    main()
