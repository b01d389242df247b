"""The one home of every representation constant: audio, mel, motion layout, ARKit order.

Everything else imports from here, so a change of frame rate or motion layout is one edit.
The clock of the whole system is the motion frame: frame k covers audio samples
[SAMPLES_PER_FRAME * k, SAMPLES_PER_FRAME * (k + 1)).
"""

from __future__ import annotations

import math

# --- audio -----------------------------------------------------------------------------------
SAMPLE_RATE = 24_000  # Hz, mono float32 in [-1, 1]

# --- mel (Vocos mel-24khz features, F5-TTS log clamp) -----------------------------------------
N_FFT = 1024
WIN_LENGTH = 1024
HOP_LENGTH = 256
N_MELS = 100
MEL_CENTER = True
MEL_POWER = 1.0
MEL_LOG_CLAMP = 1e-5
MEL_RATE = SAMPLE_RATE / HOP_LENGTH  # 93.75 frames/s

# --- motion ----------------------------------------------------------------------------------
FPS = 25
SAMPLES_PER_FRAME = SAMPLE_RATE // FPS  # 960
assert SAMPLE_RATE % FPS == 0, "the frame clock needs a whole number of samples per frame"
MEL_FRAMES_PER_MOTION_FRAME = MEL_RATE / FPS  # 3.75

# ARKit's blendshapes in alphabetical order, without tongueOut (MediaPipe FaceLandmarker's set).
BLENDSHAPE_NAMES: tuple[str, ...] = (
    "browDownLeft",
    "browDownRight",
    "browInnerUp",
    "browOuterUpLeft",
    "browOuterUpRight",
    "cheekPuff",
    "cheekSquintLeft",
    "cheekSquintRight",
    "eyeBlinkLeft",
    "eyeBlinkRight",
    "eyeLookDownLeft",
    "eyeLookDownRight",
    "eyeLookInLeft",
    "eyeLookInRight",
    "eyeLookOutLeft",
    "eyeLookOutRight",
    "eyeLookUpLeft",
    "eyeLookUpRight",
    "eyeSquintLeft",
    "eyeSquintRight",
    "eyeWideLeft",
    "eyeWideRight",
    "jawForward",
    "jawLeft",
    "jawOpen",
    "jawRight",
    "mouthClose",
    "mouthDimpleLeft",
    "mouthDimpleRight",
    "mouthFrownLeft",
    "mouthFrownRight",
    "mouthFunnel",
    "mouthLeft",
    "mouthLowerDownLeft",
    "mouthLowerDownRight",
    "mouthPressLeft",
    "mouthPressRight",
    "mouthPucker",
    "mouthRight",
    "mouthRollLower",
    "mouthRollUpper",
    "mouthShrugLower",
    "mouthShrugUpper",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthStretchLeft",
    "mouthStretchRight",
    "mouthUpperUpLeft",
    "mouthUpperUpRight",
    "noseSneerLeft",
    "noseSneerRight",
)
HEAD_ROTATION_NAMES: tuple[str, ...] = ("headPitch", "headYaw", "headRoll")  # radians
HEAD_TRANSLATION_NAMES: tuple[str, ...] = ("headX", "headY", "headZ")  # face widths, clip-centred
GAZE_NAMES: tuple[str, ...] = ("gazeYawLeft", "gazePitchLeft", "gazeYawRight", "gazePitchRight")

MOTION_NAMES: tuple[str, ...] = BLENDSHAPE_NAMES + HEAD_ROTATION_NAMES + HEAD_TRANSLATION_NAMES + GAZE_NAMES
MOTION_DIM = len(MOTION_NAMES)  # 61


def _span(start: int, names: tuple[str, ...]) -> slice:
    return slice(start, start + len(names))


BLENDSHAPES = _span(0, BLENDSHAPE_NAMES)  # 0..50, each in [0, 1]
HEAD_ROTATION = _span(BLENDSHAPES.stop, HEAD_ROTATION_NAMES)  # 51..53
HEAD_TRANSLATION = _span(HEAD_ROTATION.stop, HEAD_TRANSLATION_NAMES)  # 54..56
GAZE = _span(HEAD_TRANSLATION.stop, GAZE_NAMES)  # 57..60
assert GAZE.stop == MOTION_DIM == 61

MOTION_INDEX: dict[str, int] = {name: i for i, name in enumerate(MOTION_NAMES)}

# ARKit-52 export: our 51 blendshapes in order, then tongueOut (always 0 here).
ARKIT52_NAMES: tuple[str, ...] = BLENDSHAPE_NAMES + ("tongueOut",)
ARKIT_FPS = 30  # what LAM-style client renderers consume


# --- length bookkeeping ----------------------------------------------------------------------
def samples_for_frames(num_frames: int) -> int:
    """Audio samples spanned by `num_frames` motion frames."""
    return num_frames * SAMPLES_PER_FRAME


def mel_frames_for_samples(num_samples: int) -> int:
    """Mel frames that represent `num_samples` of audio in the model's sequences.

    A centred STFT yields `n // hop + 1` frames; the model uses `ceil(n / hop)` so that a
    vocoder producing `hop` samples per frame covers the audio exactly, with at most one
    hop of tail that is trimmed after decoding.
    """
    return math.ceil(num_samples / HOP_LENGTH)


def mel_frames_for_motion(num_frames: int) -> int:
    """Mel frames spanning `num_frames` motion frames (3.75 per frame, rounded up)."""
    return mel_frames_for_samples(samples_for_frames(num_frames))


def motion_frame_position(index: float) -> float:
    """Position of motion frame `index` on the mel-frame axis (its centre instant).

    Mel frame i sits at time i * hop / sr (centred STFT); motion frame k covers
    [k, k + 1) / fps, so its centre is (k + 0.5) / fps. Both are expressed in mel-frame units,
    which keeps audio positions identical to F5-TTS's integer positions.
    """
    return (index + 0.5) * MEL_FRAMES_PER_MOTION_FRAME
