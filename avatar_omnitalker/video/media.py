"""Reading talking-head videos: the audio track at 24 kHz mono, and single frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from avatar_omnitalker import spec
from avatar_omnitalker.errors import OmniTalkerError


class MediaError(OmniTalkerError, ValueError):
    pass


def require_video(path: str | Path) -> None:
    """A readable file with a video stream; checked before face tracking, whose own failure on
    an audio-only file says nothing a user can act on."""
    import av

    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: no such file")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaError(f"{path}: no video track (audio only?): a reference needs the person's face on screen")
    except av.error.FFmpegError as err:
        raise MediaError(f"{path}: cannot be decoded ({err})") from None


def read_audio(path: str | Path) -> np.ndarray:
    """The first audio stream, downmixed and resampled to 24 kHz float32."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise MediaError(f"{path}: no audio track")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=spec.SAMPLE_RATE)
            chunks = []
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except av.error.FFmpegError as err:
        raise MediaError(f"{path}: cannot be decoded ({err})") from None
    if not chunks:
        raise MediaError(f"{path}: the audio track is empty")
    return np.concatenate(chunks).astype(np.float32)


def read_frame(path: str | Path, index: int, fps: float = spec.FPS) -> np.ndarray:
    """The RGB frame shown at the centre of output frame `index` (at `fps`)."""
    import av

    target = (index + 0.5) / fps
    best = None
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            t = float(frame.pts * stream.time_base)
            if t <= target or best is None:
                best = frame.to_ndarray(format="rgb24")
            if t > target:
                break
    if best is None:
        raise MediaError(f"{path}: no video frames")
    return best


def crop_face(image: np.ndarray, centre: tuple[float, float], face_width: float, size: int = 256) -> np.ndarray:
    """A square crop 2.2 face widths wide around the face, resized to size x size (edges padded)."""
    half = 1.1 * face_width
    ys = np.clip(np.round(np.linspace(centre[1] - half, centre[1] + half, size)).astype(int), 0, image.shape[0] - 1)
    xs = np.clip(np.round(np.linspace(centre[0] - half, centre[0] + half, size)).astype(int), 0, image.shape[1] - 1)
    return image[ys][:, xs].copy()


def crop_window(image: np.ndarray, x0: float, y0: float, side: float, size: int) -> np.ndarray:
    """The square [x0, x0 + side) x [y0, y0 + side) of the image resampled to size x size
    (bilinear; outside the image the edge pixels repeat)."""
    import cv2

    scale = side / size
    grid = (np.arange(size, dtype=np.float32) + 0.5) * scale - 0.5
    map_x = np.broadcast_to(grid[None, :] + x0, (size, size)).astype(np.float32)
    map_y = np.broadcast_to(grid[:, None] + y0, (size, size)).astype(np.float32)
    return cv2.remap(
        image, map_x, map_y, cv2.INTER_AREA if scale > 1 else cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
