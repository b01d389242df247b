"""Generation settings, importable without torch (the CLI reads the defaults at start-up)."""

from __future__ import annotations

from dataclasses import dataclass

# The shipped default: 7 ODE steps on F5-TTS's EPSS schedule keep the built-in model faster than
# real time on a 2-core CPU (16 steps measured 1.18 x real time there).
DEFAULT_NFE = 7


@dataclass(frozen=True)
class GenerationSettings:
    nfe: int = DEFAULT_NFE
    cfg: float = 2.0
    sway: float | None = -1.0
    method: str = "euler"
    seed: int = 0
    speed: float = 1.0
