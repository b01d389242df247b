"""`omnitalker converse`: the avatar session fed scripted LLM replies, recorded as a client sees it.

The OpenAvatarChat handler is a thin adapter over `AvatarSession`; this drives the same session
directly (no host needed), streaming LLM-style text deltas into it and writing every frame the
clock emits (idle, each reply, idle again) into an MP4 as it comes, so an avatar can be checked
before it is deployed and a long session never sits in memory.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from loguru import logger

from avatar_omnitalker.infer.pipeline import Pipeline
from avatar_omnitalker.realtime.scheduler import BatchScheduler
from avatar_omnitalker.realtime.session import AvatarSession, SessionSettings
from avatar_omnitalker.realtime.timeline import idle_frames_inside
from avatar_omnitalker.render.base import Renderer
from avatar_omnitalker.render.video import Mp4Writer

SENTENCE_END = ".!?。！？"


@dataclass
class ConverseResult:
    frames: int = 0
    first_frame_latency: list[float] = field(default_factory=list)  # per reply: first sentence's text -> first frame
    idle_frames_inside: list[int] = field(default_factory=list)  # per reply: gaps the model did not fill in time


class _Recorder:
    """SessionSink: the clock thread hands frames over; a writer thread encodes them."""

    def __init__(self, writer: Mp4Writer) -> None:
        self.writer = writer
        self.frames: queue.Queue = queue.Queue()
        self.first_frame_at: dict[str, float] = {}
        self.speech_ids: list[str | None] = []  # per frame
        self.ended: set[str] = set()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._write, name="omnitalker-converse-writer", daemon=True)
        self.thread.start()

    def video_frame(self, audio, image_bgr, speech_id, speech_end) -> None:
        if speech_id is not None:
            self.first_frame_at.setdefault(speech_id, time.monotonic())
        self.speech_ids.append(speech_id)
        self.frames.put((audio.copy(), np.ascontiguousarray(image_bgr[..., ::-1])))

    def motion_bundle(self, arkit, audio, speech_id, start, end) -> None:
        raise RuntimeError("converse records video; the session is in motion mode")

    def speech_ended(self, speech_id) -> None:
        self.ended.add(speech_id)

    def _write(self) -> None:
        while True:
            item = self.frames.get()
            if item is None:
                return
            if self.error is None:
                try:
                    self.writer.add(item[1], item[0])
                except BaseException as err:  # keep draining; report after the session stops
                    self.error = err

    def close(self) -> None:
        self.frames.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def converse(
    pipeline: Pipeline,
    renderer: Renderer,
    turns: list[str],
    out: str | Path,
    idle_s: float = 1.0,
    delta_chars: int = 4,
    delta_interval_s: float = 0.03,
    timeout_s: float = 120.0,
    settings: SessionSettings = SessionSettings(),
) -> ConverseResult:
    """Speak `turns` one after another, each streamed as deltas, with `idle_s` of idle between."""
    if not turns or not all(t.strip() for t in turns):
        raise ValueError("converse needs at least one non-empty reply text")
    if settings.mode != "video":
        raise ValueError("converse records video: use mode 'video'")
    scheduler = BatchScheduler(pipeline)
    scheduler.warm_up()
    result = ConverseResult()
    with Mp4Writer(out, settings.fps) as writer:  # `out` is written in place: give it a temp path
        recorder = _Recorder(writer)
        session = AvatarSession(scheduler, pipeline.reference.motion, renderer, recorder, settings)
        session.start()
        try:
            time.sleep(idle_s)
            for n, text in enumerate(turns):
                speech_id = f"turn-{n}"
                sentence_end = None
                for i in range(0, len(text), delta_chars):
                    piece = text[i : i + delta_chars]
                    session.on_text(piece, speech_id, False)
                    if sentence_end is None and any(c in SENTENCE_END for c in piece):
                        sentence_end = time.monotonic()
                    time.sleep(delta_interval_s)
                session.on_text("", speech_id, True)
                sentence_end = sentence_end or time.monotonic()
                deadline = time.monotonic() + timeout_s
                while speech_id not in recorder.ended:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"reply {n} did not finish within {timeout_s} s")
                    time.sleep(0.02)
                result.first_frame_latency.append(recorder.first_frame_at[speech_id] - sentence_end)
                result.idle_frames_inside.append(idle_frames_inside(recorder.speech_ids, speech_id))
                logger.info(
                    "reply {}: first speaking frame {:.2f} s after its first sentence, {} idle frames inside",
                    n,
                    result.first_frame_latency[-1],
                    result.idle_frames_inside[-1],
                )
                time.sleep(idle_s)
        finally:
            session.stop()
            scheduler.stop()
            recorder.close()
        result.frames = writer.frames
    return result
