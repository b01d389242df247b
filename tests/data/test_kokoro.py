"""Kokoro corpus voices: exact phoneme timings from the network's own durations, labels in the
espeak inventory inference uses, speech an independent recogniser understands."""

from __future__ import annotations

import json

import numpy as np
import pytest

from avatar_omnitalker import spec
from avatar_omnitalker.data.kokoro import SAMPLES_PER_DURATION, KokoroError, KokoroVoice
from avatar_omnitalker.text.espeak import Espeak, VoiceSettings
from avatar_omnitalker.text.phonemes import PAUSE

EN = "The bakery on the corner sells the best cinnamon rolls in town."
ZH = "请把窗户关上，外面的风越来越大了。"
MIXED = "他们下午在饭店把feedback发给你了，我觉得很nice。"


def spoken(phonemes) -> list[str]:
    return [p.symbol for p in phonemes if p.symbol != PAUSE]


def test_english_labels_are_the_espeak_units_inference_fits(kokoro):
    """Inference labels new text with espeak's synthesis events. Kokoro is fed espeak's IPA
    string, which also spells a few phonemes the events fold into a neighbour (the l of "sells"),
    so the events are an ordered subsequence of the labels, with few extras."""
    utt = kokoro.synthesize(EN, KokoroVoice("en-us", ("af_heart",), (1.0,)))
    labels = spoken(utt.phonemes)
    events = spoken(Espeak().synthesize(EN, VoiceSettings("en-us")).phonemes)
    rest = iter(labels)
    assert all(symbol in rest for symbol in events)
    assert len(labels) - len(events) <= 0.1 * len(events)


def test_code_switched_labels_are_the_ones_inference_gives(kokoro):
    """Inference speaks Mandarin text, English words and all, with espeak's cmn voice, which
    switches to its own English for Latin words; the corpus labels those words the same way."""
    from avatar_omnitalker.text.timing import phonemize

    utt = kokoro.synthesize(MIXED, KokoroVoice("zh", ("zm_yunxi",), (1.0,)))
    assert spoken(utt.phonemes) == [s for s, _, _ in phonemize(MIXED)[0] if s != PAUSE]


def test_timings_tile_the_audio_in_duration_units(kokoro):
    utt = kokoro.synthesize(EN, KokoroVoice("en-gb", ("bf_emma", "bm_george"), (0.6, 0.4), 1.1))
    assert utt.sample_rate == spec.SAMPLE_RATE
    assert utt.audio.size % SAMPLES_PER_DURATION == 0  # the decoder speaks whole duration units
    starts = [p.start for p in utt.phonemes]
    ends = [p.end for p in utt.phonemes]
    assert starts[0] == 0.0 and ends[-1] == pytest.approx(utt.duration)
    assert all(abs(a - b) < 1e-9 for a, b in zip(ends[:-1], starts[1:]))  # no gaps, no overlaps


@pytest.mark.parametrize(
    "text, voice",
    [
        (EN, KokoroVoice()),
        (ZH, KokoroVoice("zh", ("zf_xiaoxiao",), (1.0,))),
        (MIXED, KokoroVoice("zh", ("zf_xiaobei",), (1.0,))),
    ],
)
def test_the_sound_is_where_the_timings_say(kokoro, text, voice):
    """An independent check of the durations: energy sits inside spoken phonemes, not in pauses."""
    utt = kokoro.synthesize(text, voice)

    def rms(spans):
        parts = [utt.audio[int(a * spec.SAMPLE_RATE) : int(b * spec.SAMPLE_RATE)] for a, b in spans]
        return float(np.sqrt(np.mean(np.concatenate(parts) ** 2)))

    edge = 0.05  # the decoder's onsets may lead a boundary by one 25 ms duration unit
    pauses = [(p.start + edge, p.end - edge) for p in utt.phonemes if p.symbol == PAUSE and p.end - p.start > 0.15]
    speech = [(p.start, p.end) for p in utt.phonemes if p.symbol != PAUSE]
    assert len(pauses) >= 2 and rms(speech) > 20 * rms(pauses)


def test_mandarin_labels_are_espeak_units_one_syllable_per_character(kokoro):
    utt = kokoro.synthesize(ZH, KokoroVoice("zh", ("zm_yunxi",), (1.0,)))
    chars = [c for c in ZH if "\u4e00" <= c <= "\u9fff"]
    words = {p.word_index for p in utt.phonemes if p.symbol != PAUSE}
    assert len(words) == len(chars)
    assert set(spoken(utt.phonemes)) <= {
        p.symbol for c in chars for p in Espeak().synthesize(c, VoiceSettings("cmn")).phonemes
    }


