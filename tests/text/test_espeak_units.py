"""espeak-ng's phoneme string: words of units, and no language-switch markers anywhere."""

from __future__ import annotations

from avatar_omnitalker.text.espeak import Espeak, VoiceSettings, is_language_switch


def test_words_of_units_with_stress():
    words = Espeak().phoneme_words("Hello, this is a test.")
    assert words[0] == ["h", "ə", "l", "ˈoʊ"] and len(words) == 5
    assert Espeak().phoneme_words("   ") == []


def test_language_switches_are_not_phonemes():
    text = "我今天要开meeting。"
    events = [p.symbol for p in Espeak().synthesize(text, VoiceSettings("cmn")).phonemes]
    units = [u for word in Espeak().phoneme_words(text, "cmn") for u in word]
    assert "m" in events and "ˈiː" in units  # the English word is spoken, not dropped
    assert not any(is_language_switch(s) for s in events + units)
