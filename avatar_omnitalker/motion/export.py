"""Motion-only output files: ARKit-52 at any frame rate (plus the raw 61-D), as .npz or .json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from avatar_omnitalker import spec
from avatar_omnitalker.fileio import atomic_path
from avatar_omnitalker.motion.arkit import to_arkit52

MOTION_SUFFIXES = (".npz", ".json")


def save_motion(path: str | Path, motion: np.ndarray, fps: float = spec.ARKIT_FPS) -> Path:
    path = Path(path)
    if path.suffix not in MOTION_SUFFIXES:
        raise ValueError(f"motion output must end in .npz or .json, got {path.name}")
    arkit = to_arkit52(motion, fps)
    with atomic_path(path) as tmp:
        if path.suffix == ".npz":
            np.savez_compressed(
                tmp,
                arkit52=arkit,
                arkit_names=np.array(spec.ARKIT52_NAMES),
                arkit_fps=np.array(fps),
                motion61=np.asarray(motion, np.float32),
                motion_names=np.array(spec.MOTION_NAMES),
                motion_fps=np.array(spec.FPS),
            )
        else:
            doc = {
                "fps": fps,
                "names": list(spec.ARKIT52_NAMES),
                "frames": np.round(arkit, 5).tolist(),
                "head_rotation_fps25": np.round(np.asarray(motion)[:, spec.HEAD_ROTATION], 5).tolist(),
            }
            Path(tmp).write_text(json.dumps(doc))
    return path
