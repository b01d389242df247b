"""Motion layout helpers: resampling between rates, normalisation, ARKit export."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avatar_omnitalker import spec
from avatar_omnitalker.motion import MotionStats, mel_rate_to_motion, motion_to_mel_rate, resample_fps, to_arkit52


def test_layout():
    assert spec.MOTION_DIM == 61 and spec.SAMPLES_PER_FRAME == 960
    assert spec.MOTION_NAMES[spec.MOTION_INDEX["jawOpen"]] == "jawOpen" == spec.BLENDSHAPE_NAMES[24]
    assert spec.MOTION_NAMES[51:54] == ("headPitch", "headYaw", "headRoll")
    assert len(set(spec.MOTION_NAMES)) == 61 and list(spec.BLENDSHAPE_NAMES) == sorted(spec.BLENDSHAPE_NAMES)
    assert spec.ARKIT52_NAMES[-1] == "tongueOut" and len(spec.ARKIT52_NAMES) == 52
    assert spec.mel_frames_for_motion(4) == 15 and spec.mel_frames_for_motion(1) == 4


def test_mel_rate_round_trip_of_smooth_motion():
    k = torch.arange(100, dtype=torch.float64)
    motion = torch.stack([torch.sin(2 * torch.pi * 0.5 * (k + 0.5) / 25)] * 3, dim=-1)  # 0.5 Hz
    mel_rate = motion_to_mel_rate(motion, spec.mel_frames_for_motion(100))
    i = torch.arange(mel_rate.shape[0], dtype=torch.float64)
    expected = torch.sin(2 * torch.pi * 0.5 * i * spec.HOP_LENGTH / spec.SAMPLE_RATE)
    inner = slice(4, -4)  # edges hold the end values
    assert torch.allclose(mel_rate[inner, 0], expected[inner], atol=2e-3)
    back = mel_rate_to_motion(mel_rate, 100)
    assert torch.allclose(back[2:-2], motion[2:-2], atol=2e-3)


def test_fps_resampling_keeps_duration():
    x = np.random.default_rng(0).random((50, 61)).astype(np.float32)
    y = resample_fps(x, 25, 30)
    assert y.shape == (60, 61) and isinstance(y, np.ndarray)
    with pytest.raises(ValueError, match="positive"):
        resample_fps(x, 0, 30)


def test_arkit_export():
    motion = np.zeros((25, 61), dtype=np.float32)
    motion[:, spec.MOTION_INDEX["jawOpen"]] = 0.7
    motion[:, spec.HEAD_ROTATION] = 0.3  # not a blendshape: must not leak into ARKit
    arkit = to_arkit52(motion)
    assert arkit.shape == (30, 52) and arkit.dtype == np.float32
    assert np.allclose(arkit[:, spec.ARKIT52_NAMES.index("jawOpen")], 0.7)
    assert np.allclose(arkit[:, -1], 0) and arkit.sum() == pytest.approx(0.7 * 30)
    with pytest.raises(ValueError, match="61"):
        to_arkit52(np.zeros((5, 52)))


def test_stats_round_trip_and_validation():
    g = torch.Generator().manual_seed(0)
    clips = [torch.randn(40, 61, generator=g) * 3 + 1, torch.randn(25, 61, generator=g) * 3 + 1]
    clips[0][:, 5] = 0.0
    clips[1][:, 5] = 0.0  # a dimension that never moves
    stats = MotionStats.from_clips(clips)
    z = stats.normalize(torch.cat(clips))
    assert torch.allclose(z.mean(0)[6:], torch.zeros(55), atol=1e-4) and torch.isfinite(z).all()
    assert torch.allclose(stats.denormalize(z), torch.cat(clips), atol=1e-5)
    assert stats.std[5] == pytest.approx(1e-3)
    with pytest.raises(ValueError, match="shape"):
        MotionStats(torch.zeros(60), torch.ones(60))
    with pytest.raises(ValueError, match="positive"):
        MotionStats(torch.zeros(61), torch.zeros(61))
    with pytest.raises(ValueError, match=r"\(T, 61\)"):
        MotionStats.from_clips([torch.zeros(4, 52)])
