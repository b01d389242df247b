"""The synthetic corpus: deterministic, resumable, with timings that agree with the audio."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from avatar_omnitalker import spec
from avatar_omnitalker.audio.loudness import frame_db
from avatar_omnitalker.data.corpus import MIXED_SHARE, generate_corpus
from avatar_omnitalker.data.sentences import sentences
from avatar_omnitalker.data.shards import Corpus

LATIN = re.compile(r"[A-Za-z]+")


def test_text_source_is_broad_and_versioned():
    assert (len(sentences("en", "all", 1)), len(sentences("zh", "all", 1))) == (302_400, 26_040)  # frozen
    assert sentences("mixed", "all", 1) == ()  # version 1 had no code-switching
    for lang, at_least in (("en", 500_000), ("zh", 50_000), ("mixed", 50_000)):
        assert len(sentences(lang)) >= at_least, lang
        assert not set(sentences(lang, "train")) & set(sentences(lang, "test")), lang
    assert set(sentences("en", "all", 1)) < set(sentences("en")) and set(sentences("zh", "all", 1)) < set(
        sentences("zh")
    )
    assert all(LATIN.search(s) and re.search(r"[\u4e00-\u9fff]", s) for s in sentences("mixed"))
    v1, v2 = "".join(sentences("zh", "all", 1)), "".join(sentences("zh"))
    assert "的" not in v1 and "了" not in v1 and v2.count("的") > 1000 and v2.count("了") > 1000
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        sentences("fr")
    with pytest.raises(ValueError, match="unknown text version 3"):
        sentences("en", "all", 3)


def _switched(corpus: Corpus) -> dict[str, list[bool]]:
    """Per language, whether each spoken sentence has Latin letters (for Mandarin: English words inside)."""
    out: dict[str, list[bool]] = {}
    for source in corpus.sources:
        out.setdefault(source.meta["lang"], []).extend(
            bool(LATIN.search(seg["text"])) for seg in source.meta["segments"]
        )
    return out


def test_mandarin_speakers_switch_to_english_words_at_the_asked_share(tmp_path):
    always = _switched(Corpus(generate_corpus(tmp_path / "all", 1.0, ["zh"], seed=4, mixed_share=1.0)))
    never = _switched(Corpus(generate_corpus(tmp_path / "none", 1.0, ["zh"], seed=4, mixed_share=0.0)))
    assert all(always["zh"]) and not any(never["zh"])
    default = Corpus(generate_corpus(tmp_path / "default", 3.0, ["zh"], seed=4))
    share = np.mean(_switched(default)["zh"])
    assert 0.05 < share < 0.45, share  # MIXED_SHARE 0.2 over a few dozen sentences
    assert json.loads((tmp_path / "default" / "corpus.json").read_text())["mixed_share"] == MIXED_SHARE
    english = generate_corpus(tmp_path / "en", 0.5, ["en"], seed=4)
    assert json.loads((english / "corpus.json").read_text())["mixed_share"] == 0.0  # nobody to switch
    with pytest.raises(ValueError, match="mixed_share: 1.0 there, 0.2 asked"):
        generate_corpus(tmp_path / "all", 1.0, ["zh"], seed=4, mixed_share=0.2)
    with pytest.raises(ValueError, match="between 0 and 1"):
        generate_corpus(tmp_path / "bad", 1.0, ["zh"], mixed_share=1.5)


def test_text_version_1_is_the_corpus_made_before_versions(tmp_path):
    """Version 1 never switches, and a corpus written before versions existed resumes as one."""
    old = generate_corpus(tmp_path / "v1", 1.0, ["zh"], seed=4, mixed_share=1.0, text_version=1)
    assert not any(_switched(Corpus(old))["zh"])
    header = json.loads((old / "corpus.json").read_text())
    assert (header["text_version"], header["mixed_share"]) == (1, 0.0)
    del header["text_version"], header["mixed_share"]  # what a corpus.json from before looks like
    (old / "corpus.json").write_text(json.dumps(header))
    generate_corpus(old, 1.0, ["zh"], seed=4, text_version=1)  # resumes, nothing to redo
    with pytest.raises(ValueError, match="text_version: 1 there, 2 asked; mixed_share: 0.0 there, 0.2 asked"):
        generate_corpus(old, 1.0, ["zh"], seed=4)
    with pytest.raises(ValueError, match="--text-version must be one of"):
        generate_corpus(tmp_path / "v3", 1.0, ["zh"], text_version=3)


def test_same_seed_same_corpus_and_resume(tmp_path):
    a = generate_corpus(tmp_path / "a", 1.0, ["en"], seed=5)
    b = generate_corpus(tmp_path / "b", 1.0, ["en"], seed=5)
    shard = "shards/shard-00000"
    assert (a / f"{shard}.json").read_text() == (b / f"{shard}.json").read_text()
    with np.load(a / f"{shard}.npz") as x, np.load(b / f"{shard}.npz") as y:
        assert all(np.array_equal(x[k], y[k]) for k in x.files)
    (b / f"{shard}.json").unlink()  # an interrupted run: the shard is not complete
    generate_corpus(tmp_path / "b", 1.0, ["en"], seed=5)
    assert (a / f"{shard}.json").read_text() == (b / f"{shard}.json").read_text()
    with pytest.raises(ValueError, match="other settings"):
        generate_corpus(tmp_path / "a", 1.0, ["en"], seed=6)


def _plan(meta: dict) -> dict:
    """A source's meta without its phoneme timings (espeak-ng's state shifts them, below)."""
    return {**meta, "segments": [{k: v for k, v in seg.items() if k != "phonemes"} for seg in meta["segments"]]}


def test_a_test_split_corpus_holds_the_whole_corpus_held_out_sources(small_corpus, tmp_path):
    """`--split test` (an evaluation corpus made in a quarter of the time) holds the held-out
    sources of the corpus made whole with the same settings: same speakers, emotions, sentences
    and lengths, in the same order. espeak-ng keeps state from the sources before in its shard,
    so its waveforms and timings move slightly; Kokoro's are exact (test_kokoro)."""
    whole = Corpus(small_corpus)
    part = Corpus(generate_corpus(tmp_path / "test", 3.0, ["en", "zh"], seed=3, split="test"))
    assert part.sources and {s.meta["split"] for s in part.sources} == {"test"}
    assert [_plan(s.meta) for s in part.sources] == [_plan(s.meta) for s in whole.split("test")]
    header = json.loads((part.root / "corpus.json").read_text())
    assert header["only_split"] == "test"
    with pytest.raises(ValueError, match="only_split: test there, None asked"):
        generate_corpus(tmp_path / "test", 3.0, ["en", "zh"], seed=3)
    with pytest.raises(ValueError, match="--split must be one of"):
        generate_corpus(tmp_path / "bad", 3.0, ["en"], split="dev")


