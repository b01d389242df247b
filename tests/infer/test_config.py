"""PipelineConfig: one form of the generation options for the CLI, YAML files and the handler."""

from __future__ import annotations

import argparse

import pytest
import torch

from avatar_omnitalker.infer.config import ConfigError, PipelineConfig
from avatar_omnitalker.infer.pipeline import model_dtype, resolve_device


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(nfe=0), "nfe must be between 1 and 64"),
        (dict(nfe=2.5), "nfe must be an integer"),
        (dict(cfg=float("nan")), "cfg must be between"),
        (dict(cfg=-3.0), "cfg must be between"),
        (dict(speed=0.0), "speed must be between"),
        (dict(speed=-1.0), "speed must be between"),
        (dict(size=100000), "size must be between 64 and 2048"),
        (dict(device="tpu9"), "device must be"),
        (dict(method="rk4"), "method must be one of"),
        (dict(renderer="face.png"), "renderer must be"),
        (dict(seed=-1), "seed must be between"),
        (dict(engine="tensorrt"), "engine must be one of"),
        (dict(nfe=True), "nfe must be an integer"),
        (dict(dtype="float64"), "dtype must be one of"),
        (dict(engine="onnx", dtype="bfloat16"), "ONNX engine runs float32"),
        (dict(engine="graphs", cfg=0.0), "needs cfg > 0"),
        (dict(cfg_motion=-1.0), "cfg_motion must be between 0.0 and 10.0"),
        (dict(cfg_motion="lively"), "cfg_motion must be a number"),
    ],
)
def test_every_option_is_range_checked_with_a_message_naming_it(bad, message):
    with pytest.raises(ConfigError, match=message):
        PipelineConfig(**bad)


def test_yaml_round_trip_and_unknown_keys(tmp_path):
    config = PipelineConfig(nfe=12, cfg=1.5, seed=3, renderer="r.onnx", size=256)
    path = tmp_path / "p.yaml"
    path.write_text(config.to_yaml())
    assert PipelineConfig.from_yaml(path) == config
    path.write_text("nfe: 12\nsteps: 3\n")
    with pytest.raises(ConfigError, match=r"unknown option\(s\) \['steps'\]"):
        PipelineConfig.from_yaml(path)
    path.write_text("nfe: [1\n")
    with pytest.raises(ConfigError, match="cannot read pipeline config"):
        PipelineConfig.from_yaml(path)


def test_command_line_options_come_from_the_fields_and_override_a_file(tmp_path):
    parser = argparse.ArgumentParser()
    PipelineConfig.add_arguments(parser)
    (tmp_path / "p.yaml").write_text("nfe: 12\nseed: 5\n")
    args = parser.parse_args(["--pipeline-config", str(tmp_path / "p.yaml"), "--seed", "9", "--cfg", "1.0"])
    assert PipelineConfig.from_args(args) == PipelineConfig(nfe=12, seed=9, cfg=1.0)
    lively = PipelineConfig.from_args(parser.parse_args(["--cfg_motion", "4", "--cfg", "0", "--engine", "graphs"]))
    assert (lively.cfg, lively.cfg_motion) == (0.0, 4.0)  # motion guided alone is still a guided solve
    with pytest.raises(ConfigError, match="^--nfe must be between"):
        PipelineConfig.from_args(parser.parse_args(["--nfe", "0"]))


def test_device_auto_resolves_and_a_missing_gpu_is_a_clear_error():
    assert resolve_device("auto") == ("cuda:0" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="sees no CUDA GPU"):
            resolve_device("cuda")


def test_dtype_auto_is_bfloat16_on_cuda_and_amx_cpus_and_never_for_onnx(monkeypatch):
    from avatar_omnitalker.infer import pipeline

    monkeypatch.setattr(pipeline, "cpu_has_bf16_matmul", lambda: False)
    assert model_dtype("auto", "cpu") == torch.float32
    monkeypatch.setattr(pipeline, "cpu_has_bf16_matmul", lambda: True)
    assert model_dtype("auto", "cpu") == torch.bfloat16
    assert model_dtype("auto", "cpu", engine="onnx") == torch.float32
    assert model_dtype("auto", "cuda:0") == torch.bfloat16
    assert model_dtype("auto", "cuda", engine="onnx") == torch.float32
    assert model_dtype("bfloat16", "cpu") == torch.bfloat16
