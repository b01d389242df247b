"""Does the head jump where separately generated motion meets? Joins of a streamed reply's chunks,
and the session's switches from idle into a reply and back, against the truth's own steps.

    python benchmarks/pose_continuity.py --corpus runs/corpus-dev --n 8 [--lang en|zh] [--checkpoint DIR]

For n held-out sources, each speaks one six-sentence paragraph cut as streaming cuts it (one
model call a chunk, joined by infer.Joiner), then a session in motion mode (the handler's frame
path) shows idle frames, that reply and idle frames again. Head rotation steps are in degrees per
frame (25 fps): the largest step in each join's window (2 frames before to 6 after), the path the
head travels over 12 frames there against 12 median steps inside chunks, and the largest step
where idle meets a reply, beside the steps of the true motion and of the reference. Figures only.
"""

from __future__ import annotations

import numpy as np
from corpus_listening import listening_parser, load

from avatar_omnitalker import spec
from avatar_omnitalker.data.splits import HELD_OUT
from avatar_omnitalker.eval.report import cases
from avatar_omnitalker.realtime.scheduler import BatchScheduler
from avatar_omnitalker.realtime.session import AvatarSession, SessionSettings

PARAGRAPHS = {
    "en": "Good morning, and welcome back to the show. Today we talk about gardens in small cities. "
    "Many people think they need a lot of space. That is not true at all. "
    "A window box can grow herbs all summer long. Let me show you how to start.",
    "zh": "早上好，欢迎回到节目。今天我们聊聊城市里的小花园。很多人觉得需要很大的地方。"
    "其实完全不是这样。一个窗台花箱整个夏天都能种香草。我来教你怎么开始。",
}
IDLE_BEFORE, IDLE_AFTER = 30, 30


class _NoSink:
    def video_frame(self, *_) -> None: ...
    def motion_bundle(self, *_) -> None: ...
    def speech_ended(self, *_) -> None: ...


def steps(motion: np.ndarray) -> np.ndarray:
    """(n, 61) -> (n - 1,) head rotation change per frame, degrees."""
    rotation = np.degrees(np.asarray(motion, np.float64)[:, spec.HEAD_ROTATION])
    return np.linalg.norm(np.diff(rotation, axis=0), axis=1)


def session_switches(
    scheduler: BatchScheduler, reference_motion: np.ndarray, audio: np.ndarray, motion: np.ndarray
) -> tuple[float, float]:
    """(largest step entering the reply, leaving it) on the session's frame path."""
    session = AvatarSession(scheduler, reference_motion, None, _NoSink(), SessionSettings(mode="motion"))
    shown = [session._next_motion(spec.SAMPLES_PER_FRAME)[1] for _ in range(IDLE_BEFORE)]
    session.timeline.push(audio, motion, "reply", True)
    shown += [session._next_motion(spec.SAMPLES_PER_FRAME)[1] for _ in range(len(motion) + IDLE_AFTER)]
    st = steps(np.stack(shown))
    end = IDLE_BEFORE + len(motion) - 1
    return float(st[IDLE_BEFORE - 2 : IDLE_BEFORE + 3].max()), float(st[end - 1 : end + 4].max())


def main() -> None:
    args = listening_parser(checkpoint_required=False).parse_args()
    corpus, pipe, _ = load(args)
    scheduler = BatchScheduler(pipe)
    text = PARAGRAPHS[args.lang]
    joins, paths, inside, truth, entering, leaving = [], [], [], [], [], []
    try:
        for case in cases(corpus, 1, sources=corpus.split(HELD_OUT)[: args.n]):
            pipe.set_reference(case.reference)
            segments = list(pipe.speak(pipe.chunk(text)))
            motion = np.concatenate([s.motion for s in segments])
            audio = np.concatenate([s.audio for s in segments])
            starts = np.cumsum([len(s.motion) for s in segments])[:-1]
            st = steps(motion)
            window = np.zeros(len(st), bool)
            for s in starts[starts < len(st)]:
                window[max(0, s - 2) : s + 6] = True
                joins.append(st[max(0, s - 2) : s + 6].max())
                paths.append(st[max(0, s - 2) : s + 10].sum())
            inside.append(st[~window])
            truth += [steps(case.gt_motion), steps(case.reference.motion)]
            into, out = session_switches(scheduler, case.reference.motion, audio, motion)
            entering.append(into)
            leaving.append(out)
    finally:
        scheduler.stop()
    inside_all, truth_all = np.concatenate(inside), np.concatenate(truth)
    p99 = np.percentile(truth_all, 99)
    print(f"{len(entering)} replies, {len(joins)} joins; head rotation steps in degrees per frame")
    print(f"joins, largest step in the window: median {np.median(joins):.2f}, max {np.max(joins):.2f}")
    print(f"joins, path over 12 frames: median {np.median(paths):.2f}", end=" ")
    print(f"(12 median steps inside chunks: {12 * np.median(inside_all):.2f})")
    print(f"inside chunks: median {np.median(inside_all):.2f}, p99 {np.percentile(inside_all, 99):.2f}")
    print(f"truth and reference: median {np.median(truth_all):.2f}, p99 {p99:.2f}, max {truth_all.max():.2f}")
    print(f"joins whose largest step exceeds the truth's p99: {np.mean(np.array(joins) > p99):.0%}")
    print(f"session, idle -> reply: median {np.median(entering):.2f}, max {np.max(entering):.2f}")
    print(f"session, reply -> idle: median {np.median(leaving):.2f}, max {np.max(leaving):.2f}")


if __name__ == "__main__":
    main()
