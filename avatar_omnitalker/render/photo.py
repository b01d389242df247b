"""The reference person on screen: their own frames, warped by the generated motion (no weights).

Per output frame:
1. Pick the kept reference frame nearest the target head pose and jaw (with hysteresis, so the
   source does not flicker between two equally good frames).
2. Move that frame's 478 MediaPipe landmarks to where the target motion puts them. The map is
   linear in the motion difference: each motion channel moves a fixed set of landmarks by a
   geometric amount in the head's own coordinates (jaw and lower lip down, lip corners up and out,
   upper eyelids down, irises along the eye, brows up and down), sized by the very ratios the
   project's MediaPipe solver reads back (lip gap / face height for jawOpen, eyelid gap / eye width
   for blinks, iris offset for gaze); head rotation is a rigid 3-D turn of the mesh about the face
   centre, translation a shift in face widths. Zero motion difference moves nothing.
3. Warp the source frame with a dense map interpolated over a triangulation of the landmarks,
   a ring of anchors around the head (following the head half-way: hair and neck) and the image
   border (fixed): the warp fades into the unmoved background.
4. Where the mouth opens wider than in the source, the mouth interior comes from the clip's most
   open-mouthed frame, warped onto the target inner-lip outline and feathered in.

Image operations use OpenCV (`remap`, `resize`, `fillPoly`, `GaussianBlur`): one remap of a
512x512 frame costs about 3 ms on one core, so the whole frame stays well inside the 20 ms that
50 frames/s allow. The displacement is computed on a coarse grid and upsampled: the mesh is
smooth at that scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avatar_omnitalker import spec
from avatar_omnitalker.infer.reference import FaceFrames, Reference
from avatar_omnitalker.motion.pose import camera_axes
from avatar_omnitalker.render.base import Renderer, check_motion

IDX = spec.MOTION_INDEX
GRID = 96  # displacement grid per side (upsampled to the frame)
RING = 32  # anchors around the head
SWITCH_MARGIN = 0.08  # a new source frame must be this much nearer than the current one

# MediaPipe face mesh indices (subject's right = image left); the solver uses the same ones
FACE_R, FACE_L, FOREHEAD, CHIN, NOSE_TIP = 234, 454, 10, 152, 1
MOUTH_R, MOUTH_L, LIP_UP_IN, LIP_DN_IN = 61, 291, 13, 14
LOWER_LIP = [146, 91, 181, 84, 17, 314, 405, 321, 375, 95, 88, 178, 87, 14, 317, 402, 318, 324]
INNER_LIPS = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95]
CORNERS = {"Right": [61, 78, 76, 62, 184, 77, 146, 185], "Left": [291, 308, 306, 292, 408, 307, 375, 409]}
EYES = {  # upper lid, lower lid, outer corner, inner corner, iris (centre first)
    "Right": (
        [246, 161, 160, 159, 158, 157, 173],
        [7, 163, 144, 145, 153, 154, 155],
        33,
        133,
        [468, 469, 470, 471, 472],
    ),
    "Left": (
        [466, 388, 387, 386, 385, 384, 398],
        [249, 390, 373, 374, 380, 381, 382],
        263,
        362,
        [473, 474, 475, 476, 477],
    ),
}
BROWS = {  # inner, outer
    "Right": ([107, 55, 65, 66], [70, 46, 63, 53]),
    "Left": ([336, 285, 295, 296], [300, 276, 293, 283]),
}


@dataclass
class _Source:
    """One kept frame, prepared once: its image, landmarks, motion and warp weights."""

    image: np.ndarray  # (S, S, 3) uint8
    points: np.ndarray  # (478, 3) camera pixels (x right, y down, z away)
    motion: np.ndarray  # (61,)
    axes: np.ndarray  # (3, 3) head axes in camera coordinates at its pose
    centre: np.ndarray  # (3,) face centre
    basis: np.ndarray  # (channels, 478, 3): landmark displacement per unit of each motion channel, head coords
    weights: object  # scipy sparse (GRID*GRID, nodes): barycentric weights of grid points over the mesh
    ring: np.ndarray  # (RING, 2) anchor positions
    face_w: float
    gap: float  # inner-lip gap in pixels


CHANNELS = [
    "jawOpen",
    "jawLeft",
    "jawRight",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthPucker",
    "mouthStretchLeft",
    "mouthStretchRight",
    "eyeBlinkLeft",
    "eyeBlinkRight",
    "eyeWideLeft",
    "eyeWideRight",
    "browInnerUp",
    "browOuterUpLeft",
    "browOuterUpRight",
    "browDownLeft",
    "browDownRight",
]
GAZE = ["gazeYawLeft", "gazePitchLeft", "gazeYawRight", "gazePitchRight"]


def _bump(q: np.ndarray, centre: np.ndarray, sigma: float) -> np.ndarray:
    """(478,) Gaussian weight of each landmark by its image-plane distance to `centre`."""
    return np.exp(-np.sum((q[:, :2] - centre) ** 2, 1) / (2 * sigma**2))


class PhotoRenderer(Renderer):
    def __init__(self, faces: FaceFrames, size: int = 512) -> None:
        import cv2

        cv2.setNumThreads(1)  # one core per session: sessions scale across cores, not inside one
        self.size = (size, size)
        scale = size / faces.images.shape[1]
        self.sources = [
            self._prepare(
                cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
                if scale != 1
                else img,
                lm * scale,
                mo,
            )
            for img, lm, mo in zip(faces.images, faces.landmarks.astype(np.float64), faces.motion.astype(np.float64))
        ]
        self.open_source = max(range(len(self.sources)), key=lambda i: self.sources[i].gap / self.sources[i].face_w)
        self._current = 0
        ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
        self._base = np.stack([xs, ys], axis=-1)

    @classmethod
    def for_reference(cls, reference: Reference, size: int = 512) -> PhotoRenderer:
        if reference.faces is None:
            raise ValueError(f"reference {reference.name!r} has no face frames (prepare it again from its video)")
        return cls(reference.faces, size)

    # ------------------------------------------------------------------ preparation
    def _prepare(self, image: np.ndarray, points: np.ndarray, motion: np.ndarray) -> _Source:
        from scipy.sparse import csr_matrix
        from scipy.spatial import Delaunay

        size = self.size[0]
        p = points
        face_w = float(np.linalg.norm(p[FACE_L, :2] - p[FACE_R, :2]))
        face_h = float(np.linalg.norm(p[CHIN, :2] - p[FOREHEAD, :2]))
        centre = p[[FACE_R, FACE_L, FOREHEAD, CHIN]].mean(0)
        axes = camera_axes(*motion[spec.HEAD_ROTATION])
        canon = (p - centre) @ axes  # head coordinates: x across the face, y down, z into the screen
        basis = self._basis(canon, face_w, face_h)
        angle = np.linspace(0, 2 * np.pi, RING, endpoint=False)
        ring = centre[:2] + np.stack([0.85 * face_w * np.cos(angle), 0.8 * face_h * np.sin(angle)], 1)
        edge = np.linspace(0, size - 1, 9)
        border = np.concatenate(
            [
                np.stack([edge, np.zeros(9)], 1),
                np.stack([edge, np.full(9, size - 1.0)], 1),
                np.stack([np.zeros(9), edge], 1),
                np.stack([np.full(9, size - 1.0), edge], 1),
            ]
        )
        nodes = np.concatenate([p[:, :2], ring, border])
        mesh = Delaunay(nodes)
        cell = (np.arange(GRID) + 0.5) * size / GRID - 0.5
        gx, gy = np.meshgrid(cell, cell)
        grid = np.stack([gx.ravel(), gy.ravel()], 1)
        simplex = mesh.find_simplex(grid)
        inside = simplex >= 0
        rows = np.flatnonzero(inside)
        transform = mesh.transform[simplex[inside]]
        bary = np.einsum("nij,nj->ni", transform[:, :2], grid[inside] - transform[:, 2])
        bary = np.concatenate([bary, 1 - bary.sum(1, keepdims=True)], 1)
        weights = csr_matrix(
            (bary.ravel(), (np.repeat(rows, 3), mesh.simplices[simplex[inside]].ravel())),
            shape=(GRID * GRID, len(nodes)),
        )
        gap = float(np.linalg.norm(p[LIP_DN_IN, :2] - p[LIP_UP_IN, :2]))
        return _Source(image, p, motion, axes, centre, basis, weights, ring, face_w, gap)

    @staticmethod
    def _basis(q: np.ndarray, face_w: float, face_h: float) -> np.ndarray:
        """(channels, 478, 3): where one unit of each channel moves each landmark (head coords)."""
        n = len(q)
        out = {name: np.zeros((n, 3)) for name in CHANNELS + GAZE}
        mouth_w = float(np.linalg.norm(q[MOUTH_L, :2] - q[MOUTH_R, :2]))
        mouth_x = 0.5 * (q[MOUTH_L, 0] + q[MOUTH_R, 0])
        corner_y = 0.5 * (q[MOUTH_L, 1] + q[MOUTH_R, 1])
        # jaw: everything below the lips drops with the chin, fading across to the jaw line
        below = np.clip((q[:, 1] - corner_y) / (0.12 * face_h), 0, 1)
        across = np.exp(-(np.maximum(np.abs(q[:, 0] - mouth_x) - 0.3 * face_w, 0) ** 2) / (2 * (0.12 * face_w) ** 2))
        jaw = below * across
        jaw[LOWER_LIP] = 1.0 - 0.5 * ((q[LOWER_LIP, 0] - mouth_x) / (0.5 * mouth_w)) ** 2
        jaw[CHIN] = 1.0
        jaw = np.clip(jaw, 0, 1)
        out["jawOpen"][:, 1] = jaw * 0.22 * face_h  # solver: jawOpen = inner-lip gap / face height / 0.22
        out["jawLeft"][:, 0] = jaw * 0.08 * face_w  # solver: chin offset from the nose / face width / 0.08
        out["jawRight"][:, 0] = -jaw * 0.08 * face_w
        for side, sign in (("Right", -1.0), ("Left", 1.0)):
            corner = q[CORNERS[side][0]]
            near = _bump(q, corner[:2], 0.28 * mouth_w)
            out[f"mouthSmile{side}"][:, 1] = -near * 0.04 * face_h / 0.7  # corners up
            out[f"mouthSmile{side}"][:, 0] = sign * near * 0.05 * mouth_w
            out[f"mouthStretch{side}"][:, 0] = sign * near * 0.125 * mouth_w
            out["mouthPucker"][:, 0] += -sign * near * 0.125 * mouth_w  # both corners inward
            upper, lower, outer, inner, iris = EYES[side]
            eye_w = float(np.linalg.norm(q[outer, :2] - q[inner, :2]))
            eye_c = 0.5 * (q[outer] + q[inner])
            gap = float(np.mean(q[lower, 1]) - np.mean(q[upper, 1]))
            lid = _bump(q, eye_c[:2] - [0, 0.35 * eye_w], 0.3 * eye_w)
            lid[upper] = 1.0
            lid[lower] = 0.0
            lid[[outer, inner]] = 0.0
            out[f"eyeBlink{side}"][:, 1] = lid * 0.85 * gap  # lids meet at 1
            out[f"eyeWide{side}"][:, 1] = -lid * 0.3 * gap
            yaw, pitch = (f"gazeYaw{side}", f"gazePitch{side}")
            out[yaw][iris, 0] = eye_w / 2.2  # solver: gaze yaw = 2.2 x iris offset / eye span
            out[pitch][iris, 1] = -eye_w / 2.2
            inner_brow, outer_brow = BROWS[side]
            brow_y = float(np.mean(q[inner_brow + outer_brow, 1]))
            above = q[:, 1] < brow_y + 0.05 * face_h  # brows and forehead, never the eyes
            for name, idx, amount in (  # solver: brows up 0.03 / down 0.025 face heights at 1
                (f"browOuterUp{side}", outer_brow, -0.03),
                (f"browDown{side}", inner_brow, 0.025),
                ("browInnerUp", inner_brow, -0.03),
            ):
                out[name][:, 1] += _bump(q, q[idx, :2].mean(0), 0.12 * face_w) * above * amount * face_h
        return np.stack([out[name] for name in CHANNELS + GAZE])

    # ------------------------------------------------------------------ rendering
    def _choose(self, m: np.ndarray) -> _Source:
        def cost(s: _Source) -> float:
            pose = np.abs(m[spec.HEAD_ROTATION] - s.motion[spec.HEAD_ROTATION]).sum() * 4.0
            jaw = m[IDX["jawOpen"]] - s.motion[IDX["jawOpen"]]
            eyes = s.motion[IDX["eyeBlinkLeft"]] + s.motion[IDX["eyeBlinkRight"]]
            return pose + (abs(jaw) if jaw >= 0 else 2.0 * -jaw) + eyes  # opening a mouth beats closing one

        costs = [cost(s) for s in self.sources]
        best = int(np.argmin(costs))
        if costs[best] < costs[self._current] - SWITCH_MARGIN:
            self._current = best
        return self.sources[self._current]

    def target_points(self, source: _Source, m: np.ndarray) -> np.ndarray:
        """(478, 3) where the target motion puts the source frame's landmarks."""
        delta = np.array(
            [m[IDX[c]] - source.motion[IDX[c]] for c in CHANNELS] + list(m[spec.GAZE] - source.motion[spec.GAZE])
        )
        canon = (source.points - source.centre) @ source.axes
        canon = canon + np.tensordot(delta, source.basis, axes=1)
        turn = camera_axes(*m[spec.HEAD_ROTATION])
        tz_s, tz_t = source.motion[spec.HEAD_TRANSLATION.stop - 1], m[spec.HEAD_TRANSLATION.stop - 1]
        scale = (1.0 - tz_t) / (1.0 - tz_s)
        shift = np.zeros(3)
        shift[:2] = (m[spec.HEAD_TRANSLATION][:2] - source.motion[spec.HEAD_TRANSLATION][:2]) * source.face_w
        return source.centre + shift + scale * canon @ turn.T

    def render(self, motion: np.ndarray) -> np.ndarray:
        motion = check_motion(motion).astype(np.float64)
        return np.stack([self.render_frame(m) for m in motion])

    def render_frame(self, m: np.ndarray) -> np.ndarray:

        source = self._choose(m)
        target = self.target_points(source, m)
        moved = target[:, :2] - source.points[:, :2]  # (478, 2) forward displacement
        if not np.abs(moved).max() > 1e-3:
            return source.image.copy()
        image = self._warp(source, moved, target)
        gap = float(np.linalg.norm(target[LIP_DN_IN, :2] - target[LIP_UP_IN, :2]))
        if gap > source.gap + 1.5:
            image = self._mouth(image, target, source, gap)
        return image

    def _warp(self, source: _Source, moved: np.ndarray, target: np.ndarray) -> np.ndarray:
        import cv2

        ring = 0.5 * self._ring_motion(source, target)  # hair and neck follow the head half-way
        border = np.zeros((36, 2))
        nodes = np.concatenate([moved, ring, border])
        size = self.size[0]
        field = (source.weights @ nodes).reshape(GRID, GRID, 2).astype(np.float32)
        field = cv2.resize(field, (size, size), interpolation=cv2.INTER_LINEAR)
        sample = self._base - field  # backward map: the output pixel q shows the source at q - d(q)
        return cv2.remap(
            source.image, sample[..., 0], sample[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )

    @staticmethod
    def _ring_motion(source: _Source, target: np.ndarray) -> np.ndarray:
        """How the head's rigid motion moves the anchor ring (an affine fit of the face outline)."""
        idx = [FACE_R, FACE_L, FOREHEAD, CHIN, NOSE_TIP]
        a = np.concatenate([source.points[idx, :2], np.ones((len(idx), 1))], 1)
        affine, *_ = np.linalg.lstsq(a, target[idx, :2], rcond=None)
        ring = np.concatenate([source.ring, np.ones((len(source.ring), 1))], 1)
        return ring @ affine - source.ring

    def _mouth(self, image: np.ndarray, target: np.ndarray, source: _Source, gap: float) -> np.ndarray:
        """The inner-mouth region from the most open reference frame, feathered into the frame."""
        import cv2

        donor = self.sources[self.open_source]
        outline = target[INNER_LIPS, :2].astype(np.float32)
        mask = np.zeros(self.size, np.float32)
        cv2.fillPoly(mask, [np.round(outline).astype(np.int32)], 1.0)
        if mask.sum() < 4:
            return image
        mask = cv2.GaussianBlur(mask, (0, 0), 1.2)[..., None]
        if donor.gap > source.gap + 1.0:
            src = donor.points[INNER_LIPS, :2].astype(np.float32)
            affine, _ = cv2.estimateAffine2D(src, outline)
            if affine is not None:
                inside = cv2.warpAffine(
                    donor.image, affine, self.size[::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
                )
                return (mask * inside + (1 - mask) * image).astype(np.uint8)
        dark = np.array([45, 18, 22], np.float32)  # no open-mouthed frame in the clip: a dark cavity
        return (mask * dark + (1 - mask) * image).astype(np.uint8)
