"""`omnitalker prepare-reference`: a short video of a person -> the pipeline's Reference (.npz)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from loguru import logger

from avatar_omnitalker import spec
from avatar_omnitalker.infer.reference import FaceFrames, Reference
from avatar_omnitalker.video.extract import Extraction, extract_motion
from avatar_omnitalker.video.media import crop_face, crop_window, read_audio, read_frame, require_video
from avatar_omnitalker.video.solver import CHIN, FACE_L, FACE_R, FOREHEAD

FACE_FRAMES = 8  # frames kept for the photo renderer: about 45 KB each as JPEG at 512 px
FACE_SIZE = 512  # crop size in pixels
CROP_FACE_WIDTHS = 2.6  # crop side in face widths: the face, hair and some shoulders


def prepare_reference(
    video: str | Path, transcript: str, out: str | Path, task_file: str | Path | None = None, name: str | None = None
) -> Reference:
    video = Path(video)
    require_video(video)
    audio = read_audio(video)
    ex = extract_motion(video, task_file)
    frames = min(len(ex.motion), audio.size // spec.SAMPLES_PER_FRAME)
    if frames < 1:
        raise ValueError(f"{video}: too short")
    idx = ex.appearance_index()
    centre, width = ex.face_box(idx)
    appearance = crop_face(read_frame(video, idx), centre, width)
    ref = Reference.prepare(
        audio[: spec.samples_for_frames(frames)],
        spec.SAMPLE_RATE,
        ex.motion[:frames],
        transcript,
        appearance,
        name=name or video.stem,
        faces=face_frames(video, ex),
    )
    logger.info(
        "{}: {:.2f} s reference, appearance from frame {} (confidence {:.2f})",
        video.name,
        ref.duration,
        idx,
        float(np.mean(ex.confidence)),
    )
    ref.save(out)
    return ref


def pick_face_frames(ex: Extraction, count: int = FACE_FRAMES) -> list[int]:
    """The most neutral frame, the most open-mouthed one, then the frames farthest apart in head
    pose and jaw opening (so the renderer finds a source near any pose the clip covers)."""
    blink = ex.motion[:, [spec.MOTION_INDEX["eyeBlinkLeft"], spec.MOTION_INDEX["eyeBlinkRight"]]].max(1)
    tracked = (ex.confidence > 0.9) & np.isfinite(ex.landmarks.points).all(axis=(1, 2))[: len(ex.motion)]
    good = np.flatnonzero(tracked & (blink < 0.3))  # open eyes: the renderer closes lids, never opens them
    if good.size == 0:
        good = np.flatnonzero(tracked) if tracked.any() else np.arange(len(ex.motion))
    jaw = ex.motion[:, spec.MOTION_INDEX["jawOpen"]]
    picks = [ex.appearance_index()]
    widest = int(good[np.argmax(jaw[good])])
    if jaw[widest] > jaw[picks[0]] + 0.1:
        picks.append(widest)
    features = np.concatenate([ex.motion[:, spec.HEAD_ROTATION] * 4.0, jaw[:, None]], axis=1)  # 1 rad ~ 4 x jaw
    while len(picks) < min(count, good.size):
        distance = np.min(np.linalg.norm(features[good][:, None] - features[picks][None], axis=2), axis=1)
        if distance.max() < 0.02:
            break  # nothing new left: a still clip keeps few frames
        picks.append(int(good[np.argmax(distance)]))
    return picks


def face_frames(video: Path, ex: Extraction, count: int = FACE_FRAMES, size: int = FACE_SIZE) -> FaceFrames:
    """Crops of one fixed window around the face (centred on the clip's median face position,
    CROP_FACE_WIDTHS wide) at the picked frames, with their landmarks in crop pixels."""
    points = ex.landmarks.points
    finite = np.isfinite(points).all(axis=(1, 2))
    centre = np.median(points[finite][:, [FACE_R, FACE_L, FOREHEAD, CHIN], :2].mean(1), axis=0)
    width = float(np.median(np.linalg.norm(points[finite][:, FACE_R, :2] - points[finite][:, FACE_L, :2], axis=1)))
    side = CROP_FACE_WIDTHS * width
    x0, y0 = centre - side / 2
    picks = pick_face_frames(ex, count)
    images = np.stack([crop_window(read_frame(video, i), x0, y0, side, size) for i in picks])
    scale = size / side
    landmarks = points[picks].copy()
    landmarks[..., 0] = (landmarks[..., 0] - x0) * scale - 0.5 + 0.5 * scale
    landmarks[..., 1] = (landmarks[..., 1] - y0) * scale - 0.5 + 0.5 * scale
    landmarks[..., 2] *= scale
    logger.info("{}: kept {} face frames for the photo renderer ({}x{} px)", video.name, len(picks), size, size)
    return FaceFrames(images, landmarks.astype(np.float32), ex.motion[picks].astype(np.float32))
