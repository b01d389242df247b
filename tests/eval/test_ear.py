"""The free-vocabulary ear: scoring rules, and whisper hearing speech it was never told about."""

from __future__ import annotations

import numpy as np
import pytest

from avatar_omnitalker.eval.ear import edit_distance, english_words, error_rate, mandarin_chars
from avatar_omnitalker.text.espeak import Espeak, VoiceSettings


def test_edit_distance():
    assert edit_distance(list("kitten"), list("sitting")) == 3
    assert edit_distance([], list("ab")) == 2


def test_english_scoring_ignores_case_and_punctuation_only():
    assert english_words("Well-known, isn't it?") == ["well", "known", "isn't", "it"]
    assert error_rate("en", "The cat sat.", "the cat sat") == 0.0
    assert error_rate("en", "The cat sat on the mat", "the bat sat on mat") == pytest.approx(2 / 6)
    with pytest.raises(ValueError, match="nothing to score"):
        error_rate("en", "...", "x")


def test_mandarin_scoring_is_per_character_simplified_with_numerals_read():
    pytest.importorskip("opencc")
    pytest.importorskip("cn2an")
    assert mandarin_chars("今天天氣很好！") == list("今天天气很好")  # traditional answers count as right
    assert error_rate("zh", "我有三本书。", "我有3本書") == 0.0
    assert error_rate("zh", "我们去公园", "我们去学校") == pytest.approx(2 / 5)


def test_whisper_hears_espeak_it_was_never_told_about(ear_en):
    """An outside recogniser on outside speech: espeak-ng's clear US voice, a held-out sentence."""
    text = "The train to the coast leaves every hour from platform number four."
    utt = Espeak().synthesize(text, VoiceSettings("en-us", rate=150))
    from avatar_omnitalker import spec
    from avatar_omnitalker.audio.resample import resample

    assert ear_en.error_rate(text, resample(utt.audio, utt.sample_rate, spec.SAMPLE_RATE)) <= 0.25


def test_silence_is_heard_as_nothing(ear_en):
    assert error_rate("en", "hello there", ear_en.transcribe(np.zeros(24_000 * 2, np.float32))) == 1.0


def test_the_same_unintelligible_clip_scores_the_same_every_time(ear_zh):
    """Speech whisper cannot make out is where its temperature fallback would sample: the built-in
    model speaking Mandarin (which it never learned) gave CER 2.75, then 1.0, then 1.0."""
    from avatar_omnitalker.infer.config import PipelineConfig
    from avatar_omnitalker.infer.pipeline import Pipeline

    text = "这本小说的结局让很多读者感到意外。"
    audio = Pipeline.load(PipelineConfig(nfe=7, device="cpu", dtype="float32")).generate(text, progress=False).audio
    heard = {ear_zh.transcribe(audio) for _ in range(4)}
    assert len(heard) == 1, heard


def test_a_looping_transcript_is_decoded_again_without_repeats(monkeypatch):
    """The rule, with whisper's decoder stood in for: a first transcript that compresses like a
    loop (whisper's own 2.4 threshold) is replaced by a decoding that forbids repeated 3-grams;
    a transcript that does not is kept. (Whisper itself is exercised by the tests above.)"""
    from types import SimpleNamespace

    from avatar_omnitalker.eval.ear import LOOP_COMPRESSION, LOOP_NGRAM, Ear

    calls = []

    def decode(pcm, **options):
        calls.append(options)
        if options:
            return [SimpleNamespace(text="and the museum opens next week", compression_ratio=1.2)]
        return [SimpleNamespace(text="and the museum 10-10-10-10-10-10", compression_ratio=first_ratio)]

    ear = Ear("en")
    monkeypatch.setattr(ear, "_decode", decode)
    first_ratio = LOOP_COMPRESSION + 0.5
    assert ear.transcribe(np.zeros(24_000, np.float32)) == "and the museum opens next week"
    assert calls == [{}, {"no_repeat_ngram_size": LOOP_NGRAM}]
    calls.clear()
    first_ratio = LOOP_COMPRESSION - 0.5
    assert ear.transcribe(np.zeros(24_000, np.float32)) == "and the museum 10-10-10-10-10-10"
    assert calls == [{}]
