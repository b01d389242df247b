"""The batching scheduler: one failing request in a batch costs only that request."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from avatar_omnitalker.infer.config import PipelineConfig
from avatar_omnitalker.infer.pipeline import Pipeline
from avatar_omnitalker.realtime.cost import SolveCost
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


class _Timed:
    """A pipeline stand-in whose solve takes 1 ms per (request x character of the longest text):
    what the scheduler's choices depend on, without a model."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.gate = threading.Event()

    def synthesize(self, texts, seeds=None):
        if texts == ["Wait."]:
            self.gate.wait(30)
        self.calls.append(list(texts))
        time.sleep(0.001 * len(texts) * max(len(t) for t in texts))
        return [(np.zeros(960, np.float32), np.zeros((1, 61), np.float32)) for _ in texts]


def _queue_behind_a_blocker(scheduler, fake, requests):
    blocker = scheduler.submit("Wait.", 0, key="blocker")
    while not blocker.running():
        time.sleep(0.01)
    futures = [scheduler.submit(text, 0, key=key, first=first) for text, key, first in requests]
    fake.gate.set()
    for f in [blocker, *futures]:
        f.result(30)


def test_a_batch_groups_requests_of_similar_length_and_keeps_each_sessions_order():
    fake = _Timed()
    scheduler = BatchScheduler(fake, max_batch=2)
    long = "A long chunk of text that goes on for well over eighty characters, so it is in another class."
    try:
        _queue_behind_a_blocker(
            scheduler,
            fake,
            [(long, "a", False), ("Short one.", "b", False), (long + " Again.", "c", False), ("Tiny.", "a", False)],
        )
    finally:
        scheduler.stop()
    # the head (a's long chunk) takes c's long chunk, not b's short one; a's second chunk waits for its first
    assert fake.calls[1:] == [[long, long + " Again."], ["Short one.", "Tiny."]]


def test_a_latency_budget_caps_the_batch_by_its_predicted_solve_time():
    fake = _Timed()
    text = "x" * 100  # 0.1 s a request in this stand-in
    scheduler = BatchScheduler(fake, max_batch=8, latency_budget_s=0.28)
    try:
        warm = scheduler.submit(text, 0, key="warm")  # its measured solve teaches the rate
        while not warm.running():
            time.sleep(0.001)
        futures = [scheduler.submit(text, 0, key=f"s{i}") for i in range(6)]  # queued while it runs
        for f in [warm, *futures]:
            f.result(30)
    finally:
        scheduler.stop()
    sizes = [len(c) for c in fake.calls[1:]]
    # 3 x 0.1 s would exceed 0.28 s (2 fit with 40 % timer slack); without a budget: one batch of 6
    assert sizes == [2, 2, 2]
    with pytest.raises(ValueError, match="latency_budget_s"):
        BatchScheduler(fake, latency_budget_s=0)


def test_each_job_carries_its_batchs_predicted_solve_time():
    """What a session's start rule reads: a chunk solved beside another costs the whole batch."""
    fake = _Timed()
    scheduler = BatchScheduler(fake, max_batch=8)
    try:
        first = scheduler.submit("x" * 40, 0, key="a")
        first.result(30)
        assert first.expected_s is None, "no rate measured before the first solve: no prediction"
        scheduler.cost = SolveCost()  # a known cost, kept fixed for the check below
        for n, longest in ((1, 10), (1, 100), (2, 50)):
            scheduler.cost.observe(n, longest, n * (0.01 + 0.001 * longest))
        scheduler._measure = lambda *args: None
        blocker = scheduler.submit("Wait.", 0, key="blocker")
        while not blocker.running():
            time.sleep(0.01)
        pair = [scheduler.submit("x" * 100, 0, key="a"), scheduler.submit("y" * 50, 0, key="b")]
        fake.gate.set()
        for f in [blocker, *pair]:
            f.result(30)
    finally:
        scheduler.stop()
    assert fake.calls[-1] == ["x" * 100, "y" * 50]
    assert blocker.expected_s == pytest.approx(0.01 + 0.001 * 5)
    assert [f.expected_s for f in pair] == pytest.approx([2 * (0.01 + 0.001 * 100)] * 2), "requests x longest"
    assert scheduler.solve_seconds("z" * 30) == pytest.approx(0.01 + 0.001 * 30), "one request alone"


def test_a_batch_slower_than_predicted_raises_the_overrun():
    """Solves under a renderer's load run 1.45-1.65x what the warm-up's unloaded solves predict;
    the overrun carries that until the fit catches up."""
    fake = _Timed()  # 100 characters: at least 0.1 s
    scheduler = BatchScheduler(fake)
    try:
        scheduler.cost = SolveCost()
        scheduler.cost.observe(1, 10, 0.005)
        scheduler.cost.observe(1, 100, 0.05)  # predicts half of what the stand-in takes
        assert scheduler.overrun == 1.0
        scheduler.submit("x" * 100, 0, key="a").result(30)
    finally:
        scheduler.stop()
    assert scheduler.overrun >= 0.7 + 0.3 * 2.0 - 1e-9, "measured / predicted >= 2, newest weighing 0.3"


class _Cold(_Timed):
    """The stand-in with a process's first-solve cost: its first call takes 0.4 s more. Each
    request yields 0.05 s of speech per character."""

    def synthesize(self, texts, seeds=None):
        if not self.calls:
            time.sleep(0.4)
        super().synthesize(texts, seeds)
        return [(np.zeros(int(0.05 * len(t) * 24000), np.float32), np.zeros((1, 61), np.float32)) for t in texts]


def test_warm_up_pays_the_first_solve_and_measures_only_warm_ones():
    fake = _Cold()
    scheduler = BatchScheduler(fake)
    try:
        seconds = scheduler.warm_up(("Hi there!", "A whole sentence of some length."))
    finally:
        scheduler.stop()
    assert seconds >= 0.4 and len(fake.calls) == 4
    # warm solves take 1 ms per character against 50 ms of speech: rtf about 0.02, not the cold 0.4 s
    assert 0.01 < scheduler.rtf < 0.1
    assert scheduler.speech_per_char == pytest.approx(0.05, rel=0.01)
