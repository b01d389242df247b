"""The `omnitalker` command: info and bench print what they promise."""

from __future__ import annotations

import json

from avatar_omnitalker.cli import main


def test_info_prints_parts(capsys):
    assert main(["info", "--config", "base"]) == 0
    out = capsys.readouterr().out
    assert "814.26 M parameters" in out and "fusion_blocks.motion" in out and "motion_blocks" in out


def test_bench_json(capsys):
    assert (
        main(
            [
                "bench",
                "--config",
                "tiny",
                "--device",
                "cpu",
                "--nfe",
                "2",
                "--prompt",
                "1",
                "--target",
                "1",
                "--runs",
                "1",
                "--json",
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["nfe"] == 2 and result["target_s"] == 1.0 and result["rtf"] > 0 and result["seconds"] > 0


def test_bad_config_is_a_clear_error(capsys):
    assert main(["info", "--config", "enormous"]) == 2


def test_bare_generate_writes_video_motion_and_preview(tmp_path):
    out, motion, preview = tmp_path / "o.mp4", tmp_path / "m.npz", tmp_path / "p.png"
    code = main(
        [
            "generate",
            "--text",
            "Hello! This is a test.",
            "--out",
            str(out),
            "--motion-out",
            str(motion),
            "--preview-png",
            str(preview),
            "--nfe",
            "2",
            "--size",
            "128",
        ]
    )
    assert code == 0 and out.stat().st_size > 1000 and preview.stat().st_size > 1000
    import numpy as np

    data = np.load(motion)
    assert data["arkit52"].shape[1] == 52 and float(data["arkit_fps"]) == 30.0
    assert abs(data["arkit52"].shape[0] - data["motion61"].shape[0] * 30 / 25) <= 1


def test_generate_refuses_empty_text(tmp_path):
    assert main(["generate", "--text", "  ", "--out", str(tmp_path / "x.mp4")]) == 2
    assert not (tmp_path / "x.mp4").exists()
