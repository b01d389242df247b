"""The second text front end: espeak-ng IPA phonemes, laid out frame by frame (aligned mode).

In aligned mode every mel frame carries the id of the phoneme sounding at that instant, so the
model need not learn the alignment
(measured: aligned, a small model learns to speak on a CPU in minutes; implicit, it had not
aligned after 35).
The timings come from espeak-ng, scaled to the reference's speaking rate at inference.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from avatar_omnitalker import spec
from avatar_omnitalker.text.tokenizer import UnknownSymbolsError, Vocab

PHONEME_VOCAB = "ipa_phonemes"
PAUSE = "_"


class PhonemeTokenizer:
    def __init__(self, vocab: Vocab | None = None) -> None:
        self.vocab = vocab or Vocab.builtin(PHONEME_VOCAB)
        if self.vocab.tokens[0] != PAUSE:
            raise ValueError(f"a phoneme vocab starts with the pause symbol {PAUSE!r}")

    def __len__(self) -> int:
        return len(self.vocab)

    def unknown_symbols(self, symbols: Sequence[str]) -> list[str]:
        index = self.vocab.index
        return [s for s in dict.fromkeys(symbols) if s not in index]

    def ids(self, symbols: Sequence[str]) -> list[int]:
        """One id per symbol; a symbol outside the vocab is the pause, as in frame_ids(strict=False)."""
        index = self.vocab.index
        return [index.get(s, 0) for s in symbols]

    def frame_ids(
        self, phonemes: Sequence[tuple[str, float, float]], num_frames: int, offset_s: float = 0.0, strict: bool = True
    ) -> list[int]:
        """[(ipa, start_s, end_s)] -> one id per mel frame (frame i at offset + i * hop / sr).

        strict: unknown symbols raise; otherwise they become pauses (the caller logs them)."""
        index = self.vocab.index
        unknown = self.unknown_symbols([p[0] for p in phonemes])
        if unknown and strict:
            raise UnknownSymbolsError(unknown, " ".join(p[0] for p in phonemes))
        ids = np.zeros(num_frames, dtype=np.int64)  # 0 = pause
        times = offset_s + np.arange(num_frames) * spec.HOP_LENGTH / spec.SAMPLE_RATE
        for sym, start, end in phonemes:
            sel = (times >= start) & (times < end)
            ids[sel] = index.get(sym, 0)
        return ids.tolist()
