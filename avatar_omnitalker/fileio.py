"""Files the project writes: atomic output (a file appears complete or not at all: temp file in
place + rename), and the user cache for what is derived once."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | Path) -> Iterator[str]:
    """Yield a temporary path next to `path`; on success it becomes `path`, on error it vanishes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the user's usual mode
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def check_output(path: str | Path, suffixes: tuple[str, ...], option: str) -> Path:
    """An output path a user gave, checked before any work: its suffix, not a folder, and a folder
    to put it in that can be written (or created)."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{option} {path} is a folder; give a file name")
    if path.suffix.lower() not in suffixes:
        raise ValueError(f"{option} must end in {' or '.join(suffixes)}, got {path.name!r}")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {path}: cannot write into {parent}")
    return path


class Outputs:
    """Several output files that appear together or not at all: each is written to a temp file
    next to it, and only when every one is complete are they moved into place. On any error (or
    SIGTERM turned into SystemExit) the temp files go and the user's existing files stay."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = [Path(p) for p in paths]
        self._temps: dict[Path, str] = {}

    def __enter__(self) -> Outputs:
        for path in self.paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
            os.close(fd)
            self._temps[path] = tmp
        return self

    def temp(self, path: str | Path) -> str:
        return self._temps[Path(path)]

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                empty = [p for p, t in self._temps.items() if os.path.getsize(t) == 0]
                if empty:
                    raise ValueError(f"nothing was written to {empty[0]}; the existing file is kept")
                umask = os.umask(0)
                os.umask(umask)
                for path, tmp in self._temps.items():
                    os.chmod(tmp, 0o666 & ~umask)
                    os.replace(tmp, path)
        finally:
            for tmp in self._temps.values():
                if os.path.exists(tmp):
                    os.remove(tmp)


def user_cache(*parts: str) -> Path:
    """$XDG_CACHE_HOME (or ~/.cache) / avatar-omnitalker / parts: what the project derives once
    and keeps per user (exported graphs, joined model files)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base.joinpath("avatar-omnitalker", *parts)


def state_digest(state: Mapping, salt: str = "") -> str:
    """A short hash of a module's tensors (and a salt such as its config): a cache key that
    changes whenever the weights do."""
    digest = hashlib.sha256(salt.encode())
    for name, tensor in sorted(state.items()):
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()[:16]


def folder_bytes(root: str | Path) -> int:
    return sum(p.stat().st_size for p in Path(root).rglob("*") if p.is_file())
