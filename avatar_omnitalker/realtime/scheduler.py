"""One model, many sessions: a thread that batches the sessions' pending chunks into one solve.

Sessions submit (text, seed) and get a Future. The worker takes what is pending (up to
`max_batch`) and runs one batched `Pipeline.synthesize`, so N sessions cost about one request's
latency on a GPU instead of N; no lock is held around a whole utterance. A request's result does
not depend on what shares its batch (per-request seeds, masked padding).

How a batch is chosen: the head of the queue always goes (a reply's first chunk is queued ahead
of other sessions' later chunks); then first chunks, then requests of a length close to the
head's (less padding, and the same CUDA-graph bucket); at most one request per session. With a
`latency_budget_s`, requests are added only while the batch's predicted solve time stays within
it, predicted by the cost model fitted on the solves run so far (`cost.SolveCost`).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass

from loguru import logger

from avatar_omnitalker import spec
from avatar_omnitalker.infer.chunking import text_weight
from avatar_omnitalker.infer.pipeline import Pipeline
from avatar_omnitalker.realtime.cost import SolveCost

RATE_SMOOTHING = 0.3  # weight of the newest measurement in the running figures (rtf, solve rate, speech rate)
LENGTH_BUCKET = 40  # text weight (chars; a Hanzi counts 2) per length class when grouping a batch
# What a reply is made of: a short first chunk and a whole sentence (warm_up solves both)
WARM_UP_TEXTS = ("Hello there!", "It is good to see you again, and I hope your day has gone well so far.")


class Job(Future):
    """A chunk's future. `expected_s`, set as its batch starts, is that batch's predicted solve
    time (None before any solve was measured): on a CPU a chunk that shares a batch with another
    session's takes about twice as long as alone, and a session deciding whether to start
    playing must know it."""

    def __init__(self) -> None:
        super().__init__()
        self.expected_s: float | None = None


@dataclass
class _Request:
    text: str
    seed: int
    future: Job
    key: object  # who asked: a batch takes at most one request per key
    first: bool = False  # the first chunk of a reply: served before later chunks


def _weight(text: str) -> int:
    return max(1, text_weight(text))


def smoothed(old: float | None, new: float) -> float:
    """A running figure (rates, speaking speed): the newest measurement weighs RATE_SMOOTHING."""
    return new if old is None else (1 - RATE_SMOOTHING) * old + RATE_SMOOTHING * new


class BatchScheduler:
    def __init__(self, pipeline: Pipeline, max_batch: int = 8, latency_budget_s: float | None = None) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        if latency_budget_s is not None and not latency_budget_s > 0:
            raise ValueError(f"latency_budget_s must be positive, got {latency_budget_s}")
        self.pipeline = pipeline
        self.max_batch = max_batch
        self.latency_budget_s = latency_budget_s
        self.cost = SolveCost(decay=1 - RATE_SMOOTHING)  # predicted seconds of a batch, refit per solve
        self._queue: deque[_Request] = deque()
        self._cond = threading.Condition()
        self._stopped = False
        self.batches: list[int] = []  # sizes of the batches run (for tests and benchmarks)
        self.failures = 0  # requests that failed even when run alone
        self.rtf: float | None = None  # running: batch seconds per second of audio each request got
        self.speech_per_char: float | None = None  # seconds of speech per text weight, from warm_up
        self.overrun = 1.0  # running: a batch's measured seconds / its predicted (`Job.expected_s`)
        self._thread = threading.Thread(target=self._run, name="omnitalker-scheduler", daemon=True)
        self._thread.start()

    def warm_up(self, texts: tuple[str, ...] = WARM_UP_TEXTS) -> float:
        """Solve `texts` twice before any session speaks; returns the seconds it took.

        A process's first solves pay one-off costs that a user's first reply should not: kernel
        selection and allocations, and with engine graphs the capture of each bucket's CUDA graph
        (6-10 s for `base` on an H200; this captures the batch-1 buckets of these lengths). Only the
        second round is measured, so `rtf` starts from warm solves; `speech_per_char` (the voice's
        speaking rate) lets a session plan its first reply before it has learnt its own."""
        start = time.monotonic()
        for measured in (False, True):
            if measured:
                self.rtf, self.cost, self.overrun = None, SolveCost(decay=1 - RATE_SMOOTHING), 1.0
            results = [self.submit(text, key=("warm-up", i)).result() for i, text in enumerate(texts)]
        weight = sum(_weight(t) for t in texts)
        self.speech_per_char = sum(audio.size for audio, _ in results) / spec.SAMPLE_RATE / weight
        seconds = time.monotonic() - start
        logger.info("warmed up in {:.1f} s: real-time factor {:.3f}", seconds, self.rtf or float("nan"))
        return seconds

    def submit(self, text: str, seed: int = 0, key: object = None, first: bool = False) -> Job:
        """Queue one chunk; `key` (a session) gets at most one chunk per batch, so each session's
        next chunk is ready as early as possible instead of waiting for a whole turn. `first` (the
        first chunk of a reply, which a user is waiting for) goes ahead of other sessions' queued
        later chunks; a session's own chunks keep their order (its replies play in order)."""
        fut = Job()
        request = _Request(text, seed, fut, key if key is not None else object(), first)
        with self._cond:
            if self._stopped:
                raise RuntimeError("the scheduler is stopped")
            if first:  # ahead of other sessions' later chunks, never ahead of its own session's
                ahead = 0
                for i, queued in enumerate(self._queue):
                    if queued.first or queued.key == request.key:
                        ahead = i + 1
                self._queue.insert(ahead, request)
            else:
                self._queue.append(request)
            self._cond.notify()
        return fut

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
                batch = self._choose()
                chosen = {id(r) for r in batch}
                rest = deque(r for r in self._queue if id(r) not in chosen)
                self._queue = rest
            expected = self.cost.predict(len(batch), max(_weight(r.text) for r in batch))
            for r in batch:
                r.future.expected_s = expected
            batch = [r for r in batch if r.future.set_running_or_notify_cancel()]
            if not batch:
                continue
            self.batches.append(len(batch))
            start = time.monotonic()
            try:
                results = self.pipeline.synthesize([r.text for r in batch], [r.seed for r in batch])
            except Exception as err:
                if len(batch) == 1:
                    self._fail(batch[0], err)
                    continue
                logger.warning("a batch of {} failed ({}); running each request alone", len(batch), err)
                self._one_by_one(batch)
                continue
            self._measure(time.monotonic() - start, results, batch, expected)
            for r, res in zip(batch, results):
                r.future.set_result(res)

    def _one_by_one(self, batch: list[_Request]) -> None:
        """A failure stays with the request that caused it; the others still get their speech."""
        for r in batch:
            try:
                (result,) = self.pipeline.synthesize([r.text], [r.seed])
            except Exception as err:
                self._fail(r, err)
            else:
                r.future.set_result(result)

    def _fail(self, request: _Request, err: Exception) -> None:
        self.failures += 1
        logger.opt(exception=err).error("could not generate {!r}", request.text[:60])
        request.future.set_exception(err)

    def _choose(self) -> list[_Request]:
        """The head, then first chunks, then the closest lengths; one per session; within budget."""
        head = self._queue[0]
        head_class = _weight(head.text) // LENGTH_BUCKET
        seen = {head.key}
        eligible = []  # each other session's earliest request: a session's chunks keep their order
        for i, r in enumerate(self._queue):
            if r.key not in seen:
                seen.add(r.key)
                eligible.append((i, r))
        eligible.sort(key=lambda ir: (not ir[1].first, abs(_weight(ir[1].text) // LENGTH_BUCKET - head_class), ir[0]))
        batch, longest = [head], _weight(head.text)
        for _, r in eligible:
            if len(batch) >= self.max_batch:
                break
            longer = max(longest, _weight(r.text))
            if self._over_budget(len(batch) + 1, longer):
                continue
            batch.append(r)
            longest = longer
        return batch

    def solve_seconds(self, text: str) -> float | None:
        """Predicted seconds to generate `text` alone; None before any solve was measured."""
        return self.cost.predict(1, _weight(text))

    def _over_budget(self, n: int, longest: int) -> bool:
        predicted = self.cost.predict(n, longest)
        return self.latency_budget_s is not None and predicted is not None and predicted > self.latency_budget_s

    def _measure(self, seconds: float, results: list, batch: list[_Request], expected: float | None) -> None:
        if expected:  # how far the fit trails the load the process is under now
            self.overrun = smoothed(self.overrun, seconds / expected)
        self.cost.observe(len(batch), max(_weight(r.text) for r in batch), seconds)
        audio_s = [res[0].size / spec.SAMPLE_RATE for res in results if res[0].size]
        if not audio_s:
            return
        rtf = seconds / (sum(audio_s) / len(audio_s))  # every request in the batch waited `seconds`
        self.rtf = smoothed(self.rtf, rtf)

    def stop(self, timeout: float = 2.0) -> None:
        with self._cond:
            self._stopped = True
            pending = list(self._queue)
            self._queue.clear()
            self._cond.notify_all()
        for r in pending:
            r.future.cancel()
        self._thread.join(timeout)
