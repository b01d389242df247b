"""Text conditioning for a request: token ids covering reference + new text, and the length.

Two modes, one network (DESIGN.md section 2):
- implicit: F5-TTS char+pinyin tokens of "reference transcript + text", filler-padded by the
  model; length by F5's UTF-8 ratio rule.
- aligned: one IPA phoneme id per mel frame. Timings come from espeak-ng: the reference's
  transcript is synthesised and stretched onto the reference's speech, the new text is
  synthesised and scaled by the reference's speaking rate, which also fixes the length.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from loguru import logger

from avatar_omnitalker import spec
from avatar_omnitalker.audio.loudness import active_frames
from avatar_omnitalker.infer.reference import Reference
from avatar_omnitalker.model.cfm import f5_duration
from avatar_omnitalker.text.phonemes import PAUSE, PhonemeTokenizer
from avatar_omnitalker.text.tokenizer import Tokenizer, is_chinese

TAIL_FRAMES = 3  # a little silence after the last phoneme, so words are not clipped


class ImplicitText:
    def __init__(self, tokenizer: Tokenizer, reference: Reference) -> None:
        self.tokenizer, self.reference = tokenizer, reference

    def request(self, text: str, speed: float) -> tuple[list[int], int]:
        ref = self.reference
        ids = self.tokenizer.encode(ref.transcript + " " + text)
        return ids, f5_duration(ref.frames, ref.transcript, text, speed)


def espeak_voice(text: str) -> str:
    return "cmn" if any(is_chinese(c) for c in text) else "en-us"


@lru_cache(maxsize=256)
def _phonemize(text: str, voice: str) -> tuple[tuple[tuple[str, float, float], ...], float]:
    from avatar_omnitalker.data.espeak import Espeak, VoiceSettings

    utt = Espeak().synthesize(text, VoiceSettings(voice=voice))
    return tuple((p.symbol, p.start, p.end) for p in utt.phonemes), utt.duration


def _speech_span(phonemes) -> tuple[float, float]:
    spoken = [p for p in phonemes if p[0] != PAUSE]
    return (spoken[0][1], spoken[-1][2]) if spoken else (0.0, 0.0)


def fit_phonemes(text: str, audio: np.ndarray, offset_s: float = 0.0) -> tuple[list[tuple[str, float, float]], float]:
    """espeak-ng's phonemes of `text`, stretched onto the speech in `audio` (24 kHz, whole frames).

    Returns [(ipa, start_s, end_s)] shifted by offset_s, pauses dropped, and the stretch factor
    (audio seconds per espeak second: the speaker's rate relative to espeak's)."""
    phonemes, _ = _phonemize(text, espeak_voice(text))
    e0, e1 = _speech_span(phonemes)
    active = np.flatnonzero(active_frames(audio))
    duration = audio.size / spec.SAMPLE_RATE
    r0, r1 = (active[0] / spec.FPS, (active[-1] + 1) / spec.FPS) if active.size else (0.0, duration)
    scale = (r1 - r0) / max(e1 - e0, 1e-3)
    fitted = [(s, offset_s + r0 + (a - e0) * scale, offset_s + r0 + (b - e0) * scale) for s, a, b in phonemes if s != PAUSE]
    return fitted, scale


class AlignedText:
    def __init__(self, tokenizer: PhonemeTokenizer, reference: Reference) -> None:
        self.tokenizer, self.reference = tokenizer, reference
        # rate: reference seconds per espeak second
        self.ref_phonemes, self.rate = fit_phonemes(reference.transcript, reference.audio)

    def request(self, text: str, speed: float) -> tuple[list[int], int]:
        ref = self.reference
        phonemes, _ = _phonemize(text, espeak_voice(text))
        e0, e1 = _speech_span(phonemes)
        scale = self.rate / speed
        offset = ref.duration
        target = [(s, offset + (a - e0) * scale, offset + (b - e0) * scale) for s, a, b in phonemes if s != PAUSE]
        gen_frames = max(1, int(np.ceil((e1 - e0) * scale * spec.FPS)) + TAIL_FRAMES)
        total = ref.frames + gen_frames
        unknown = self.tokenizer.unknown_symbols([p[0] for p in target])
        if unknown:
            logger.warning("phonemes outside the model's vocab are spoken as pauses: {}", unknown)
        ids = self.tokenizer.frame_ids(self.ref_phonemes + target, spec.mel_frames_for_motion(total), strict=False)
        return ids, total
