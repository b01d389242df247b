"""Configs load from YAML, presets have the promised sizes, bad values name their field."""

from __future__ import annotations

import pytest
import torch

from avatar_omnitalker.model.config import ConfigError, ModelConfig, load_config
from avatar_omnitalker.model.dit import OmniTalkerDiT


@pytest.mark.parametrize("name", ["tiny", "builtin", "small", "base"])
def test_presets_load(name):
    assert load_config(name).name == name


def test_base_is_about_0_8_billion_parameters():
    with torch.device("meta"):
        total = OmniTalkerDiT(load_config("base").model).parameter_counts()["total"]
    assert 0.75e9 <= total <= 0.85e9


def test_base_audio_path_has_f5_v1_base_shape():
    m = load_config("base").model
    assert (m.dim, m.heads, m.ff_mult, m.text_dim, m.conv_layers, m.fusion_depth + m.audio_depth) == (
        1024,
        16,
        2,
        512,
        4,
        22,
    )


@pytest.mark.parametrize(
    "data, field",
    [
        ({"model": {"dim": -4}}, "model.dim"),
        ({"model": {"heads": 2.5}}, "model.heads"),
        ({"model": {"qk_norm": "layer"}}, "model.qk_norm"),
        ({"model": {"depth": 3}}, "model.depth"),
        ({"flow": {"frac_lengths_mask": [0.9, 0.2]}}, "flow.frac_lengths_mask"),
        ({"colour": "red"}, "colour"),
        ({"model": {"attn_mask": "yes"}}, "model.attn_mask"),
    ],
)
def test_bad_values_name_the_field(data, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        ModelConfig.from_dict(data)


def test_yaml_file_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="not a preset"):
        load_config("huge")
