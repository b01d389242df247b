"""The plain-torch mel extractor equals Vocos mel-24khz's features (with F5's clamp)."""

from __future__ import annotations

import pytest
import torch

from avatar_omnitalker import spec
from avatar_omnitalker.audio.mel import MelExtractor, mel_filterbank


def test_matches_vocos_feature_extractor():
    vocos_fe = pytest.importorskip("vocos.feature_extractors")
    g = torch.Generator().manual_seed(0)
    wav = torch.randn(2, spec.SAMPLE_RATE, generator=g) * 0.3
    ours = MelExtractor(log_clamp=1e-7)(wav)
    ref = vocos_fe.MelSpectrogramFeatures(sample_rate=24000, n_fft=1024, hop_length=256, n_mels=100, padding="center")(
        wav
    )
    assert ours.shape == ref.shape == (2, spec.N_MELS, spec.SAMPLE_RATE // spec.HOP_LENGTH + 1)
    assert (ours - ref).abs().max() < 1e-3


def test_filterbank_matches_torchaudio():
    ta = pytest.importorskip("torchaudio")
    ref = ta.functional.melscale_fbanks(513, 0.0, 12000.0, 100, 24000, norm=None, mel_scale="htk")
    assert torch.allclose(mel_filterbank(), ref, atol=1e-6)


def test_f5_clamp_and_model_length():
    wav = torch.zeros(spec.samples_for_frames(8))
    mel = MelExtractor().for_clip(wav)
    assert mel.shape == (spec.mel_frames_for_motion(8), spec.N_MELS) == (30, 100)
    assert torch.allclose(mel, torch.full_like(mel, torch.log(torch.tensor(1e-5)).item()))


def test_bad_input_shapes():
    with pytest.raises(ValueError, match="too short"):
        MelExtractor()(torch.zeros(100))
    with pytest.raises(ValueError, match="expected a waveform"):
        MelExtractor()(torch.zeros(1, 1, 5000))
