"""Text conditioning for a request: token ids covering reference + new text, and the length.

Two modes, one network (see text/modes.py):
- implicit: F5-TTS char+pinyin tokens of "reference transcript + text", filler-padded by the
  model; length by F5's UTF-8 ratio rule.
- aligned: one IPA phoneme id per mel frame. The reference's transcript is synthesised by
  espeak-ng and stretched onto the reference's speech, which measures the speaker's rate; the new
  text is timed by the checkpoint's duration model at that rate (model/duration.py), or without
  one by espeak-ng's timings scaled to it. Either also fixes the length.
"""

from __future__ import annotations

import numpy as np
from loguru import logger

from avatar_omnitalker import spec
from avatar_omnitalker.infer.reference import Reference
from avatar_omnitalker.model.cfm import f5_duration
from avatar_omnitalker.model.duration import Durations
from avatar_omnitalker.text.phonemes import PhonemeTokenizer
from avatar_omnitalker.text.timing import fit_phonemes, scaled_phonemes
from avatar_omnitalker.text.tokenizer import Tokenizer

TAIL_FRAMES = 3  # a little silence after the last phoneme, so words are not clipped


class ImplicitText:
    def __init__(self, tokenizer: Tokenizer, reference: Reference) -> None:
        self.tokenizer, self.reference = tokenizer, reference

    def request(self, text: str, speed: float) -> tuple[list[int], int]:
        ref = self.reference
        ids = self.tokenizer.encode(ref.transcript + " " + text)
        return ids, f5_duration(ref.frames, ref.transcript, text, speed)


class AlignedText:
    def __init__(self, tokenizer: PhonemeTokenizer, reference: Reference, durations: Durations | None = None) -> None:
        self.tokenizer, self.reference, self.durations = tokenizer, reference, durations
        # rate: reference seconds per espeak second
        self.ref_phonemes, self.rate = fit_phonemes(reference.transcript, reference.audio)

    def request(self, text: str, speed: float) -> tuple[list[int], int]:
        ref = self.reference
        if self.durations is None:
            target, seconds = scaled_phonemes(text, self.rate / speed, ref.duration)
        else:
            target, seconds = self.durations.timings(text, self.rate, ref.duration, speed)
        gen_frames = max(1, int(np.ceil(seconds * spec.FPS)) + TAIL_FRAMES)
        total = ref.frames + gen_frames
        unknown = self.tokenizer.unknown_symbols([p[0] for p in target])
        if unknown:
            logger.warning("phonemes outside the model's vocab are spoken as pauses: {}", unknown)
        ids = self.tokenizer.frame_ids(self.ref_phonemes + target, spec.mel_frames_for_motion(total), strict=False)
        return ids, total
