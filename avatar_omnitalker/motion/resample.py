"""Linear resampling of frame sequences between rates, respecting each stream's time stamps.

Motion frames (and ARKit frames) are stamped at their centres, (k + 0.5) / fps; mel frames at
i * hop / sr (centred STFT). Resampling interpolates values at the destination stamps and holds
the end values beyond the source range, so no frame is invented past the edges.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from avatar_omnitalker import spec


def interpolate_uniform(x: Tensor, src_start: float, src_step: float, dst_pos: Tensor) -> Tensor:
    """Sample `x` (..., T, D), stamped at src_start + k * src_step, at positions `dst_pos` (N,)."""
    num = x.shape[-2]
    if num == 0:
        raise ValueError("cannot resample an empty sequence")
    idx = ((dst_pos.to(torch.float64) - src_start) / src_step).clamp(0, num - 1)
    lo = idx.floor().long().clamp(max=num - 1)
    hi = (lo + 1).clamp(max=num - 1)
    frac = (idx - lo.to(idx.dtype)).to(x.dtype).unsqueeze(-1)  # (N, 1)
    return x[..., lo, :] * (1 - frac) + x[..., hi, :] * frac


def motion_to_mel_rate(motion: Tensor, num_mel: int) -> Tensor:
    """(..., K, D) at FPS -> (..., num_mel, D) at the mel rate."""
    dst = torch.arange(num_mel, device=motion.device, dtype=torch.float64)  # mel-frame units
    return interpolate_uniform(motion, spec.motion_frame_position(0), spec.MEL_FRAMES_PER_MOTION_FRAME, dst)


def mel_rate_to_motion(x: Tensor, num_frames: int) -> Tensor:
    """(..., M, D) at the mel rate -> (..., num_frames, D) at FPS, sampled at frame centres."""
    k = torch.arange(num_frames, device=x.device, dtype=torch.float64)
    dst = (k + 0.5) * spec.MEL_FRAMES_PER_MOTION_FRAME
    return interpolate_uniform(x, 0.0, 1.0, dst)


def resample_fps(x: np.ndarray | Tensor, src_fps: float, dst_fps: float) -> np.ndarray | Tensor:
    """(T, D) at src_fps -> (round(T * dst / src), D) at dst_fps; same duration, centre stamps."""
    as_numpy = isinstance(x, np.ndarray)
    t = torch.as_tensor(x)
    if src_fps <= 0 or dst_fps <= 0:
        raise ValueError(f"frame rates must be positive, got {src_fps} -> {dst_fps}")
    num_out = int(round(t.shape[-2] * dst_fps / src_fps))
    dst = (torch.arange(num_out, dtype=torch.float64) + 0.5) / dst_fps  # seconds
    out = interpolate_uniform(t, 0.5 / src_fps, 1.0 / src_fps, dst)
    return out.numpy() if as_numpy else out
