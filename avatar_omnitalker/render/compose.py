"""A whole text -> a talking-head MP4, streamed: each chunk is generated, rendered and encoded as
soon as it is ready, so a long text never holds its frames in memory and shows progress (with an
ETA) chunk by chunk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm import tqdm

from avatar_omnitalker import spec
from avatar_omnitalker.infer.pipeline import Pipeline
from avatar_omnitalker.render.base import Renderer
from avatar_omnitalker.render.video import Mp4Writer
from avatar_omnitalker.text.clean import NOTHING_TO_SAY, has_words


def render_speech(
    pipe: Pipeline, renderer: Renderer, text: str, mp4_path: str | Path, progress: bool = True
) -> np.ndarray:
    """Speak `text` into an MP4 at mp4_path (written in place: give a temp path); returns the
    (frames, 61) motion."""
    if not has_words(text):
        raise ValueError(NOTHING_TO_SAY)
    chunks = pipe.plan(text)
    motion_parts: list[np.ndarray] = []
    with (
        Mp4Writer(mp4_path) as writer,
        tqdm(total=len(chunks), desc="generate", unit="chunk", disable=not progress) as bar,
    ):
        for segment in pipe.speak(chunks):
            for k, frame in enumerate(renderer.frames(segment.motion)):
                writer.add(frame, segment.audio[spec.samples_for_frames(k) : spec.samples_for_frames(k + 1)])
            motion_parts.append(segment.motion)
            if segment.text:
                bar.update(1)
                bar.set_postfix(seconds=f"{writer.frames / spec.FPS:.1f}")
    return np.concatenate(motion_parts) if motion_parts else np.zeros((0, spec.MOTION_DIM), np.float32)
