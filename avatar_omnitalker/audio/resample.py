"""Band-limited resampling of whole clips (FFT method), for references and corpus audio.

Offline clips are short (seconds to minutes), so one FFT over the clip is exact band-limiting
without designing filters; streaming audio never needs resampling (it is 24 kHz end to end).
"""

from __future__ import annotations

import numpy as np


def resample(audio: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """(N,) float at src_rate -> (round(N * dst / src),) float32 at dst_rate."""
    audio = np.asarray(audio, dtype=np.float64)
    if audio.ndim != 1:
        raise ValueError(f"resample takes mono audio (N,), got shape {audio.shape}")
    if src_rate <= 0 or dst_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {src_rate} -> {dst_rate}")
    if src_rate == dst_rate or audio.size == 0:
        return audio.astype(np.float32)
    n_out = int(round(audio.size * dst_rate / src_rate))
    pad = min(audio.size, src_rate // 10)  # reflect-pad 0.1 s to soften the circular wrap
    padded = np.concatenate([audio[pad:0:-1], audio, audio[-2 : -pad - 2 : -1]]) if pad > 1 else audio
    spectrum = np.fft.rfft(padded)
    n_pad_out = int(round(padded.size * dst_rate / src_rate))
    out = np.fft.irfft(spectrum, n=n_pad_out) * (n_pad_out / padded.size)
    start = int(round((pad if pad > 1 else 0) * dst_rate / src_rate))
    return out[start : start + n_out].astype(np.float32)
