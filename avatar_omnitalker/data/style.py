"""Speaker styles and emotions: the non-verbal half of a synthetic talking head.

A style is a handful of interpretable numbers (saved as ground truth with every clip) that drive
head sway, nods on stressed syllables, blinks, brows, smile and gaze. An emotion shifts both the
face (expression offsets) and the voice (pitch, rate, volume). Lips come from visemes.py.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from avatar_omnitalker import spec
from avatar_omnitalker.motion.visemes import is_vowel, lip_motion
from avatar_omnitalker.text.espeak import Phoneme, VoiceSettings

IDX = spec.MOTION_INDEX


@dataclass(frozen=True)
class SpeakerStyle:
    head_amplitude: float = 0.05  # rad, std of slow head sway
    head_tempo: float = 0.4  # Hz, dominant sway frequency
    nod_gain: float = 0.04  # rad of downward pitch on a stressed syllable
    blink_rate: float = 17.0  # blinks per minute
    brow_activity: float = 0.3  # brow raise on stressed syllables
    smile_bias: float = 0.1  # resting smile
    gaze_aversion: float = 0.3  # 0: always at the camera, 1: mostly away
    gaze_side: float = 0.0  # rad, preferred yaw when looking away
    articulation: float = 1.0  # mouth movement scale

    RANGES = {  # sampling ranges, also used to normalise style distances
        "head_amplitude": (0.015, 0.11),
        "head_tempo": (0.15, 0.9),
        "nod_gain": (0.0, 0.09),
        "blink_rate": (6.0, 32.0),
        "brow_activity": (0.0, 0.7),
        "smile_bias": (0.0, 0.4),
        "gaze_aversion": (0.0, 0.7),
        "gaze_side": (-0.25, 0.25),
        "articulation": (0.7, 1.3),
    }

    @classmethod
    def sample(cls, rng: np.random.Generator) -> SpeakerStyle:
        return cls(**{k: float(rng.uniform(lo, hi)) for k, (lo, hi) in cls.RANGES.items()})

    def as_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)

    def as_vector(self) -> np.ndarray:
        """Each field scaled to [0, 1] by its sampling range."""
        return np.array([(getattr(self, k) - lo) / (hi - lo) for k, (lo, hi) in self.RANGES.items()], dtype=np.float32)


@dataclass(frozen=True)
class Emotion:
    name: str
    face: dict[str, float]  # blendshape offsets
    pitch: int = 0  # added to the voice's pitch (0-100 scale)
    rate: int = 0  # words per minute added
    volume: int = 0
    pitch_range: int = 0

    @property
    def tempo(self) -> float:
        """The emotion's change of speaking rate as a factor (for engines that take a speed)."""
        return 1.0 + self.rate / VoiceSettings.rate

    def voice(self, base: VoiceSettings) -> VoiceSettings:
        clamp = lambda v, lo, hi: int(min(max(v, lo), hi))
        return dataclasses.replace(
            base,
            pitch=clamp(base.pitch + self.pitch, 0, 100),
            rate=clamp(base.rate + self.rate, 80, 450),
            volume=clamp(base.volume + self.volume, 10, 200),
            pitch_range=clamp(base.pitch_range + self.pitch_range, 0, 100),
        )


EMOTIONS: dict[str, Emotion] = {
    "neutral": Emotion("neutral", {}),
    "happy": Emotion(
        "happy",
        {
            "mouthSmileLeft": 0.35,
            "mouthSmileRight": 0.35,
            "cheekSquintLeft": 0.3,
            "cheekSquintRight": 0.3,
            "eyeSquintLeft": 0.15,
            "eyeSquintRight": 0.15,
        },
        pitch=12,
        rate=12,
        volume=10,
        pitch_range=15,
    ),
    "sad": Emotion(
        "sad",
        {"mouthFrownLeft": 0.35, "mouthFrownRight": 0.35, "browInnerUp": 0.45, "mouthShrugLower": 0.2},
        pitch=-12,
        rate=-30,
        volume=-25,
        pitch_range=-20,
    ),
    "angry": Emotion(
        "angry",
        {
            "browDownLeft": 0.5,
            "browDownRight": 0.5,
            "noseSneerLeft": 0.3,
            "noseSneerRight": 0.3,
            "mouthPressLeft": 0.2,
            "mouthPressRight": 0.2,
        },
        pitch=4,
        rate=15,
        volume=35,
        pitch_range=10,
    ),
    "surprised": Emotion(
        "surprised",
        {
            "eyeWideLeft": 0.5,
            "eyeWideRight": 0.5,
            "browOuterUpLeft": 0.5,
            "browOuterUpRight": 0.5,
            "browInnerUp": 0.3,
            "jawOpen": 0.08,
        },
        pitch=18,
        rate=5,
        volume=10,
        pitch_range=25,
    ),
}


def _smooth_noise(rng: np.random.Generator, n: int, tempo_hz: float) -> np.ndarray:
    """Unit-variance noise band-limited around `tempo_hz` (a sum of a few drifting sinusoids)."""
    t = np.arange(n) / spec.FPS
    out = np.zeros(n)
    for _ in range(4):
        f = tempo_hz * rng.uniform(0.5, 1.6)
        out += rng.normal() * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    return out / max(out.std(), 1e-6) if n > 1 else out


