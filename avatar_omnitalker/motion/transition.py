"""Pose continuity where two separately made motion clips meet (inertialization).

Each chunk of a reply is generated on its own from the same reference, and the model was trained
on targets that start at another moment of the source than the reference ends, so a chunk's head
pose and gaze start wherever its own sample put them. A cross-fade over the audio's few overlap
frames turns that gap into a snap (measured: in 57 % of joins the head moved faster than in 99 %
of the true motion's frames, and entering a reply it moved 10 degrees in one frame). Here the
new clip's pose and gaze channels get an offset that starts at the gap, with the velocity
difference, and decays to zero along a cubic Hermite curve: the head
leaves the join at the speed it came in and ends on the clip's own trajectory, whose shape is
kept (the offset is smooth; the clip's own motion, style included, passes through unchanged).

Blendshapes are not touched here: the mouth must follow the new chunk's speech at once, and a
blink is short; the joiner's cross-fade serves them.
"""

from __future__ import annotations

import numpy as np

from avatar_omnitalker import spec

# channels that describe where the head is and where the eyes look: continuous across a join
POSE_CHANNELS = np.r_[spec.HEAD_ROTATION, spec.HEAD_TRANSLATION, spec.GAZE]
SETTLE_FRAMES = 12  # 0.48 s at 25 fps
VELOCITY_FRAMES = 3  # steps averaged for the incoming speed (one step alone carries jitter)


def velocity(frames: np.ndarray) -> np.ndarray:
    """(k, d) -> (d,) mean per-frame step over the last VELOCITY_FRAMES steps; zero for k < 2."""
    frames = np.asarray(frames, np.float64)
    if len(frames) < 2:
        return np.zeros(frames.shape[1], np.float64)
    tail = frames[-(VELOCITY_FRAMES + 1) :]
    return (tail[-1] - tail[0]) / (len(tail) - 1)


def settle_offset(
    previous: np.ndarray, start: np.ndarray, frames: int = SETTLE_FRAMES
) -> np.ndarray:  # (frames, len(POSE_CHANNELS))
    """The offset to add to the first `frames` frames of a clip beginning with `start` (k >= 1
    frames, 61 channels) so that it continues `previous` (its last frames, 61 channels).

    Frame 0 lands where `previous` would be one step on; the offset's slope there makes up the
    velocity difference; it reaches zero with zero slope at `frames`."""
    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames}")
    previous = np.asarray(previous, np.float64)[:, POSE_CHANNELS]
    start = np.asarray(start, np.float64)[:, POSE_CHANNELS]
    if len(previous) == 0 or len(start) == 0:
        return np.zeros((frames, len(POSE_CHANNELS)))
    v_in = velocity(previous)
    gap = previous[-1] + v_in - start[0]  # (c,)
    slope = v_in - velocity(start[: VELOCITY_FRAMES + 1])  # (c,) per frame
    s = (np.arange(frames) / frames)[:, None]  # (frames, 1) in [0, 1)
    h00 = 2 * s**3 - 3 * s**2 + 1  # 1 -> 0, flat at the end
    h10 = s**3 - 2 * s**2 + s  # slope 1 -> 0, zero at both ends
    return h00 * gap + h10 * frames * slope


def continue_from(previous: np.ndarray, clip: np.ndarray, frames: int = SETTLE_FRAMES) -> np.ndarray:
    """clip (n, 61) with its pose and gaze settled onto `previous` (k, 61); a new array."""
    clip = np.array(clip, dtype=np.float32, copy=True)
    n = min(frames, len(clip))
    if n:
        offset = settle_offset(previous, clip, frames)[:n]
        clip[:n, POSE_CHANNELS] += offset.astype(np.float32)
    return clip


class PoseContinuity:
    """The same settling, frame by frame, for a player whose frames come from several sources
    (idle motion, one reply, the next reply): where the source changes, the head and eyes go on
    from where they were shown instead of jumping to the new source's pose."""

    def __init__(self, frames: int = SETTLE_FRAMES) -> None:
        self.frames = frames
        self._shown = np.zeros((0, spec.MOTION_DIM), np.float32)  # the last frames passed on
        self._offset = np.zeros((0, len(POSE_CHANNELS)))  # what is left to add, one row a frame

    def next(self, frame: np.ndarray, new_source: bool) -> np.ndarray:
        """frame (61,) -> the frame to show; `new_source`: it is the first of another source."""
        if new_source and len(self._shown):
            self._offset = settle_offset(self._shown, frame[None], self.frames)
        if len(self._offset):
            frame = frame.copy()
            frame[POSE_CHANNELS] += self._offset[0].astype(frame.dtype)
            self._offset = self._offset[1:]
        self._shown = np.concatenate([self._shown, frame[None].astype(np.float32)])[-(VELOCITY_FRAMES + 1) :]
        return frame
