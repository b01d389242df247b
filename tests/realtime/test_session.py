"""The frame clock of AvatarSession, on an injected virtual clock: no wall-clock assertions."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from avatar_omnitalker import spec
from avatar_omnitalker.infer.pipeline import GenerationSettings, Pipeline
from avatar_omnitalker.realtime.scheduler import BatchScheduler
from avatar_omnitalker.realtime.session import AvatarSession, SessionSettings


class VirtualClock:
    """Time moves only when the session waits; `jump` simulates a stall of the whole process."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> None:
        self.now += seconds

    def jump(self, seconds: float) -> None:
        self.now += seconds


class Sink:
    def __init__(self, clock: VirtualClock, frames: int, jump_at: int | None = None) -> None:
        self.clock, self.frames, self.jump_at = clock, frames, jump_at
        self.times: list[float] = []
        self.audio: list[np.ndarray] = []
        self.done = threading.Event()

    def video_frame(self, audio, image_bgr, speech_id, speech_end) -> None:
        self.times.append(self.clock())
        self.audio.append(audio)
        if len(self.times) == self.jump_at:
            self.clock.jump(1.0)
        if len(self.times) >= self.frames:
            self.done.set()

    def motion_bundle(self, arkit, audio, speech_id, start, end) -> None:
        raise AssertionError("video mode")

    def speech_ended(self, speech_id) -> None:
        pass


@pytest.fixture(scope="module")
def pipeline():
    return Pipeline.load(renderer="parametric", size=64, settings=GenerationSettings(nfe=2))


def run(pipeline, fps: int, frames: int, jump_at: int | None = None) -> tuple[Sink, AvatarSession]:
    clock = VirtualClock()
    sink = Sink(clock, frames, jump_at)
    scheduler = BatchScheduler(pipeline)
    session = AvatarSession(scheduler, pipeline.reference.motion, pipeline.renderer, sink, SessionSettings(fps=fps),
                            clock=clock, wait=clock.wait)
    session.start()
    assert sink.done.wait(60)
    session.stop()
    scheduler.stop()
    return sink, session


@pytest.mark.parametrize("fps", [25, 24, 30])
def test_one_frame_per_period_with_its_exact_audio(pipeline, fps):
    sink, _ = run(pipeline, fps, 50)
    steps = np.diff(sink.times[:50])
    assert np.allclose(steps, 1.0 / fps)
    assert {a.size for a in sink.audio} == {spec.SAMPLE_RATE // fps}
    assert all(np.abs(a).max() == 0 for a in sink.audio), "idle frames are silent"


def test_a_stall_re_anchors_the_clock_instead_of_bursting(pipeline):
    sink, session = run(pipeline, 25, 40, jump_at=10)
    steps = np.diff(sink.times[:40])
    assert session.lag_events == 1
    assert np.isclose(steps[9], 1.0), "the frame after the stall comes at once, then the old period"
    assert np.allclose(np.delete(steps, 9), 0.04), "no catch-up burst after the stall"
