"""Shared fixtures: the F5-TTS oracle and small model configs."""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

import pytest
import torch

from avatar_omnitalker.model.config import BackboneConfig


def import_f5(module: str):
    """Import an F5-TTS module from the installed f5-tts wheel without `f5_tts.model.__init__`,
    which would pull in its trainer's dependencies (wandb, accelerate, datasets)."""
    f5_tts = pytest.importorskip("f5_tts", reason="f5-tts oracle not installed (pip install --no-deps f5-tts)")
    if "f5_tts.model" not in sys.modules:
        pkg = types.ModuleType("f5_tts.model")
        pkg.__path__ = [str(Path(list(f5_tts.__path__)[0]) / "model")]
        sys.modules["f5_tts.model"] = pkg
    return importlib.import_module(module)


@pytest.fixture(scope="session")
def f5_dit():
    return import_f5("f5_tts.model.backbones.dit")


@pytest.fixture(scope="session")
def f5_utils():
    return import_f5("f5_tts.model.utils")


SMALL = dict(dim=64, heads=4, dim_head=16, ff_mult=2, text_dim=32, conv_layers=1, dropout=0.0)


@pytest.fixture
def tiny_backbone_config() -> BackboneConfig:
    return BackboneConfig(**SMALL, text_vocab_size=50, fusion_depth=2, audio_depth=1, motion_depth=1, attn_mask=True)


def randomize(module: torch.nn.Module, seed: int = 0, std: float = 0.2) -> torch.nn.Module:
    """adaLN-zero makes a fresh model the identity; random weights make equivalence tests bite."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * std)
    return module


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory):
    """A 3-minute English + Mandarin synthetic corpus, generated once per test session."""
    from avatar_omnitalker.data.corpus import generate_corpus

    return generate_corpus(tmp_path_factory.mktemp("corpus"), 3.0, ["en", "zh"], seed=3)


def require_voices(what: str, probe) -> None:
    """Natural-voice assets come from registry packages (recipes/install_voices.sh). CI installs
    them, so there a missing one fails; on a machine without them the test is skipped."""
    import os

    from avatar_omnitalker.data.kokoro_assets import VoiceAssetsError

    try:
        probe()
    except (VoiceAssetsError, ImportError) as err:
        if os.environ.get("CI"):
            pytest.fail(f"{what} must be installed in CI: {err}")
        pytest.skip(f"{what} not installed: {err}")


@pytest.fixture(scope="session")
def kokoro():
    from avatar_omnitalker.data.kokoro_assets import KokoroAssets

    require_voices("Kokoro voices", KokoroAssets.find)
    from avatar_omnitalker.data.kokoro import Kokoro

    return Kokoro(threads=2)


KOKORO_CORPUS = {"minutes": 1.0, "langs": ["en", "zh"], "seed": 5, "engine": "kokoro"}


@pytest.fixture(scope="session")
def kokoro_corpus(kokoro, tmp_path_factory):
    """A 1-minute English + Mandarin Kokoro corpus (natural voices, exact timings), made once."""
    from avatar_omnitalker.data.corpus import generate_corpus

    return generate_corpus(tmp_path_factory.mktemp("kokoro-corpus"), **KOKORO_CORPUS)


@pytest.fixture(scope="session")
def ear_en():
    from avatar_omnitalker.eval.ear import Ear, model_dir

    require_voices("whisper tiny.en", lambda: (model_dir("tiny.en"), __import__("faster_whisper")))
    return Ear("en")


@pytest.fixture(scope="session")
def ear_zh():
    from avatar_omnitalker.eval.ear import Ear, model_dir

    require_voices("whisper base", lambda: (model_dir("base"), __import__("faster_whisper"), __import__("opencc")))
    return Ear("zh")
