"""One conversation's avatar: text deltas in; audio + video frames (or ARKit motion) out on a clock.

The session owns the frame clock. Every tick (40 ms at 25 fps) it emits exactly one frame: the
next slice of generated speech with its face, or, when nothing is ready, an idle frame with
silence. Audio and image of a frame are produced together, so a slow model can only make the
clock show idle frames; it can never shift audio against video.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch
from loguru import logger

from avatar_omnitalker import spec
from avatar_omnitalker.infer.chunking import TextChunker, text_weight
from avatar_omnitalker.infer.idle import IdleMotion
from avatar_omnitalker.infer.joiner import Joiner
from avatar_omnitalker.motion.arkit import to_arkit52
from avatar_omnitalker.motion.resample import interpolate_uniform
from avatar_omnitalker.motion.transition import PoseContinuity
from avatar_omnitalker.realtime.scheduler import BatchScheduler, smoothed
from avatar_omnitalker.realtime.timeline import SpeechTimeline
from avatar_omnitalker.render.base import Renderer

START_MARGIN = 1.15  # ready speech must outlast the expected generation time of the rest by this factor
DEFAULT_SECONDS_PER_CHAR = 0.07  # until this voice's rate is learnt (about 14 Latin characters a second)
MOTION_GROUP_FRAMES = 5  # motion mode: one bundle per 200 ms = 5 frames at 25 fps = 6 at 30 fps
VALID_FPS = (20, 24, 25, 30)


class SessionSink(Protocol):
    def video_frame(
        self, audio: np.ndarray, image_bgr: np.ndarray, speech_id: str | None, speech_end: bool
    ) -> None: ...
    def motion_bundle(
        self, arkit: np.ndarray, audio: np.ndarray, speech_id: str | None, start: bool, end: bool
    ) -> None: ...
    def speech_ended(self, speech_id: str | None) -> None: ...


@dataclass(frozen=True)
class SessionSettings:
    mode: str = "video"  # "video" | "motion"
    fps: int = spec.FPS
    seed: int = 0
    first_chunk_chars: int = 10
    idle_motion: bool = True  # False: a still face between turns

    def __post_init__(self) -> None:
        if self.mode not in ("video", "motion"):
            raise ValueError(f"mode must be 'video' or 'motion', got {self.mode!r}")
        if self.fps not in VALID_FPS:
            raise ValueError(f"fps must be one of {VALID_FPS} (at most 30 and dividing 24000), got {self.fps}")


@dataclass
class _Turn:
    speech_id: str | None
    chunker: TextChunker
    joiner: Joiner = field(default_factory=Joiner)
    pending: deque = field(default_factory=deque)  # (chunk text, Job) in order
    text_ended: bool = False
    chunks: int = 0
    started: bool = False  # playing; until then generated parts wait in `held`
    solving_since: float | None = None  # session clock when pending[0] was first seen being generated
    held: list = field(default_factory=list)  # ((audio, motion), ends the turn) joined, not yet on the timeline


class AvatarSession:
    def __init__(
        self,
        scheduler: BatchScheduler,
        reference_motion: np.ndarray,
        renderer: Renderer | None,
        sink: SessionSink,
        settings: SessionSettings = SessionSettings(),
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[float], object] | None = None,
        name: str = "session",
    ) -> None:
        """`clock` and `wait(seconds)` pace the frames; tests inject a virtual pair. `name` (the
        host's session id) labels what this session logs."""
        if settings.mode == "video" and renderer is None:
            raise ValueError("video mode needs a renderer")
        self.scheduler = scheduler
        self.renderer = renderer
        self.sink = sink
        self.settings = settings
        self.clock = clock
        self.idle = IdleMotion(reference_motion, head_scale=0.7 if settings.idle_motion else 0.0)
        self._still = self.idle.loop[0].copy()
        self.timeline = SpeechTimeline()
        self._turns: deque[_Turn] = deque()
        self._open: _Turn | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wait = wait or self._stop.wait
        self._thread: threading.Thread | None = None
        self._last_motion = self._still
        self._continuity = PoseContinuity()  # no head jump where idle, one reply and the next meet
        self._source: object = "idle"  # what the last frame came from: "idle" or ("speech", speech_id)
        self._stream_open = False
        self.name = name
        self.cancelled: set[str] = set()  # interrupted replies: text still arriving for them is dropped
        self._seconds_per_char: float | None = None  # this voice's speaking rate, learnt from its speech
        self.frames_emitted = 0
        self.speaking_frames = 0
        self.lag_events = 0
        self.failed_chunks = 0

    # ------------------------------------------------------------------ host side (pump thread)
    def on_text(self, text: str, speech_id: str | None, end: bool) -> None:
        with self._lock:
            if speech_id is not None and speech_id in self.cancelled:
                return  # the reply was interrupted: what the LLM still sends for it stays unspoken
            turn = self._open
            if turn is None or turn.speech_id != speech_id:
                if turn is not None:  # a new turn began without the old one ending: finish the old
                    self._end_text(turn)
                turn = _Turn(speech_id, TextChunker(first_min=self.settings.first_chunk_chars))
                self._open = turn
                self._turns.append(turn)
            for chunk in turn.chunker.feed(text or ""):
                self._submit(turn, chunk)
            if end:
                self._end_text(turn)
                self._open = None

    def _end_text(self, turn: _Turn) -> None:
        for chunk in turn.chunker.flush():
            self._submit(turn, chunk)
        turn.text_ended = True

    def _submit(self, turn: _Turn, chunk: str) -> None:
        seed = self.settings.seed + turn.chunks
        turn.chunks += 1
        turn.pending.append((chunk, self.scheduler.submit(chunk, seed, key=self, first=turn.chunks == 1)))

    def interrupt(self) -> None:
        """Drop everything queued or being generated; the next frame is idle."""
        with self._lock:
            for turn in self._turns:
                for _, fut in turn.pending:
                    fut.cancel()
            ids = {t.speech_id for t in self._turns} | self.timeline.speech_ids()
            if self._open is not None:
                ids.add(self._open.speech_id)
            self.cancelled.update(i for i in ids if i is not None)
            queued = self.timeline.pending_samples()
            self._turns.clear()
            self._open = None
            self.timeline.clear()
        if ids or queued:
            logger.info("interrupted: dropped queued speech of {}", ids or "the last turn")

    # ------------------------------------------------------------------ clock
    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("session already started")
        self._thread = threading.Thread(target=self._run, name="omnitalker-clock", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self.interrupt()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.error("the clock thread did not stop within {} s", timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        video = self.settings.mode == "video"
        period = 1.0 / self.settings.fps if video else MOTION_GROUP_FRAMES / spec.FPS
        due = self.clock()
        while not self._stop.is_set():
            try:
                self._collect()
                self._tick_video() if video else self._tick_motion()
            except Exception:  # a bad frame must not end the session
                logger.exception("frame failed; the session goes on")
            due += period
            delay = due - self.clock()
            if delay < -5 * period:  # starved for several frames: re-anchor rather than burst
                self.lag_events += 1
                due = self.clock()
            elif delay > 0:
                self._wait(delay)

    def _collect(self) -> None:
        """Move finished generations, in order, through the joiner onto the timeline; a reply starts
        playing only once it can play to the end without a gap (see `_may_start`)."""
        with self._lock:
            while self._turns:
                turn = self._turns[0]
                while turn.pending and turn.pending[0][1].done():
                    chunk, fut = turn.pending.popleft()
                    turn.solving_since = None
                    try:
                        audio, motion = fut.result()
                    except Exception as err:
                        self.failed_chunks += 1
                        logger.error(
                            "{}: reply {} loses the chunk {!r}: {}", self.name, turn.speech_id, chunk[:40], err
                        )
                        continue
                    self._learn_rate(chunk, audio)
                    self._play(turn, turn.joiner.push(audio, motion), False)
                if turn.pending and turn.solving_since is None and turn.pending[0][1].running():
                    turn.solving_since = self.clock()
                done = not turn.pending and turn.text_ended
                if done:
                    self._play(turn, turn.joiner.flush(), True)
                if not turn.started and (done or self._may_start(turn)):
                    turn.started = True
                    for part, end in turn.held:
                        self.timeline.push(*part, turn.speech_id, end)
                    turn.held.clear()
                if not done:
                    return
                self._turns.popleft()

    def _play(self, turn: _Turn, part: tuple[np.ndarray, np.ndarray], end: bool) -> None:
        if turn.started:
            self.timeline.push(*part, turn.speech_id, end)
        else:
            turn.held.append((part, end))

    def _may_start(self, turn: _Turn) -> bool:
        """Start a reply once no later chunk can arrive after playback reaches it. Chunks are made
        one after another: chunk k of the rest (durations d_1..d_k, solve times w_1..w_k) is
        ready after w_1 + ... + w_k - s, where s is how long the first has been generating (at
        most w_1), while playback reaches it after ready + d_1 + ... + d_(k-1). The reply may
        start when `ready` covers the largest W_k - s - R_(k-1) (with a margin). With a fast
        model that is the first chunk alone; near real time it is most of the reply.

        w_i is the larger of two estimates: rtf x d_i (the real-time factor each request has
        lately seen, which carries how many sessions share the batches) and the scheduler's
        fitted solve time (the chunk's batch's, `Job.expected_s`, for the one being generated;
        alone for later ones), which carries a solve's fixed cost that makes short chunks dear.
        The fitted time is scaled by the scheduler's overrun (how much longer solves lately took
        than it predicted): a fit made while nothing was drawn trails a process drawing faces.
        What the real engine on 2 cores showed: without s, a reply that fell just short waited
        for the whole next chunk (1.5 s) instead of a few frames. What 3 sessions on 2 cores
        showed: the fitted time alone, blind to the sharing, let 16 of 40 replies run dry."""
        ready = sum(part[0].size for part, _ in turn.held) + self.timeline.pending_samples()
        if ready == 0:
            return False
        per_char = self._seconds_per_char or self.scheduler.speech_per_char or DEFAULT_SECONDS_PER_CHAR
        rest = [chunk for chunk, _ in turn.pending] + [turn.chunker.pending_text]
        rtf = self.scheduler.rtf if self.scheduler.rtf is not None else 1.0
        need = played = work = done = 0.0
        for i, chunk in enumerate(rest):
            if not chunk.strip():  # no text waiting yet, or spaces only: nothing to solve
                continue
            seconds = text_weight(chunk) * per_char
            solving = i == 0 and turn.solving_since is not None  # pending[0], being generated
            predicted = turn.pending[0][1].expected_s if solving else self.scheduler.solve_seconds(chunk)
            cost = max(rtf * seconds, (predicted or 0.0) * self.scheduler.overrun)
            if solving:
                done = min(self.clock() - turn.solving_since, cost)
            work += cost
            need = max(need, work - done - played)
            played += seconds
        return ready / spec.SAMPLE_RATE >= START_MARGIN * need

    def _learn_rate(self, chunk: str, audio: np.ndarray) -> None:
        weight = text_weight(chunk)
        if weight and audio.size:
            self._seconds_per_char = smoothed(self._seconds_per_char, audio.size / spec.SAMPLE_RATE / weight)

    def _next_motion(self, samples: int) -> tuple[np.ndarray, np.ndarray, str | None, bool, bool]:
        """(audio, motion row, speech_id, speaking, turn_end) for one slice of `samples`."""
        with self._lock:
            if self.timeline.has_frame(samples):
                f = self.timeline.pop(samples)
                motion = self._continuity.next(f.motion, self._switch(("speech", f.speech_id)))
                return f.audio, motion, f.speech_id, True, f.turn_end
        motion = self.idle.next(1)[0] if self.settings.idle_motion else self._still
        motion = self._continuity.next(motion, self._switch("idle"))
        return np.zeros(samples, np.float32), motion, None, False, False

    def _switch(self, source: object) -> bool:
        """Whether this frame's source differs from the last frame's (then the pose settles)."""
        changed, self._source = source != self._source, source
        return changed

    def _tick_video(self) -> None:
        samples = spec.SAMPLE_RATE // self.settings.fps
        audio, motion, speech_id, speaking, turn_end = self._next_motion(samples)
        image = self.renderer.render(motion[None])[0][..., ::-1]  # RGB -> BGR
        self.sink.video_frame(audio, np.ascontiguousarray(image), speech_id, turn_end)
        self._account(motion, speaking, turn_end, speech_id)

    def _tick_motion(self) -> None:
        rows, audio, speech_id, start, end = [], [], None, False, False
        for _ in range(MOTION_GROUP_FRAMES):
            a, m, sid, speaking, turn_end = self._next_motion(spec.SAMPLES_PER_FRAME)
            rows.append(m)
            audio.append(a)
            if speaking:
                speech_id = sid
                if not self._stream_open:
                    start, self._stream_open = True, True
            if turn_end:
                end, self._stream_open = True, False
            self._account(m, speaking, turn_end, sid)
        arkit = self._arkit(np.stack(rows))
        self.sink.motion_bundle(arkit, np.concatenate(audio), speech_id, start, end)

    def _arkit(self, rows: np.ndarray) -> np.ndarray:
        """(5, 61) at 25 fps -> (6, 52) at 30 fps, continuous with the previous group."""
        src = torch.from_numpy(np.concatenate([self._last_motion[None], rows]).astype(np.float32))
        n = MOTION_GROUP_FRAMES * spec.ARKIT_FPS // spec.FPS
        dst = (torch.arange(n, dtype=torch.float64) + 0.5) / spec.ARKIT_FPS  # seconds into the group
        resampled = interpolate_uniform(src, -0.5 / spec.FPS, 1.0 / spec.FPS, dst).numpy()
        self._last_motion = rows[-1]
        return to_arkit52(resampled, fps=spec.FPS, src_fps=spec.FPS)

    def _account(self, motion: np.ndarray, speaking: bool, turn_end: bool, speech_id: str | None) -> None:
        self.frames_emitted += 1
        self.speaking_frames += int(speaking)
        if turn_end:
            self.idle.nearest_to(motion)
            self.sink.speech_ended(speech_id)
