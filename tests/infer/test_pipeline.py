"""The pipeline end to end on the untrained tiny model: text conservation, sync, joins, idle."""

from __future__ import annotations

import random

import numpy as np
import pytest

from avatar_omnitalker import spec
from avatar_omnitalker.infer.config import PipelineConfig
from avatar_omnitalker.infer.pipeline import Pipeline

TEXTS = [
    "Hello there! How are you today? I hope you are well.",
    "你好！今天天气很好，我们去公园吧。好的。",
    "我们用OpenAI的API写了一个demo, it works! 真的。",
]


@pytest.fixture(scope="module")
def pipe():
    return Pipeline.load(PipelineConfig(nfe=2, device="cpu", dtype="float32"))  # equalities below are float32 math


def deltas(text: str, seed: int) -> list[str]:
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(text):
        n = rng.randint(1, 5)
        out.append(text[i : i + n])
        i += n
    return out


@pytest.mark.parametrize("text", TEXTS)
def test_stream_speaks_every_character_once_in_order(pipe, text):
    segments = list(pipe.stream(deltas(text, 1)))
    assert "".join(s.text for s in segments) == text
    for s in segments:
        assert s.audio.size == spec.samples_for_frames(s.frames)


def test_generate_audio_and_motion_match(pipe):
    result = pipe.generate(TEXTS[0], progress=False)
    assert result.audio.size == spec.samples_for_frames(result.motion.shape[0]) > 0
    assert np.isfinite(result.audio).all() and np.abs(result.audio).max() <= 1.0


def test_batched_synthesis_equals_one_by_one(pipe):
    both = pipe.synthesize(["Good morning.", "See you soon!"], seeds=[5, 6])
    alone = pipe.synthesize(["See you soon!"], seeds=[6])
    assert both[1][1].shape == alone[0][1].shape
    assert np.allclose(both[1][1], alone[0][1], atol=1e-3)


def test_motion_guidance_reaches_the_sampler(pipe):
    texts, seeds = ["Good morning, my friend."], [5]
    ((audio, motion),) = pipe.synthesize(texts, seeds)
    same = Pipeline.load(pipe.config.replace(cfg_motion=pipe.config.cfg))
    livelier = Pipeline.load(pipe.config.replace(cfg_motion=6.0))
    ((same_audio, same_motion),) = same.synthesize(texts, seeds)
    ((_, lively_motion),) = livelier.synthesize(texts, seeds)
    assert np.array_equal(same_audio, audio) and np.array_equal(same_motion, motion)
    assert lively_motion.shape == motion.shape and not np.allclose(lively_motion, motion, atol=1e-3)


@pytest.mark.parametrize("cfg_motion", [None, 4.0])
def test_the_graphs_engine_speaks_what_the_torch_engine_speaks(pipe, cfg_motion):
    """engine graphs pads each solve to a bucket (captured as a CUDA graph on a GPU; eager here)."""
    torch_engine = pipe if cfg_motion is None else Pipeline.load(pipe.config.replace(cfg_motion=cfg_motion))
    graphs = Pipeline.load(torch_engine.config.replace(engine="graphs"))
    texts, seeds = ["Good morning.", "See you soon, my friend!"], [5, 6]
    pairs = zip(torch_engine.synthesize(texts, seeds), graphs.synthesize(texts, seeds))
    for (a_audio, a_motion), (b_audio, b_motion) in pairs:
        assert a_audio.shape == b_audio.shape and a_motion.shape == b_motion.shape
        np.testing.assert_allclose(b_motion, a_motion, atol=1e-3)
        np.testing.assert_allclose(b_audio, a_audio, atol=2e-3)


def test_unknown_symbols_are_skipped_with_a_warning():
    """Implicit (character) text mode: a symbol outside the vocab is dropped and named, the rest spoken."""
    from loguru import logger

    pipe = Pipeline.load(PipelineConfig(checkpoint="random:tiny", nfe=2, device="cpu"))
    assert pipe.text_mode == "implicit" and pipe.tokenizer.unknown_symbols("Great job ☺ everyone.") == ["☺"]
    messages: list[str] = []
    sink = logger.add(messages.append, level="WARNING")
    try:
        ((audio, motion),) = pipe.synthesize(["Great job ☺ everyone."])
    finally:
        logger.remove(sink)
    assert motion.shape[0] > 0 and audio.size == spec.samples_for_frames(motion.shape[0])
    assert any("'☺'" in m for m in messages)


