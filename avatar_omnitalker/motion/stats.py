"""Per-dimension motion statistics, stored with a model so its outputs can be de-normalised.

Blendshapes live in [0, 1], angles in radians and translations in face widths: without
normalisation the flow-matching loss would be dominated by whichever group has the largest
spread. Dimensions that never move get a floor on their std so they stay finite.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import Tensor

from avatar_omnitalker import spec

STD_FLOOR = 1e-3


@dataclass
class MotionStats:
    mean: Tensor  # (MOTION_DIM,)
    std: Tensor  # (MOTION_DIM,)

    def __post_init__(self) -> None:
        for name in ("mean", "std"):
            value = getattr(self, name)
            if tuple(value.shape) != (spec.MOTION_DIM,):
                raise ValueError(
                    f"motion stats '{name}' must have shape ({spec.MOTION_DIM},), got {tuple(value.shape)}"
                )
            if not torch.isfinite(value).all():
                raise ValueError(f"motion stats '{name}' holds non-finite values")
        if (self.std <= 0).any():
            raise ValueError("motion stats 'std' must be positive")

    @classmethod
    def identity(cls) -> MotionStats:
        return cls(torch.zeros(spec.MOTION_DIM), torch.ones(spec.MOTION_DIM))

    @classmethod
    def from_clips(cls, clips: Iterable[Tensor]) -> MotionStats:
        """Pooled mean/std over every frame of every clip, each clip (T, MOTION_DIM)."""
        total = torch.zeros(spec.MOTION_DIM, dtype=torch.float64)
        total_sq = torch.zeros_like(total)
        count = 0
        for clip in clips:
            clip = torch.as_tensor(clip, dtype=torch.float64)
            if clip.ndim != 2 or clip.shape[1] != spec.MOTION_DIM:
                raise ValueError(f"motion clips must be (T, {spec.MOTION_DIM}), got {tuple(clip.shape)}")
            total += clip.sum(0)
            total_sq += (clip**2).sum(0)
            count += clip.shape[0]
        if count == 0:
            raise ValueError("no motion frames to compute statistics from")
        mean = total / count
        var = (total_sq / count - mean**2).clamp(min=0)
        return cls(mean.float(), var.sqrt().clamp(min=STD_FLOOR).float())

    def normalize(self, motion: Tensor) -> Tensor:
        return (motion - self.mean.to(motion)) / self.std.to(motion)

    def denormalize(self, motion: Tensor) -> Tensor:
        return motion * self.std.to(motion) + self.mean.to(motion)

    def state_dict(self) -> dict[str, Tensor]:
        return {"mean": self.mean.contiguous(), "std": self.std.contiguous()}

    @classmethod
    def from_state_dict(cls, state: dict[str, Tensor]) -> MotionStats:
        missing = {"mean", "std"} - set(state)
        if missing:
            raise KeyError(f"motion stats lack {sorted(missing)}")
        return cls(state["mean"].float(), state["std"].float())
