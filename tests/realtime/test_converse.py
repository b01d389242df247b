"""`omnitalker converse`: replies streamed into a real-time session, recorded frame by frame."""

from __future__ import annotations

import numpy as np

from avatar_omnitalker import spec


def test_converse_records_what_a_client_receives(tmp_path):
    from avatar_omnitalker.cli import main
    from avatar_omnitalker.render.video import read_mp4

    out = tmp_path / "session.mp4"
    assert (
        main(
            [
                "converse",
                "--text",
                "Hi there! Nice to see you.",
                "--text",
                "Bye.",
                "--out",
                str(out),
                "--size",
                "96",
                "--nfe",
                "2",
            ]
        )
        == 0
    )
    frames, audio, fps = read_mp4(out)
    assert fps == spec.FPS and frames > 3 * spec.FPS  # idle before, two replies, idle after
    assert abs(audio.size - frames * spec.SAMPLES_PER_FRAME) < 1024
    assert np.abs(audio).max() > 0.01  # the replies were spoken