def _bump(n: int, centre_s: float, width_s: float) -> np.ndarray:
    t = (np.arange(n) + 0.5) / spec.FPS
    return np.exp(-0.5 * ((t - centre_s) / width_s) ** 2)


def face_motion(
    phonemes: tuple[Phoneme, ...] | list[Phoneme],
    num_frames: int,
    style: SpeakerStyle,
    emotion: Emotion = EMOTIONS["neutral"],
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """(num_frames, 61) motion: lips from phonemes, everything else from the style; no phonemes
    gives idle motion (breathing, blinks, sway)."""
    rng = rng or np.random.default_rng(0)
    n = num_frames
    m = lip_motion(phonemes, n, style.articulation)
    t = (np.arange(n) + 0.5) / spec.FPS

    stressed = [0.5 * (p.start + p.end) for p in phonemes if p.stressed and is_vowel(p.symbol)]
    nods = sum((_bump(n, c, 0.12) for c in stressed), np.zeros(n))
    breathing = 0.006 * np.sin(2 * np.pi * 0.25 * t + rng.uniform(0, 6.3))
    rot = m[:, spec.HEAD_ROTATION]
    rot[:, 0] = style.head_amplitude * 0.6 * _smooth_noise(rng, n, style.head_tempo) + style.nod_gain * nods + breathing
    rot[:, 1] = style.head_amplitude * _smooth_noise(rng, n, style.head_tempo * 0.8)
    rot[:, 2] = style.head_amplitude * 0.4 * _smooth_noise(rng, n, style.head_tempo * 1.2)
    tr = m[:, spec.HEAD_TRANSLATION]
    tr[:, 0] = 0.3 * rot[:, 1] + 0.005 * _smooth_noise(rng, n, 0.2)
    tr[:, 1] = -0.3 * rot[:, 0] + 0.4 * breathing
    tr[:, 2] = 0.004 * _smooth_noise(rng, n, 0.15)

    # blinks: a Poisson process, each ~150 ms with a fast close and slower open
    blink = np.zeros(n)
    clock = rng.exponential(60.0 / style.blink_rate) * 0.5
    while clock < n / spec.FPS:
        rel = t - clock
        blink = np.maximum(blink, np.where(rel < 0, np.exp(-0.5 * (rel / 0.03) ** 2), np.exp(-0.5 * (rel / 0.07) ** 2)))
        clock += max(0.3, rng.exponential(60.0 / style.blink_rate))
    m[:, IDX["eyeBlinkLeft"]] = m[:, IDX["eyeBlinkRight"]] = blink

    brow = np.clip(style.brow_activity * sum((_bump(n, c, 0.18) for c in stressed), np.zeros(n)), 0, 1)
    m[:, IDX["browInnerUp"]] = brow
    m[:, IDX["browOuterUpLeft"]] = m[:, IDX["browOuterUpRight"]] = 0.7 * brow
    smile = style.smile_bias * (1 + 0.15 * _smooth_noise(rng, n, 0.1))
    m[:, IDX["mouthSmileLeft"]] += smile
    m[:, IDX["mouthSmileRight"]] += smile

    _gaze(m, rng, style, t)
    for name, value in emotion.face.items():
        m[:, IDX[name]] += value
    m[:, spec.BLENDSHAPES] = np.clip(m[:, spec.BLENDSHAPES], 0.0, 1.0)
    return m.astype(np.float32)


def _gaze(m: np.ndarray, rng: np.random.Generator, style: SpeakerStyle, t: np.ndarray) -> None:
    """Fixations joined by saccades: at the camera, or away towards the speaker's side."""
    n = len(t)
    yaw, pitch = np.zeros(n), np.zeros(n)
    clock = 0.0
    while clock < t[-1] + 0.04 if n else False:
        dwell = rng.uniform(0.4, 2.0)
        if rng.random() < style.gaze_aversion:
            y, p = style.gaze_side + rng.normal(0, 0.08), rng.normal(-0.05, 0.06)
        else:
            y, p = rng.normal(0, 0.02), rng.normal(0, 0.02)
        sel = (t >= clock) & (t < clock + dwell)
        yaw[sel], pitch[sel] = y, p
        clock += dwell
    g = m[:, spec.GAZE]
    g[:, 0] = g[:, 2] = yaw
    g[:, 1] = g[:, 3] = pitch
    # the ARKit eye-look shapes agree with the angles (positive yaw = looking to the avatar's left)
    scale = 1 / 0.35
    m[:, IDX["eyeLookOutLeft"]] = np.clip(yaw * scale, 0, 1)
    m[:, IDX["eyeLookInRight"]] = np.clip(yaw * scale, 0, 1)
    m[:, IDX["eyeLookInLeft"]] = np.clip(-yaw * scale, 0, 1)
    m[:, IDX["eyeLookOutRight"]] = np.clip(-yaw * scale, 0, 1)
    m[:, IDX["eyeLookUpLeft"]] = m[:, IDX["eyeLookUpRight"]] = np.clip(pitch * scale, 0, 1)
    m[:, IDX["eyeLookDownLeft"]] = m[:, IDX["eyeLookDownRight"]] = np.clip(-pitch * scale, 0, 1)
