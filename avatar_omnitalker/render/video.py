"""MP4 output (H.264 + AAC through PyAV) and the preview PNG (frame strip + motion curves)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from avatar_omnitalker import spec
from avatar_omnitalker.fileio import atomic_path


class Mp4Writer:
    """H.264 + AAC written as frames come, each RGB frame with its 960 samples of 24 kHz audio, so
    a long session never sits in memory. Writes into the path it is given (a temp file from
    `fileio.Outputs` or `atomic_path`); an error or an empty session is raised after closing."""

    def __init__(self, path: str | Path, fps: int = spec.FPS) -> None:
        self.path = Path(path)
        self.fps = fps
        self.frames = 0

    def __enter__(self) -> Mp4Writer:
        import av

        self._out = av.open(str(self.path), "w", format="mp4")
        self._video = None
        self._audio = self._out.add_stream("aac", rate=spec.SAMPLE_RATE, layout="mono")
        self._samples = 0
        return self

    def add(self, frame_rgb: np.ndarray, audio: np.ndarray) -> None:
        """One video frame (H, W, 3) uint8 and the audio it covers (SAMPLE_RATE / fps floats)."""
        import av

        if audio.ndim != 1 or audio.size != spec.SAMPLE_RATE // self.fps:
            raise ValueError(f"a frame needs {spec.SAMPLE_RATE // self.fps} audio samples, got {audio.size}")
        if self._video is None:
            self._video = self._out.add_stream("libx264", rate=self.fps, options={"crf": "20", "preset": "veryfast"})
            self._video.pix_fmt = "yuv420p"
            self._video.height, self._video.width = frame_rgb.shape[:2]
        for packet in self._video.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame_rgb), format="rgb24")):
            self._out.mux(packet)
        pcm = np.clip(audio, -1, 1).astype(np.float32)[None]
        aframe = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm), format="fltp", layout="mono")
        aframe.sample_rate = spec.SAMPLE_RATE
        aframe.pts = self._samples
        self._samples += audio.size
        for packet in self._audio.encode(aframe):
            self._out.mux(packet)
        self.frames += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None and self.frames:
            for stream in (self._video, self._audio):
                for packet in stream.encode(None):
                    self._out.mux(packet)
        self._out.close()
        if exc_type is None and not self.frames:
            raise ValueError(f"nothing to write to {self.path}: no frames")


def write_mp4(
    path: str | Path, frames: Iterable[np.ndarray], audio: np.ndarray, num_frames: int, fps: int = spec.FPS
) -> Path:
    """Write RGB frames + 24 kHz mono audio. The audio must hold exactly num_frames * 960 samples;
    the file appears only when complete (temp file + rename)."""
    path = Path(path)
    per_frame = spec.SAMPLE_RATE // fps
    if audio.ndim != 1 or audio.size != per_frame * num_frames:
        raise ValueError(f"audio has {audio.size} samples; {num_frames} frames need {per_frame * num_frames}")
    with atomic_path(path) as tmp, Mp4Writer(tmp, fps) as writer:
        for frame in frames:
            if writer.frames >= num_frames:
                raise ValueError(f"got more than {num_frames} video frames")
            writer.add(frame, audio[writer.frames * per_frame : (writer.frames + 1) * per_frame])
        if writer.frames != num_frames:
            raise ValueError(f"got {writer.frames} video frames, expected {num_frames}")
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
