"""Face landmarks through MediaPipe 0.10.21, kept in an environment of its own.

mediapipe 0.10.21 (the last release that bundles the face mesh models) needs numpy < 2 and
protobuf < 5, which clash with the rest of the stack. So it lives in a separate virtual
environment (made on first use, or named by AVATAR_OMNITALKER_MEDIAPIPE_PYTHON) and runs the
worker script as a subprocess; only arrays cross the boundary.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import venv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from loguru import logger

from avatar_omnitalker import spec
from avatar_omnitalker.errors import OmniTalkerError
from avatar_omnitalker.fileio import user_cache

MEDIAPIPE_REQUIREMENTS = ["mediapipe==0.10.21", "numpy<2", "protobuf<5", "av>=12"]
ENV_VAR = "AVATAR_OMNITALKER_MEDIAPIPE_PYTHON"


class LandmarkError(OmniTalkerError, RuntimeError):
    pass


def env_dir() -> Path:
    return user_cache("mediapipe-0.10.21")


def mediapipe_python(create: bool = True) -> Path:
    """The interpreter of the MediaPipe environment, creating it (pip install) when missing."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    folder = env_dir()
    python = folder / "bin" / "python"
    marker = folder / ".ready"
    if marker.is_file():
        return python
    if not create:
        raise LandmarkError(f"no MediaPipe environment at {folder}; run `omnitalker setup-mediapipe`")
    logger.info("creating the MediaPipe environment in {} (once; needs the package registry)", folder)
    venv.EnvBuilder(with_pip=True, clear=True).create(folder)
    cmd = [str(python), "-m", "pip", "install", "-q", *MEDIAPIPE_REQUIREMENTS]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise LandmarkError(f"could not install {MEDIAPIPE_REQUIREMENTS}: {done.stderr[-2000:]}")
    marker.write_text("ok\n")
    return python


@dataclass
class Landmarks:
    points: np.ndarray  # (T, 478, 3) float32 pixels; NaN where no face
    faces: np.ndarray  # (T,) faces detected per frame
    size: tuple[int, int]  # (height, width)
    blendshapes: np.ndarray | None = None  # (T, 52) from a FaceLandmarker .task, ARKit order as MediaPipe names it
    matrices: np.ndarray | None = None  # (T, 4, 4)


def video_landmarks(video: str | Path, task_file: str | Path | None = None, fps: float = spec.FPS) -> Landmarks:
    video = Path(video)
    if not video.is_file():
        raise FileNotFoundError(f"video not found: {video}")
    worker = Path(__file__).with_name("mp_worker.py")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "landmarks.npz"
        cmd = [str(mediapipe_python()), str(worker), str(video), str(out), str(fps)] + (
            [str(task_file)] if task_file else []
        )
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
        env["GLOG_minloglevel"] = "2"
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if done.returncode != 0 or not out.is_file():
            reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
            raise LandmarkError(f"{video}: face tracking failed: {reason}")
        with np.load(out) as data:
            return Landmarks(
                data["landmarks"],
                data["faces"],
                tuple(int(x) for x in data["size"]),
                data["blendshapes"] if "blendshapes" in data.files else None,
                data["matrices"] if "matrices" in data.files else None,
            )


if __name__ == "__main__":  # `python -m avatar_omnitalker.video.landmarks` prepares the environment
    print(mediapipe_python())
    sys.exit(0)
