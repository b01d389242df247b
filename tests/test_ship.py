"""A trained run, its vocoder and a held-out reference package into assets that load as defaults."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from avatar_omnitalker.infer.config import PipelineConfig
from avatar_omnitalker.infer.pipeline import Pipeline
from avatar_omnitalker.infer.reference import Reference
from avatar_omnitalker.ship import ship
from avatar_omnitalker.train.config import TrainConfig
from avatar_omnitalker.train.trainer import train
from avatar_omnitalker.train.vocoder import VocoderConfig, train_vocoder


def test_ship_round_trip(tmp_path):
    from avatar_omnitalker.data.corpus import generate_corpus

    small_corpus = generate_corpus(tmp_path / "corpus", 2.0, ["en"], seed=2)  # 4 sources; speaker 3 is held out
    run = tmp_path / "run"
    train(
        TrainConfig(
            corpus=str(small_corpus),
            out=str(run),
            model="tiny",
            steps=2,
            max_frames=2000,
            max_samples=4,
            save_every=2,
            warmup=1,
            threads=1,
        ).validate()
    )
    voc = train_vocoder(
        str(small_corpus),
        str(tmp_path / "voc"),
        VocoderConfig(dim=32, intermediate_dim=64, num_layers=1, batch=2, steps=2),
    )
    assets = ship(run, voc, small_corpus, out=tmp_path / "assets")
    ref = Reference.load(assets / "reference.npz")
    assert 1.0 <= ref.duration <= 10.0 and ref.name.startswith("builtin-spk")
    pipe = Pipeline.load(
        PipelineConfig(
            checkpoint=str(assets / "model"),
            reference=str(assets / "reference.npz"),
            vocoder=str(assets / "vocoder"),
            nfe=2,
            device="cpu",
        )
    )
    assert pipe.vocoder.name == "vocos" and pipe.text_mode == "aligned"
    result = pipe.generate("Anna found the red box today.", progress=False)
    assert result.audio.size == result.motion.shape[0] * 960 and np.isfinite(result.audio).all()
    size = sum(p.stat().st_size for p in assets.rglob("*") if p.is_file())
    assert size < 40e6

    from avatar_omnitalker.model.duration import DurationConfig, DurationPredictor, Durations
    from avatar_omnitalker.text.phonemes import PhonemeTokenizer

    timing = Durations(DurationPredictor(DurationConfig(vocab_size=len(PhonemeTokenizer())))).save(tmp_path / "dur")
    ship(run, voc, small_corpus, out=assets, durations=tmp_path / "dur")
    assert Pipeline.load(PipelineConfig(checkpoint=str(assets / "model"), device="cpu")).durations is not None
    before = {p: p.read_bytes() for p in assets.rglob("*") if p.is_file()}
    ship(run, voc, small_corpus, out=assets, durations=tmp_path / "dur")  # shipping again changes no byte
    assert {p: p.read_bytes() for p in assets.rglob("*") if p.is_file()} == before
    ship(run, voc, small_corpus, out=assets)  # a model shipped without one loses the old one
    assert not (assets / "model" / timing.name).exists()


def test_ship_writes_where_the_defaults_are_read():
    from importlib import resources

    from avatar_omnitalker.ship import ASSETS

    assert ASSETS == Path(str(resources.files("avatar_omnitalker") / "assets")).resolve()
