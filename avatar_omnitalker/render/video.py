"""MP4 output (H.264 + AAC through PyAV) and the preview PNG (frame strip + motion curves)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from avatar_omnitalker import spec
from avatar_omnitalker.fileio import atomic_path


def write_mp4(path: str | Path, frames: Iterable[np.ndarray], audio: np.ndarray, num_frames: int, fps: int = spec.FPS) -> Path:
    """Write RGB frames + 24 kHz mono audio. The audio must hold exactly num_frames * 960 samples;
    the file appears only when complete (temp file + rename)."""
    import av

    path = Path(path)
    if audio.ndim != 1 or audio.size != spec.samples_for_frames(num_frames):
        raise ValueError(f"audio has {audio.size} samples; {num_frames} frames need {spec.samples_for_frames(num_frames)}")
    with atomic_path(path) as tmp, av.open(tmp, "w") as out:
        vstream = out.add_stream("libx264", rate=fps, options={"crf": "20", "preset": "veryfast"})
        vstream.pix_fmt = "yuv420p"
        astream = out.add_stream("aac", rate=spec.SAMPLE_RATE, layout="mono")
        written = 0
        for frame in frames:
            if written == 0:
                vstream.height, vstream.width = frame.shape[:2]
            for packet in vstream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                out.mux(packet)
            written += 1
        if written != num_frames:
            raise ValueError(f"got {written} video frames, expected {num_frames}")
        pcm = np.clip(audio, -1, 1).astype(np.float32)[None]
        block = 1024
        for start in range(0, pcm.shape[1], block):
            aframe = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm[:, start:start + block]), format="fltp", layout="mono")
            aframe.sample_rate = spec.SAMPLE_RATE
            aframe.pts = start
            for packet in astream.encode(aframe):
                out.mux(packet)
        for stream in (vstream, astream):
            for packet in stream.encode(None):
                out.mux(packet)
    return path


def read_mp4(path: str | Path) -> tuple[int, np.ndarray, float]:
    """(video frame count, decoded mono audio at 24 kHz, video fps) of an MP4."""
    import av

    with av.open(str(path)) as f:
        vs = f.streams.video[0]
        fps = float(vs.average_rate)
        count = sum(1 for _ in f.decode(video=0))
    with av.open(str(path)) as f:
        chunks = [fr.to_ndarray().reshape(-1) for fr in f.decode(audio=0)]
    return count, np.concatenate(chunks) if chunks else np.zeros(0, np.float32), fps


def write_preview(path: str | Path, frames: list[np.ndarray], motion: np.ndarray, title: str = "") -> Path:
    """A PNG: a strip of frames over curves of jaw, blink, brow, smile, head pose and gaze."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(frames)
    fig = plt.figure(figsize=(2.2 * max(n, 4), 6.5))
    grid = fig.add_gridspec(3, max(n, 1), height_ratios=[1.3, 1, 1])
    for i, frame in enumerate(frames):
        ax = fig.add_subplot(grid[0, i])
        ax.imshow(frame)
        ax.axis("off")
    t = np.arange(motion.shape[0]) / spec.FPS
    ax = fig.add_subplot(grid[1, :])
    for name in ("jawOpen", "mouthClose", "mouthPucker", "eyeBlinkLeft", "browInnerUp", "mouthSmileLeft"):
        ax.plot(t, motion[:, spec.MOTION_INDEX[name]], label=name)
    ax.set_ylabel("blendshape")
    ax.legend(loc="upper right", ncol=6, fontsize=7)
    ax = fig.add_subplot(grid[2, :])
    for i, name in enumerate(spec.HEAD_ROTATION_NAMES):
        ax.plot(t, np.degrees(motion[:, spec.HEAD_ROTATION.start + i]), label=name)
    ax.plot(t, np.degrees(motion[:, spec.GAZE.start]), label="gazeYawLeft", linestyle="--")
    ax.set_ylabel("degrees")
    ax.set_xlabel("seconds")
    ax.legend(loc="upper right", ncol=4, fontsize=7)
    if title:
        fig.suptitle(title[:120])
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
