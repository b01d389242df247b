"""The velocity step on ONNX Runtime equals the torch step, at lengths other than the traced one."""

from __future__ import annotations

import pytest
import torch

from avatar_omnitalker.model.cfm import FlowMatching
from avatar_omnitalker.model.config import load_config
from tests.conftest import randomize

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from avatar_omnitalker.model.onnx_engine import OnnxVelocity, export_velocity

    torch.manual_seed(0)
    model = randomize(FlowMatching(load_config("tiny")), seed=1, std=0.1).eval()
    path = export_velocity(model, tmp_path_factory.mktemp("onnx") / "velocity.onnx", frames=(60, 16))
    return model, OnnxVelocity(path, "cpu")


@pytest.mark.parametrize(
    "frames, ref_frames, motion_cfg", [(24, 8, None), (57, 20, 4.0)]
)  # neither is the traced length; the graph takes the motion branch's own strength too
def test_onnx_sample_equals_torch_sample(exported, frames, ref_frames, motion_cfg):
    model, engine = exported
    c = model.config.model
    ref_mel = torch.randn(1, 80, c.mel_dim)
    ref_motion = torch.randn(1, ref_frames, c.motion_dim)
    text = torch.randint(0, c.text_vocab_size, (1, 40))
    kwargs = dict(ref_frames=ref_frames, steps=4, cfg_strength=2.0, motion_cfg_strength=motion_cfg, seed=3)
    expected = model.sample(ref_mel, ref_motion, text, frames, **kwargs)
    got = model.sample(ref_mel, ref_motion, text, frames, engine=engine, **kwargs)
    assert got.mel.shape == expected.mel.shape and got.motion.shape == expected.motion.shape
    assert torch.allclose(got.mel, expected.mel, atol=1e-4, rtol=1e-4)
    assert torch.allclose(got.motion, expected.motion, atol=1e-4, rtol=1e-4)


def test_onnx_padded_batch_equals_torch_padded_batch(exported):
    """Two requests of different lengths in one solve: the masks travel into the graph too."""
    model, engine = exported
    c = model.config.model
    ref_mel = torch.randn(2, 80, c.mel_dim)
    ref_motion = torch.randn(2, 12, c.motion_dim)
    text = torch.randint(0, c.text_vocab_size, (2, 40))
    total = torch.tensor([30, 45])
    kwargs = dict(ref_frames=torch.tensor([10, 12]), steps=3, cfg_strength=2.0, seed=[4, 5])
    expected = model.sample(ref_mel, ref_motion, text, total, **kwargs)
    got = model.sample(ref_mel, ref_motion, text, total, engine=engine, **kwargs)
    assert torch.allclose(got.mel, expected.mel, atol=1e-4, rtol=1e-4)
    assert torch.allclose(got.motion, expected.motion, atol=1e-4, rtol=1e-4)
