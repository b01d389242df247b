"""Phoneme timings -> lip and jaw blendshapes, with coarticulation.

Each espeak phoneme maps to a mouth target (a few blendshapes). Targets blend through
Cohen-Massaro dominance functions: every phoneme's influence is a bell around its centre, shifted
slightly earlier (lips move before the sound: anticipation), wider for vowels, narrow and strong
for closures so that /p b m/ really shut the lips.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from avatar_omnitalker import spec


class TimedPhoneme(Protocol):
    """What the lips need of a phoneme (text.espeak.Phoneme is one): its IPA symbol and span."""

    symbol: str
    start: float  # seconds
    end: float


ANTICIPATION_S = 0.04


@dataclass(frozen=True)
class Viseme:
    name: str
    shape: dict[str, float]  # blendshape -> target
    dominance: float  # relative strength in blending
    spread_s: float  # width of its influence


def _v(name: str, dominance: float, spread: float, **shape: float) -> Viseme:
    return Viseme(name, shape, dominance, spread)


REST = _v("rest", 0.6, 0.10, jawOpen=0.02, mouthClose=0.05)
VISEMES: dict[str, Viseme] = {
    "closure": _v("closure", 3.0, 0.035, jawOpen=0.04, mouthClose=0.75, mouthPressLeft=0.45, mouthPressRight=0.45),
    "labiodental": _v(
        "labiodental", 2.0, 0.04, jawOpen=0.08, mouthRollLower=0.6, mouthUpperUpLeft=0.25, mouthUpperUpRight=0.25
    ),
    "dental": _v("dental", 1.0, 0.04, jawOpen=0.16, mouthStretchLeft=0.15, mouthStretchRight=0.15),
    "alveolar": _v("alveolar", 0.8, 0.04, jawOpen=0.14, mouthStretchLeft=0.2, mouthStretchRight=0.2),
    "postalveolar": _v("postalveolar", 1.2, 0.045, jawOpen=0.12, mouthFunnel=0.55, mouthShrugUpper=0.2),
    "velar": _v("velar", 0.6, 0.04, jawOpen=0.24),
    "rhotic": _v("rhotic", 1.0, 0.05, jawOpen=0.14, mouthPucker=0.35, mouthFunnel=0.3),
    "glide_w": _v("glide_w", 1.8, 0.05, jawOpen=0.1, mouthPucker=0.75, mouthFunnel=0.35),
    "glide_j": _v(
        "glide_j",
        1.0,
        0.05,
        jawOpen=0.1,
        mouthSmileLeft=0.3,
        mouthSmileRight=0.3,
        mouthStretchLeft=0.2,
        mouthStretchRight=0.2,
    ),
    "open": _v("open", 1.0, 0.07, jawOpen=0.62, mouthLowerDownLeft=0.3, mouthLowerDownRight=0.3),
    "mid": _v("mid", 1.0, 0.07, jawOpen=0.38, mouthLowerDownLeft=0.15, mouthLowerDownRight=0.15),
    "front_close": _v(
        "front_close",
        1.0,
        0.06,
        jawOpen=0.16,
        mouthStretchLeft=0.45,
        mouthStretchRight=0.45,
        mouthSmileLeft=0.2,
        mouthSmileRight=0.2,
    ),
    "rounded": _v("rounded", 1.3, 0.07, jawOpen=0.3, mouthPucker=0.55, mouthFunnel=0.5),
    "close_rounded": _v("close_rounded", 1.4, 0.07, jawOpen=0.14, mouthPucker=0.8, mouthFunnel=0.35),
    "rest": REST,
}

# IPA symbols (as espeak-ng names them) by their first character; affricates first.
_AFFRICATES = {
    "tʃ": "postalveolar",
    "dʒ": "postalveolar",
    "tɕ": "postalveolar",
    "dʑ": "postalveolar",
    "ts": "alveolar",
    "dz": "alveolar",
}
_CONSONANTS = {
    **dict.fromkeys("pbm", "closure"),
    **dict.fromkeys("fv", "labiodental"),
    **dict.fromkeys("θð", "dental"),
    **dict.fromkeys("tdnlszɾɫ", "alveolar"),
    **dict.fromkeys("ʃʒɕʑʂʐ", "postalveolar"),
    **dict.fromkeys("kɡgŋhxχʔqɣ", "velar"),
    **dict.fromkeys("ɹrɻ", "rhotic"),
    **dict.fromkeys("wʍ", "glide_w"),
    "j": "glide_j",
}
_VOWELS = {
    **dict.fromkeys("aɑæɐä", "open"),
    **dict.fromkeys("ʌəɚɜeɛɘɵɤ", "mid"),
    **dict.fromkeys("iɪɨ", "front_close"),
    **dict.fromkeys("yʏ", "close_rounded"),
    **dict.fromkeys("oɔɒøœ", "rounded"),
    **dict.fromkeys("uʊɯ", "close_rounded"),
}


def viseme_of(symbol: str) -> Viseme:
    """An espeak-ng IPA phoneme ('tʃ', 'aɪ', '_') -> its viseme; pauses and unknowns rest."""
    s = symbol.lstrip("ˈˌ")
    if not s or s[0] == "_":
        return REST
    for prefix, name in _AFFRICATES.items():
        if s.startswith(prefix):
            return VISEMES[name]
    if s[0] in _VOWELS:
        return VISEMES[_VOWELS[s[0]]]
    if s[0] in _CONSONANTS:
        return VISEMES[_CONSONANTS[s[0]]]
    return REST


def is_vowel(symbol: str) -> bool:
    s = symbol.lstrip("ˈˌ")
    return bool(s) and s[0] in _VOWELS


def lip_motion(phonemes: Sequence[TimedPhoneme], num_frames: int, articulation: float = 1.0) -> np.ndarray:
    """(num_frames, 61) motion with only the mouth/jaw blendshapes set, at FPS frame centres."""
    out = np.zeros((num_frames, spec.MOTION_DIM), dtype=np.float32)
    t = (np.arange(num_frames) + 0.5) / spec.FPS  # (T,)
    if not phonemes:
        for name, value in REST.shape.items():
            out[:, spec.MOTION_INDEX[name]] = value
        return out
    names = sorted({n for v in VISEMES.values() for n in v.shape})
    col = {n: i for i, n in enumerate(names)}
    targets = np.zeros((len(phonemes) + 2, len(names)))
    centres = np.zeros(len(phonemes) + 2)
    weights = np.zeros_like(centres)
    spreads = np.zeros_like(centres)
    items = (
        [(REST, -1.0, 0.0)]
        + [(viseme_of(p.symbol), p.start, p.end) for p in phonemes]
        + [(REST, phonemes[-1].end, phonemes[-1].end + 1.0)]
    )
    for i, (vis, start, end) in enumerate(items):
        for name, value in vis.shape.items():
            targets[i, col[name]] = value * (articulation if name != "mouthClose" else 1.0)
        centres[i] = 0.5 * (start + end) - (ANTICIPATION_S if vis is not REST else 0.0)
        spreads[i] = max(vis.spread_s, 0.35 * (end - start))
        weights[i] = vis.dominance
    dom = weights[None, :] * np.exp(-0.5 * ((t[:, None] - centres[None, :]) / spreads[None, :]) ** 2)  # (T, P)
    dom += 1e-6
    blend = dom @ targets / dom.sum(1, keepdims=True)  # (T, names)
    for name, i in col.items():
        out[:, spec.MOTION_INDEX[name]] = np.clip(blend[:, i], 0.0, 1.0)
    return out
