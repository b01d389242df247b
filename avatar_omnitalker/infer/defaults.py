"""What the bare commands use when the user names no checkpoint, reference or vocoder."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from avatar_omnitalker.infer.reference import Reference


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
    """The shipped default avatar (a held-out synthetic speaker, never a real person)."""
    shipped = packaged("reference.npz")
    if shipped is None:
        raise FileNotFoundError("this build ships no default avatar: pass a reference .npz (prepare-reference)")
    return Reference.load(shipped)
