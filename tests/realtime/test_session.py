"""The frame clock of AvatarSession, on an injected virtual clock: no wall-clock assertions."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from avatar_omnitalker import spec
from avatar_omnitalker.infer.chunking import TextChunker
from avatar_omnitalker.infer.config import PipelineConfig
from avatar_omnitalker.infer.pipeline import Pipeline
from avatar_omnitalker.motion.transition import POSE_CHANNELS, SETTLE_FRAMES
from avatar_omnitalker.realtime.cost import SolveCost
from avatar_omnitalker.realtime.scheduler import BatchScheduler, Job
from avatar_omnitalker.realtime.session import AvatarSession, SessionSettings, _Turn
from avatar_omnitalker.render.factory import make_renderer


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
    return Pipeline.load(PipelineConfig(nfe=2, size=64, device="cpu"))


def run(pipeline, fps: int, frames: int, jump_at: int | None = None) -> tuple[Sink, AvatarSession]:
    clock = VirtualClock()
    sink = Sink(clock, frames, jump_at)
    scheduler = BatchScheduler(pipeline)
    session = AvatarSession(
        scheduler,
        pipeline.reference.motion,
        make_renderer(PipelineConfig(size=64), pipeline.reference),
        sink,
        SessionSettings(fps=fps),
        clock=clock,
        wait=clock.wait,
    )
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


def make_session(pipeline, sink=None) -> tuple[AvatarSession, BatchScheduler]:
    clock = VirtualClock()
    scheduler = BatchScheduler(pipeline)
    renderer = make_renderer(PipelineConfig(size=64), pipeline.reference)
    session = AvatarSession(
        scheduler,
        pipeline.reference.motion,
        renderer,
        sink or Sink(clock, 10**9),
        clock=clock,
        wait=clock.wait,
        name="s-test",
    )
    return session, scheduler


def held_turn(seconds: int) -> _Turn:
    """A reply not yet playing, with `seconds` of generated speech held back."""
    turn = _Turn("r", TextChunker())
    audio = np.zeros(spec.SAMPLE_RATE * seconds, np.float32)
    turn.held.append(((audio, np.zeros((seconds * spec.FPS, spec.MOTION_DIM))), False))
    return turn


def test_a_reply_starts_only_when_what_is_ready_outlasts_generating_the_rest(pipeline):
    session, scheduler = make_session(pipeline)
    try:
        session._seconds_per_char = 0.1  # 10 characters a second
        turn = held_turn(2)
        turn.pending.append(("x" * 30, Job()))  # 3 s of speech still to generate
        scheduler.rtf = 0.5  # 1.5 s of work: 2 s ready covers it (with the margin)
        assert session._may_start(turn)
        scheduler.rtf = 0.9  # 2.7 s of work: 2 s ready would run dry
        assert not session._may_start(turn)
        turn.pending.append(("y" * 30, Job()))  # a second 3 s chunk: made while the first one plays
        scheduler.rtf = 0.5
        assert session._may_start(turn), "2 s ready covers 1.5 s of work; the 2nd chunk is made during the 1st"
        scheduler.rtf = 1.0  # real time: the first chunk's 3 s of work must be covered, later ones keep pace
        assert not session._may_start(turn)
        turn.held.clear()
        scheduler.rtf = 0.01
        assert not session._may_start(turn), "nothing ready: nothing to start"
    finally:
        scheduler.stop()


def test_time_already_spent_on_the_next_chunk_counts_towards_starting(pipeline):
    """Found in the real engine: 2.2 s ready against 2.3 s of (margined) work for the next chunk
    made the reply wait 1.5 s for that whole chunk; counting the work already done on it starts
    the reply a few frames later instead."""
    session, scheduler = make_session(pipeline)
    clock = session.clock
    try:
        session._seconds_per_char = 0.1
        scheduler.rtf = 0.9  # the next chunk (3 s) is 2.7 s of work; 2 s ready
        turn = held_turn(2)
        fut = Job()
        turn.pending.append(("x" * 30, fut))
        session._turns.append(turn)
        session._collect()
        assert turn.solving_since is None and not turn.started, "queued, not yet generating: no credit"
        fut.set_running_or_notify_cancel()
        session._collect()
        assert turn.solving_since == clock() and not turn.started
        clock.wait(0.8)  # 1.9 s of work left: 2 s ready is short of it with the margin
        session._collect()
        assert not turn.started
        clock.wait(0.2)  # 1.7 s left: covered
        session._collect()
        assert turn.started, "the reply starts while the next chunk is still being made"
        fut.set_result((np.zeros(spec.SAMPLE_RATE * 3, np.float32), np.zeros((75, spec.MOTION_DIM), np.float32)))
        session._collect()
        assert turn.solving_since is None, "the credit goes with the chunk it was earned on"
    finally:
        scheduler.stop()


def test_a_chunk_sharing_a_costly_batch_holds_the_start_until_that_batch_is_far_enough(pipeline):
    """Two parametric sessions in the real engine: the first reply started on its voice's rtf while
    its next chunk was solved beside the other session's first chunk, twice as long, and ran dry
    for 3-26 frames. The batch's predicted time is what the rule must cover."""
    session, scheduler = make_session(pipeline)
    clock = session.clock
    try:
        session._seconds_per_char = 0.1
        scheduler.rtf = 0.5  # alone, the next chunk (3 s) is 1.5 s of work: 2 s ready covers it
        turn = held_turn(2)
        job = Job()
        job.expected_s = 3.0  # its batch: two requests, predicted 3 s
        job.set_running_or_notify_cancel()
        turn.pending.append(("x" * 30, job))
        turn.solving_since = clock()
        assert not session._may_start(turn), "2 s ready, 3 s until the chunk is made"
        clock.wait(1.0)
        assert not session._may_start(turn), "2 s left: short of 2 s ready with the margin"
        clock.wait(0.3)
        assert session._may_start(turn)
        job.expected_s = None  # no rate measured yet: the rtf estimate stands
        clock.now = turn.solving_since
        assert session._may_start(turn)
    finally:
        scheduler.stop()


