"""The prompt: the reference's leading whole sentences within a time budget, cut in a pause."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from avatar_omnitalker import spec
from avatar_omnitalker.audio.loudness import frame_db
from avatar_omnitalker.infer import defaults
from avatar_omnitalker.infer.config import PipelineConfig
from avatar_omnitalker.infer.pipeline import Pipeline
from avatar_omnitalker.infer.prompt import PAUSE_DB, prompt_of

FIRST = "Emma liked the blue kettle last night."


@pytest.fixture(scope="module")
def reference():
    ref = defaults.builtin_reference()
    assert ref.transcript.startswith(FIRST + " ") and ref.duration > 4
    return ref


def warnings_of(call) -> list[str]:
    from loguru import logger

    messages: list[str] = []
    sink = logger.add(messages.append, level="WARNING")
    try:
        call()
    finally:
        logger.remove(sink)
    return messages


def test_the_prompt_is_the_first_sentence_cut_in_its_pause(reference):
    prompt = prompt_of(reference, 3.0)
    assert prompt.transcript == FIRST
    assert 1.0 <= prompt.duration <= 3.0
    assert prompt.audio.size == spec.samples_for_frames(prompt.frames)
    np.testing.assert_array_equal(prompt.motion, reference.motion[: prompt.frames])
    np.testing.assert_array_equal(prompt.audio, reference.audio[: prompt.audio.size])
    db = frame_db(reference.audio)
    assert db[prompt.frames - 1] <= db.max() - PAUSE_DB  # ends in the pause, not inside a word
    assert prompt.appearance is reference.appearance and prompt.name == reference.name


@pytest.mark.parametrize("budget", [0.0, 10.0])
def test_no_budget_or_a_budget_the_reference_fits_keeps_it_whole(reference, budget):
    assert prompt_of(reference, budget) is reference


def test_a_budget_shorter_than_the_first_sentence_keeps_the_whole_and_says_so(reference):
    kept = []
    messages = warnings_of(lambda: kept.append(prompt_of(reference, 1.5)))
    assert kept[0] is reference
    assert any("prompt_s 1.5" in m and "no sentence end in a pause" in m for m in messages)


def test_sentences_that_run_into_each_other_are_not_cut(reference):
    """The pause between the two sentences removed: no cut would end in silence."""
    db = frame_db(reference.audio)
    pause = np.flatnonzero(db <= db.max() - PAUSE_DB)
    inner = pause[(pause > 10) & (pause < reference.frames - 10)]
    assert inner.size  # the built-in reference does pause between its sentences
    keep = np.setdiff1d(np.arange(reference.frames), inner)
    audio = np.concatenate([reference.audio[spec.samples_for_frames(k) : spec.samples_for_frames(k + 1)] for k in keep])
    joined = dataclasses.replace(reference, audio=audio, motion=reference.motion[keep])
    kept = []
    messages = warnings_of(lambda: kept.append(prompt_of(joined, 3.5)))
    assert kept[0] is joined and messages


def test_the_pipeline_prompts_with_the_cut_and_keeps_the_whole_reference(reference, monkeypatch):
    pipe = Pipeline.load(PipelineConfig(nfe=2, device="cpu", dtype="float32", prompt_s=3.0), reference=reference)
    assert pipe.reference is reference and pipe.prompt.transcript == FIRST
    seen = []
    sample = pipe.sampler.sample
    monkeypatch.setattr(
        pipe.sampler, "sample", lambda *a, **k: seen.append((a[0].shape, k["ref_frames"])) or sample(*a, **k)
    )
    ((audio, motion),) = pipe.synthesize(["Good morning to you."])
    assert seen == [((1, spec.mel_frames_for_motion(pipe.prompt.frames), spec.N_MELS), pipe.prompt.frames)]
    assert motion.shape[0] > 10 and audio.size == spec.samples_for_frames(motion.shape[0])
