"""Speech waiting to be played, cut into output frames of any rate that divides 24 kHz.

Generated speech arrives as blocks of audio with 25 fps motion of exactly matching length. The
clock asks for one output frame at a time (24000 / fps samples); the motion for that frame is
interpolated at the frame's centre instant, so 20/24/25/30 fps outputs stay in sync with the audio.
A frame never straddles two turns: the last frame of a turn is padded with silence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from avatar_omnitalker import spec


def idle_frames_inside(speech_ids: Sequence[str | None], speech_id: str) -> int:
    """Frames between a reply's first and last speaking frame that did not speak it (gaps the
    model did not fill in time); speech_ids holds each emitted frame's speech_id."""
    frames = [i for i, s in enumerate(speech_ids) if s == speech_id]
    return frames[-1] - frames[0] + 1 - len(frames) if frames else 0


@dataclass
class OutFrame:
    audio: np.ndarray  # (samples_per_output_frame,) float32
    motion: np.ndarray  # (61,) float32
    speech_id: str | None
    turn_end: bool  # the last frame of this turn's speech


class SpeechTimeline:
    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self._audio = np.zeros(0, np.float32)
        self._motion = np.zeros((0, spec.MOTION_DIM), np.float32)
        self._start = 0  # absolute sample index of self._audio[0] (always a motion-frame boundary)
        self._cursor = 0  # absolute sample index of the next output sample
        self._turns: list[tuple[int, str | None, bool]] = []  # (absolute end sample, speech_id, ends the turn)

    def push(self, audio: np.ndarray, motion: np.ndarray, speech_id: str | None, turn_end: bool) -> None:
        if audio.size != spec.samples_for_frames(motion.shape[0]):
            raise ValueError(f"{audio.size} samples do not match {motion.shape[0]} motion frames")
        if audio.size == 0 and not turn_end:
            return
        self._audio = np.concatenate([self._audio, audio.astype(np.float32)])
        self._motion = np.concatenate([self._motion, motion.astype(np.float32)])
        end = self._start + self._audio.size
        if self._turns and self._turns[-1][0] == end and not self._turns[-1][2] and self._turns[-1][1] == speech_id:
            self._turns[-1] = (end, speech_id, turn_end)
        else:
            self._turns.append((end, speech_id, turn_end))

    def speech_ids(self) -> set[str | None]:
        return {speech_id for _, speech_id, _ in self._turns}

    def pending_samples(self) -> int:
        return self._start + self._audio.size - self._cursor

    def has_frame(self, samples: int) -> bool:
        """A full frame is ready, or the turn's end is (which gets padded)."""
        if not self._turns:
            return False
        return self.pending_samples() >= samples or (self._turns[0][2] and self._turns[0][0] >= self._cursor)

    def pop(self, samples: int) -> OutFrame:
        end, speech_id, ends_turn = self._turns[0]
        take = min(samples, end - self._cursor)
        lo = self._cursor - self._start
        audio = np.zeros(samples, np.float32)
        audio[:take] = self._audio[lo : lo + take]
        centre = self._cursor + samples / 2 - self._start  # relative sample of the frame's centre
        motion = self._motion_at(centre)
        self._cursor += take
        turn_end = False
        if self._cursor >= end:
            self._turns.pop(0)
            turn_end = ends_turn
        self._trim()
        return OutFrame(audio, motion, speech_id, turn_end)

    def _motion_at(self, rel_sample: float) -> np.ndarray:
        k = self._motion.shape[0]
        if k == 0:
            return np.zeros(spec.MOTION_DIM, np.float32)
        pos = min(max(rel_sample / spec.SAMPLES_PER_FRAME - 0.5, 0.0), k - 1.0)
        i = int(np.floor(pos))
        j = min(i + 1, k - 1)
        w = pos - i
        return (self._motion[i] * (1 - w) + self._motion[j] * w).astype(np.float32)

    def _trim(self) -> None:
        """Drop whole motion frames already played, keeping one for interpolation."""
        done = (self._cursor - self._start) // spec.SAMPLES_PER_FRAME - 1
        if done > 0:
            cut = done * spec.SAMPLES_PER_FRAME
            self._audio = self._audio[cut:]
            self._motion = self._motion[done:]
            self._start += cut
