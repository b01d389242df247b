"""Idle motion in the reference's own style: what the avatar does while nobody speaks.

The reference clip already holds this speaker's head sway, blinks, brows and gaze. Idle frames
replay it back and forth (no jumps at the turning points), with the mouth at rest and the head
motion calmed, so a listening avatar still moves like the person it imitates.
"""

from __future__ import annotations

import numpy as np

from avatar_omnitalker import spec
from avatar_omnitalker.motion.visemes import REST

MOUTH_AND_JAW = [i for i, n in enumerate(spec.BLENDSHAPE_NAMES) if n.startswith(("mouth", "jaw"))]
HEAD = list(range(spec.HEAD_ROTATION.start, spec.HEAD_TRANSLATION.stop))


class IdleMotion:
    def __init__(self, reference_motion: np.ndarray, head_scale: float = 0.7) -> None:
        ref = np.asarray(reference_motion, dtype=np.float32)
        if ref.ndim != 2 or ref.shape[1] != spec.MOTION_DIM or len(ref) < 2:
            raise ValueError(f"idle motion needs a reference motion (T >= 2, {spec.MOTION_DIM}), got {ref.shape}")
        loop = np.concatenate([ref, ref[-2:0:-1]])  # ping-pong: f0..fN-1, fN-2..f1
        loop = loop.copy()
        loop[:, MOUTH_AND_JAW] = 0.0
        for name, value in REST.shape.items():
            loop[:, spec.MOTION_INDEX[name]] = value
        mean = loop[:, HEAD].mean(0)
        loop[:, HEAD] = mean + (loop[:, HEAD] - mean) * head_scale
        self.loop = loop
        self.position = 0

    def next(self, n: int) -> np.ndarray:
        """The next n idle frames (n, 61)."""
        idx = (self.position + np.arange(n)) % len(self.loop)
        self.position = int((self.position + n) % len(self.loop))
        return self.loop[idx].copy()

    def nearest_to(self, frame: np.ndarray) -> None:
        """Continue idling from the loop frame closest in head pose to `frame` (after speech)."""
        d = np.abs(self.loop[:, HEAD] - frame[HEAD]).sum(1)
        self.position = int(np.argmin(d))
