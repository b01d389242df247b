"""Training: one code path for one process and torchrun; resume continues the same curve."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from avatar_omnitalker.model.checkpoint import load_checkpoint
from avatar_omnitalker.model.config import ConfigError
from avatar_omnitalker.train.config import TrainConfig
from avatar_omnitalker.train.trainer import train

BASE = dict(
    model="tiny",
    steps=4,
    micro_batches=2,
    max_frames=2000,
    max_samples=4,
    save_every=2,
    log_every=1,
    lr=0.002,
    warmup=2,
    max_ref_s=4,
    max_target_s=4,
    threads=1,
)


def config(corpus, out, **kw) -> TrainConfig:
    return TrainConfig(corpus=str(corpus), out=str(out), **{**BASE, **kw}).validate()


def weights(path):
    return load_checkpoint(path).state_dict()


def max_diff(a, b) -> float:
    return max((x.float() - y.float()).abs().max().item() for x, y in zip(a.values(), b.values()))


@pytest.fixture(scope="module")
def straight(small_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("straight")
    log = train(config(small_corpus, out))
    return out, log


def test_outputs_of_a_run(straight):
    out, log = straight
    assert [r["step"] for r in log] == [1, 2, 3, 4]
    rows = [json.loads(line) for line in (out / "loss.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4] and all(r["loss"] > 0 for r in rows)
    assert (out / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "latest").read_text() == "step-0000004"
    model = load_checkpoint(out / "checkpoints" / "step-0000004")
    assert model.config.vocab == "ipa_phonemes"


def test_resume_continues_exactly(small_corpus, tmp_path, straight):
    out, log = straight
    cfg = config(small_corpus, tmp_path, steps=2)
    first = train(cfg)
    with open(tmp_path / "loss.jsonl", "a") as f:  # a crash after step 3 was logged but before it was saved
        f.write(json.dumps({"step": 3, "loss": 99.0}) + "\n")
    second = train(dataclasses.replace(cfg, steps=4))
    assert [json.loads(line)["step"] for line in (tmp_path / "loss.jsonl").read_text().splitlines()] == [1, 2, 3, 4]
    assert [r["loss"] for r in first + second] == [r["loss"] for r in log]
    assert (
        max_diff(weights(tmp_path / "checkpoints" / "step-0000004"), weights(out / "checkpoints" / "step-0000004"))
        == 0.0
    )


def test_two_process_ddp_equals_one_process(small_corpus, tmp_path, straight):
    out, _ = straight
    cfg_path = tmp_path / "ddp.yaml"
    cfg_path.write_text(yaml.safe_dump({**BASE, "corpus": str(small_corpus), "out": str(tmp_path / "run")}))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29533",
        "-m",
        "avatar_omnitalker.cli",
        "train",
        "--config",
        str(cfg_path),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (
        max_diff(
            weights(tmp_path / "run" / "checkpoints" / "step-0000004"), weights(out / "checkpoints" / "step-0000004")
        )
        < 1e-5
    )


def test_loss_falls_on_a_short_run(small_corpus, tmp_path):
    log = train(config(small_corpus, tmp_path, steps=40, save_every=40, lr=0.003, warmup=5))
    first = sum(r["loss"] for r in log[:5]) / 5
    last = sum(r["loss"] for r in log[-5:]) / 5
    assert last < 0.6 * first, (first, last)


@pytest.mark.parametrize("field, value", [("steps", 0), ("text_mode", "magic"), ("decay", "exp"), ("ema_decay", 1.0)])
def test_bad_values_name_the_field(small_corpus, tmp_path, field, value):
    with pytest.raises(ConfigError, match=f"train.{field}"):
        config(small_corpus, tmp_path, **{field: value})


def test_unknown_yaml_keys(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("corpus: x\nout: y\nlearning_rate: 3\n")
    with pytest.raises(ConfigError, match="train.learning_rate"):
        TrainConfig.load(path)


@pytest.mark.parametrize(
    "path", sorted((Path(__file__).parents[2] / "config" / "train").glob("*.yaml")), ids=lambda p: p.name
)
def test_the_recipes_training_configs_validate(path):
    """A recipe's config with a typo fails after its corpus is made; here it fails at once."""
    config = TrainConfig.load(path)
    assert config.steps > 0 and config.out