def test_durations_and_timings_agree(small_corpus):
    corpus = Corpus(small_corpus)
    langs = set()
    for source in corpus.sources:
        arrays = corpus.arrays(source)
        k = arrays["motion"].shape[0]
        assert arrays["audio"].size == k * spec.SAMPLES_PER_FRAME
        assert arrays["mel"].shape == (spec.mel_frames_for_motion(k), spec.N_MELS)
        db = frame_db(arrays["audio"])
        voiced, silent = [], []
        for seg in source.meta["segments"]:
            assert 0 <= seg["start"] < seg["end"] <= k
            for sym, start, end, _ in seg["phonemes"]:
                assert seg["start"] / spec.FPS - 1e-3 <= start <= end <= seg["end"] / spec.FPS + 1e-3
                frames = range(int(start * spec.FPS), max(int(start * spec.FPS) + 1, int(end * spec.FPS)))
                (silent if sym == "_" else voiced).extend(db[f] for f in frames if f < len(db))
        assert np.median(voiced) > np.median(silent) + 10, "phoneme events line up with loud audio"
        assert set(source.meta["style"]) >= {"head_amplitude", "blink_rate", "smile_bias", "gaze_aversion"}
        langs.add(source.meta["lang"])
    assert langs == {"en", "zh"}
    header = json.loads((small_corpus / "corpus.json").read_text())
    assert {s["split"] for s in header["speakers"]} == {"train", "test"}