def test_idle_motion_keeps_mouth_closed_and_moves_head(pipe):
    from avatar_omnitalker.infer.idle import IdleMotion

    idle = IdleMotion(pipe.reference.motion).next(200)
    assert idle.shape == (200, spec.MOTION_DIM)
    assert idle[:, spec.MOTION_INDEX["jawOpen"]].max() < 0.05
    assert np.ptp(idle[:, spec.HEAD_ROTATION], axis=0).max() > 0.005
    head = idle[:, spec.HEAD_ROTATION.start : spec.HEAD_TRANSLATION.stop]
    assert np.abs(np.diff(head, axis=0)).max() < 0.05  # ping-pong: no jump at the turning points


LONG = (
    "Good afternoon to all of you. We are very glad you came here. The weather is quite fine today. "
    "Let us begin the show right now."
)


def test_offline_plan_joins_sentences_up_to_the_limit_and_keeps_every_character(pipe):
    streaming = pipe.chunk(LONG)
    assert len(streaming) == 4
    assert Pipeline(pipe.model, pipe.vocoder, pipe.reference, pipe.config.replace(offline_chunk_s=0)).plan(LONG) == (
        streaming
    )
    for limit in (2.5, 6.0, 30.0):
        planner = Pipeline(pipe.model, pipe.vocoder, pipe.reference, pipe.config.replace(offline_chunk_s=limit))
        planned = planner.plan(LONG)
        assert "".join(planned) == LONG
        # each planned chunk is whole streaming chunks, within the limit unless it is one alone,
        # and the next streaming chunk would have pushed it past the limit
        rest = list(streaming)
        for chunk in planned:
            taken = []
            while "".join(taken) != chunk:
                taken.append(rest.pop(0))
            assert len(taken) == 1 or planner.seconds(chunk) <= limit
            if rest:
                assert planner.seconds(chunk + rest[0]) > limit
        assert (len(planned) == 1) == (limit == 30.0)
    assert pipe.seconds("  ...  ") == 0.0 and pipe.seconds(streaming[0]) > 0.5


def test_generate_makes_one_model_call_per_planned_chunk(pipe, monkeypatch):
    planner = Pipeline(pipe.model, pipe.vocoder, pipe.reference, pipe.config.replace(offline_chunk_s=30.0))
    calls: list[list[str]] = []
    synthesize = planner.synthesize
    monkeypatch.setattr(
        planner, "synthesize", lambda texts, seeds=None: calls.append(texts) or synthesize(texts, seeds)
    )
    result = planner.generate(LONG, progress=False)
    assert calls == [[LONG]]
    assert result.audio.size == spec.samples_for_frames(result.motion.shape[0])
    assert abs(result.duration - planner.seconds(LONG)) < 0.2


def test_a_removed_character_is_named_once_per_model_call_not_per_planning_step(pipe):
    from loguru import logger

    planner = Pipeline(pipe.model, pipe.vocoder, pipe.reference, pipe.config.replace(offline_chunk_s=30.0))
    messages: list[str] = []
    sink = logger.add(messages.append, level="WARNING")
    try:
        planned = planner.plan(LONG.replace("glad", "gl\x00ad"))
        assert not messages  # plan asked seconds() about four candidate joins of this text
        planner.synthesize(planned)
    finally:
        logger.remove(sink)
    assert len(planned) == 1 and sum("removed control characters" in m for m in messages) == 1