def test_whisper_understands_kokoro(kokoro, ear_en, ear_zh):
    en = kokoro.synthesize(EN, KokoroVoice("en-us", ("am_michael",), (1.0,)))
    zh = kokoro.synthesize(ZH, KokoroVoice("zh", ("zf_xiaoyi",), (1.0,)))
    assert ear_en.error_rate(EN, en.audio) <= 0.1
    assert ear_zh.error_rate(ZH, zh.audio) <= 0.25


def test_voice_blends_and_style_rows(kokoro):
    a, b = kokoro.assets.style_table("af_heart"), kokoro.assets.style_table("af_bella")
    blend = kokoro.style(KokoroVoice("en-us", ("af_heart", "af_bella"), (0.75, 0.25)), 12)
    np.testing.assert_allclose(blend[0], 0.75 * a[12] + 0.25 * b[12], rtol=1e-6, atol=1e-7)
    long = kokoro.style(KokoroVoice(), 10_000)  # longer inputs use the last row
    np.testing.assert_array_equal(long[0], a[-1])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(lang="fr"), "Kokoro language must be one of"),
        (dict(voices=("af_heart", "af_bella"), weights=(1.0,)), "one weight per voice"),
        (dict(speed=3.0), "speed must be within"),
    ],
)
def test_bad_voices_are_named(kwargs, message):
    with pytest.raises(KokoroError, match=message):
        KokoroVoice(**kwargs)


def test_unknown_voice_and_unspeakable_text(kokoro):
    from avatar_omnitalker.data.kokoro_assets import VoiceAssetsError

    with pytest.raises(VoiceAssetsError, match="no Kokoro voice 'xx_nobody'"):
        kokoro.synthesize("Hello.", KokoroVoice(voices=("xx_nobody",)))
    with pytest.raises(KokoroError, match="nothing Kokoro can speak"):
        kokoro.synthesize("...", KokoroVoice())
    with pytest.raises(KokoroError, match="at most"):
        kokoro.synthesize(" ".join(["wonderful"] * 80), KokoroVoice())


def test_a_kokoro_corpus_records_engine_and_voice(kokoro_corpus):
    from avatar_omnitalker.data.corpus import generate_corpus
    from avatar_omnitalker.data.shards import Corpus
    from tests.conftest import KOKORO_CORPUS

    out = kokoro_corpus
    assert generate_corpus(out, **KOKORO_CORPUS) == out  # resumes (its blends are lists now)
    header = json.loads((out / "corpus.json").read_text())
    assert header["engine"] == "kokoro" and all(s["engine"] == "kokoro" for s in header["speakers"])
    corpus = Corpus(out)
    for source in corpus.sources:
        assert source.meta["engine"] == "kokoro" and source.meta["voice"]["voices"]
        arrays = corpus.arrays(source)
        assert arrays["audio"].size == spec.samples_for_frames(len(arrays["motion"]))
        last = source.meta["segments"][-1]
        assert last["phonemes"][-1][2] <= last["end"] / spec.FPS + 1e-6


def test_a_kokoro_test_split_corpus_is_exactly_the_whole_corpus_held_out_sources(kokoro, tmp_path):
    """Kokoro keeps no state between calls, so a held-out source made alone (`--split test`, how
    the evaluation corpus is made) is bit for bit the one the whole corpus holds at its index."""
    from avatar_omnitalker.data.corpus import (
        generate_corpus,
        generate_source,
        make_engine,
        make_speakers,
        speaker_count,
    )
    from avatar_omnitalker.data.shards import Corpus, from_pcm16, to_pcm16

    settings = {"minutes": 2.0, "langs": ["en"], "seed": 8, "engine": "kokoro"}  # sources 0-3, 3 held out
    part = Corpus(generate_corpus(tmp_path / "test", **settings, split="test"))
    assert [s.meta["source_id"] for s in part.sources] == ["src00003"]
    speakers = make_speakers(speaker_count(2.0, ["en"]), ["en"], 8, engine="kokoro")
    engine = make_engine("kokoro")  # as a corpus worker makes it (one thread)
    engine.synthesize(EN, KokoroVoice("en-us", ("af_sky",), (1.0,), 1.0))  # spoken before: no state kept
    meta, arrays = generate_source(3, speakers[3], 8, engine)
    assert json.loads(json.dumps(meta)) == part.sources[0].meta  # as a shard stores it
    stored = part.arrays(part.sources[0])
    assert np.array_equal(stored["audio"], from_pcm16(to_pcm16(arrays["audio"])))
    assert np.array_equal(stored["motion"], arrays["motion"])
