"""The `omnitalker` command: info and bench print what they promise."""

from __future__ import annotations

import json

from avatar_omnitalker.cli import main


def test_info_prints_parts(capsys):
    assert main(["info", "--config", "base"]) == 0
    out = capsys.readouterr().out
    assert "814.26 M parameters" in out and "fusion_blocks.motion" in out and "motion_blocks" in out


def test_bench_json(capsys):
    assert main(["bench", "--config", "tiny", "--device", "cpu", "--nfe", "2", "--prompt", "1", "--target", "1", "--runs", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["nfe"] == 2 and result["target_s"] == 1.0 and result["rtf"] > 0 and result["seconds"] > 0


def test_bad_config_is_a_clear_error(capsys):
    assert main(["info", "--config", "enormous"]) == 2
