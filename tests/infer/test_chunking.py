"""Streamed text is cut into speakable chunks without losing, doubling or reordering a character."""

from __future__ import annotations

import random

import pytest

from avatar_omnitalker.infer.chunking import TextChunker, sentences

EN = "Hello there! I am glad you asked. The weather is sunny, about 23.5 degrees; no rain today. What else? Nothing."
ZH = "你好，今天天气很好。我们去公园散步吧！你觉得怎么样？我觉得很好；走吧。"
MIXED = "我今天用了OpenAI的API，效果很好。Then I wrote a report, 大概三千字。Done!"


def feed_randomly(text: str, seed: int, chunker: TextChunker | None = None) -> list[str]:
    rng = random.Random(seed)
    chunker = chunker or TextChunker()
    out, i = [], 0
    while i < len(text):
        n = rng.randint(1, 7)
        out += chunker.feed(text[i : i + n])
        i += n
    return out + chunker.flush()


@pytest.mark.parametrize("text", [EN, ZH, MIXED, EN + ZH + MIXED, "", "   ", "no punctuation at all here"])
@pytest.mark.parametrize("seed", range(20))
def test_every_character_once_and_in_order(text, seed):
    assert "".join(feed_randomly(text, seed)) == text


def test_random_unicode_soup_is_conserved():
    rng = random.Random(1)
    alphabet = list("abc xyz,.!?;:。！？，、；：…\n\"'”）你好世界") + ["12", "3.5"]
    for seed in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        assert "".join(feed_randomly(text, seed)) == text


def test_cuts_at_sentence_ends_and_first_chunk_is_short():
    chunks = feed_randomly(EN, 0)
    assert chunks[0] == "Hello there!"
    assert all(c.rstrip()[-1] in ".!?;" for c in chunks[:-1])
    zh = feed_randomly(ZH, 3)
    assert zh[0] == "你好，今天天气很好。" or zh[0].endswith("，")
    assert len(zh[0]) <= 12


def test_decimal_points_do_not_cut():
    chunks = feed_randomly("The price is 3.5 dollars today. Thanks.", 2, TextChunker(first_min=100))
    assert not any(c.endswith("3.") for c in chunks)


def test_long_text_without_punctuation_is_cut():
    text = "word " * 100
    chunks = feed_randomly(text, 0)
    assert len(chunks) > 1 and "".join(chunks) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Emma came. Oscar left!", ["Emma came.", " Oscar left!"]),
        ("It costs 3.5 dollars. Really?! Yes", ["It costs 3.5 dollars.", " Really?!", " Yes"]),
        ('He said "stop." Then he went.', ['He said "stop."', " Then he went."]),
        ("你好。今天天气很好！我们走吧", ["你好。", "今天天气很好！", "我们走吧"]),
        ("Wait... what?", ["Wait...", " what?"]),
        ("no end at all", ["no end at all"]),
    ],
)
def test_sentences_cut_after_each_sentence_end_and_keep_every_character(text, expected):
    assert sentences(text) == expected
    assert "".join(sentences(text)) == text
