"""Vocos loads from a local folder in the public checkpoint's layout; Griffin-Lim is the fallback."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml

from avatar_omnitalker import spec
from avatar_omnitalker.audio.mel import MelExtractor
from avatar_omnitalker.audio.vocoder import (
    GriffinLimVocoder,
    VocoderError,
    VocosVocoder,
    decode_to_frames,
    load_vocoder,
)

vocos = pytest.importorskip("vocos")

CONFIG = {  # charactr/vocos-mel-24khz's layout, scaled down
    "feature_extractor": {
        "class_path": "vocos.feature_extractors.MelSpectrogramFeatures",
        "init_args": {"sample_rate": 24000, "n_fft": 1024, "hop_length": 256, "n_mels": 100, "padding": "center"},
    },
    "backbone": {
        "class_path": "vocos.models.VocosBackbone",
        "init_args": {"input_channels": 100, "dim": 64, "intermediate_dim": 128, "num_layers": 2},
    },
    "head": {
        "class_path": "vocos.heads.ISTFTHead",
        "init_args": {"dim": 64, "n_fft": 1024, "hop_length": 256, "padding": "same"},
    },
}


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    torch.manual_seed(0)
    model = vocos.Vocos.from_hparams(str(tmp_path / "config.yaml"))
    return tmp_path, model


@pytest.mark.parametrize("weights", ["pytorch_model.bin", "model.safetensors"])
def test_local_vocos_folder(folder, weights):
    path, model = folder
    state = model.state_dict()
    if weights.endswith(".bin"):
        torch.save(state, path / weights)
    else:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in state.items()}, str(path / weights))
    voc = load_vocoder(path)
    assert isinstance(voc, VocosVocoder)
    mel = torch.randn(1, 40, spec.N_MELS)
    with torch.no_grad():
        expected = model.decode(mel.transpose(1, 2))
    assert torch.allclose(voc.decode(mel), expected, atol=1e-6)
    assert decode_to_frames(voc, mel[0].numpy(), 10).shape == (9600,)


def test_broken_folders(folder, tmp_path_factory):
    path, model = folder
    with pytest.raises(VocoderError, match="no pytorch_model.bin"):
        VocosVocoder.from_folder(path)
    torch.save({"backbone.embed.weight": torch.zeros(1)}, path / "pytorch_model.bin")
    with pytest.raises(VocoderError, match="do not fit"):
        VocosVocoder.from_folder(path)
    with pytest.raises(VocoderError, match="config.yaml"):
        VocosVocoder.from_folder(tmp_path_factory.mktemp("empty"))


def test_a_config_naming_another_class_is_refused_and_runs_nothing(folder, tmp_path):
    """Vocos.from_hparams would import and call any class_path; the loader never does."""
    path, _ = folder
    marker = tmp_path / "pwned"
    evil = {**CONFIG, "backbone": {"class_path": "subprocess.Popen", "init_args": {"args": ["touch", str(marker)]}}}
    (path / "config.yaml").write_text(yaml.safe_dump(evil))
    with pytest.raises(VocoderError, match="backbone.class_path must be 'vocos.models.VocosBackbone'"):
        VocosVocoder.from_folder(path)
    assert not marker.exists()
    odd = {**CONFIG, "head": {**CONFIG["head"], "init_args": {**CONFIG["head"]["init_args"], "exec": "x"}}}
    (path / "config.yaml").write_text(yaml.safe_dump(odd))
    with pytest.raises(VocoderError, match=r"head.init_args has unknown key\(s\) \['exec'\]"):
        VocosVocoder.from_folder(path)
    huge = {
        **CONFIG,
        "backbone": {**CONFIG["backbone"], "init_args": {**CONFIG["backbone"]["init_args"], "dim": 10**9}},
    }
    (path / "config.yaml").write_text(yaml.safe_dump(huge))
    with pytest.raises(VocoderError, match="backbone.dim must be between"):
        VocosVocoder.from_folder(path)


def test_bad_yaml_truncated_safetensors_and_pickles_are_clear_errors(folder):
    import pickle

    from safetensors.torch import save_file

    path, model = folder
    (path / "config.yaml").write_text("backbone: [unclosed\n")
    with pytest.raises(VocoderError, match="cannot read the vocoder config"):
        VocosVocoder.from_folder(path)
    (path / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path / "model.safetensors"))
    data = (path / "model.safetensors").read_bytes()
    (path / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(VocoderError, match="not a readable safetensors file"):
        VocosVocoder.from_folder(path)
    (path / "model.safetensors").unlink()

    class Boom:
        def __reduce__(self):
            return (print, ("code ran",))

    (path / "pytorch_model.bin").write_bytes(pickle.dumps({"backbone.x": Boom()}))
    with pytest.raises(VocoderError, match="refused: not a plain tensor file"):
        VocosVocoder.from_folder(path)


def test_griffin_lim_fallback_reconstructs_a_tone():
    t = np.arange(spec.samples_for_frames(25)) / spec.SAMPLE_RATE
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    mel = MelExtractor().for_clip(torch.from_numpy(tone))
    out = decode_to_frames(GriffinLimVocoder(), mel.numpy(), 25)
    assert out.shape == tone.shape
    spectrum = np.abs(np.fft.rfft(out))
    peak_hz = np.argmax(spectrum) * spec.SAMPLE_RATE / out.size
    assert abs(peak_hz - 440) < 15
    back = MelExtractor().for_clip(torch.from_numpy(out))
    assert (back - mel)[5:-5].abs().mean() < 0.5
