"""Test videos of a real face (skimage's astronaut portrait) turned by known head rotations."""

from __future__ import annotations

import numpy as np

from avatar_omnitalker.motion.pose import rotation_matrix


def turn(
    image: np.ndarray, centre: tuple[float, float], pitch: float, yaw: float, roll: float, focal: float = 1500.0
) -> np.ndarray:
    """The image as if its (planar) face turned about `centre`: x right, y down, w toward the
    camera, R = Rz(roll) Ry(yaw) Rx(pitch), seen through a pinhole camera (inverse warp)."""
    h, w = image.shape[:2]
    cx, cy = centre
    r = rotation_matrix(pitch, yaw, roll)
    s = np.diag([1.0, 1.0, -1.0])  # w toward the camera -> camera z away
    rc = s @ r @ s
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    # a ray through each output pixel meets the rotated plane; map back to the source plane
    d = np.stack(
        [(xs - cx) / focal, (ys - cy) / focal, np.ones_like(xs)], -1
    )  # camera at (0, 0, -1) in units of focal distance
    n = rc[:, 2]  # plane normal after rotation
    cam = np.array([0.0, 0.0, -1.0])
    tparam = -(cam @ n) / (d @ n)
    hit = cam + d * tparam[..., None]
    src = hit @ rc  # back into the plane's own coordinates (rc orthonormal)
    u = src[..., 0] * focal + cx
    v = src[..., 1] * focal + cy
    u0, v0 = np.clip(np.floor(u).astype(int), 0, w - 2), np.clip(np.floor(v).astype(int), 0, h - 2)
    fu, fv = np.clip(u - u0, 0, 1)[..., None], np.clip(v - v0, 0, 1)[..., None]
    img = image.astype(np.float64)
    out = (
        img[v0, u0] * (1 - fu) * (1 - fv)
        + img[v0, u0 + 1] * fu * (1 - fv)
        + img[v0 + 1, u0] * (1 - fu) * fv
        + img[v0 + 1, u0 + 1] * fu * fv
    )
    return np.clip(out, 0, 255).astype(np.uint8)


def astronaut_face() -> tuple[np.ndarray, tuple[float, float]]:
    from skimage import data

    img = data.astronaut()
    return img, (240.0, 130.0)  # the face centre in the 512x512 portrait


def open_mouth(image: np.ndarray, corners: tuple[np.ndarray, np.ndarray], lip_line: float, amount: float) -> np.ndarray:
    """Drop the lower lip and chin by `amount` x mouth width, showing a dark mouth between."""
    out = image.copy()
    x0, x1 = corners[0][0], corners[1][0]
    x0, x1 = int(min(x0, x1)), int(max(x0, x1))
    width = x1 - x0
    drop = int(round(amount * width))
    if drop <= 0:
        return out
    y = int(round(lip_line))
    band = slice(max(0, x0 - width // 2), min(image.shape[1], x1 + width // 2))
    bottom = min(image.shape[0], y + 2 * width)
    out[y + drop : bottom, band] = image[y : bottom - drop, band]
    yy, xx = np.mgrid[y : y + drop, x0:x1]
    inside = ((xx - (x0 + x1) / 2) / (width / 2)) ** 2 + ((yy - (y + drop / 2)) / (drop / 2 + 1e-6)) ** 2 <= 1.0
    region = out[y : y + drop, x0:x1]
    region[inside] = (60, 20, 25)
    region[~inside] = image[y - 1, x0:x1][None].repeat(drop, 0)[~inside]  # lips' edge colour around the gap
    return out


def close_eye(
    image: np.ndarray, corners: tuple[np.ndarray, np.ndarray], lid_top: float, lid_bottom: float, amount: float
) -> np.ndarray:
    """Cover the eye with the skin just above it, from the top, by `amount` of its height."""
    out = image.copy()
    x0, x1 = corners[0][0], corners[1][0]
    x0, x1 = int(min(x0, x1)) - 2, int(max(x0, x1)) + 2
    top, bottom = int(lid_top) - 3, int(lid_bottom) + 2
    cover = top + int(round(amount * (bottom - top)))
    skin = image[top - 6 : top - 2, x0:x1].mean(axis=0)
    out[top:cover, x0:x1] = skin[None].astype(np.uint8)
    if cover > top:
        out[cover - 1 : cover + 1, x0:x1] = (70, 45, 40)  # the lash line
    return out


def talking_video(path, face, text="Bob made a maple pie. Then he ate it all.", lead_s=0.5, seed=0, sway_deg=(0, 0, 6)):
    """The portrait speaking espeak speech: mouth opening from the clip's jaw, blinks, and head sway
    of (pitch, yaw, roll) amplitudes in degrees. Returns (clip, jaw, blink, rotation (n, 3))."""
    from avatar_omnitalker import spec
    from avatar_omnitalker.data.synth import synthesize_clip
    from avatar_omnitalker.render.video import write_mp4

    img, centre, p = face
    clip = synthesize_clip(text, seed=seed)
    lead = int(lead_s * spec.FPS)
    idx = spec.MOTION_INDEX
    jaw = np.concatenate([np.zeros(lead), clip.motion[:, idx["jawOpen"]], np.zeros(lead)])
    blink = np.concatenate([np.zeros(lead), clip.motion[:, idx["eyeBlinkLeft"]], np.zeros(lead)])
    n = len(jaw)
    phase = np.linspace(0, 4, n)
    rotation = np.stack(
        [
            np.radians(sway_deg[0]) * np.sin(0.7 * phase + 1),
            np.radians(sway_deg[1]) * np.sin(0.5 * phase),
            np.radians(sway_deg[2]) * np.sin(phase),
        ],
        1,
    )
    frames = []
    for j, b, r in zip(jaw, blink, rotation):
        f = open_mouth(img, (p[61], p[291]), 0.5 * (p[13, 1] + p[14, 1]), 0.6 * j)
        f = close_eye(f, (p[33], p[133]), p[159, 1], p[145, 1], b)
        f = close_eye(f, (p[263], p[362]), p[386, 1], p[374, 1], b)
        frames.append(turn(f, centre, *r))
    audio = np.concatenate(
        [np.zeros(spec.samples_for_frames(lead)), clip.audio, np.zeros(spec.samples_for_frames(lead))]
    )
    write_mp4(path, iter(frames), audio.astype(np.float32), n)
    return clip, jaw, blink, rotation
