"""The prompt: the part of the reference clip the model hears before every reply.

The whole reference runs through the network again in every model call (a bidirectional
transformer cannot cache it: each ODE step changes every position), so on a CPU a 4.8 s
reference costs more than the 2-3 s chunk a streaming reply speaks. `prompt_of` keeps the
reference's first whole sentences that fit a time budget, cut in the pause after a sentence, so
the prompt still ends in silence and its transcript is exactly what it says.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from loguru import logger

from avatar_omnitalker import spec
from avatar_omnitalker.audio.loudness import frame_db
from avatar_omnitalker.infer.chunking import sentences
from avatar_omnitalker.infer.reference import MIN_SECONDS, Reference
from avatar_omnitalker.text.phonemes import PAUSE
from avatar_omnitalker.text.timing import fit_phonemes, phonemize

SEARCH_S = 0.25  # the pause is looked for this far around espeak's stretched sentence boundary
PAUSE_DB = 30.0  # a frame this far below the loudest is a pause


def prompt_of(reference: Reference, max_seconds: float) -> Reference:
    """The reference's longest run of whole leading sentences lasting at most max_seconds (at
    least MIN_SECONDS); the whole reference when it fits, when max_seconds is 0, or when no
    sentence boundary falls in a pause (then a warning says so)."""
    if max_seconds <= 0 or reference.duration <= max_seconds:
        return reference
    cut = _last_cut(reference, max_seconds)
    if cut is None:
        logger.warning(
            "prompt_s {}: the reference {!r} has no sentence end in a pause within {} s; the whole {:.1f} s "
            "is the prompt",
            max_seconds,
            reference.name,
            max_seconds,
            reference.duration,
        )
        return reference
    transcript, frames = cut
    logger.info("prompt: the first {:.2f} s of the reference ({!r})", frames / spec.FPS, transcript)
    return dataclasses.replace(
        reference,
        audio=reference.audio[: spec.samples_for_frames(frames)].copy(),
        motion=reference.motion[:frames].copy(),
        transcript=transcript,
    )


def _last_cut(reference: Reference, max_seconds: float) -> tuple[str, int] | None:
    """(transcript of the kept sentences, frames kept) for the longest prefix that fits."""
    parts = sentences(reference.transcript)
    fitted, _ = fit_phonemes(reference.transcript, reference.audio)  # pauses dropped
    db = frame_db(reference.audio)
    quiet = db.max() - PAUSE_DB
    best = None
    for k in range(1, len(parts)):
        prefix = "".join(parts[:k]).strip()
        own = [p[0] for p in phonemize(prefix)[0] if p[0] != PAUSE]
        n = len(own)
        if not 0 < n < len(fitted) or own != [p[0] for p in fitted[:n]]:
            continue  # espeak spoke the prefix differently from the whole: no reliable boundary
        lo = max(0, int((fitted[n - 1][2] - SEARCH_S) * spec.FPS))
        hi = min(len(db), int(np.ceil((fitted[n][1] + SEARCH_S) * spec.FPS)))
        if hi <= lo:
            continue
        pause = lo + int(np.argmin(db[lo:hi]))
        if db[pause] > quiet:
            continue  # the sentences run into each other: cutting there would clip a word
        frames = pause + 1  # keep the quietest frame: the prompt ends in silence
        if frames / spec.FPS > max_seconds:
            break
        if frames / spec.FPS >= MIN_SECONDS:
            best = (prefix, frames)
    return best
