"""Mel -> waveform. Vocos from a local folder (the public checkpoint's layout), else Griffin-Lim.

A Vocos folder holds `config.yaml` (class paths + init args, as published with
charactr/vocos-mel-24khz) and weights as `pytorch_model.bin` (read with weights_only=True) or
`model.safetensors`. Nothing is downloaded. The config is data, never code: only the Vocos
classes of the mel-24khz layout are built, from init args checked by name, type and range
(Vocos.from_hparams would import and call any class a user file names).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np
import torch
from loguru import logger
from torch import Tensor

from avatar_omnitalker import spec
from avatar_omnitalker.audio.mel import mel_filterbank
from avatar_omnitalker.errors import OmniTalkerError


class VocoderError(OmniTalkerError, ValueError):
    pass


class Vocoder(ABC):
    name: str

    @abstractmethod
    def decode(self, mel: Tensor) -> Tensor:
        """(B, T, N_MELS) log-mel -> (B, T * HOP_LENGTH) waveform in [-1, 1]."""

    def to(self, device: str | torch.device) -> Vocoder:
        return self


class VocosVocoder(Vocoder):
    name = "vocos"

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model.eval()

    @classmethod
    def from_folder(cls, folder: str | Path, device: str | torch.device = "cpu") -> VocosVocoder:
        folder = Path(folder)
        config = folder / "config.yaml"
        if not config.is_file():
            raise VocoderError(
                f"{folder}: no config.yaml (a Vocos folder holds config.yaml + pytorch_model.bin or model.safetensors)"
            )
        model = build_vocos(config)
        state = _read_weights(folder)
        state = {k: v for k, v in state.items() if not k.startswith("feature_extractor.")}
        try:
            missing, unexpected = model.load_state_dict(state, strict=False)
        except RuntimeError as err:  # shape mismatches
            raise VocoderError(
                f"{folder}: weights do not fit config.yaml: {str(err).splitlines()[-1].strip()}"
            ) from None
        missing = [k for k in missing if not k.startswith("feature_extractor.")]
        if missing or unexpected:
            raise VocoderError(
                f"{folder}: weights do not fit config.yaml (missing {missing[:8]}, unexpected {unexpected[:8]})"
            )
        logger.info("vocoder: Vocos from {}", folder)
        return cls(model.to(device))

    @torch.no_grad()
    def decode(self, mel: Tensor) -> Tensor:
        p = next(self.model.parameters())
        return self.model.decode(mel.transpose(1, 2).to(device=p.device, dtype=p.dtype)).float()

    def to(self, device: str | torch.device) -> VocosVocoder:
        self.model.to(device)
        return self


# The classes a Vocos mel config may name, and the init args each takes: (type, low, high) or choices.
_VOCOS_PARTS: dict[str, tuple[str, dict[str, tuple]]] = {
    "feature_extractor": (
        "vocos.feature_extractors.MelSpectrogramFeatures",
        {
            "sample_rate": (int, spec.SAMPLE_RATE, spec.SAMPLE_RATE),
            "n_fft": (int, 16, 8192),
            "hop_length": (int, spec.HOP_LENGTH, spec.HOP_LENGTH),
            "n_mels": (int, spec.N_MELS, spec.N_MELS),
            "padding": (("center", "same"),),
        },
    ),
    "backbone": (
        "vocos.models.VocosBackbone",
        {
            "input_channels": (int, spec.N_MELS, spec.N_MELS),
            "dim": (int, 8, 4096),
            "intermediate_dim": (int, 8, 16384),
            "num_layers": (int, 1, 64),
            "layer_scale_init_value": (float, 0.0, 10.0),
            "adanorm_num_embeddings": (int, 1, 64),
        },
    ),
    "head": (
        "vocos.heads.ISTFTHead",
        {
            "dim": (int, 8, 4096),
            "n_fft": (int, 16, 8192),
            "hop_length": (int, spec.HOP_LENGTH, spec.HOP_LENGTH),
            "padding": (("center", "same"),),
        },
    ),
}


def _checked_args(path: Path, part: str, raw: object) -> dict:
    class_path, allowed = _VOCOS_PARTS[part]
    if not isinstance(raw, dict) or raw.get("class_path") != class_path:
        found = raw.get("class_path") if isinstance(raw, dict) else raw
        raise VocoderError(f"{path}: {part}.class_path must be {class_path!r} (the Vocos mel layout), got {found!r}")
    args = raw.get("init_args") or {}
    if not isinstance(args, dict):
        raise VocoderError(f"{path}: {part}.init_args must be a mapping")
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise VocoderError(f"{path}: {part}.init_args has unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    for key, value in args.items():
        rule = allowed[key]
        if len(rule) == 1:
            if value not in rule[0]:
                raise VocoderError(f"{path}: {part}.{key} must be one of {rule[0]}, got {value!r}")
            continue
        kind, low, high = rule
        if value is None and key in ("layer_scale_init_value", "adanorm_num_embeddings"):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and value != int(value)):
            raise VocoderError(
                f"{path}: {part}.{key} must be {'an integer' if kind is int else 'a number'}, got {value!r}"
            )
        if not low <= value <= high:
            raise VocoderError(f"{path}: {part}.{key} must be between {low} and {high}, got {value!r}")
    return args


def build_vocos(path: str | Path) -> torch.nn.Module:
    """A Vocos model from a config.yaml of the mel-24khz layout, without importing what it names."""
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise VocoderError(f"{path}: cannot read the vocoder config: {err}") from None
    if not isinstance(raw, dict) or set(raw) != set(_VOCOS_PARTS):
        got = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise VocoderError(f"{path}: a Vocos config has exactly {sorted(_VOCOS_PARTS)}, got {got}")
    args = {part: _checked_args(path, part, raw[part]) for part in _VOCOS_PARTS}
    if args["backbone"].get("dim", 0) != args["head"].get("dim", 0):
        raise VocoderError(f"{path}: backbone.dim and head.dim differ")
    try:
        from vocos import Vocos
        from vocos.feature_extractors import MelSpectrogramFeatures
        from vocos.heads import ISTFTHead
        from vocos.models import VocosBackbone
    except ImportError as err:  # vocos needs a working torchaudio
        raise VocoderError(f"vocos cannot be imported ({err}); install a torchaudio matching torch") from err
    try:
        return Vocos(
            MelSpectrogramFeatures(**args["feature_extractor"]),
            VocosBackbone(**args["backbone"]),
            ISTFTHead(**args["head"]),
        )
    except TypeError as err:  # a required init arg is missing
        raise VocoderError(f"{path}: {err}") from None


def _read_weights(folder: Path) -> dict[str, Tensor]:
    """Tensors from model.safetensors, or pytorch_model.bin read with weights_only (never a pickle)."""
    if (folder / "model.safetensors").is_file():
        from safetensors.torch import load_file

        try:
            return load_file(str(folder / "model.safetensors"))
        except Exception as err:  # truncated or not a safetensors file
            raise VocoderError(f"{folder / 'model.safetensors'}: not a readable safetensors file ({err})") from None
    if (folder / "pytorch_model.bin").is_file():
        try:
            state = torch.load(str(folder / "pytorch_model.bin"), map_location="cpu", weights_only=True)
        except Exception as err:  # weights_only refuses code; a broken file fails too
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise VocoderError(f"{folder / 'pytorch_model.bin'}: refused: not a plain tensor file ({first})") from None
        if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
            raise VocoderError(f"{folder / 'pytorch_model.bin'}: not a mapping of tensor names to tensors")
        return state
    raise VocoderError(f"{folder}: no pytorch_model.bin or model.safetensors")


class GriffinLimVocoder(Vocoder):
    """Phase reconstruction from the mel alone: intelligible but buzzy; a fallback, said so in the log."""

    name = "griffin-lim"

    def __init__(self, iterations: int = 32, momentum: float = 0.99) -> None:
        self.iterations = iterations
        self.momentum = momentum
        fb = mel_filterbank().double()  # (freqs, mels)
        self.inverse = torch.linalg.pinv(fb.T).float()  # (freqs, mels)
        self.window = torch.hann_window(spec.WIN_LENGTH)
        logger.warning("vocoder: no Vocos weights given, using Griffin-Lim (lower quality)")

    @torch.no_grad()
    def decode(self, mel: Tensor) -> Tensor:
        mag = torch.clamp(torch.exp(mel.float().cpu()) @ self.inverse.T, min=0.0).transpose(1, 2)  # (B, freqs, T)
        n_out = mel.shape[1] * spec.HOP_LENGTH
        stft = lambda x: torch.stft(
            x, spec.N_FFT, spec.HOP_LENGTH, spec.WIN_LENGTH, self.window, center=True, return_complex=True
        )
        istft = lambda s: torch.istft(
            s, spec.N_FFT, spec.HOP_LENGTH, spec.WIN_LENGTH, self.window, center=True, length=n_out
        )
        gen = torch.Generator().manual_seed(0)
        angles = torch.exp(2j * torch.pi * torch.rand(mag.shape, generator=gen))
        prev = torch.zeros_like(angles)
        for _ in range(self.iterations):
            rebuilt = stft(istft(mag * angles))[..., : mag.shape[-1]]
            accel = rebuilt - self.momentum / (1 + self.momentum) * prev
            prev = rebuilt
            angles = accel / accel.abs().clamp(min=1e-8)
        return istft(mag * angles).clamp(-1, 1)


def load_vocoder(folder: str | Path | None, device: str | torch.device = "cpu") -> Vocoder:
    return VocosVocoder.from_folder(folder, device) if folder else GriffinLimVocoder()


def decode_to_frames(vocoder: Vocoder, mel: np.ndarray | Tensor, frames: int) -> np.ndarray:
    """(T, N_MELS) mel -> exactly frames * SAMPLES_PER_FRAME samples (float32)."""
    mel_t = torch.as_tensor(np.asarray(mel), dtype=torch.float32)[None]
    wav = vocoder.decode(mel_t)[0].cpu().numpy()
    n = spec.samples_for_frames(frames)
    if wav.size < n:
        wav = np.pad(wav, (0, n - wav.size))
    return np.clip(wav[:n], -1.0, 1.0).astype(np.float32)