def test_bfloat16_on_the_cpu_speaks_what_float32_speaks():
    """dtype auto picks bfloat16 on AMX CPUs: the same text and seed must give the same speech and
    face up to rounding, at the NFE users run (measured with the shipped model at NFE 7: 1 % relative
    difference in motion, 5.7 % in the waveform; at NFE 2 the waveform differs by 12 %)."""
    full = Pipeline.load(PipelineConfig(nfe=7, device="cpu", dtype="float32"))
    half = Pipeline.load(PipelineConfig(nfe=7, device="cpu", dtype="bfloat16"))
    text = "The bridge was closed for repairs, so we took the ferry."
    ((a_audio, a_motion),) = full.synthesize([text], seeds=[3])
    ((b_audio, b_motion),) = half.synthesize([text], seeds=[3])
    assert b_motion.shape == a_motion.shape and b_audio.shape == a_audio.shape
    assert np.linalg.norm(b_motion - a_motion) / np.linalg.norm(a_motion) < 0.05
    assert np.linalg.norm(b_audio - a_audio) / np.linalg.norm(a_audio) < 0.1


@pytest.fixture(scope="module")
def aligned_run(tmp_path_factory):
    """An (untrained) aligned-text checkpoint folder with a duration model beside it."""
    import dataclasses

    from avatar_omnitalker.model.cfm import FlowMatching
    from avatar_omnitalker.model.checkpoint import save_checkpoint
    from avatar_omnitalker.model.config import load_config
    from avatar_omnitalker.model.duration import DurationConfig, DurationPredictor, Durations
    from avatar_omnitalker.text.phonemes import PHONEME_VOCAB, PhonemeTokenizer

    n = len(PhonemeTokenizer())
    config = load_config("tiny")
    model = dataclasses.replace(config.model, text_vocab_size=n)
    config = dataclasses.replace(config, vocab=PHONEME_VOCAB, model=model)
    folder = tmp_path_factory.mktemp("aligned")
    save_checkpoint(FlowMatching(config), folder)
    Durations(DurationPredictor(DurationConfig(vocab_size=n))).save(folder)
    return folder


def test_a_duration_model_beside_the_checkpoint_times_the_text(aligned_run):
    import math

    from avatar_omnitalker.infer.conditioning import TAIL_FRAMES

    text = "Anna found the red box today."
    timed = Pipeline.load(PipelineConfig(checkpoint=str(aligned_run), nfe=2, device="cpu"))
    assert timed.durations is not None
    _, spoken = timed.durations.timings(text, timed.text.rate, 0.0)
    assert timed.seconds(text) == pytest.approx((math.ceil(spoken * spec.FPS) + TAIL_FRAMES) / spec.FPS)
    audio = timed.generate(text, progress=False).audio
    assert audio.size == spec.samples_for_frames(round(timed.seconds(text) * spec.FPS))
    plain = Pipeline.load(PipelineConfig(checkpoint=str(aligned_run), nfe=2, device="cpu", durations="espeak"))
    assert plain.durations is None and plain.seconds(text) != timed.seconds(text)


def test_durations_are_refused_for_implicit_text_and_a_missing_file_is_named(aligned_run, tmp_path):
    with pytest.raises(ValueError, match="a duration model times aligned text"):
        Pipeline.load(PipelineConfig(checkpoint="random:tiny", device="cpu", durations=str(aligned_run)))
    with pytest.raises(FileNotFoundError, match="duration model not found"):
        missing = str(tmp_path / "x.safetensors")
        Pipeline.load(PipelineConfig(checkpoint=str(aligned_run), device="cpu", durations=missing))


def test_a_graph_exported_by_an_older_version_is_exported_anew(tmp_path, monkeypatch):
    """The ONNX cache key holds the graph's version: after an upgrade that changes its inputs, an
    old export in the user's cache is not fed inputs it lacks."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from avatar_omnitalker.infer.pipeline import onnx_engine_for
    from avatar_omnitalker.model import onnx_engine
    from avatar_omnitalker.model.cfm import FlowMatching
    from avatar_omnitalker.model.config import load_config
    from tests.conftest import randomize

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    model = randomize(FlowMatching(load_config("tiny")), seed=1, std=0.1).eval()
    onnx_engine_for(model, "cpu")
    onnx_engine_for(model, "cpu")  # the same version: the cached graph
    monkeypatch.setattr(onnx_engine, "GRAPH_VERSION", onnx_engine.GRAPH_VERSION + 1)
    onnx_engine_for(model, "cpu")
    assert len(list((tmp_path / "avatar-omnitalker" / "onnx").glob("*.onnx"))) == 2
