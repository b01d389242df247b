"""The ONNX vocoder decodes what the torch vocoder decodes."""

from __future__ import annotations

import importlib.resources

import pytest
import torch

from avatar_omnitalker import spec
from avatar_omnitalker.audio.onnx_vocoder import OnnxVocoder, export_vocoder, onnx_vocoder_for
from avatar_omnitalker.audio.vocoder import GriffinLimVocoder, VocosVocoder


@pytest.fixture(scope="module")
def shipped():
    return VocosVocoder.from_folder(importlib.resources.files("avatar_omnitalker") / "assets" / "vocoder")


@pytest.mark.parametrize("batch, frames", [(1, 40), (2, 313)])  # lengths other than the traced one
def test_parity_with_torch(shipped, tmp_path, batch, frames):
    path = export_vocoder(shipped, tmp_path / "voc.onnx")
    onnx = OnnxVocoder(path, shipped.model.head.istft)
    mel = torch.randn(batch, frames, spec.N_MELS) - 4.0  # (b, t, n_mels), log-mel range
    expected, got = shipped.decode(mel), onnx.decode(mel)
    assert got.shape == expected.shape == (batch, frames * spec.HOP_LENGTH)
    assert (got - expected).abs().max() < 1e-4 * max(1.0, expected.abs().max().item())


def test_exported_once_per_weights(shipped, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = onnx_vocoder_for(shipped, "cpu")
    files = list((tmp_path / "avatar-omnitalker" / "onnx").glob("vocoder-*.onnx"))
    assert len(files) == 1 and isinstance(first, OnnxVocoder)
    onnx_vocoder_for(shipped, "cpu")
    assert list((tmp_path / "avatar-omnitalker" / "onnx").glob("vocoder-*.onnx")) == files
    assert isinstance(onnx_vocoder_for(GriffinLimVocoder(), "cpu"), GriffinLimVocoder)
