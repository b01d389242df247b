"""Head pose conventions: one rotation order and one axis convention for the whole package.

Motion stores head rotation as (pitch, yaw, roll) radians with R = Rz(roll) Ry(yaw) Rx(pitch) in
head coordinates (x right, y down, w toward the camera). Image-space code (landmarks, warps) works
in camera coordinates (x right, y down, z away from the camera): the same rotation seen there is
S R S with S = diag(1, 1, -1).
"""

from __future__ import annotations

import numpy as np

FLIP_Z = np.diag([1.0, 1.0, -1.0])


def rotation_matrix(pitch: float, yaw: float, roll: float) -> np.ndarray:
    """Rz(roll) Ry(yaw) Rx(pitch) in head coordinates (x right, y down, w toward the camera)."""
    cp, sp, cy, sy, cr, sr = np.cos(pitch), np.sin(pitch), np.cos(yaw), np.sin(yaw), np.cos(roll), np.sin(roll)
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return rz @ ry @ rx


def camera_axes(pitch: float, yaw: float, roll: float) -> np.ndarray:
    """(3, 3): the head's axes (columns) in camera coordinates for this pose."""
    return FLIP_Z @ rotation_matrix(pitch, yaw, roll) @ FLIP_Z


def angles_from_camera_axes(rot: np.ndarray) -> np.ndarray:
    """(..., 3, 3) head axes in camera coordinates -> (..., 3) pitch, yaw, roll: camera_axes inverted."""
    r = FLIP_Z @ rot @ FLIP_Z
    yaw = -np.arcsin(np.clip(r[..., 2, 0], -1, 1))
    pitch = np.arctan2(r[..., 2, 1], r[..., 2, 2])
    roll = np.arctan2(r[..., 1, 0], r[..., 0, 0])
    return np.stack([pitch, yaw, roll], axis=-1)
