"""The char+pinyin front end: F5-TTS's symbol rules, its vocab format, no silent drops."""

from __future__ import annotations

import pytest

from avatar_omnitalker.text import Tokenizer, UnknownSymbolsError, Vocab, text_to_symbols
from tests.conftest import import_f5

MIXED = [
    "Hello, 世界! 我们今天去open AI开会。",
    "他说：“这是一个test”；好的。",
    "The quick brown fox jumps over the lazy dog.",
    "明天上午十点,我们在Room 302见面?",
]


def test_mixed_chinese_english():
    symbols = text_to_symbols("我爱open AI。")
    # F5-TTS puts a space before a multi-letter Latin word that follows a non-space symbol
    assert symbols == [" ", "wo3", " ", "ai4", " ", "o", "p", "e", "n", " ", "A", "I", "。"]
    ids = Tokenizer().encode("我爱open AI。")
    assert len(ids) == len(symbols) and all(i >= 0 for i in ids)


@pytest.mark.parametrize("text", MIXED)
def test_matches_f5_tts_rules(text):
    f5 = import_f5("f5_tts.model.utils")
    assert text_to_symbols(text) == f5.convert_char_to_pinyin([text])[0]


def test_every_built_in_symbol_of_common_text_is_known():
    tok = Tokenizer()
    for text in MIXED:
        assert tok.unknown_symbols(text) == []


def test_unknown_symbols_are_reported_not_dropped():
    tok = Tokenizer()
    with pytest.raises(UnknownSymbolsError) as err:
        tok.encode("smile ☺ and ✓ done")
    assert err.value.symbols == ["☺", "✓"] and "☺" in str(err.value)


def test_vocab_file_format(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text(" \na\nb\nni3\n", encoding="utf-8")
    vocab = Vocab.from_file(path)
    assert vocab.tokens == (" ", "a", "b", "ni3")
    assert Tokenizer(vocab).encode("ab 你") == [1, 2, 0, 0, 3]
    dup = tmp_path / "dup.txt"
    dup.write_text("a\nb\na\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 3"):
        Vocab.from_file(dup)
    with pytest.raises(FileNotFoundError):
        Vocab.from_file(tmp_path / "none.txt")


def test_f5_release_vocab_loads():
    f5 = pytest.importorskip("f5_tts")
    from pathlib import Path

    path = Path(list(f5.__path__)[0]) / "infer" / "examples" / "vocab.txt"
    vocab = Vocab.from_file(path)
    assert len(vocab) == 2545 and vocab.tokens[0] == " "
    assert Tokenizer(vocab).encode("ni3 hao3") == Tokenizer(vocab).encode("ni3 hao3")


@pytest.mark.parametrize(
    "name, size, digest",
    [
        (None, 2728, "0e8664a0765b71b7be62b3f2f6e70a9fb2685e78859c639707343e7d6365074b"),
        ("ipa_phonemes", 111, "a350e48c58536535dfaa05014ec9766f7c82fa9ebd947307d9ea169cf9af89ca"),
        ("ipa_phonemes", 121, "ea1a3ca05003f2c6fcfd379baa1fb97761caa8bc2649bd72aea04a2c37048613"),
        ("ipa_phonemes", 124, "6c4c25f3ace05fb1c9f086847d1761082686f375f1da3bd430bba57446dc1613"),
    ],
)
def test_built_in_vocabs_never_change_under_a_trained_model(name, size, digest):
    """Token ids are part of every trained model: new symbols may only be appended
    (scripts/build_*_vocab.py append); the first `size` tokens stay byte-identical."""
    import hashlib

    vocab = Vocab.builtin(name) if name else Vocab.builtin()
    assert len(vocab) >= size
    assert hashlib.sha256("\n".join(vocab.tokens[:size]).encode()).hexdigest() == digest


def test_every_common_character_is_spoken_in_the_phoneme_vocab():
    """Aligned text speaks a symbol outside the vocab as a pause: before 'ər' was appended, 二 and 儿
    were silent. Each of GB 2312's 3,755 common characters, alone, is in the vocab."""
    from avatar_omnitalker.text.espeak import Espeak, VoiceSettings
    from avatar_omnitalker.text.phonemes import PhonemeTokenizer
    from avatar_omnitalker.text.tokenizer import common_hanzi

    chars = common_hanzi()
    assert len(chars) == 3755 and {"二", "儿", "而", "耳"} <= set(chars)
    tokenizer, espeak = PhonemeTokenizer(), Espeak()
    unknown = {
        c: tokenizer.unknown_symbols([p.symbol for p in espeak.synthesize(c, VoiceSettings("cmn")).phonemes])
        for c in chars
    }
    assert not {c: u for c, u in unknown.items() if u}