def test_a_short_chunk_is_costed_by_the_fitted_solve_time_when_the_real_time_factor_says_less(pipeline):
    """A short chunk costs mostly the fixed part of a solve, which a real-time factor (fitted on
    longer ones) hides; text not yet arrived costs nothing."""
    session, scheduler = make_session(pipeline)
    try:
        session._seconds_per_char = 0.1
        scheduler.rtf = 0.1  # 0.05 s of work for the 0.5 s chunk below, by the real-time factor
        turn = held_turn(1)
        turn.pending.append(("y" * 5, Job()))
        assert session._may_start(turn)
        scheduler.cost = SolveCost()
        scheduler.cost.observe(1, 5, 1.0)
        scheduler.cost.observe(1, 50, 1.0)  # 1 s a solve, whatever its length
        assert not session._may_start(turn), "1 s ready against 1 s of solving (with the margin)"
        turn.held.append(((np.zeros(spec.SAMPLE_RATE // 5, np.float32), np.zeros((5, spec.MOTION_DIM))), False))
        assert session._may_start(turn), "1.2 s ready; the empty text still to come adds no solve"
    finally:
        scheduler.stop()


def test_when_sessions_share_the_batches_the_real_time_factor_still_holds_the_start(pipeline):
    """Three sessions on 2 cores (`benchmarks/soak.py --sessions 3`): costed by the fitted solve
    time alone, which knows nothing of the other sessions' requests in each batch, 16 of 40
    replies ran dry; the real-time factor each request has lately seen carries that sharing."""
    session, scheduler = make_session(pipeline)
    try:
        session._seconds_per_char = 0.1
        scheduler.cost = SolveCost()
        scheduler.cost.observe(1, 10, 0.3)
        scheduler.cost.observe(1, 60, 0.4)  # alone, a 30-character chunk is 0.36 s of work
        turn = held_turn(1)
        turn.pending.append(("x" * 30, Job()))  # 3 s of speech
        scheduler.rtf = 0.1
        assert session._may_start(turn)
        scheduler.rtf = 0.9  # shared batches: 2.7 s of work
        assert not session._may_start(turn)
    finally:
        scheduler.stop()


def test_the_fitted_time_is_scaled_by_how_far_solves_have_overrun_it(pipeline):
    """Two sessions started at once on 2 cores: the first solves ran 1.45-1.65x (alone) and 1.2x
    (a pair) over the fit from the unloaded warm-up, against a 1.15 margin; replies ran dry in 6
    of 8 runs. Scaled by the measured overrun, 1 of 6."""
    session, scheduler = make_session(pipeline)
    try:
        session._seconds_per_char = 0.1
        scheduler.rtf = 0.1
        turn = held_turn(2)
        job = Job()
        job.expected_s = 1.5  # its batch, by the fit
        job.set_running_or_notify_cancel()
        turn.pending.append(("x" * 30, job))
        turn.solving_since = session.clock()
        assert session._may_start(turn), "2 s ready covers 1.5 s (with the margin)"
        scheduler.overrun = 1.5  # solves lately took 1.5x the fit: 2.25 s
        assert not session._may_start(turn)
    finally:
        scheduler.stop()


def test_a_chunk_running_past_its_estimate_earns_no_more_than_the_estimate(pipeline):
    session, scheduler = make_session(pipeline)
    try:
        session._seconds_per_char = 0.1
        scheduler.rtf = 1.0  # real time: two 3 s chunks, each 3 s of work
        turn = held_turn(1)
        turn.pending.extend([("x" * 30, Job()), ("y" * 30, Job())])
        turn.solving_since = session.clock() - 60.0  # long overdue: credited with its 3 s estimate only
        assert session._may_start(turn), "the first chunk counts as made; the second is made while it plays"
        turn.pending.append(("z" * 60, Job()))  # 6 s of work that 3 s of playback cannot hide
        assert not session._may_start(turn), "60 s of credit would have hidden it; 3 s does not"
    finally:
        scheduler.stop()


def test_before_a_session_learns_its_voice_rate_it_uses_the_warm_up_rate(pipeline):
    session, scheduler = make_session(pipeline)
    try:
        turn = held_turn(2)
        turn.pending.append(("x" * 30, Job()))
        scheduler.rtf = 0.5
        scheduler.speech_per_char = 0.1  # 3 s still to make: 1.5 s of work, covered by 2 s ready
        assert session._may_start(turn)
        scheduler.speech_per_char = 0.2  # 6 s still to make: 3 s of work, not covered
        assert not session._may_start(turn)
    finally:
        scheduler.stop()


def test_text_for_an_interrupted_reply_stays_unspoken(pipeline):
    session, scheduler = make_session(pipeline)
    try:
        session.on_text("A long reply that the user will cut short. ", "r1", False)
        session.interrupt()
        session.on_text("More text of the same reply arrives late.", "r1", True)
        session.on_text("A new reply.", "r2", True)
        assert [t.speech_id for t in session._turns] == ["r2"] and "r1" in session.cancelled
    finally:
        scheduler.stop()


def test_the_head_goes_on_from_idle_into_a_reply_and_back_without_a_jump(pipeline):
    """A reply's motion starts at its own pose, unrelated to the idle pose shown before it."""
    session, scheduler = make_session(pipeline)
    samples = spec.SAMPLES_PER_FRAME
    shown = [session._next_motion(samples)[1] for _ in range(10)]
    idle_step = np.abs(np.diff(np.stack(shown)[:, POSE_CHANNELS], axis=0)).max()
    reply = np.tile(shown[-1], (40, 1))
    reply[:, POSE_CHANNELS] += 0.3  # 17 degrees of head rotation away, and the eyes too
    reply[:, spec.MOTION_INDEX["jawOpen"]] = 0.6
    session.timeline.push(np.zeros(spec.samples_for_frames(40), np.float32), reply, "r1", True)
    frames = [session._next_motion(samples) for _ in range(40 + 2 * SETTLE_FRAMES)]
    assert [f[3] for f in frames] == [True] * 40 + [False] * 2 * SETTLE_FRAMES
    into = np.stack(shown + [f[1] for f in frames[:40]])[:, POSE_CHANNELS]
    assert np.abs(np.diff(into, axis=0)).max() <= 1.5 * 0.3 / SETTLE_FRAMES + idle_step, "no snap into the reply"
    assert np.allclose(into[10 + SETTLE_FRAMES :], reply[SETTLE_FRAMES:, POSE_CHANNELS]), "then the reply's own pose"
    assert all(f[1][spec.MOTION_INDEX["jawOpen"]] == 0.6 for f in frames[:40]), "the mouth speaks from the first frame"
    # out of it: the idle loop resumes where it was, shifted by an offset that fades smoothly
    idle = session.idle.loop[10 : 10 + 2 * SETTLE_FRAMES]
    offset = np.stack([f[1] for f in frames[40:]])[:, POSE_CHANNELS] - idle[:, POSE_CHANNELS]
    gap = np.abs(into[-1] - idle[0, POSE_CHANNELS]).max()
    assert np.abs(offset[0]).max() > 0.5 * gap and np.abs(np.diff(offset, axis=0)).max() <= 1.5 * gap / SETTLE_FRAMES
    assert np.allclose(offset[SETTLE_FRAMES:], 0.0), "then the idle motion itself"
    scheduler.stop()
