"""The README's photo-avatar preview: skimage's public-domain astronaut portrait made into a short
talking reference clip, then the built-in model speaking new text with that reference and the
photo renderer drawing her face (docs/figures/photo_strip.png, docs/figures/photo_demo.mp4).

    python scripts/photo_preview.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from render_fps import astronaut_reference

from avatar_omnitalker.fileio import Outputs
from avatar_omnitalker.infer.config import PipelineConfig
from avatar_omnitalker.infer.pipeline import Pipeline
from avatar_omnitalker.render.compose import render_speech
from avatar_omnitalker.render.factory import make_renderer
from avatar_omnitalker.render.video import write_preview

TEXT = "Hello! I am a photo avatar. My face moves with the words I say."


def main() -> None:
    config = PipelineConfig(renderer="photo", size=256, device="cpu")
    pipe = Pipeline.load(config, reference=astronaut_reference())
    renderer = make_renderer(config, pipe.reference)
    video, strip = ROOT / "docs/figures/photo_demo.mp4", ROOT / "docs/figures/photo_strip.png"
    with Outputs([video, strip]) as out:
        motion = render_speech(pipe, renderer, TEXT, out.temp(video))
        picks = [int(i) for i in np.linspace(0, len(motion) - 1, 8)]
        write_preview(out.temp(strip), [renderer.render(motion[i : i + 1])[0] for i in picks], motion, TEXT)
    print(f"wrote {video} and {strip} ({len(motion)} frames)")


if __name__ == "__main__":
    main()
