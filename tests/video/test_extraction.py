"""Closed loop on a real face: known head rotation, jaw and blinks in, the same measured out."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest

from avatar_omnitalker import spec
from avatar_omnitalker.infer.reference import Reference, ReferenceDataError
from avatar_omnitalker.render.video import write_mp4
from avatar_omnitalker.video.extract import ExtractionError, extract_motion
from avatar_omnitalker.video.landmarks import mediapipe_python, video_landmarks
from avatar_omnitalker.video.media import MediaError, read_audio
from avatar_omnitalker.video.prepare import prepare_reference
from avatar_omnitalker.video.preprocess import preprocess
from tests.video.portrait import astronaut_face, talking_video, turn

IDX = spec.MOTION_INDEX


@pytest.fixture(scope="module")
def face(tmp_path_factory):
    mediapipe_python()  # the isolated environment (made once)
    img, centre = astronaut_face()
    path = tmp_path_factory.mktemp("still") / "still.mp4"
    write_mp4(path, iter([img] * 2), np.zeros(2 * 960, np.float32), 2)
    return img, centre, video_landmarks(path).points[0]


def test_head_rotation_closed_loop(face, tmp_path):
    img, centre, _ = face
    n = 40
    truth = np.zeros((n, 3))
    truth[:, 2] = np.radians(np.linspace(-20, 20, n))
    truth[:, 1] = np.radians(20 * np.sin(np.linspace(0, 6, n)))
    path = tmp_path / "turns.mp4"
    write_mp4(path, (turn(img, centre, *a, focal=600) for a in truth), np.zeros(n * 960, np.float32), n)
    est = extract_motion(path).motion[:, spec.HEAD_ROTATION]
    roll_err = np.degrees(est[:, 2] - truth[:, 2])
    roll_err -= np.median(roll_err)  # the portrait's own head tilt
    assert np.abs(roll_err).mean() < 2.0, f"roll error {np.abs(roll_err).mean():.2f} deg"
    # a flat photo turned in depth is not a turned head: only the direction of yaw is checked
    assert np.corrcoef(est[:, 1], truth[:, 1])[0, 1] > 0.9


def test_jaw_and_blinks_closed_loop(face, tmp_path):
    _, jaw, blink, _ = talking_video(tmp_path / "talk.mp4", face)
    m = extract_motion(tmp_path / "talk.mp4").motion
    assert np.corrcoef(m[:, IDX["jawOpen"]], jaw[: len(m)])[0, 1] > 0.8
    if blink.max() > 0.5:
        est = 0.5 * (m[:, IDX["eyeBlinkLeft"]] + m[:, IDX["eyeBlinkRight"]])
        assert np.corrcoef(est, blink[: len(m)])[0, 1] > 0.6


def test_prepare_reference_from_a_video(face, tmp_path):
    clip, *_ = talking_video(tmp_path / "ref.mp4", face)
    ref = prepare_reference(tmp_path / "ref.mp4", clip.text, tmp_path / "ref.npz")
    back = Reference.load(tmp_path / "ref.npz")
    assert back.transcript == clip.text and back.appearance.shape == (256, 256, 3)
    assert abs(ref.duration - clip.frames / spec.FPS) < 0.5  # the silent lead-in and tail were trimmed
    assert back.audio.size == spec.samples_for_frames(back.frames)
    with pytest.raises(ReferenceDataError, match="transcript"):
        prepare_reference(tmp_path / "ref.mp4", "  ", tmp_path / "bad.npz")
    assert not (tmp_path / "bad.npz").exists()


def write_silent_video(path, frames):
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=25)
        s.pix_fmt, s.height, s.width = "yuv420p", frames[0].shape[0], frames[0].shape[1]
        for f in frames:
            for pkt in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(pkt)
        for pkt in s.encode(None):
            out.mux(pkt)


def test_preprocess_folder_into_trainable_shards(face, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    texts = {}
    for i in range(2):
        text = [
            "Anna found the red box today. Ben painted the blue chair yesterday.",
            "Carla opened the old door. David fixed the small lamp last night.",
        ][i]
        talking_video(videos / f"good{i}.mp4", face, text=text, seed=i)
        texts[f"good{i}.mp4"] = text
    write_silent_video(videos / "mute.mp4", [face[0]] * 30)
    texts["mute.mp4"] = "No sound here."
    blank = np.full((256, 256, 3), 90, np.uint8)
    write_mp4(videos / "noface.mp4", iter([blank] * 30), np.zeros(30 * 960, np.float32), 30)
    texts["noface.mp4"] = "Nobody is here."
    (tmp_path / "t.jsonl").write_text(
        "".join(json.dumps({"file": k, "text": v, "speaker": "astro"}) + "\n" for k, v in texts.items())
    )
    out = preprocess(videos, tmp_path / "t.jsonl", tmp_path / "shards", workers=1)
    rejected = {r["file"]: r["reason"] for r in map(json.loads, (out / "rejected.jsonl").read_text().splitlines())}
    assert set(rejected) == {"mute.mp4", "noface.mp4"}
    assert "no audio" in rejected["mute.mp4"] and "no face" in rejected["noface.mp4"]
    from avatar_omnitalker.data.dataset import PairDataset
    from avatar_omnitalker.data.shards import Corpus
    from avatar_omnitalker.text.phonemes import PhonemeTokenizer

    corpus = Corpus(out)
    assert len(corpus.sources) == 2 and all(len(s.meta["segments"]) == 2 for s in corpus.sources)
    ds = PairDataset(corpus, "train", corpus.motion_stats(), PhonemeTokenizer())
    ex = ds.load(ds.pairs(0)[0])
    assert ex.mel.shape[0] == spec.mel_frames_for_motion(ex.frames) and max(ex.text) > 0
    preprocess(videos, tmp_path / "t.jsonl", out)  # resumable: nothing left to do, nothing rewritten


def test_error_paths(face, tmp_path):
    with pytest.raises(FileNotFoundError):
        extract_motion(tmp_path / "missing.mp4")
    write_silent_video(tmp_path / "mute.mp4", [face[0]] * 10)
    with pytest.raises(MediaError, match="no audio"):
        read_audio(tmp_path / "mute.mp4")
    (tmp_path / "junk.mp4").write_bytes(b"not a video")
    with pytest.raises((MediaError, ExtractionError, RuntimeError)):
        prepare_reference(tmp_path / "junk.mp4", "hello there", tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()
