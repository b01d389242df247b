"""MediaPipe face-mesh landmarks -> the 61-D motion, by geometry (no blendshape model needed).

Head rotation: an orthonormal head frame from the eye-corner axis and the forehead-chin axis of
the 3-D mesh, decomposed as Rz(roll) Ry(yaw) Rx(pitch) (the renderer's convention). Translation:
the face centre relative to the clip's mean, in face widths. Blendshapes: ratios of mesh
distances (lip gap / face height, eyelid gap / eye width, ...) mapped to [0, 1] against the
clip's own neutral (its median), so each person is measured against their resting face. Gaze:
iris centre offsets within the eye. Then light temporal smoothing and a per-frame confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avatar_omnitalker import spec
from avatar_omnitalker.motion.pose import angles_from_camera_axes

IDX = spec.MOTION_INDEX

# MediaPipe face mesh indices (subject's right = image left for a frontal face)
R_EYE_OUT, R_EYE_IN, L_EYE_OUT, L_EYE_IN = 33, 133, 263, 362
R_LID_UP, R_LID_DN, L_LID_UP, L_LID_DN = 159, 145, 386, 374
R_IRIS, L_IRIS = 468, 473
MOUTH_R, MOUTH_L, LIP_UP_IN, LIP_DN_IN, LIP_UP_OUT, LIP_DN_OUT = 61, 291, 13, 14, 0, 17
NOSE_TIP, CHIN, FOREHEAD, FACE_R, FACE_L = 1, 152, 10, 234, 454
R_BROW_IN, R_BROW_OUT, L_BROW_IN, L_BROW_OUT = 107, 70, 336, 300
R_CHEEK, L_CHEEK = 205, 425


@dataclass
class SolvedMotion:
    motion: np.ndarray  # (T, 61) float32
    confidence: np.ndarray  # (T,) in [0, 1]


def head_axes(points: np.ndarray) -> np.ndarray:
    """(..., 478, 3) pixels (x right, y down, z away) -> (..., 3, 3) the head's axes (columns) in
    camera coordinates: x along the eye corners, y from forehead to chin, z into the screen."""
    p = points.astype(np.float64)
    x = p[..., L_EYE_OUT, :] - p[..., R_EYE_OUT, :]
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    down = p[..., CHIN, :] - p[..., FOREHEAD, :]
    y = down - (down * x).sum(-1, keepdims=True) * x
    y /= np.linalg.norm(y, axis=-1, keepdims=True)
    z = np.cross(x, y)  # into the screen
    return np.stack([x, y, z], axis=-1)


def head_rotation(points: np.ndarray) -> np.ndarray:
    """(T, 478, 3) pixels -> (T, 3) pitch, yaw, roll in radians (motion/pose.py's convention)."""
    return angles_from_camera_axes(head_axes(points))


def _dist(p: np.ndarray, a: int, b: int) -> np.ndarray:
    return np.linalg.norm(p[:, a] - p[:, b], axis=1)


def _ramp(value: np.ndarray, neutral: float, full: float) -> np.ndarray:
    """0 at the neutral value, 1 at `full` (either direction), clipped."""
    return np.clip((value - neutral) / (full - neutral + 1e-9), 0.0, 1.0)


def _smooth(x: np.ndarray, width: int = 3) -> np.ndarray:
    if len(x) < width:
        return x
    kernel = np.ones(width) / width
    pad = np.pad(x, ((width // 2, width // 2), (0, 0)), mode="edge")
    return np.stack([np.convolve(pad[:, j], kernel, mode="valid") for j in range(x.shape[1])], axis=1)


def _fill(points: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Frames without a face take the nearest tracked frame (their confidence says so)."""
    if valid.all() or not valid.any():
        return points
    idx = np.flatnonzero(valid)
    nearest = idx[np.clip(np.searchsorted(idx, np.arange(len(valid))), 0, len(idx) - 1)]
    return points[nearest]


def solve(points: np.ndarray, faces: np.ndarray) -> SolvedMotion:
    t = len(points)
    valid = (faces == 1) & np.isfinite(points).all(axis=(1, 2))
    if not valid.any():
        raise ValueError("no frame with exactly one tracked face")
    p = _fill(points, valid).astype(np.float64)
    m = np.zeros((t, spec.MOTION_DIM))
    face_w = _dist(p, FACE_R, FACE_L)
    face_h = _dist(p, FOREHEAD, CHIN)
    eye_w = 0.5 * (_dist(p, R_EYE_OUT, R_EYE_IN) + _dist(p, L_EYE_OUT, L_EYE_IN))

    m[:, spec.HEAD_ROTATION] = head_rotation(p)
    centre = p[:, [FACE_R, FACE_L, FOREHEAD, CHIN], :2].mean(1)
    m[:, spec.HEAD_TRANSLATION.start : spec.HEAD_TRANSLATION.start + 2] = (centre - centre[valid].mean(0)) / np.median(
        face_w
    )
    m[:, spec.HEAD_TRANSLATION.start + 2] = -(face_w / np.median(face_w[valid]) - 1.0)  # closer = bigger face

    def feature(values: np.ndarray) -> tuple[np.ndarray, float]:
        return values, float(np.median(values[valid]))

    # mouth
    gap, _ = feature(_dist(p, LIP_UP_IN, LIP_DN_IN) / face_h)
    m[:, IDX["jawOpen"]] = np.clip(gap / 0.22, 0, 1)
    width, w0 = feature(_dist(p, MOUTH_R, MOUTH_L) / face_w)
    narrow = _ramp(-width, -w0, -0.75 * w0)
    wide = _ramp(width, w0, 1.25 * w0)
    lip_mid = 0.5 * (p[:, LIP_UP_OUT, 1] + p[:, LIP_DN_OUT, 1])
    for side, corner in (("Right", MOUTH_R), ("Left", MOUTH_L)):
        lift, l0 = feature((lip_mid - p[:, corner, 1]) / face_h)
        m[:, IDX[f"mouthSmile{side}"]] = np.clip(_ramp(lift, l0, l0 + 0.04) * 0.7 + wide * 0.3, 0, 1)
        m[:, IDX[f"mouthFrown{side}"]] = _ramp(-lift, -l0, -l0 + 0.03)
        m[:, IDX[f"mouthStretch{side}"]] = wide * (1 - m[:, IDX[f"mouthSmile{side}"]])
    m[:, IDX["mouthPucker"]] = narrow
    m[:, IDX["mouthFunnel"]] = narrow * np.clip(gap / 0.08, 0, 1)
    thickness, t0 = feature((_dist(p, LIP_UP_OUT, LIP_UP_IN) + _dist(p, LIP_DN_IN, LIP_DN_OUT)) / face_h)
    closed = np.clip(1 - gap / 0.02, 0, 1)
    m[:, IDX["mouthPressLeft"]] = m[:, IDX["mouthPressRight"]] = closed * _ramp(-thickness, -t0, -0.7 * t0)
    m[:, IDX["mouthClose"]] = closed * 0.3
    drop, d0 = feature((p[:, LIP_DN_OUT, 1] - p[:, NOSE_TIP, 1]) / face_h)
    m[:, IDX["mouthLowerDownLeft"]] = m[:, IDX["mouthLowerDownRight"]] = _ramp(
        drop - (gap - np.median(gap[valid])), d0, d0 + 0.05
    )
    jaw_x = (p[:, CHIN, 0] - p[:, NOSE_TIP, 0]) / face_w
    jaw_x -= np.median(jaw_x[valid])
    m[:, IDX["jawLeft"]] = np.clip(jaw_x / 0.08, 0, 1)
    m[:, IDX["jawRight"]] = np.clip(-jaw_x / 0.08, 0, 1)

    # eyes and gaze
    for side, (up, dn, out, inn, iris) in (
        ("Right", (R_LID_UP, R_LID_DN, R_EYE_OUT, R_EYE_IN, R_IRIS)),
        ("Left", (L_LID_UP, L_LID_DN, L_EYE_OUT, L_EYE_IN, L_IRIS)),
    ):
        ear, e0 = feature(_dist(p, up, dn) / _dist(p, out, inn))
        open_ref = float(np.percentile(ear[valid], 90))
        m[:, IDX[f"eyeBlink{side}"]] = _ramp(-ear, -open_ref * 0.85, -open_ref * 0.25)
        m[:, IDX[f"eyeWide{side}"]] = _ramp(ear, open_ref * 1.05, open_ref * 1.45)
        m[:, IDX[f"eyeSquint{side}"]] = _ramp(-ear, -e0, -0.75 * e0) * (1 - m[:, IDX[f"eyeBlink{side}"]])
        mid = 0.5 * (p[:, out] + p[:, inn])
        span = p[:, inn] - p[:, out] if side == "Right" else p[:, out] - p[:, inn]  # image left -> right
        gx = ((p[:, iris] - mid)[:, :2] * span[:, :2]).sum(1) / (np.linalg.norm(span[:, :2], axis=1) ** 2 + 1e-9)
        gy = (p[:, iris, 1] - 0.5 * (p[:, up, 1] + p[:, dn, 1])) / (eye_w + 1e-9)
        yaw = np.clip(2.2 * (gx - np.median(gx[valid])), -0.6, 0.6)  # + = towards the image right = avatar's left
        pitch = np.clip(-2.2 * (gy - np.median(gy[valid])), -0.5, 0.5)
        g = spec.GAZE.start + (0 if side == "Left" else 2)
        m[:, g], m[:, g + 1] = yaw, pitch
    yaw_l, yaw_r, pitch_l = m[:, spec.GAZE.start], m[:, spec.GAZE.start + 2], m[:, spec.GAZE.start + 1]
    m[:, IDX["eyeLookOutLeft"]] = m[:, IDX["eyeLookInRight"]] = np.clip(0.5 * (yaw_l + yaw_r) / 0.35, 0, 1)
    m[:, IDX["eyeLookInLeft"]] = m[:, IDX["eyeLookOutRight"]] = np.clip(-0.5 * (yaw_l + yaw_r) / 0.35, 0, 1)
    m[:, IDX["eyeLookUpLeft"]] = m[:, IDX["eyeLookUpRight"]] = np.clip(pitch_l / 0.35, 0, 1)
    m[:, IDX["eyeLookDownLeft"]] = m[:, IDX["eyeLookDownRight"]] = np.clip(-pitch_l / 0.35, 0, 1)

    # brows, cheeks, nose
    for side, (inner, outer, eye) in (
        ("Right", (R_BROW_IN, R_BROW_OUT, R_LID_UP)),
        ("Left", (L_BROW_IN, L_BROW_OUT, L_LID_UP)),
    ):
        hi, h0 = feature((p[:, eye, 1] - p[:, inner, 1]) / face_h)
        ho, o0 = feature((p[:, eye, 1] - p[:, outer, 1]) / face_h)
        m[:, IDX[f"browOuterUp{side}"]] = _ramp(ho, o0, o0 + 0.03)
        m[:, IDX[f"browDown{side}"]] = _ramp(-hi, -h0, -h0 + 0.025)
        m[:, IDX["browInnerUp"]] += 0.5 * _ramp(hi, h0, h0 + 0.03)
    cheeks, c0 = feature(_dist(p, R_CHEEK, L_CHEEK) / face_w)
    m[:, IDX["cheekPuff"]] = _ramp(cheeks, c0 * 1.03, c0 * 1.15)
    m[:, IDX["cheekSquintLeft"]] = m[:, IDX["mouthSmileLeft"]] * 0.6
    m[:, IDX["cheekSquintRight"]] = m[:, IDX["mouthSmileRight"]] * 0.6
    sneer, s0 = feature((p[:, LIP_UP_OUT, 1] - p[:, NOSE_TIP, 1]) / face_h)
    m[:, IDX["noseSneerLeft"]] = m[:, IDX["noseSneerRight"]] = _ramp(-sneer, -s0, -0.8 * s0)

    m = _smooth(m)
    m[:, spec.BLENDSHAPES] = np.clip(m[:, spec.BLENDSHAPES], 0, 1)
    # confidence: tracked frames count 1, filled-in frames 0, sudden jumps are doubted
    jump = np.zeros(t)
    jump[1:] = np.abs(np.diff(m[:, spec.HEAD_ROTATION], axis=0)).max(1)
    confidence = valid.astype(np.float64) * np.clip(1 - (jump - 0.1) / 0.3, 0.2, 1)
    return SolvedMotion(m.astype(np.float32), confidence.astype(np.float32))


def from_face_landmarker(
    points: np.ndarray, faces: np.ndarray, blendshapes: np.ndarray, matrices: np.ndarray
) -> SolvedMotion:
    """FaceLandmarker output: its 52 scores ('_neutral', then the 51 ARKit shapes in
    spec.BLENDSHAPE_NAMES order) and its transform matrices for the head pose; gaze and
    translation still from the mesh geometry."""
    solved = solve(points, faces)
    m = solved.motion.copy()
    m[:, spec.BLENDSHAPES] = np.clip(blendshapes[:, 1:52], 0, 1)
    rot = matrices[:, :3, :3].astype(np.float64)
    rot /= np.linalg.norm(rot, axis=1, keepdims=True)
    flip = np.diag([1.0, -1.0, 1.0])  # MediaPipe's canonical frame is y-up
    rot = flip @ rot @ flip
    m[:, spec.HEAD_ROTATION] = np.stack(
        [
            np.arctan2(rot[:, 2, 1], rot[:, 2, 2]),
            -np.arcsin(np.clip(rot[:, 2, 0], -1, 1)),
            np.arctan2(rot[:, 1, 0], rot[:, 0, 0]),
        ],
        axis=1,
    )
    return SolvedMotion(m.astype(np.float32), solved.confidence)
