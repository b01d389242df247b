"""Held-out evaluation sentences come from outside the corpus generator."""

from __future__ import annotations

import re

import pytest

from avatar_omnitalker.data.sentences import TEXT_VERSIONS, english_vocabulary, sentences
from avatar_omnitalker.eval.report import heldout_sentences


@pytest.mark.parametrize("name, lang", [("en", "en"), ("zh", "zh"), ("mixed", "zh"), ("mixed", "mixed")])
@pytest.mark.parametrize("version", TEXT_VERSIONS)
def test_no_heldout_sentence_is_a_corpus_sentence(name, lang, version):
    held = heldout_sentences(name)
    assert len(held) >= 6 and len(set(held)) == len(held)
    assert not set(held) & set(sentences(lang, "all", version))


@pytest.mark.parametrize("version", TEXT_VERSIONS)
def test_english_heldout_words_are_mostly_outside_the_grammar(version):
    grammar = {w.lower() for w in english_vocabulary(version)}
    words = [w for s in heldout_sentences("en") for w in re.findall(r"[a-z']+", s.lower())]
    outside = [w for w in words if w not in grammar]
    assert len(outside) / len(words) > 0.5


def test_mixed_heldout_english_words_are_never_in_the_code_switched_grammar():
    grammar = {w.lower() for s in sentences("mixed") for w in re.findall(r"[A-Za-z]+", s)}
    held = {w.lower() for s in heldout_sentences("mixed") for w in re.findall(r"[A-Za-z]+", s)}
    assert held and not held & grammar


def test_content_words_version_2_adds_avoid_the_heldout_english():
    added = {w.lower() for w in english_vocabulary(2)} - {w.lower() for w in english_vocabulary(1)}
    held = {w for s in heldout_sentences("en") for w in re.findall(r"[a-z']+", s.lower())}
    assert len(added) > 150 and added & held <= {"for", "her", "his", "so", "would"}, sorted(
        added & held
    )  # function words
