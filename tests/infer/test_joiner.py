"""Chunk joins: no clicks in the audio, no jumps in the motion, A/V lengths stay equal."""

from __future__ import annotations

import numpy as np

from avatar_omnitalker import spec
from avatar_omnitalker.infer.joiner import OVERLAP_FRAMES, Joiner
from avatar_omnitalker.motion.transition import POSE_CHANNELS, SETTLE_FRAMES


def chunk(frames: int, phase: float, level: float):
    t = np.arange(spec.samples_for_frames(frames)) / spec.SAMPLE_RATE
    audio = (0.5 * np.sin(2 * np.pi * 220 * t + phase)).astype(np.float32)
    motion = np.full((frames, spec.MOTION_DIM), level, np.float32)
    return audio, motion


def test_join_is_continuous_and_lengths_match():
    joiner = Joiner()
    parts = [
        joiner.push(*chunk(30, 0.0, 0.0)),
        joiner.push(*chunk(25, 2.0, 1.0)),
        joiner.push(*chunk(3, 1.0, 0.5)),
        joiner.flush(),
    ]
    audio = np.concatenate([a for a, _ in parts])
    motion = np.concatenate([m for _, m in parts])
    assert audio.size == spec.samples_for_frames(motion.shape[0])
    assert motion.shape[0] == 30 + 25 + 3 - OVERLAP_FRAMES - 1  # overlaps of 4 and then of 1 (half the short chunk)
    # a sine at 220 Hz changes by at most 2*pi*220/24000*0.5 = 0.029 per sample; a hard cut at a
    # phase jump would step by up to 1.0
    assert np.abs(np.diff(audio)).max() < 0.05
    # motion moves from 0 to 1 over the blend, in steps no larger than 1 / overlap
    assert np.abs(np.diff(motion, axis=0)).max() <= 1.0 / OVERLAP_FRAMES + 1e-6


def test_the_head_settles_into_the_next_chunk_instead_of_snapping():
    """Chunks start at unrelated poses (the model's start); a 4-frame fade would be a snap."""
    joiner = Joiner()
    a, first = chunk(30, 0.0, 0.0)
    b, second = chunk(40, 2.0, 1.0)  # every channel, head and gaze included, one unit away
    motion = np.concatenate([joiner.push(a, first)[1], joiner.push(b, second)[1], joiner.flush()[1]])
    pose, blend = motion[:, POSE_CHANNELS], np.delete(motion, POSE_CHANNELS, axis=1)
    assert np.abs(np.diff(pose, axis=0)).max() <= 1.5 / SETTLE_FRAMES + 1e-6, "spread over the settling frames"
    join = 30 - OVERLAP_FRAMES
    assert np.allclose(pose[join + SETTLE_FRAMES :], 1.0), "then the second chunk's own pose"
    assert np.allclose(blend[join + OVERLAP_FRAMES :], 1.0), "the mouth follows the new speech after the fade"


def test_hard_cut_would_click():
    a, _ = chunk(30, 0.0, 0.0)
    b, _ = chunk(25, 2.0, 1.0)
    assert np.abs(np.diff(np.concatenate([a, b]))).max() > 0.3  # what the joiner prevents


def test_empty_chunks_pass_through():
    joiner = Joiner()
    a, m = joiner.push(np.zeros(0, np.float32), np.zeros((0, spec.MOTION_DIM), np.float32))
    assert a.size == 0 and m.shape == (0, spec.MOTION_DIM)
    assert joiner.flush()[1].shape[0] == 0
