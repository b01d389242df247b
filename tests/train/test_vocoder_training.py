"""Vocoder fine-tuning starts from the given weights and refuses another architecture."""

from __future__ import annotations

import pytest
import torch

from avatar_omnitalker.audio.vocoder import VocoderError, VocosVocoder
from avatar_omnitalker.train.vocoder import VocoderConfig, train_vocoder

SMALL = dict(dim=32, intermediate_dim=64, num_layers=1, batch=2)


def test_fine_tuning_starts_from_the_given_vocoder(small_corpus, tmp_path):
    first = train_vocoder(str(small_corpus), str(tmp_path / "a"), VocoderConfig(**SMALL, steps=1))
    zero_lr = VocoderConfig(**SMALL, steps=1, lr=0.0)  # no update: the result is the start
    tuned = train_vocoder(str(small_corpus), str(tmp_path / "b"), zero_lr, init=str(first))
    a = VocosVocoder.from_folder(first).model.state_dict()
    b = VocosVocoder.from_folder(tuned).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_fine_tuning_refuses_another_architecture(small_corpus, tmp_path):
    first = train_vocoder(str(small_corpus), str(tmp_path / "a"), VocoderConfig(**SMALL, steps=1))
    with pytest.raises(VocoderError, match="not the architecture"):
        train_vocoder(
            str(small_corpus),
            str(tmp_path / "b"),
            VocoderConfig(dim=48, intermediate_dim=64, num_layers=1, batch=2, steps=1),
            init=str(first),
        )
