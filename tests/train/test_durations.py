"""Training the duration model: the targets it learns from, and that it learns them."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from avatar_omnitalker.model.duration import PAUSE_FLOOR, DurationConfig, DurationPredictor, Durations, spoken_units
from avatar_omnitalker.text.phonemes import PAUSE, PhonemeTokenizer
from avatar_omnitalker.train.durations import _sentence, evaluate, frame_agreement, sentences, train_durations

TEXT = "Anna found the red box, then she left."


def _labels(text: str, pause_at: int) -> tuple[list[tuple[str, float, float]], list[float], float]:
    """Timed labels of the text's units: 0.3 s of leading pause, unit k lasting 0.05 + k ms,
    a 0.2 s pause after unit `pause_at`, 0.1 s of trailing pause."""
    t, labels, lengths = 0.3, [(PAUSE, 0.0, 0.3)], []
    for k, p in enumerate(spoken_units(text)):
        d = 0.05 + k / 1000
        labels.append((p.symbol, t, t + d))
        lengths.append(d)
        t += d
        if k == pause_at:
            labels.append((PAUSE, t, t + 0.2))
            t += 0.2
    return labels, lengths, t + 0.1


def test_targets_are_the_labels_durations_and_pauses():
    labels, lengths, length_s = _labels(TEXT, pause_at=4)
    made = _sentence(TEXT, labels, length_s, (1.0, 1.1, 1.2), PhonemeTokenizer())
    assert made is not None and len(made.ids) == len(lengths)
    assert np.allclose(np.exp(made.targets[:, 0]), lengths, atol=1e-6)
    after = np.exp(made.targets[:, 1]) - PAUSE_FLOOR
    expected = np.zeros(len(lengths))
    expected[4], expected[-1] = 0.2, 0.1
    assert np.allclose(after, expected, atol=1e-6)
    assert np.allclose(np.exp(made.targets[:, 2]) - PAUSE_FLOOR, 0.3)


def test_labels_of_other_units_are_not_used():
    labels, _, length_s = _labels(TEXT, pause_at=4)
    labels[3] = ("ʒ", labels[3][1], labels[3][2])
    assert _sentence(TEXT, labels, length_s, (1.0,), PhonemeTokenizer()) is None


def test_frame_agreement_is_one_for_the_truth_and_falls_with_a_shift():
    labels, _, length_s = _labels(TEXT, pause_at=4)
    assert frame_agreement(labels, labels, length_s) == 1.0
    shifted = [(s, a + 0.15, b + 0.15) for s, a, b in labels]
    assert frame_agreement(shifted, labels, length_s) < 0.5


@pytest.fixture(scope="module")
def trained(kokoro_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("durations")
    train_durations([str(kokoro_corpus)], out, steps=300, batch=8)
    return out


def test_training_writes_the_model_its_figures_and_its_curve(trained):
    assert (trained / "durations.safetensors").is_file() and (trained / "durations_loss.png").is_file()
    figures = json.loads((trained / "durations.json").read_text())
    assert figures["train_sentences"] >= 10 and figures["steps"] == 300


def test_a_trained_model_times_natural_speech_better_than_espeak_and_than_an_untrained_model(kokoro_corpus, trained):
    """On the corpus's own sentences (a 1-minute corpus has no held-out speaker; the README gives
    the held-out figures of the full corpora)."""
    seen, _ = sentences([str(kokoro_corpus)], "train", PhonemeTokenizer())
    torch.manual_seed(0)
    untrained = Durations(DurationPredictor(DurationConfig(vocab_size=len(PhonemeTokenizer()))))
    before = evaluate(untrained, seen)
    after = evaluate(Durations.load(trained), seen)
    assert after["frame_agreement_model"] > before["frame_agreement_model"] + 0.2, (before, after)
    assert after["frame_agreement_model"] > after["frame_agreement_espeak"] + 0.2, after
    assert after["length_error_s_model"] < after["length_error_s_espeak"], after
