"""Whole-model checkpoints round-trip and refuse what does not fit."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from safetensors.torch import save_file

from avatar_omnitalker import spec
from avatar_omnitalker.model.cfm import FlowMatching
from avatar_omnitalker.model.checkpoint import CheckpointError, load_checkpoint, read_metadata, save_checkpoint
from avatar_omnitalker.model.config import load_config
from avatar_omnitalker.motion.stats import MotionStats
from tests.conftest import randomize


def test_round_trip_keeps_weights_config_and_stats(tmp_path):
    stats = MotionStats(torch.linspace(-1, 1, spec.MOTION_DIM), torch.linspace(0.1, 2, spec.MOTION_DIM))
    model = randomize(FlowMatching(load_config("tiny"), stats), std=0.05)
    path = save_checkpoint(model, tmp_path / "ckpt", extra={"step": 12})
    assert path.name == "model.safetensors" and not list(tmp_path.glob("ckpt/*.tmp"))
    loaded = load_checkpoint(tmp_path / "ckpt")
    assert loaded.config == model.config
    assert torch.equal(loaded.stats.mean, stats.mean) and torch.equal(loaded.stats.std, stats.std)
    for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), k
    assert read_metadata(path)["extra.step"] == "12"


def test_shape_mismatch_names_the_tensor(tmp_path):
    model = FlowMatching(load_config("tiny"))
    path = save_checkpoint(model, tmp_path / "a.safetensors")
    bigger = load_config("tiny")
    bigger = dataclasses.replace(bigger, model=dataclasses.replace(bigger.model, text_vocab_size=3000))
    from avatar_omnitalker.model.checkpoint import load_weights

    with pytest.raises(CheckpointError, match=r"text_embed\.text_embed\.weight.*\(2729, 32\).*\(3001, 32\)"):
        load_weights(FlowMatching(bigger), path)


def test_foreign_files_are_refused(tmp_path):
    plain = tmp_path / "plain.safetensors"
    save_file({"x": torch.zeros(2)}, str(plain))
    with pytest.raises(CheckpointError, match="not an avatar-omnitalker model checkpoint"):
        load_checkpoint(plain)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_checkpoint(junk)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing")
