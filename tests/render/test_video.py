"""MP4 output: H.264 + AAC whose audio and video last exactly as long as each other."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from avatar_omnitalker import spec
from avatar_omnitalker.render.video import read_mp4, write_mp4, write_preview


def frames(n: int):
    for i in range(n):
        yield np.full((64, 64, 3), i * 5 % 255, np.uint8)


def test_lengths_match_when_read_back(tmp_path):
    n = 37
    audio = (0.3 * np.sin(np.arange(spec.samples_for_frames(n)) * 0.05)).astype(np.float32)
    path = write_mp4(tmp_path / "a.mp4", frames(n), audio, n)
    count, decoded, fps = read_mp4(path)
    assert count == n and fps == spec.FPS
    with av.open(str(path)) as f:
        v, a = f.streams.video[0], f.streams.audio[0]
        assert v.codec_context.name == "h264" and a.codec_context.name == "aac" and a.sample_rate == spec.SAMPLE_RATE
        assert float(v.duration * v.time_base) == pytest.approx(n / spec.FPS)
        assert float(a.duration * a.time_base) == pytest.approx(n / spec.FPS)
    assert abs(decoded.size - audio.size) < 1024  # decoders pad to whole AAC frames


def test_mismatch_leaves_no_file(tmp_path):
    with pytest.raises(ValueError, match="samples"):
        write_mp4(tmp_path / "b.mp4", frames(10), np.zeros(100, np.float32), 10)
    with pytest.raises(ValueError, match="video frames"):
        write_mp4(tmp_path / "c.mp4", frames(5), np.zeros(spec.samples_for_frames(10), np.float32), 10)
    assert list(tmp_path.iterdir()) == []


def test_preview_png(tmp_path):
    motion = np.zeros((50, spec.MOTION_DIM), np.float32)
    path = write_preview(tmp_path / "p.png", list(frames(4)), motion, "hello")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_outputs_appear_together_or_not_at_all(tmp_path):
    from avatar_omnitalker.fileio import Outputs
    from avatar_omnitalker.render.video import Mp4Writer

    video, motion = tmp_path / "s.mp4", tmp_path / "m.json"
    video.write_bytes(b"the user's old video")
    with pytest.raises(RuntimeError, match="boom"):
        with Outputs([video, motion]) as out, Mp4Writer(out.temp(video)) as writer:
            writer.add(np.zeros((32, 32, 3), np.uint8), np.zeros(960, np.float32))
            Path(out.temp(motion)).write_text("{}")
            raise RuntimeError("boom")  # e.g. the second output failed after the first was complete
    with pytest.raises(ValueError, match="no frames"):
        with Outputs([video]) as out, Mp4Writer(out.temp(video)):
            pass
    assert video.read_bytes() == b"the user's old video" and not motion.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.mp4"], "no temp file left"
    with Outputs([video, motion]) as out, Mp4Writer(out.temp(video)) as writer:
        writer.add(np.zeros((32, 32, 3), np.uint8), np.zeros(960, np.float32))
        Path(out.temp(motion)).write_text("{}")
    assert read_mp4(video)[0] == 1 and motion.read_text() == "{}"
