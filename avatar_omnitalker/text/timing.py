"""Phoneme timings from espeak-ng: for new text (scaled to a speaker's rate) and fitted onto
recorded speech (a reference clip, a training recording).

Aligned text mode needs to know which phoneme sounds at each mel frame. espeak-ng gives a
phoneme sequence with timings in its own tempo; `fit_phonemes` stretches it onto the speech that
was actually recorded (between the first and last active frames), which also measures the
speaker's rate relative to espeak's.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from avatar_omnitalker import spec
from avatar_omnitalker.audio.loudness import active_frames
from avatar_omnitalker.text.espeak import Phoneme
from avatar_omnitalker.text.phonemes import PAUSE
from avatar_omnitalker.text.tokenizer import is_chinese

Timed = tuple[str, float, float]  # (ipa symbol, start s, end s)


def espeak_voice(text: str) -> str:
    """Mandarin when the text holds Chinese characters, else US English."""
    return "cmn" if any(is_chinese(c) for c in text) else "en-us"


@lru_cache(maxsize=256)
def _spoken(text: str, voice: str | None) -> tuple[tuple[Phoneme, ...], float]:
    from avatar_omnitalker.text.espeak import Espeak, VoiceSettings

    utt = Espeak().synthesize(text, VoiceSettings(voice=voice or espeak_voice(text)))
    return utt.phonemes, utt.duration


def espeak_units(text: str, voice: str | None = None) -> tuple[Phoneme, ...]:
    """espeak-ng's phonemes of `text` with stress and word indices (pauses included)."""
    return _spoken(text, voice)[0]


def phonemize(text: str, voice: str | None = None) -> tuple[tuple[Timed, ...], float]:
    """espeak-ng's timed phonemes of `text` (pauses included) and the utterance's duration."""
    phonemes, duration = _spoken(text, voice)
    return tuple((p.symbol, p.start, p.end) for p in phonemes), duration


def speech_span(phonemes) -> tuple[float, float]:
    """(start, end) seconds of the first and last spoken (non-pause) phoneme."""
    spoken = [p for p in phonemes if p[0] != PAUSE]
    return (spoken[0][1], spoken[-1][2]) if spoken else (0.0, 0.0)


def fit_phonemes(text: str, audio: np.ndarray, offset_s: float = 0.0) -> tuple[list[Timed], float]:
    """espeak-ng's phonemes of `text`, stretched onto the speech in `audio` (24 kHz, whole frames).

    Returns [(ipa, start_s, end_s)] shifted by offset_s, pauses dropped, and the stretch factor
    (audio seconds per espeak second: the speaker's rate relative to espeak's)."""
    phonemes, _ = phonemize(text)
    e0, e1 = speech_span(phonemes)
    active = np.flatnonzero(active_frames(audio))
    duration = audio.size / spec.SAMPLE_RATE
    r0, r1 = (active[0] / spec.FPS, (active[-1] + 1) / spec.FPS) if active.size else (0.0, duration)
    scale = (r1 - r0) / max(e1 - e0, 1e-3)
    fitted = [
        (s, offset_s + r0 + (a - e0) * scale, offset_s + r0 + (b - e0) * scale) for s, a, b in phonemes if s != PAUSE
    ]
    return fitted, scale


def scaled_phonemes(text: str, rate: float, offset_s: float) -> tuple[list[Timed], float]:
    """espeak-ng's phonemes of new text at `rate` (seconds per espeak second), starting at
    offset_s, pauses dropped; and the spoken duration in seconds."""
    phonemes, _ = phonemize(text)
    e0, e1 = speech_span(phonemes)
    timed = [(s, offset_s + (a - e0) * rate, offset_s + (b - e0) * rate) for s, a, b in phonemes if s != PAUSE]
    return timed, (e1 - e0) * rate
