"""Pose continuity where separately made clips meet: no head jump, the new clip's own motion after."""

from __future__ import annotations

import numpy as np
import pytest

from avatar_omnitalker import spec
from avatar_omnitalker.motion.transition import (
    POSE_CHANNELS,
    SETTLE_FRAMES,
    PoseContinuity,
    continue_from,
    settle_offset,
)

BLEND = np.setdiff1d(np.arange(spec.MOTION_DIM), POSE_CHANNELS)


def ramp(frames: int, start: float, step: float, seed: int = 0) -> np.ndarray:
    """(frames, 61): every pose channel moving at `step` per frame from `start`; random blendshapes."""
    m = np.random.default_rng(seed).uniform(0, 1, (frames, spec.MOTION_DIM)).astype(np.float32)
    m[:, POSE_CHANNELS] = (start + step * np.arange(frames))[:, None]
    return m


def test_pose_channels_are_head_rotation_translation_and_gaze():
    names = [spec.MOTION_NAMES[i] for i in POSE_CHANNELS]
    assert names == list(spec.HEAD_ROTATION_NAMES + spec.HEAD_TRANSLATION_NAMES + spec.GAZE_NAMES)


def test_the_new_clip_starts_where_the_old_one_was_going_and_ends_on_its_own_path():
    previous = ramp(10, 0.0, 0.01)  # last pose 0.09, moving +0.01 a frame
    clip = ramp(40, 0.5, -0.02, seed=1)  # starts 0.41 away, moving the other way
    out = continue_from(previous, clip)
    pose = out[:, POSE_CHANNELS]
    assert np.allclose(pose[0], 0.10, atol=1e-6), "one step on from the old clip, at its speed"
    joined = np.concatenate([previous[:, POSE_CHANNELS], pose])[:, 0]
    steps = np.diff(joined)
    assert np.abs(steps).max() <= 1.5 * 0.41 / SETTLE_FRAMES + 0.03, "the gap spread over the settling frames"
    assert np.abs(np.diff(steps)).max() < 0.1, "no kink: speed changes gradually"
    assert np.array_equal(out[SETTLE_FRAMES:], clip[SETTLE_FRAMES:]), "after settling, the clip itself"
    assert np.array_equal(out[:, BLEND], clip[:, BLEND]), "blendshapes (the mouth) are never moved"


def test_a_clip_that_already_continues_is_left_as_it_is():
    both = ramp(30, 0.2, 0.005)
    assert np.abs(settle_offset(both[:10], both[10:])).max() < 1e-6  # float32 rounding of the ramp
    assert np.allclose(continue_from(both[:10], both[10:]), both[10:], atol=1e-7)


def test_short_clips_and_no_history():
    clip = ramp(5, 0.5, 0.0)
    assert np.array_equal(continue_from(np.zeros((0, spec.MOTION_DIM)), clip), clip)
    assert continue_from(ramp(4, 0.0, 0.0), clip)[0, POSE_CHANNELS[0]] == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="frames"):
        settle_offset(clip, clip, frames=0)


def test_frame_by_frame_settling_equals_the_clip_form():
    """The player's per-frame form (idle -> reply) gives what continue_from gives for a start frame."""
    previous, clip = ramp(8, 0.0, 0.01), ramp(30, -0.3, 0.0, seed=2)
    player = PoseContinuity()
    for frame in previous:
        player.next(frame, new_source=False)
    shown = np.stack([player.next(f, new_source=i == 0) for i, f in enumerate(clip)])
    expected = clip.copy()
    expected[:SETTLE_FRAMES, POSE_CHANNELS] += settle_offset(previous, clip[:1]).astype(np.float32)
    assert np.allclose(shown, expected, atol=1e-6)
    assert np.array_equal(shown[SETTLE_FRAMES:], clip[SETTLE_FRAMES:])
