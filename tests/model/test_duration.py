"""The duration model: what it reads from espeak-ng, the timing contract it keeps, and its file."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from avatar_omnitalker.model.duration import (
    FEATURES,
    FORMAT,
    RATE_FEATURE,
    DurationConfig,
    DurationError,
    DurationPredictor,
    Durations,
    beside,
    spoken_units,
    unit_features,
)
from avatar_omnitalker.text.phonemes import PAUSE, PhonemeTokenizer
from avatar_omnitalker.text.timing import espeak_units
from tests.conftest import randomize

TEXTS = ["Anna found the red box today, then she left.", "她妹妹每天在公园休息。", "我们用API写了一个demo。"]


@pytest.fixture(scope="module")
def durations() -> Durations:
    torch.manual_seed(0)
    return Durations(randomize(DurationPredictor(DurationConfig(vocab_size=len(PhonemeTokenizer()))), std=0.1))


@pytest.mark.parametrize("text", TEXTS)
def test_features_follow_espeaks_units_and_word_edges(text):
    symbols, feats = unit_features(text, np.log(1.3))
    units = espeak_units(text)
    assert symbols == [p.symbol for p in units if p.symbol != PAUSE] == [p.symbol for p in spoken_units(text)]
    assert feats.shape == (len(symbols), FEATURES) and np.isfinite(feats).all()
    words = len({p.word_index for p in units if p.symbol != PAUSE})
    assert feats[:, 1].sum() == words == feats[:, 2].sum()  # one first and one last unit per word
    assert np.allclose(feats[:, RATE_FEATURE], np.log(1.3))
    assert feats[0, 7] == 0 and feats[-1, 7] == 1


@pytest.mark.parametrize("text", TEXTS)
def test_timings_are_ordered_start_at_the_offset_and_scale_with_speed(durations, text):
    timed, seconds = durations.timings(text, 1.1, offset_s=4.0)
    assert [t[0] for t in timed] == [p.symbol for p in spoken_units(text)]
    starts, ends = np.array([t[1] for t in timed]), np.array([t[2] for t in timed])
    assert starts[0] >= 4.0 and (ends > starts).all() and (starts[1:] >= ends[:-1] - 1e-9).all()
    assert seconds == pytest.approx(ends[-1] - 4.0)
    fast, fast_seconds = durations.timings(text, 1.1, offset_s=4.0, speed=2.0)
    assert fast_seconds == pytest.approx(seconds / 2)
    assert [t[2] - 4.0 for t in fast] == pytest.approx([(e - 4.0) / 2 for e in ends])


def test_save_and_load_give_the_same_timings(durations, tmp_path):
    path = durations.save(tmp_path / "run", extra={"steps": "0"})
    assert path.name == "durations.safetensors" and beside(tmp_path / "run" / "model.safetensors") == path
    loaded = Durations.load(tmp_path / "run")
    assert loaded.source == str(path)
    assert loaded.timings(TEXTS[0], 1.2, 0.5) == durations.timings(TEXTS[0], 1.2, 0.5)


def test_loading_refuses_other_files_with_a_clear_error(durations, tmp_path):
    with pytest.raises(FileNotFoundError, match="duration model not found"):
        Durations.load(tmp_path / "none.safetensors")
    save_file({"x": torch.zeros(2)}, str(tmp_path / "other.safetensors"), metadata={"format": "something/else"})
    with pytest.raises(DurationError, match="not an avatar-omnitalker duration model"):
        Durations.load(tmp_path / "other.safetensors")
    (tmp_path / "text.safetensors").write_text("not tensors")
    with pytest.raises(DurationError, match="not a safetensors file"):
        Durations.load(tmp_path / "text.safetensors")
    tensors = {k: v.contiguous() for k, v in durations.net.state_dict().items()}
    config = json.dumps({"vocab_size": len(PhonemeTokenizer()), "dim": 64})
    save_file(tensors, str(tmp_path / "wrong.safetensors"), metadata={"format": FORMAT, "config": config})
    with pytest.raises(DurationError, match="tensors do not fit the duration model"):
        Durations.load(tmp_path / "wrong.safetensors")


def test_a_model_from_before_symbols_were_appended_reads_the_table_of_its_time(tmp_path):
    """The phoneme table grows at the end ('ər' of 二 and 儿 came with open text): a duration model
    trained on the shorter table still loads, and a symbol it never knew is read as a pause."""
    full = PhonemeTokenizer()
    old_size = full.vocab.index["ər"]  # the table as it was before 'ər' was appended
    old = Durations(DurationPredictor(DurationConfig(vocab_size=old_size)))
    old.save(tmp_path)
    loaded = Durations.load(tmp_path)
    assert len(loaded.tokenizer) == old_size < len(full)
    assert loaded.tokenizer.ids(["ər", "a"]) == [0, full.vocab.index["a"]]
    timed, _ = loaded.timings("我女儿今年二十岁了。", 1.0, 0.0)
    assert "ər" in [t[0] for t in timed]  # timed like any unit: the speech model decides what it knows
