"""References are validated with clear messages, trimmed consistently and round-trip as .npz."""

from __future__ import annotations

import numpy as np
import pytest

from avatar_omnitalker import spec
from avatar_omnitalker.audio.resample import resample
from avatar_omnitalker.data.synth import synthesize_clip
from avatar_omnitalker.infer.reference import Reference, ReferenceDataError

APPEARANCE = np.full((64, 64, 3), 128, np.uint8)


@pytest.fixture(scope="module")
def clip():
    return synthesize_clip("This is a short reference sentence for the tests.")


def padded(clip, lead_s=1.0, tail_s=0.5):
    lead, tail = int(lead_s * spec.FPS), int(tail_s * spec.FPS)
    audio = np.concatenate(
        [np.zeros(spec.samples_for_frames(lead)), clip.audio, np.zeros(spec.samples_for_frames(tail))]
    )
    motion = np.concatenate([np.repeat(clip.motion[:1], lead, 0), clip.motion, np.repeat(clip.motion[-1:], tail, 0)])
    return audio.astype(np.float32), motion, lead


def test_prepare_trims_silence_with_the_motion(clip):
    audio, motion, lead = padded(clip)
    ref = Reference.prepare(audio, spec.SAMPLE_RATE, motion, clip.text, APPEARANCE)
    assert ref.audio.size == ref.frames * spec.SAMPLES_PER_FRAME
    assert ref.duration < clip.frames / spec.FPS + 0.5
    # audio and motion are cut at the same frame: find the cut in the audio, check the motion there
    start = next(k for k in range(len(motion)) if np.array_equal(motion[k : k + ref.frames], ref.motion))
    src = audio[spec.samples_for_frames(start) : spec.samples_for_frames(start + ref.frames)]
    assert np.corrcoef(src, ref.audio)[0, 1] > 0.999
    assert lead - 5 <= start <= lead
    level = 20 * np.log10(np.sqrt(np.mean(ref.audio**2)))
    assert -26 < level < -18


def test_other_sample_rates_are_resampled(clip):
    audio16 = resample(clip.audio, spec.SAMPLE_RATE, 16000)
    ref = Reference.prepare(audio16, 16000, clip.motion, clip.text, APPEARANCE)
    assert ref.audio.size == spec.samples_for_frames(ref.frames) and abs(ref.frames - clip.frames) <= 6


def test_round_trip(tmp_path, clip):
    ref = Reference.prepare(clip.audio, spec.SAMPLE_RATE, clip.motion, clip.text, APPEARANCE, name="tester")
    path = ref.save(tmp_path / "ref.npz")
    back = Reference.load(path)
    assert back.transcript == ref.transcript and back.name == "tester"
    assert np.array_equal(back.audio, ref.audio) and np.array_equal(back.motion, ref.motion)
    assert back.mel.shape == (spec.mel_frames_for_motion(ref.frames), spec.N_MELS)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(transcript=""), "transcript is required"),
        (dict(transcript="hello ☺"), "vocab lacks"),
        (dict(audio="silent"), "silent"),
        (dict(audio="short"), "at least 1 s"),
        (dict(audio="long"), "at most 10 s"),
        (dict(motion="mismatch"), "motion lasts"),
    ],
)
def test_validation_errors(clip, change, message):
    audio, motion, text = clip.audio.copy(), clip.motion.copy(), clip.text
    if change.get("audio") == "silent":
        audio = np.zeros_like(audio)
    if change.get("audio") == "short":
        audio, motion = audio[: spec.samples_for_frames(15)], motion[:15]
    if change.get("audio") == "long":
        audio, motion = np.tile(audio, 5), np.tile(motion, (5, 1))
    if change.get("motion") == "mismatch":
        motion = motion[: len(motion) // 2]
    text = change.get("transcript", text)
    with pytest.raises(ReferenceDataError, match=message):
        Reference.prepare(audio, spec.SAMPLE_RATE, motion, text, APPEARANCE)


def test_foreign_npz_refused(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(ReferenceDataError, match="not an avatar-omnitalker reference"):
        Reference.load(path)
