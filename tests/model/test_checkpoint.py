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


def _with_vocab(size: int):
    config = load_config("tiny")
    return dataclasses.replace(config, model=dataclasses.replace(config.model, text_vocab_size=size))


def test_fine_tuning_start_keeps_every_weight_and_grows_the_text_embedding(tmp_path):
    """A model trained before symbols were appended to its vocab starts a bigger one: old rows
    and every other tensor are copied exactly, new rows start at the mean of the old ones."""
    from avatar_omnitalker.model.checkpoint import init_from_checkpoint

    stats = MotionStats(torch.linspace(-1, 1, spec.MOTION_DIM), torch.linspace(0.1, 2, spec.MOTION_DIM))
    old = randomize(FlowMatching(_with_vocab(111), stats), std=0.05)
    path = save_checkpoint(old, tmp_path / "old")
    new = FlowMatching(_with_vocab(121))
    grown = init_from_checkpoint(new, path)
    key = "backbone.text_embed.text_embed.weight"
    assert grown == [key]
    old_sd, new_sd = old.state_dict(), new.state_dict()
    assert torch.equal(new_sd[key][:112], old_sd[key])
    assert torch.allclose(new_sd[key][112:], old_sd[key][1:].mean(0).expand(10, -1))
    assert all(torch.equal(new_sd[k], v) for k, v in old_sd.items() if k != key)


def test_fine_tuning_start_refuses_another_architecture(tmp_path):
    from avatar_omnitalker.model.checkpoint import init_from_checkpoint

    path = save_checkpoint(FlowMatching(_with_vocab(121)), tmp_path / "big")
    with pytest.raises(CheckpointError, match=r"(?s)cannot start this model.*text_embed.*\(122, 32\).*\(112, 32\)"):
        init_from_checkpoint(FlowMatching(_with_vocab(111)), path)


def test_average_is_the_weighted_mean_and_records_its_sources(tmp_path):
    from avatar_omnitalker.model.checkpoint import average_checkpoints

    stats = MotionStats(torch.linspace(-1, 1, spec.MOTION_DIM), torch.linspace(0.1, 2, spec.MOTION_DIM))
    a = randomize(FlowMatching(load_config("tiny"), stats), std=0.05, seed=1)
    b = randomize(FlowMatching(load_config("tiny"), stats), std=0.05, seed=2)
    pa, pb = save_checkpoint(a, tmp_path / "a"), save_checkpoint(b, tmp_path / "b")
    path = average_checkpoints([pa, tmp_path / "b"], tmp_path / "soup", weights=[3, 1])
    soup = load_checkpoint(path)
    sa, sb = a.state_dict(), b.state_dict()
    for key, tensor in soup.state_dict().items():
        assert torch.allclose(tensor, 0.75 * sa[key] + 0.25 * sb[key], atol=1e-7), key
    assert torch.equal(soup.stats.mean, stats.mean) and torch.equal(soup.stats.std, stats.std)
    assert '"weight": 0.75' in read_metadata(path)["extra.averaged_from"]
    assert str(pb.parent) in read_metadata(path)["extra.averaged_from"]


def test_average_refuses_what_does_not_average_and_writes_nothing(tmp_path):
    from avatar_omnitalker.model.checkpoint import average_checkpoints

    stats = MotionStats(torch.zeros(spec.MOTION_DIM), torch.ones(spec.MOTION_DIM))
    other_stats = MotionStats(torch.full((spec.MOTION_DIM,), 0.5), torch.ones(spec.MOTION_DIM))
    a = save_checkpoint(FlowMatching(load_config("tiny"), stats), tmp_path / "a")
    b = save_checkpoint(FlowMatching(load_config("tiny"), other_stats), tmp_path / "b")
    c = save_checkpoint(FlowMatching(_with_vocab(121), stats), tmp_path / "c")
    out = tmp_path / "soup"
    with pytest.raises(CheckpointError, match="motion mean differs"):
        average_checkpoints([a, b], out)
    with pytest.raises(CheckpointError, match="another model config"):
        average_checkpoints([a, c], out)
    with pytest.raises(CheckpointError, match="2 weights for 3 checkpoints"):
        average_checkpoints([a, a, a], out, weights=[1, 1])
    with pytest.raises(CheckpointError, match="positive"):
        average_checkpoints([a, a], out, weights=[1, float("nan")])
    with pytest.raises(CheckpointError, match="at least two"):
        average_checkpoints([a], out)
    assert not out.exists()
