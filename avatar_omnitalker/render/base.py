"""The renderer interface: 61-D motion (+ an appearance frame) -> RGB frames."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

import numpy as np

from avatar_omnitalker import spec


class Renderer(ABC):
    """Turns motion frames into (H, W, 3) uint8 RGB images of one constant size."""

    size: tuple[int, int]  # (height, width)

    @abstractmethod
    def render(self, motion: np.ndarray) -> np.ndarray:
        """(T, 61) raw motion -> (T, H, W, 3) uint8 RGB."""

    def frames(self, motion: np.ndarray, batch: int = 25) -> Iterator[np.ndarray]:
        """Render lazily, `batch` frames at a time (long videos never sit in memory whole)."""
        check_motion(motion)
        for start in range(0, motion.shape[0], batch):
            yield from self.render(motion[start : start + batch])


def check_motion(motion: np.ndarray) -> np.ndarray:
    motion = np.asarray(motion)
    if motion.ndim != 2 or motion.shape[1] != spec.MOTION_DIM:
        raise ValueError(f"motion must be (T, {spec.MOTION_DIM}), got {motion.shape}")
    if not np.isfinite(motion).all():
        raise ValueError("motion holds NaN or infinite values")
    return motion
