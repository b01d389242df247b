"""What the bare commands use when the user names no checkpoint, reference or vocoder."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from avatar_omnitalker.infer.reference import Reference

DEFAULT_REFERENCE_TEXT = "Hello! I am your digital assistant. It is a pleasure to meet you today."


def packaged(name: str) -> Path | None:
    """A file shipped in avatar_omnitalker/assets, or None when this build has none."""
    ref = resources.files("avatar_omnitalker") / "assets" / name
    if not ref.is_file() and not ref.is_dir():
        return None
    with resources.as_file(ref) as path:
        return Path(path)


def default_checkpoint() -> Path | None:
    path = packaged("model")
    return path if path is not None and (path / "model.safetensors").is_file() else None


def default_vocoder() -> Path | None:
    path = packaged("vocoder")
    return path if path is not None and (path / "config.yaml").is_file() else None


@lru_cache(maxsize=1)
def builtin_reference() -> Reference:
    """The shipped reference, or (until one ships) a synthetic speaker made on the spot."""
    shipped = packaged("reference.npz")
    if shipped is not None:
        return Reference.load(shipped)
    from avatar_omnitalker.data.espeak import VoiceSettings
    from avatar_omnitalker.data.style import SpeakerStyle
    from avatar_omnitalker.data.synth import synthesize_clip
    from avatar_omnitalker.render.parametric import Palette, ParametricRenderer

    clip = synthesize_clip(DEFAULT_REFERENCE_TEXT, VoiceSettings(voice="en-us+f3", pitch=58), SpeakerStyle(), seed=7)
    renderer = ParametricRenderer(256)
    renderer.palette = Palette.from_colors(background=(52, 78, 104), skin=(231, 186, 160), hair=(92, 56, 38))
    appearance = renderer.render(np.zeros((1, clip.motion.shape[1]), np.float32))[0]
    return Reference.prepare(clip.audio, 24000, clip.motion, clip.text, appearance, name="builtin-synthetic")
