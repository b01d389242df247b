"""Export of 61-D motion to ARKit-52 blendshapes for client-side renderers (LAM, game engines)."""

from __future__ import annotations

import numpy as np

from avatar_omnitalker import spec
from avatar_omnitalker.motion.resample import resample_fps


def to_arkit52(motion: np.ndarray, fps: float = spec.ARKIT_FPS, src_fps: float = spec.FPS) -> np.ndarray:
    """(T, 61) motion at src_fps -> (T', 52) float32 in [0, 1], ARKIT52_NAMES order, at fps."""
    motion = np.asarray(motion, dtype=np.float32)
    if motion.ndim != 2 or motion.shape[1] != spec.MOTION_DIM:
        raise ValueError(f"motion must be (T, {spec.MOTION_DIM}), got {motion.shape}")
    shapes = resample_fps(motion[:, spec.BLENDSHAPES], src_fps, fps)
    tongue = np.zeros((shapes.shape[0], 1), dtype=np.float32)
    return np.clip(np.concatenate([shapes, tongue], axis=1), 0.0, 1.0).astype(np.float32)
