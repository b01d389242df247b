"""`omnitalker prepare-reference`: a short video of a person -> the pipeline's Reference (.npz)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from loguru import logger

from avatar_omnitalker import spec
from avatar_omnitalker.infer.reference import Reference
from avatar_omnitalker.video.extract import extract_motion
from avatar_omnitalker.video.media import crop_face, read_audio, read_frame, require_video


def prepare_reference(
    video: str | Path, transcript: str, out: str | Path, task_file: str | Path | None = None, name: str | None = None
) -> Reference:
    video = Path(video)
    require_video(video)
    audio = read_audio(video)
    ex = extract_motion(video, task_file)
    frames = min(len(ex.motion), audio.size // spec.SAMPLES_PER_FRAME)
    if frames < 1:
        raise ValueError(f"{video}: too short")
    idx = ex.appearance_index()
    centre, width = ex.face_box(idx)
    appearance = crop_face(read_frame(video, idx), centre, width)
    ref = Reference.prepare(
        audio[: spec.samples_for_frames(frames)],
        spec.SAMPLE_RATE,
        ex.motion[:frames],
        transcript,
        appearance,
        name=name or video.stem,
    )
    logger.info(
        "{}: {:.2f} s reference, appearance from frame {} (confidence {:.2f})",
        video.name,
        ref.duration,
        idx,
        float(np.mean(ex.confidence)),
    )
    ref.save(out)
    return ref
