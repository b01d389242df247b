"""The batching scheduler: one failing request in a batch costs only that request."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from avatar_omnitalker.infer.config import PipelineConfig
from avatar_omnitalker.infer.pipeline import Pipeline
from avatar_omnitalker.realtime.scheduler import BatchScheduler


@pytest.fixture(scope="module")
def pipeline():
    return Pipeline.load(PipelineConfig(nfe=2, device="cpu"))


def test_a_failing_request_in_a_batch_of_four_leaves_the_other_three_unaffected(pipeline):
    real = pipeline.synthesize
    release = threading.Event()
    calls: list[list[str]] = []

    def faulty(texts, seeds=None):  # fault injection around the real pipeline
        calls.append(list(texts))
        if texts == ["Wait."]:
            release.wait(30)  # keeps the worker busy while four sessions queue one chunk each
        if any("BROKEN" in t for t in texts):
            raise RuntimeError("injected failure")
        return real(texts, seeds)

    pipeline.synthesize = faulty
    scheduler = BatchScheduler(pipeline, max_batch=4)
    try:
        blocker = scheduler.submit("Wait.", 0, key="blocker")
        while not blocker.running():
            time.sleep(0.01)
        texts = ["Good morning.", "BROKEN text.", "See you soon!", "Thank you."]
        futures = [scheduler.submit(t, 7, key=f"session-{i}") for i, t in enumerate(texts)]
        release.set()
        blocker.result(60)
        results = {}
        for text, fut in zip(texts, futures):
            try:
                results[text] = fut.result(120)
            except RuntimeError as err:
                results[text] = err
    finally:
        pipeline.synthesize = real
        scheduler.stop()
    assert 4 in scheduler.batches, "the four chunks were batched together"
    assert isinstance(results["BROKEN text."], RuntimeError) and scheduler.failures == 1
    for text in ("Good morning.", "See you soon!", "Thank you."):
        audio, motion = results[text]
        alone_audio, alone_motion = real([text], [7])[0]
        assert motion.shape == alone_motion.shape and np.allclose(motion, alone_motion, atol=1e-4)


def test_real_time_factor_is_measured_per_batch(pipeline):
    scheduler = BatchScheduler(pipeline)
    try:
        scheduler.submit("Hello there, how are you?", 0).result(120)
    finally:
        scheduler.stop()
    assert scheduler.rtf is not None and scheduler.rtf > 0


def test_a_stopped_scheduler_refuses_work(pipeline):
    scheduler = BatchScheduler(pipeline)
    scheduler.stop()
    with pytest.raises(RuntimeError, match="stopped"):
        scheduler.submit("Hi.", 0)


def test_the_first_chunk_of_a_reply_goes_ahead_of_later_chunks(pipeline):
    real = pipeline.synthesize
    release = threading.Event()
    order: list[str] = []

    def recording(texts, seeds=None):
        if texts == ["Wait."]:
            release.wait(30)
        order.extend(texts)
        return real(texts, seeds)

    pipeline.synthesize = recording
    scheduler = BatchScheduler(pipeline, max_batch=1)
    try:
        blocker = scheduler.submit("Wait.", 0)
        while not blocker.running():  # the worker is busy with it: the rest queues behind
            time.sleep(0.01)
        later = [scheduler.submit(f"Later chunk {i}.", i, key="a") for i in range(2)]
        first = scheduler.submit("First words.", 0, key="b", first=True)
        own = scheduler.submit("Next reply of a.", 0, key="a", first=True)  # behind a's own earlier chunks
        release.set()
        for fut in [blocker, first, *later, own]:
            fut.result(120)
    finally:
        pipeline.synthesize = real
        scheduler.stop()
    assert order == ["Wait.", "First words.", "Later chunk 0.", "Later chunk 1.", "Next reply of a."]
