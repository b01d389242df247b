"""Seamless joins between separately generated chunks: audio cross-fade + motion blend.

The overlap is a whole number of motion frames (4 frames = 160 ms = 3,840 samples), so audio and
motion stay exactly aligned: both are shortened by the same overlap at every join. Blendshapes
cross-fade over the overlap; head pose and gaze instead continue what was played, the new
chunk's own trajectory taken over within motion.transition.SETTLE_FRAMES (a 160 ms fade between
two unrelated poses is a snap of the head).
"""

from __future__ import annotations

import numpy as np

from avatar_omnitalker import spec
from avatar_omnitalker.motion.transition import POSE_CHANNELS, VELOCITY_FRAMES, continue_from

OVERLAP_FRAMES = 4


class Joiner:
    def __init__(self, overlap_frames: int = OVERLAP_FRAMES) -> None:
        self.overlap = overlap_frames
        self._tail_audio = np.zeros(0, np.float32)
        self._tail_motion = np.zeros((0, spec.MOTION_DIM), np.float32)
        self._played = np.zeros((0, spec.MOTION_DIM), np.float32)  # the last frames handed out

    @property
    def held_frames(self) -> int:
        return self._tail_motion.shape[0]

    def push(self, audio: np.ndarray, motion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Add a chunk; returns what can be played now (the chunk's last frames are held back
        to blend with the next chunk)."""
        k = motion.shape[0]
        if audio.size != spec.samples_for_frames(k):
            raise ValueError(f"chunk audio has {audio.size} samples for {k} frames")
        if k == 0:
            return np.zeros(0, np.float32), np.zeros((0, spec.MOTION_DIM), np.float32)
        n = min(self.held_frames, k // 2)  # overlap with what is held
        head_a, head_m = audio, motion
        out_a, out_m = [], []
        if self.held_frames:
            keep = self.held_frames - n
            out_a.append(self._tail_audio[: spec.samples_for_frames(keep)])
            out_m.append(self._tail_motion[:keep])
            motion = continue_from(np.concatenate([self._played, self._tail_motion[:keep]]), motion)
            if n:
                ramp = np.linspace(
                    0.0, 1.0, spec.samples_for_frames(n), endpoint=False, dtype=np.float32
                ) + 0.5 / spec.samples_for_frames(n)
                ta = self._tail_audio[spec.samples_for_frames(keep) :]
                out_a.append(ta * (1 - ramp) + audio[: ramp.size] * ramp)
                w = ((np.arange(n) + 0.5) / n).astype(np.float32)[:, None]
                blend = self._tail_motion[keep:] * (1 - w) + motion[:n] * w
                blend[:, POSE_CHANNELS] = motion[:n, POSE_CHANNELS]  # already continuous
                out_m.append(blend)
            head_a, head_m = audio[spec.samples_for_frames(n) :], motion[n:]
        hold = min(self.overlap, head_m.shape[0] // 2) if head_m.shape[0] > 1 else 0
        body = head_m.shape[0] - hold
        out_a.append(head_a[: spec.samples_for_frames(body)])
        out_m.append(head_m[:body])
        self._tail_audio = head_a[spec.samples_for_frames(body) :].copy()
        self._tail_motion = head_m[body:].copy()
        played = np.concatenate(out_m).astype(np.float32)
        self._played = np.concatenate([self._played, played])[-(VELOCITY_FRAMES + 1) :]
        return np.concatenate(out_a).astype(np.float32), played

    def flush(self) -> tuple[np.ndarray, np.ndarray]:
        a, m = self._tail_audio, self._tail_motion
        self._tail_audio = np.zeros(0, np.float32)
        self._tail_motion = np.zeros((0, spec.MOTION_DIM), np.float32)
        self._played = np.zeros((0, spec.MOTION_DIM), np.float32)
        return a, m