def test_lip_motion_follows_the_phonemes(small_corpus):
    corpus = Corpus(small_corpus)
    source = corpus.sources[0]
    motion = corpus.arrays(source)["motion"]
    jaw = motion[:, spec.MOTION_INDEX["jawOpen"]]
    close = motion[:, spec.MOTION_INDEX["mouthClose"]]
    open_vowels, closures = [], []
    for seg in source.meta["segments"]:
        for sym, start, end, _ in seg["phonemes"]:
            f = int(0.5 * (start + end) * spec.FPS)
            if sym[:1] in "aɑæ":
                open_vowels.append(jaw[f])
            if sym in ("p", "b", "m"):
                closures.append(close[f])
    assert np.mean(open_vowels) > 0.3 and np.mean(closures) > 0.3


@pytest.mark.parametrize("engine", ["espeak", "kokoro"])
def test_every_language_has_held_out_speakers(engine):
    from avatar_omnitalker.data.corpus import KOKORO_VOICES, make_speakers

    speakers = make_speakers(24, ["en", "zh"], seed=0, engine=engine)
    for lang in ("en", "zh"):
        splits = {s.split for s in speakers if s.lang == lang}
        assert splits == {"train", "test"}, lang
    if engine == "kokoro":  # held-out voices never speak for a training speaker, alone or blended
        for s in speakers:
            held = set(KOKORO_VOICES[s.lang]["test"])
            assert bool(set(s.voice.voices) & held) == (s.split == "test"), s


def test_every_grammar_word_is_spoken_in_the_phoneme_vocab_by_every_corpus_voice():
    """Aligned text mode needs an id for each espeak unit; one word in one accent outside the
    vocab (Scottish "thirty" once was) would stop training on that corpus."""
    from avatar_omnitalker.data.corpus import VOICES
    from avatar_omnitalker.text.espeak import Espeak, VoiceSettings
    from avatar_omnitalker.text.phonemes import PhonemeTokenizer

    tokenizer, espeak = PhonemeTokenizer(), Espeak()
    english = {w for s in sentences("en") + sentences("mixed") for w in LATIN.findall(s)}
    chinese = {c for s in sentences("zh") + sentences("mixed") for c in s if "\u4e00" <= c <= "\u9fff"}
    unknown = {}
    for voices, words in ((VOICES["en"], english), (VOICES["zh"], chinese)):
        for voice in voices:
            for word in sorted(words):
                symbols = [p.symbol for p in espeak.synthesize(word, VoiceSettings(voice)).phonemes]
                if tokenizer.unknown_symbols(symbols):
                    unknown[(voice, word)] = tokenizer.unknown_symbols(symbols)
    assert len(english) > 300 and len(chinese) > 150 and not unknown


@pytest.mark.parametrize(
    "version, lang, digest",
    [
        (1, "en", "9288a748d0e4f22a"),  # the grammars before versions existed (90c3bda), byte for byte
        (1, "zh", "fde3b9e25105f2f1"),
        (2, "en", "ceb72f5ffbc6d0ac"),  # runs/corpus-kokoro4, the next lease's Mandarin, was made from these
        (2, "zh", "de830f72b3e092ba"),
        (2, "mixed", "27ce7290bb190d5d"),
    ],
)
def test_a_text_version_never_changes(version, lang, digest):
    """A corpus records only its version number, so a version's sentences (and their order) are
    frozen: a change to the grammars is a new version."""
    import hashlib

    text = "\n".join(sentences(lang, "all", version)).encode()
    assert hashlib.sha256(text).hexdigest()[:16] == digest
