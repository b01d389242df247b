"""The voice-identification rule of the report: strict, and among speakers of other base voices."""

from __future__ import annotations

import numpy as np

from avatar_omnitalker.eval.report import _closer_to_own, voice_parts


def test_voice_parts_of_both_engines():
    assert voice_parts({"voice": {"voices": ["af_sky", "bf_lily"], "weights": [0.6, 0.4]}}) == {"af_sky", "bf_lily"}
    assert voice_parts({"voice": {"voice": "en-us+m3", "rate": 160}}) == {"en-us+m3"}


def test_closer_to_own_strict_and_among_other_voices():
    refs = {"a": np.array([1.0, 0.0]), "b": np.array([0.9, 0.1]), "c": np.array([0.0, 1.0])}
    parts = {"a": frozenset({"x"}), "b": frozenset({"x", "y"}), "c": frozenset({"z"})}
    # nearer b (which shares voice x with a) than a itself: strict miss, but a beats every other-voice ref
    sim, strict, distinct = _closer_to_own(np.array([0.9, 0.12]), "a", refs, parts)
    assert not strict and distinct and 0.9 < sim < 1.0
    assert _closer_to_own(np.array([0.1, 1.0]), "a", refs, parts)[1:] == (False, False)
    assert _closer_to_own(np.array([1.0, -0.1]), "a", refs, parts)[1:] == (True, True)
