"""Log-mel features in plain torch, identical to Vocos mel-24khz's extractor (F5-TTS clamp).

Written out rather than taken from torchaudio so that inference needs no torchaudio (the host
environment may carry a torch build it cannot load) and so the filterbank is inspectable.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from avatar_omnitalker import spec


def _hz_to_mel_htk(freq: float) -> float:
    return 2595.0 * math.log10(1.0 + freq / 700.0)


def mel_filterbank(
    n_freqs: int = spec.N_FFT // 2 + 1,
    n_mels: int = spec.N_MELS,
    sample_rate: int = spec.SAMPLE_RATE,
    f_min: float = 0.0,
    f_max: float | None = None,
) -> Tensor:
    """Triangular HTK-scale filters without area normalisation: (n_freqs, n_mels) float32.

    Computed in float32 in the same order as torchaudio's `melscale_fbanks`, which Vocos uses,
    so the features agree to rounding.
    """
    f_max = sample_rate / 2 if f_max is None else f_max
    all_freqs = torch.linspace(0, sample_rate // 2, n_freqs)
    m_pts = torch.linspace(_hz_to_mel_htk(f_min), _hz_to_mel_htk(f_max), n_mels + 2)
    f_pts = 700.0 * (10.0 ** (m_pts / 2595.0) - 1.0)
    f_diff = f_pts[1:] - f_pts[:-1]  # (n_mels + 1,)
    slopes = f_pts.unsqueeze(0) - all_freqs.unsqueeze(1)  # (n_freqs, n_mels + 2)
    down = (-1.0 * slopes[:, :-2]) / f_diff[:-1]
    up = slopes[:, 2:] / f_diff[1:]
    return torch.max(torch.zeros(1), torch.min(down, up))


class MelExtractor(nn.Module):
    """wav (B, N) or (N,) -> log-mel (B, N_MELS, N // HOP + 1), the Vocos channel-first layout."""

    def __init__(self, log_clamp: float = spec.MEL_LOG_CLAMP) -> None:
        super().__init__()
        self.log_clamp = log_clamp
        self.register_buffer("window", torch.hann_window(spec.WIN_LENGTH), persistent=False)
        self.register_buffer("filterbank", mel_filterbank(), persistent=False)

    def forward(self, wav: Tensor) -> Tensor:
        squeeze = wav.ndim == 1
        if squeeze:
            wav = wav.unsqueeze(0)
        if wav.ndim != 2:
            raise ValueError(f"expected a waveform (B, N) or (N,), got shape {tuple(wav.shape)}")
        if wav.shape[-1] <= spec.N_FFT // 2:
            raise ValueError(f"waveform too short for a centred STFT: {wav.shape[-1]} samples")
        spec_c = torch.stft(
            wav.float(),
            n_fft=spec.N_FFT,
            hop_length=spec.HOP_LENGTH,
            win_length=spec.WIN_LENGTH,
            window=self.window,
            center=spec.MEL_CENTER,
            pad_mode="reflect",
            normalized=False,
            onesided=True,
            return_complex=True,
        )
        magnitude = spec_c.abs().pow(spec.MEL_POWER)  # (B, n_freqs, T)
        mel = torch.matmul(magnitude.transpose(1, 2), self.filterbank).transpose(1, 2)
        mel = mel.clamp(min=self.log_clamp).log()
        return mel.squeeze(0) if squeeze else mel

    def for_clip(self, wav: Tensor) -> Tensor:
        """(N,) -> (mel_frames_for_samples(N), N_MELS): the frame-major, model-length mel."""
        if wav.ndim != 1:
            raise ValueError(f"for_clip takes one mono waveform (N,), got {tuple(wav.shape)}")
        mel = self.forward(wav).transpose(0, 1)
        return mel[: spec.mel_frames_for_samples(wav.shape[0])]
