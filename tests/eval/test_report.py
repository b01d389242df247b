"""The voice-identification rule of the report: strict, and among speakers of other base voices."""

from __future__ import annotations

import numpy as np
import pytest

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


def test_a_sentence_offset_deals_sentences_the_default_run_does_not_hear(small_corpus):
    """A validation run (`eval --sentence-offset`) must hear other held-out sentences than the
    reported one, on the same speakers, so settings chosen on it are not chosen on the figures."""
    from avatar_omnitalker.data.shards import Corpus
    from avatar_omnitalker.eval.report import cases, heldout_sentences

    corpus = Corpus(small_corpus)
    reported, validation = cases(corpus, 2), cases(corpus, 2, sentence_offset=5)
    assert [c.source.meta["source_id"] for c in reported] == [c.source.meta["source_id"] for c in validation]
    assert not {c.text for c in reported} & {c.text for c in validation}
    first = reported[0].sentence_set
    assert validation[0].text == heldout_sentences(first)[5]
    with pytest.raises(ValueError, match="sentence offset must be 0 or more"):
        cases(corpus, 1, sentence_offset=-1)
