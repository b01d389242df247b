"""Video -> 61-D motion at 25 fps, with checks that a training pipeline can report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avatar_omnitalker import spec
from avatar_omnitalker.errors import OmniTalkerError
from avatar_omnitalker.video.landmarks import Landmarks, video_landmarks
from avatar_omnitalker.video.solver import FACE_L, FACE_R, SolvedMotion, from_face_landmarker, solve

MIN_TRACKED = 0.8  # share of frames that must hold exactly one tracked face


class ExtractionError(OmniTalkerError, ValueError):
    """Why a video cannot give motion: no face, several faces, tracking lost."""


@dataclass
class Extraction:
    motion: np.ndarray  # (T, 61) at 25 fps
    confidence: np.ndarray  # (T,)
    landmarks: Landmarks

    def appearance_index(self) -> int:
        """The most frontal, most neutral well-tracked frame."""
        m = self.motion
        score = (
            np.abs(m[:, spec.HEAD_ROTATION]).sum(1)
            + m[:, spec.MOTION_INDEX["jawOpen"]]
            + 0.5 * m[:, spec.BLENDSHAPES].mean(1)
        )
        score = np.where(self.confidence > 0.9, score, np.inf)
        return int(np.argmin(score))

    def face_box(self, index: int) -> tuple[tuple[float, float], float]:
        p = self.landmarks.points[index]
        width = float(np.linalg.norm(p[FACE_R, :2] - p[FACE_L, :2]))
        return (float(np.nanmean(p[:, 0])), float(np.nanmean(p[:, 1]))), width


def check_tracking(faces: np.ndarray, name: str) -> None:
    if len(faces) == 0:
        raise ExtractionError(f"{name}: no video frames")
    if (faces == 0).all():
        raise ExtractionError(f"{name}: no face found in any frame")
    several = (faces > 1).mean()
    if several > 0.2:
        raise ExtractionError(f"{name}: several faces in {several:.0%} of the frames (one speaker per video is needed)")
    tracked = (faces == 1).mean()
    if tracked < MIN_TRACKED:
        raise ExtractionError(
            f"{name}: face tracking lost in {1 - tracked:.0%} of the frames (at most {1 - MIN_TRACKED:.0%} allowed)"
        )


def extract_motion(video: str | Path, task_file: str | Path | None = None) -> Extraction:
    lm = video_landmarks(video, task_file)
    check_tracking(lm.faces, Path(video).name)
    if lm.blendshapes is not None and lm.matrices is not None:
        solved: SolvedMotion = from_face_landmarker(lm.points, lm.faces, lm.blendshapes, lm.matrices)
    else:
        solved = solve(lm.points, lm.faces)
    return Extraction(solved.motion, solved.confidence, lm)