def test_fine_tuning_starts_from_a_run(small_corpus, tmp_path, straight):
    """init_from takes a run folder (its latest checkpoint): with no update the result is the start."""
    out, _ = straight
    tuned = tmp_path / "tuned"
    train(config(small_corpus, tuned, steps=1, save_every=1, lr=1e-12, warmup=0, init_from=str(out)))
    assert (
        max_diff(weights(out / "checkpoints" / "step-0000004"), weights(tuned / "checkpoints" / "step-0000001")) < 1e-4
    )


def test_a_motion_fine_tune_keeps_the_audio_side_and_takes_the_flow_overrides(small_corpus, tmp_path, straight):
    """freeze_audio from one of our checkpoints: the audio side's weights stay as they were."""
    from avatar_omnitalker.model.f5_compat import audio_branch_parameters

    out, _ = straight
    tuned = tmp_path / "tuned"
    flow = {"motion_delta_loss_weight": 2.0}
    log = train(config(small_corpus, tuned, steps=3, lr=0.01, init_from=str(out), freeze_audio=True, flow=flow))
    assert all(r["motion_delta"] > 0 for r in log)
    before = weights(out / "checkpoints" / "step-0000004")
    after = load_checkpoint(tuned / "checkpoints" / "step-0000003")
    assert after.config.flow.motion_delta_loss_weight == 2.0
    moved = {k: (after.state_dict()[k] - v).abs().max().item() for k, v in before.items() if k.startswith("backbone.")}
    frozen = {id(p) for p in audio_branch_parameters(after.backbone)}
    audio = [f"backbone.{k}" for k, p in after.backbone.named_parameters() if id(p) in frozen]
    assert audio and max(moved[k] for k in audio) < 1e-6
    assert min(moved[k] for k in moved if k not in audio and k.endswith("weight")) > 0


def test_freezing_the_audio_side_needs_a_trained_start(small_corpus, tmp_path):
    with pytest.raises(ConfigError, match="train.freeze_audio"):
        config(small_corpus, tmp_path, freeze_audio=True)
    with pytest.raises(ConfigError, match="flow.motion_delta_loss_weight"):
        config(small_corpus, tmp_path, flow={"motion_delta_loss_weight": -1.0})


def test_init_from_and_init_f5_exclude_each_other(small_corpus, tmp_path):
    with pytest.raises(ConfigError, match="train.init_from"):
        config(small_corpus, tmp_path, init_from="a", init_f5="b")


def test_prefetching_threads_give_the_same_run(small_corpus, tmp_path, straight):
    """Background loading changes when a batch is read, never which batch: the same curve."""
    _, log = straight
    assert [r["loss"] for r in train(config(small_corpus, tmp_path, prefetch=3))] == [r["loss"] for r in log]


def test_a_time_limit_stops_and_saves_the_step_it_reached(small_corpus, tmp_path):
    log = train(config(small_corpus, tmp_path, steps=1000, save_every=1000, time_limit_s=1e-6))
    assert [r["step"] for r in log] == [1]
    assert (tmp_path / "latest").read_text() == "step-0000001"
    load_checkpoint(tmp_path / "checkpoints" / "step-0000001")


def test_training_on_a_packed_corpus(small_corpus, tmp_path):
    """What a GPU lease trains on: mel + motion only, no audio, about a fifth of the bytes."""
    from avatar_omnitalker.data.pack import pack_corpus

    pack_corpus([small_corpus], tmp_path / "pack")
    log = train(config(tmp_path / "pack", tmp_path / "run", steps=2))
    assert [r["step"] for r in log] == [1, 2] and all(r["loss"] > 0 for r in log)
