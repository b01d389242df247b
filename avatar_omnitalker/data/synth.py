"""One synthetic talking-head clip: espeak speech + motion from its phoneme timings and a style."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avatar_omnitalker import spec
from avatar_omnitalker.audio.resample import resample
from avatar_omnitalker.data.style import EMOTIONS, Emotion, SpeakerStyle, face_motion
from avatar_omnitalker.text.espeak import Espeak, Phoneme, VoiceSettings


@dataclass(frozen=True)
class Clip:
    audio: np.ndarray  # (frames * SAMPLES_PER_FRAME,) float32, 24 kHz
    motion: np.ndarray  # (frames, 61) float32
    text: str
    phonemes: tuple[Phoneme, ...]

    @property
    def frames(self) -> int:
        return self.motion.shape[0]


def synthesize_clip(
    text: str,
    voice: VoiceSettings = VoiceSettings(),
    style: SpeakerStyle = SpeakerStyle(),
    emotion: Emotion = EMOTIONS["neutral"],
    seed: int = 0,
    espeak: Espeak | None = None,
) -> Clip:
    """Audio and motion of exactly matching duration (a whole number of motion frames)."""
    utt = (espeak or Espeak()).synthesize(text, emotion.voice(voice))
    audio = resample(utt.audio, utt.sample_rate, spec.SAMPLE_RATE)
    frames = max(1, -(-audio.size // spec.SAMPLES_PER_FRAME))
    audio = np.pad(audio, (0, spec.samples_for_frames(frames) - audio.size))
    motion = face_motion(utt.phonemes, frames, style, emotion, np.random.default_rng(seed))
    return Clip(audio.astype(np.float32), motion, text, utt.phonemes)
