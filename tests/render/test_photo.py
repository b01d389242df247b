"""The photo renderer: the reference person's own frames, moved by the generated motion.

Closed loop on a real face (skimage's public-domain astronaut portrait, made into a talking clip):
drive the renderer with a known motion track, read the motion back from the rendered video with
the project's own MediaPipe solver, and compare."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from avatar_omnitalker import spec
from avatar_omnitalker.infer.config import PipelineConfig
from avatar_omnitalker.infer.reference import Reference
from avatar_omnitalker.render.factory import make_renderer
from avatar_omnitalker.render.photo import PhotoRenderer
from avatar_omnitalker.render.video import write_mp4
from tests.video.portrait import astronaut_face, talking_video

IDX = spec.MOTION_INDEX


def build_reference(folder: str) -> None:
    """The reference the tests animate: a talking clip of the portrait, prepared into ref.npz."""
    from avatar_omnitalker.video.landmarks import video_landmarks
    from avatar_omnitalker.video.prepare import prepare_reference

    tmp = Path(folder)
    img, centre = astronaut_face()
    write_mp4(tmp / "still.mp4", iter([img] * 2), np.zeros(2 * 960, np.float32), 2)
    face = (img, centre, video_landmarks(tmp / "still.mp4").points[0])
    clip, *_ = talking_video(tmp / "ref.mp4", face, sway_deg=(4, 6, 5))
    prepare_reference(tmp / "ref.mp4", clip.text, tmp / "ref.npz")


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Reference:
    """Built in a fresh process. espeak-ng carries synthesis state (its pitch-flutter phase) from
    one utterance to the next within a process, so in-process the clip, and how well its jaw
    reads back, depended on which tests ran first: jaw correlation 0.925 alone, 0.896 after
    tests/realtime."""
    tmp = tmp_path_factory.mktemp("photo")
    root = Path(__file__).resolve().parents[2]  # holds tests/ (a copy of it in CI)
    code = "import sys; from tests.render.test_photo import build_reference; build_reference(sys.argv[1])"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    subprocess.run([sys.executable, "-c", code, str(tmp)], cwd=root, env=env, check=True)
    return Reference.load(tmp / "ref.npz")  # through the file: what a user's reference holds


def known_track(base: np.ndarray, n: int = 150) -> np.ndarray:
    """Jaw opening and closing, two blinks, and pitch/yaw/roll sways around the base frame."""
    t = np.arange(n) / spec.FPS
    track = np.repeat(base[None].astype(np.float64), n, 0)
    track[:, IDX["jawOpen"]] = base[IDX["jawOpen"]] + 0.5 * np.clip(np.sin(2 * np.pi * 1.3 * t), 0, 1)
    blink = np.zeros(n)
    for start in (30, 100):
        blink[start : start + 6] = [0.3, 0.8, 1.0, 1.0, 0.7, 0.2]
    track[:, IDX["eyeBlinkLeft"]] = track[:, IDX["eyeBlinkRight"]] = blink
    for k, (deg, hz, phase) in enumerate(((5, 0.2, 1.0), (8, 0.3, 0.0), (5, 0.25, 2.0))):
        track[:, spec.HEAD_ROTATION.start + k] += np.radians(deg) * np.sin(2 * np.pi * hz * t + phase)
    return track


def test_reference_keeps_face_frames_and_old_references_still_load(reference):
    faces = reference.faces
    assert faces is not None and 2 <= len(faces.images) <= 8 and faces.images.shape[1:] == (512, 512, 3)
    assert faces.landmarks.shape == (len(faces.images), 478, 3)
    jaw = faces.motion[:, IDX["jawOpen"]]
    assert jaw.max() - jaw[0] > 0.1, "the most open-mouthed frame is kept beside the neutral one"
    from avatar_omnitalker.infer import defaults

    assert defaults.builtin_reference().faces is None  # the shipped avatar is not a real person
    assert (
        make_renderer(PipelineConfig(size=64), defaults.builtin_reference()).__class__.__name__ == "ParametricRenderer"
    )
    assert isinstance(make_renderer(PipelineConfig(size=64), reference), PhotoRenderer)
    with pytest.raises(ValueError, match="has no face frames"):
        make_renderer(PipelineConfig(renderer="photo"), defaults.builtin_reference())


def test_neutral_motion_gives_back_the_neutral_frame(reference):
    from skimage.metrics import structural_similarity

    renderer = PhotoRenderer.for_reference(reference, 512)
    frame = renderer.render(reference.faces.motion[:1])[0]
    p = reference.faces.landmarks[0]
    x0, y0 = np.floor(p[:, :2].min(0)).astype(int)
    x1, y1 = np.ceil(p[:, :2].max(0)).astype(int)
    box = (slice(y0, y1), slice(x0, x1))
    ssim = structural_similarity(frame[box], reference.faces.images[0][box], channel_axis=2)
    assert ssim >= 0.85, ssim


def test_still_motion_gives_identical_frames_no_flicker(reference):
    renderer = PhotoRenderer.for_reference(reference, 256)
    track = known_track(reference.faces.motion[0])
    still = np.repeat(track[40:41], 5, 0)
    frames = renderer.render(np.concatenate([track[:40], still]))
    assert all(np.array_equal(frames[40], f) for f in frames[41:])


def test_closed_loop_jaw_blink_and_head_pose(reference, tmp_path):
    from avatar_omnitalker.video.extract import extract_motion

    renderer = PhotoRenderer.for_reference(reference, 512)
    track = known_track(reference.faces.motion[0])
    write_mp4(tmp_path / "photo.mp4", renderer.frames(track), np.zeros(len(track) * 960, np.float32), len(track))
    back = extract_motion(tmp_path / "photo.mp4").motion
    n = min(len(back), len(track))
    back, track = back[:n], track[:n]
    assert np.corrcoef(back[:, IDX["jawOpen"]], track[:, IDX["jawOpen"]])[0, 1] >= 0.9
    blink = 0.5 * (back[:, IDX["eyeBlinkLeft"]] + back[:, IDX["eyeBlinkRight"]])
    assert np.corrcoef(blink, track[:, IDX["eyeBlinkLeft"]])[0, 1] >= 0.8
    for k, name in enumerate(spec.HEAD_ROTATION_NAMES):
        error = np.degrees(back[:, spec.HEAD_ROTATION.start + k] - track[:, spec.HEAD_ROTATION.start + k])
        assert np.abs(error).mean() <= 3.0, f"{name}: mean error {np.abs(error).mean():.2f} deg"
