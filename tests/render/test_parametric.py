"""The parametric face visibly follows every group of the 61-D motion, where it should."""

from __future__ import annotations

import numpy as np
import pytest

from avatar_omnitalker import spec
from avatar_omnitalker.render.parametric import Palette, ParametricRenderer

SIZE = 256


def changed(**values: float) -> np.ndarray:
    """Boolean map of pixels that differ between the neutral face and the face with `values`."""
    r = ParametricRenderer(SIZE)
    neutral = np.zeros((1, spec.MOTION_DIM), np.float32)
    moved = neutral.copy()
    for name, v in values.items():
        moved[0, spec.MOTION_INDEX[name]] = v
    a, b = r.render(np.concatenate([neutral, moved]))
    return np.abs(a.astype(int) - b.astype(int)).sum(-1) > 30


def centroid(mask: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(mask)
    return ys.mean() / SIZE, xs.mean() / SIZE


REGIONS = {  # (y range, x range) as fractions of the frame where the change must sit
    "mouth": ((0.55, 0.78), (0.35, 0.65)),
    "eyes": ((0.38, 0.52), (0.3, 0.7)),
    "brows": ((0.3, 0.45), (0.3, 0.7)),
    "nose": ((0.48, 0.6), (0.4, 0.6)),
    "cheeks": ((0.45, 0.65), (0.2, 0.8)),
}


@pytest.mark.parametrize(
    "values, region",
    [
        (dict(jawOpen=0.8), "mouth"),
        (dict(mouthClose=0.3, jawOpen=0.5), "mouth"),
        (dict(mouthPucker=1.0), "mouth"),
        (dict(mouthSmileLeft=1.0, mouthSmileRight=1.0), "mouth"),
        (dict(mouthStretchLeft=1, mouthStretchRight=1), "mouth"),
        (dict(mouthPressLeft=1.0, mouthPressRight=1.0, jawOpen=0.3), "mouth"),
        (dict(mouthFunnel=1.0), "mouth"),
        (dict(eyeBlinkLeft=1.0, eyeBlinkRight=1.0), "eyes"),
        (dict(eyeWideLeft=1.0, eyeWideRight=1.0), "eyes"),
        (dict(eyeSquintLeft=1.0, eyeSquintRight=1.0), "eyes"),
        (dict(gazeYawLeft=0.3, gazeYawRight=0.3), "eyes"),
        (dict(gazePitchLeft=0.3, gazePitchRight=0.3), "eyes"),
        (dict(browInnerUp=1.0), "brows"),
        (dict(browDownLeft=1.0, browDownRight=1.0), "brows"),
        (dict(browOuterUpLeft=1.0, browOuterUpRight=1.0), "brows"),
        (dict(noseSneerLeft=1.0, noseSneerRight=1.0), "nose"),
        (dict(cheekSquintLeft=1.0, cheekSquintRight=1.0), "cheeks"),
        (dict(cheekPuff=1.0), "cheeks"),
    ],
)
def test_each_group_moves_its_region(values, region):
    mask = changed(**values)
    assert mask.sum() > 20, f"{values} changed only {mask.sum()} pixels"
    (y0, y1), (x0, x1) = REGIONS[region]
    cy, cx = centroid(mask)
    assert y0 <= cy <= y1 and x0 <= cx <= x1, f"{values}: change centred at ({cy:.2f}, {cx:.2f}), not in {region}"


@pytest.mark.parametrize("name", ["headPitch", "headYaw", "headRoll", "headX", "headY", "headZ"])
def test_head_pose_moves_the_whole_face(name):
    mask = changed(**{name: 0.2})
    assert mask.sum() > 0.02 * SIZE * SIZE


def test_left_and_right_are_separate():
    left, right = changed(eyeBlinkLeft=1.0), changed(eyeBlinkRight=1.0)
    assert centroid(left)[1] > 0.5 > centroid(right)[1]  # the avatar's left eye is on the image's right


def test_colours_come_from_the_appearance():
    img = np.zeros((100, 100, 3), np.uint8)
    img[:] = (10, 200, 30)  # green background
    img[45:62, 40:60] = (200, 150, 120)  # skin in the middle
    img[8:18, 38:62] = (30, 20, 10)  # hair
    p = Palette.from_image(img)
    assert np.allclose(p.background, (10, 200, 30)) and np.allclose(p.skin, (200, 150, 120))
    frame = ParametricRenderer(SIZE, img).render(np.zeros((1, spec.MOTION_DIM), np.float32))[0]
    assert np.allclose(frame[2, 2], (10, 200, 30), atol=1)
    with pytest.raises(ValueError, match="appearance"):
        Palette.from_image(np.zeros((8, 8)))


def test_bad_motion_is_refused():
    r = ParametricRenderer(64)
    with pytest.raises(ValueError, match="61"):
        r.render(np.zeros((2, 52)))
    with pytest.raises(ValueError, match="NaN"):
        r.render(np.full((1, 61), np.nan))
