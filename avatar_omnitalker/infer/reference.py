"""A Reference: everything the model needs about one avatar, prepared once, reused by all sessions.

Stored as one `.npz` (no pickles): 24 kHz audio, 61-D motion of exactly matching duration,
the transcript, an appearance frame, and a name. The reference mel and the motion statistics
used for idle motion are derived on load, so they always match the current code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from avatar_omnitalker import spec
from avatar_omnitalker.audio.loudness import active_frames, normalize_loudness
from avatar_omnitalker.audio.resample import resample
from avatar_omnitalker.errors import OmniTalkerError
from avatar_omnitalker.fileio import atomic_path
from avatar_omnitalker.text.tokenizer import Tokenizer

MIN_SECONDS = 1.0
MAX_SECONDS = 10.0
MARGIN_FRAMES = 3  # silence kept around the speech when trimming (120 ms)
FORMAT = "avatar-omnitalker/reference/1"


# (what, columns, low, high): ranges real motion stays in (blendshapes are weights, rotations radians,
# translation in face widths, gaze radians), with some slack for solver overshoot
_MOTION_BOUNDS = (
    ("blendshapes", spec.BLENDSHAPES, -0.1, 1.1),
    ("head rotation", spec.HEAD_ROTATION, -np.pi / 2, np.pi / 2),
    ("head translation", spec.HEAD_TRANSLATION, -3.0, 3.0),
    ("gaze", spec.GAZE, -np.pi / 2, np.pi / 2),
)


class ReferenceDataError(OmniTalkerError, ValueError):
    """The reference cannot be used; the message says what to fix."""


FACE_POINTS = 478  # MediaPipe face mesh with irises
JPEG_QUALITY = 90


@dataclass(frozen=True)
class FaceFrames:
    """A few frames of the reference person, what the photo renderer animates: square crops of one
    fixed window around the face (so the background does not jump between them), their MediaPipe
    landmarks in crop pixels and their solved motion. Stored as JPEG inside the reference .npz."""

    images: np.ndarray  # (K, S, S, 3) uint8 RGB
    landmarks: np.ndarray  # (K, 478, 3) float32: x, y in crop pixels, z in the same scale
    motion: np.ndarray  # (K, 61) float32, the reference clip's motion at those frames

    def __post_init__(self) -> None:
        k = len(self.images)
        if self.images.ndim != 4 or self.images.shape[3] != 3 or self.images.shape[1] != self.images.shape[2] or k < 1:
            raise ReferenceDataError(f"face frames must be (K, S, S, 3) images, got {self.images.shape}")
        if self.landmarks.shape != (k, FACE_POINTS, 3) or not np.isfinite(self.landmarks).all():
            raise ReferenceDataError(
                f"face landmarks must be finite ({k}, {FACE_POINTS}, 3), got {self.landmarks.shape}"
            )
        if self.motion.shape != (k, spec.MOTION_DIM):
            raise ReferenceDataError(f"face-frame motion must be ({k}, {spec.MOTION_DIM}), got {self.motion.shape}")

    def encode(self) -> dict[str, np.ndarray]:
        from io import BytesIO

        from PIL import Image

        blobs = []
        for image in self.images:
            buffer = BytesIO()
            Image.fromarray(image).save(buffer, format="JPEG", quality=JPEG_QUALITY)
            blobs.append(np.frombuffer(buffer.getvalue(), np.uint8))
        return {
            "face_jpeg": np.concatenate(blobs),
            "face_jpeg_sizes": np.array([b.size for b in blobs], np.int64),
            "face_landmarks": self.landmarks.astype(np.float32),
            "face_motion": self.motion.astype(np.float32),
        }

    @classmethod
    def decode(cls, fields: dict[str, np.ndarray]) -> FaceFrames:
        from io import BytesIO

        from PIL import Image

        ends = np.cumsum(fields["face_jpeg_sizes"])
        images = [
            np.asarray(Image.open(BytesIO(fields["face_jpeg"][e - n : e].tobytes())).convert("RGB"))
            for e, n in zip(ends, fields["face_jpeg_sizes"])
        ]
        return cls(
            np.stack(images), fields["face_landmarks"].astype(np.float32), fields["face_motion"].astype(np.float32)
        )


@dataclass(frozen=True)
class Reference:
    audio: np.ndarray  # (frames * 960,) float32, 24 kHz, loudness-normalised
    motion: np.ndarray  # (frames, 61) float32, raw (not normalised)
    transcript: str
    appearance: np.ndarray  # (H, W, 3) uint8 RGB
    name: str = "reference"
    faces: FaceFrames | None = None  # frames of the person (photo renderer); None: not a real person

    def __post_init__(self) -> None:
        if self.motion.ndim != 2 or self.motion.shape[1] != spec.MOTION_DIM:
            raise ReferenceDataError(f"reference motion must be (T, {spec.MOTION_DIM}), got {self.motion.shape}")
        if self.audio.ndim != 1 or self.audio.size != spec.samples_for_frames(self.motion.shape[0]):
            raise ReferenceDataError(
                f"reference audio has {self.audio.size} samples; {self.motion.shape[0]} motion frames need "
                f"{spec.samples_for_frames(self.motion.shape[0])}"
            )
        if self.appearance.ndim != 3 or self.appearance.shape[2] != 3 or self.appearance.dtype != np.uint8:
            raise ReferenceDataError(
                f"appearance must be an (H, W, 3) uint8 image, got {self.appearance.shape} {self.appearance.dtype}"
            )
        if not self.transcript.strip():
            raise ReferenceDataError(
                "the reference has no transcript: the model needs the words spoken in the reference audio"
            )
        self._check_values()

    def _check_values(self) -> None:
        """What prepare() guarantees, checked again for every reference however it was made."""
        seconds = self.frames / spec.FPS
        longest = MAX_SECONDS + 2 * MARGIN_FRAMES / spec.FPS
        if not MIN_SECONDS <= seconds <= longest:
            raise ReferenceDataError(
                f"the reference lasts {seconds:.2f} s; it must be {MIN_SECONDS:.0f}-{MAX_SECONDS:.0f} s of speech "
                "(a longer prompt would be copied into every reply): prepare it again from a shorter clip"
            )
        if not np.isfinite(self.audio).all() or np.abs(self.audio).max() > 1.0:
            raise ReferenceDataError("the reference audio must be finite samples in [-1, 1]")
        if not active_frames(self.audio).any():
            raise ReferenceDataError("the reference audio is silent: the voice to copy must be heard")
        if not np.isfinite(self.motion).all():
            raise ReferenceDataError("the reference motion holds NaN or infinite values")
        for name, part, low, high in _MOTION_BOUNDS:
            values = self.motion[:, part]
            if values.min() < low or values.max() > high:
                raise ReferenceDataError(
                    f"reference motion {name} spans {values.min():.3g}..{values.max():.3g}; it must stay in "
                    f"{low}..{high} (was it made by prepare-reference?)"
                )

    @property
    def frames(self) -> int:
        return self.motion.shape[0]

    @property
    def duration(self) -> float:
        return self.frames / spec.FPS

    @cached_property
    def mel(self) -> np.ndarray:
        """(mel_frames_for_motion(frames), N_MELS) log-mel of the audio."""
        import torch

        from avatar_omnitalker.audio.mel import MelExtractor

        return MelExtractor().for_clip(torch.from_numpy(self.audio)).numpy()

    # ------------------------------------------------------------------ building
    @classmethod
    def prepare(
        cls,
        audio: np.ndarray,
        sample_rate: int,
        motion: np.ndarray,
        transcript: str,
        appearance: np.ndarray,
        name: str = "reference",
        tokenizer: Tokenizer | None = None,
        fps: float = spec.FPS,
        faces: FaceFrames | None = None,
    ) -> Reference:
        """Resample to 24 kHz, normalise loudness, trim silence at both ends (motion trimmed with
        it), and check the 1-10 s length and the transcript against the vocab."""
        if not transcript or not transcript.strip():
            raise ReferenceDataError("a transcript is required: give the exact words spoken in the reference audio")
        unknown = (tokenizer or Tokenizer()).unknown_symbols(transcript)
        if unknown:
            raise ReferenceDataError(
                f"the transcript has symbols the model's vocab lacks: {', '.join(repr(u) for u in unknown)}"
            )
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim == 2:  # (N, channels) -> mono
            audio = audio.mean(axis=1)
        if audio.ndim != 1 or audio.size == 0:
            raise ReferenceDataError(f"reference audio must be a mono waveform, got shape {audio.shape}")
        if not np.isfinite(audio).all():
            raise ReferenceDataError("reference audio holds NaN or infinite samples")
        audio = resample(audio, sample_rate, spec.SAMPLE_RATE)
        motion = np.asarray(motion, dtype=np.float32)
        if motion.ndim != 2 or motion.shape[1] != spec.MOTION_DIM:
            raise ReferenceDataError(f"reference motion must be (T, {spec.MOTION_DIM}), got {motion.shape}")
        if fps != spec.FPS:
            from avatar_omnitalker.motion.resample import resample_fps

            motion = resample_fps(motion, fps, spec.FPS)
        frames = min(motion.shape[0], audio.size // spec.SAMPLES_PER_FRAME)
        if abs(motion.shape[0] - audio.size / spec.SAMPLES_PER_FRAME) > 0.1 * spec.FPS:
            raise ReferenceDataError(
                f"motion lasts {motion.shape[0] / spec.FPS:.2f} s but the audio {audio.size / spec.SAMPLE_RATE:.2f} s"
            )
        audio, motion = audio[: spec.samples_for_frames(frames)], motion[:frames]
        try:
            audio = normalize_loudness(audio)
        except ValueError:
            raise ReferenceDataError("the reference audio is silent") from None
        active = np.flatnonzero(active_frames(audio))
        start = max(0, int(active[0]) - MARGIN_FRAMES)
        end = min(frames, int(active[-1]) + 1 + MARGIN_FRAMES)
        seconds = (end - start) / spec.FPS
        if seconds < MIN_SECONDS:
            raise ReferenceDataError(
                f"the reference speech lasts {seconds:.2f} s; at least {MIN_SECONDS:.0f} s is needed"
            )
        if seconds > MAX_SECONDS:
            raise ReferenceDataError(
                f"the reference speech lasts {seconds:.2f} s; at most {MAX_SECONDS:.0f} s is used. Cut the clip "
                "(at a pause) to 10 s or less and give the transcript of exactly that part"
            )
        audio = audio[spec.samples_for_frames(start) : spec.samples_for_frames(end)]
        return cls(
            audio.copy(),
            motion[start:end].copy(),
            transcript.strip(),
            np.ascontiguousarray(appearance, dtype=np.uint8),
            name,
            faces,
        )

    # ------------------------------------------------------------------ storage
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        if path.suffix != ".npz":
            raise ReferenceDataError(f"references are saved as .npz, got {path.name}")
        with atomic_path(path) as tmp:
            np.savez_compressed(
                tmp,
                format=np.array(FORMAT),
                audio=self.audio,
                motion=self.motion,
                transcript=np.array(self.transcript),
                appearance=self.appearance,
                name=np.array(self.name),
                **(self.faces.encode() if self.faces is not None else {}),
            )
        return path

    @classmethod
    def load(cls, path: str | Path) -> Reference:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"reference not found: {path}")
        try:
            with np.load(path, allow_pickle=False) as data:
                fields = {k: data[k] for k in data.files}
        except Exception as err:
            raise ReferenceDataError(f"{path}: not a reference .npz ({err})") from None
        if str(fields.get("format", "")) != FORMAT:
            raise ReferenceDataError(
                f"{path}: not an avatar-omnitalker reference (format {str(fields.get('format'))!r})"
            )
        missing = [k for k in ("audio", "motion", "transcript", "appearance", "name") if k not in fields]
        if missing:
            raise ReferenceDataError(f"{path}: the reference lacks {missing}; prepare it again with prepare-reference")
        return cls(
            fields["audio"].astype(np.float32),
            fields["motion"].astype(np.float32),
            str(fields["transcript"]),
            fields["appearance"].astype(np.uint8),
            str(fields["name"]),
            FaceFrames.decode(fields) if "face_jpeg" in fields else None,
        )
