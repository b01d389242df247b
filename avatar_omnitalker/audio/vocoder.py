"""Mel -> waveform. Vocos from a local folder (the public checkpoint's layout), else Griffin-Lim.

A Vocos folder holds `config.yaml` (class paths + init args, as published with
charactr/vocos-mel-24khz) and weights as `pytorch_model.bin` (read with weights_only=True) or
`model.safetensors`. Nothing is downloaded.
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


class VocoderError(ValueError):
    pass


class Vocoder(ABC):
    name: str

    @abstractmethod
    def decode(self, mel: Tensor) -> Tensor:
        """(B, T, N_MELS) log-mel -> (B, T * HOP_LENGTH) waveform in [-1, 1]."""

    def to(self, device: str | torch.device) -> "Vocoder":
        return self


class VocosVocoder(Vocoder):
    name = "vocos"

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model.eval()

    @classmethod
    def from_folder(cls, folder: str | Path, device: str | torch.device = "cpu") -> "VocosVocoder":
        folder = Path(folder)
        config = folder / "config.yaml"
        if not config.is_file():
            raise VocoderError(f"{folder}: no config.yaml (a Vocos folder holds config.yaml + pytorch_model.bin or model.safetensors)")
        try:
            from vocos import Vocos
        except ImportError as err:  # vocos needs a working torchaudio
            raise VocoderError(f"vocos cannot be imported ({err}); install a torchaudio matching torch") from err
        model = Vocos.from_hparams(str(config))
        if (folder / "model.safetensors").is_file():
            from safetensors.torch import load_file

            state = load_file(str(folder / "model.safetensors"))
        elif (folder / "pytorch_model.bin").is_file():
            state = torch.load(str(folder / "pytorch_model.bin"), map_location="cpu", weights_only=True)
        else:
            raise VocoderError(f"{folder}: no pytorch_model.bin or model.safetensors")
        state = {k: v for k, v in state.items() if not k.startswith("feature_extractor.")}
        try:
            missing, unexpected = model.load_state_dict(state, strict=False)
        except RuntimeError as err:  # shape mismatches
            raise VocoderError(f"{folder}: weights do not fit config.yaml: {str(err).splitlines()[-1].strip()}") from None
        missing = [k for k in missing if not k.startswith("feature_extractor.")]
        if missing or unexpected:
            raise VocoderError(f"{folder}: weights do not fit config.yaml (missing {missing[:8]}, unexpected {unexpected[:8]})")
        logger.info("vocoder: Vocos from {}", folder)
        return cls(model.to(device))

    @torch.no_grad()
    def decode(self, mel: Tensor) -> Tensor:
        p = next(self.model.parameters())
        return self.model.decode(mel.transpose(1, 2).to(device=p.device, dtype=p.dtype)).float()

    def to(self, device: str | torch.device) -> "VocosVocoder":
        self.model.to(device)
        return self


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
        stft = lambda x: torch.stft(x, spec.N_FFT, spec.HOP_LENGTH, spec.WIN_LENGTH, self.window, center=True, return_complex=True)  # noqa: E731
        istft = lambda s: torch.istft(s, spec.N_FFT, spec.HOP_LENGTH, spec.WIN_LENGTH, self.window, center=True, length=n_out)  # noqa: E731
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
