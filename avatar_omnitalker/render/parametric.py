"""A weight-free face renderer: every part of the 61-D motion moves something visible.

Features sit on a head-shaped surface in head coordinates (unit = half the face width); head
rotation turns that surface in 3-D and projects it, so yaw foreshortens the eyes and moves the
nose, pitch slides the features, roll tilts everything. Shapes are anti-aliased ellipses drawn
only inside their bounding boxes, which keeps 512x512 well above 25 frames/s on one core.
Colours come from the reference's appearance frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avatar_omnitalker import spec
from avatar_omnitalker.motion.pose import rotation_matrix
from avatar_omnitalker.render.base import Renderer, check_motion

IDX = spec.MOTION_INDEX
MAX_ROTATION = 0.6  # rad
MAX_TRANSLATION = 0.25  # face widths
MAX_GAZE = 0.5  # rad
Color = np.ndarray  # (3,) float32, 0-255


@dataclass(frozen=True)
class Palette:
    background: Color
    skin: Color
    hair: Color
    lips: Color
    iris: Color
    shirt: Color

    @classmethod
    def default(cls) -> Palette:
        return cls.from_colors(background=(64, 86, 110), skin=(224, 178, 148), hair=(70, 48, 36))

    @classmethod
    def from_colors(cls, background, skin, hair) -> Palette:
        bg, sk, hr = (np.asarray(c, dtype=np.float32) for c in (background, skin, hair))
        lips = np.clip(sk * np.array([0.85, 0.5, 0.52]) + np.array([25, 0, 0]), 0, 255).astype(np.float32)
        iris = np.clip(hr * 0.8, 0, 255).astype(np.float32)
        shirt = np.clip(bg * 0.55 + 30, 0, 255).astype(np.float32)
        return cls(bg, sk, hr, lips, iris, shirt)

    @classmethod
    def from_image(cls, image: np.ndarray) -> Palette:
        """Background from the corners, skin from the face centre, hair from above the forehead."""
        img = np.asarray(image)
        if img.ndim != 3 or img.shape[2] != 3 or img.shape[0] < 16 or img.shape[1] < 16:
            raise ValueError(f"appearance must be an (H, W, 3) image of at least 16x16, got {img.shape}")
        h, w = img.shape[:2]
        patch = lambda y0, y1, x0, x1: np.median(
            img[int(y0 * h) : int(y1 * h), int(x0 * w) : int(x1 * w)].reshape(-1, 3), axis=0
        )
        corners = np.stack(
            [patch(0, 0.08, 0, 0.08), patch(0, 0.08, 0.92, 1), patch(0.92, 1, 0, 0.08), patch(0.92, 1, 0.92, 1)]
        )
        return cls.from_colors(np.median(corners, axis=0), patch(0.45, 0.62, 0.4, 0.6), patch(0.08, 0.18, 0.38, 0.62))


class Canvas:
    """An RGB float image with anti-aliased ellipse painting."""

    def __init__(self, height: int, width: int, color: Color) -> None:
        self.img = np.empty((height, width, 3), dtype=np.float32)
        self.img[:] = color

    def ellipse(
        self,
        centre: np.ndarray,
        ax: np.ndarray,
        ay: np.ndarray,
        color: Color,
        alpha: float = 1.0,
        clip: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """Fill the ellipse {centre + a*ax + b*ay : a^2 + b^2 <= 1}; `clip` keeps only the part
        inside another ellipse (an iris inside its eye)."""
        h, w = self.img.shape[:2]
        ext = np.abs(ax) + np.abs(ay)
        x0, x1 = int(max(0, np.floor(centre[0] - ext[0] - 1))), int(min(w, np.ceil(centre[0] + ext[0] + 2)))
        y0, y1 = int(max(0, np.floor(centre[1] - ext[1] - 1))), int(min(h, np.ceil(centre[1] + ext[1] + 2)))
        if x1 <= x0 or y1 <= y0 or alpha <= 0:
            return
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        cover = _coverage(xs, ys, centre, ax, ay)
        if clip is not None:
            cover *= _coverage(xs, ys, *clip)
        cover *= alpha
        region = self.img[y0:y1, x0:x1]
        region += (np.asarray(color, np.float32) - region) * cover[..., None]

    def to_uint8(self) -> np.ndarray:
        return np.clip(self.img + 0.5, 0, 255).astype(np.uint8)


def _coverage(xs: np.ndarray, ys: np.ndarray, centre: np.ndarray, ax: np.ndarray, ay: np.ndarray) -> np.ndarray:
    det = ax[0] * ay[1] - ax[1] * ay[0]
    if abs(det) < 1e-6:
        return np.zeros_like(xs)
    dx, dy = xs - centre[0], ys - centre[1]
    a = (dx * ay[1] - dy * ay[0]) / det
    b = (ax[0] * dy - ax[1] * dx) / det
    r = np.sqrt(a * a + b * b)
    scale = min(np.hypot(*ax), np.hypot(*ay))  # pixels per unit radius along the short axis
    return np.clip((1.0 - r) * scale + 0.5, 0.0, 1.0)


class ParametricRenderer(Renderer):
    def __init__(self, size: int = 512, appearance: np.ndarray | None = None) -> None:
        if size < 64:
            raise ValueError(f"render size must be at least 64 pixels, got {size}")
        self.size = (size, size)
        self.palette = Palette.from_image(appearance) if appearance is not None else Palette.default()

    def render(self, motion: np.ndarray) -> np.ndarray:
        motion = check_motion(motion)
        return (
            np.stack([self.render_frame(m) for m in motion]) if len(motion) else np.zeros((0, *self.size, 3), np.uint8)
        )

    def render_frame(self, m: np.ndarray) -> np.ndarray:
        size = self.size[0]
        p = self.palette
        cv = Canvas(size, size, p.background)
        g = lambda name: float(m[IDX[name]])
        pair = lambda name: 0.5 * (g(name + "Left") + g(name + "Right"))
        # poses beyond what a seated speaker does are clamped, so the face always stays in frame
        pitch, yaw, roll = (float(v) for v in np.clip(m[spec.HEAD_ROTATION], -MAX_ROTATION, MAX_ROTATION))
        tx, ty, tz = (float(v) for v in np.clip(m[spec.HEAD_TRANSLATION], -MAX_TRANSLATION, MAX_TRANSLATION))
        m = m.copy()
        m[spec.BLENDSHAPES] = np.clip(m[spec.BLENDSHAPES], 0.0, 1.0)
        m[spec.GAZE] = np.clip(m[spec.GAZE], -MAX_GAZE, MAX_GAZE)
        unit = size * 0.27 * (1.0 - 0.8 * tz)  # pixels per head unit
        centre = np.array([size * 0.5 + tx * 2 * unit, size * 0.5 + ty * 2 * unit])
        rot = rotation_matrix(pitch, yaw, roll)

        def project(u: float, v: float, depth: float | None = None) -> np.ndarray:
            w = depth if depth is not None else 0.95 * np.sqrt(max(0.0, 1.0 - u * u - (v / 1.35) ** 2))
            x, y, _ = rot @ np.array([u, v, w])
            return centre + unit * np.array([x, y])

        def shape(
            u: float, v: float, rx: float, ry: float, color: Color, alpha: float = 1.0, tilt: float = 0.0, clip=None
        ):
            c = project(u, v)
            ca, sa = np.cos(tilt), np.sin(tilt)
            ax = project(u + rx * ca, v + rx * sa) - c
            ay = project(u - ry * sa, v + ry * ca) - c
            cv.ellipse(c, ax, ay, color, alpha, clip)
            return c, ax, ay

        def flat(cx: float, cy: float, rx: float, ry: float, color: Color) -> None:  # in the image plane
            cr, sr = np.cos(roll), np.sin(roll)
            cv.ellipse(
                centre + unit * np.array([cx * cr - cy * sr, cx * sr + cy * cr]),
                unit * rx * np.array([cr, sr]),
                unit * ry * np.array([-sr, cr]),
                color,
            )

        # shoulders (do not follow head rotation), hair behind, head, jaw/chin, cheeks
        cv.ellipse(
            np.array([size * 0.5 + tx * unit, size * 1.08]),
            np.array([size * 0.42, 0.0]),
            np.array([0.0, size * 0.2]),
            p.shirt,
        )
        flat(0.0, -0.35, 1.12, 1.05, p.hair)
        jaw = g("jawOpen")
        jaw_x = 0.12 * (g("jawRight") - g("jawLeft"))
        puff = g("cheekPuff")
        flat(0.0, 0.0, 1.0, 1.22, p.skin)
        flat(jaw_x, 0.55 + 0.16 * jaw + 0.04 * g("jawForward"), 0.72 - 0.08 * jaw, 0.62, p.skin)
        for side in (-1, 1):
            flat(side * (0.62 + 0.1 * puff), 0.38, 0.36 + 0.12 * puff, 0.42, p.skin)
        flat(0.0, -0.78, 0.98, 0.42, p.hair)  # fringe

        # cheeks: squint raises a blush
        for side, name in ((-1, "cheekSquintRight"), (1, "cheekSquintLeft")):
            shape(side * 0.52, 0.22, 0.17, 0.1, np.array([235, 120, 120], np.float32), alpha=0.7 * g(name))

        # eyes: white (blink/wide/squint), iris by gaze, then the brows
        white = np.array([240, 238, 232], np.float32)
        gaze = m[spec.GAZE]
        for side, sfx, gyaw, gpitch in ((-1, "Right", gaze[2], gaze[3]), (1, "Left", gaze[0], gaze[1])):
            openness = (
                (1.0 - g("eyeBlink" + sfx)) * (1.0 + 0.6 * g("eyeWide" + sfx)) * (1.0 - 0.45 * g("eyeSquint" + sfx))
            )
            eu, ev = side * 0.38, -0.12
            ry = 0.1 * max(openness, 0.0)
            shape(eu, ev, 0.2, 0.13, p.skin * 0.88)  # socket shadow
            if ry > 0.004:
                eye = shape(eu, ev, 0.17, ry, white)
                iu = eu + 0.3 * float(gyaw)
                iv = ev - 0.3 * float(gpitch)
                shape(iu, iv, 0.075, 0.075, p.iris, clip=eye)
                shape(iu, iv, 0.035, 0.035, np.array([15, 12, 12], np.float32), clip=eye)
            shape(eu, ev - ry - 0.005, 0.18, 0.018, p.hair * 0.6)  # upper lid line
            inner, outer = g("browInnerUp"), g("browOuterUp" + sfx)
            down = g("browDown" + sfx)
            lift = 0.13 * (0.5 * inner + 0.5 * outer) - 0.07 * down
            tilt = side * (0.35 * (outer - inner) + 0.3 * down)
            shape(side * 0.4, -0.36 - lift, 0.22, 0.045, p.hair * 0.75, tilt=tilt)

        # nose (sneer widens and lifts it)
        sneer = pair("noseSneer")
        shape(0.0, 0.16 - 0.03 * sneer, 0.1 * (1 + 0.5 * sneer), 0.07, p.skin * 0.8)
        for side in (-1, 1):
            shape(side * 0.06 * (1 + 0.6 * sneer), 0.19 - 0.03 * sneer, 0.025, 0.02, p.skin * 0.5)

        # mouth: width from smile/stretch vs pucker/funnel, opening from jaw minus closure
        smile, stretch, frown = pair("mouthSmile"), pair("mouthStretch"), pair("mouthFrown")
        pucker, funnel, press = g("mouthPucker"), g("mouthFunnel"), pair("mouthPress")
        width = 0.34 * (1 + 0.4 * smile + 0.35 * stretch - 0.5 * pucker - 0.3 * funnel + 0.1 * pair("mouthDimple"))
        mu = jaw_x + 0.12 * (g("mouthLeft") - g("mouthRight"))
        mv = 0.52 + 0.13 * jaw - 0.05 * (smile - frown)
        opening = max(
            0.0, 0.36 * jaw + 0.1 * pair("mouthLowerDown") + 0.08 * funnel - 0.25 * g("mouthClose") - 0.08 * press
        )
        lip = 0.055 * (1 - 0.6 * 0.5 * (g("mouthRollLower") + g("mouthRollUpper"))) * (1 + 0.5 * pucker)
        upper_up = 0.05 * pair("mouthUpperUp") + 0.03 * g("mouthShrugUpper")
        tilt = 0.25 * (g("mouthLeft") - g("mouthRight"))
        shape(
            mu,
            mv - upper_up / 2 + 0.01 * g("mouthShrugLower"),
            width,
            opening / 2 + lip + upper_up / 2,
            p.lips,
            tilt=tilt,
        )
        if opening > 0.01:
            mouth = shape(mu, mv, width * 0.82, opening / 2, np.array([70, 24, 30], np.float32), tilt=tilt)
            shape(
                mu, mv - opening / 2, width * 0.6, 0.035, np.array([240, 240, 232], np.float32), clip=mouth, tilt=tilt
            )
        else:
            shape(mu, mv, width * 0.9, 0.006, p.lips * 0.6, tilt=tilt)
        return cv.to_uint8()
