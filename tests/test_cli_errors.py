"""Every bad input a user can give `omnitalker` is a clear message and exit code 2, checked before
work is done, and never costs the user a file: each case starts with an existing output that must
survive byte for byte, with no temp file left beside it. The README's table lists these cases."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from avatar_omnitalker.cli import main
from avatar_omnitalker.infer import defaults

OLD = b"the user's existing file"


def builtin_fields() -> dict:
    with np.load(defaults.packaged("reference.npz"), allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def broken_reference(tmp_path: Path, name: str) -> Path:
    fields = builtin_fields()
    if name == "no-transcript":
        del fields["transcript"]
    elif name == "forty-seconds":
        reps = int(np.ceil(40 * 25 / len(fields["motion"])))
        fields["motion"] = np.tile(fields["motion"], (reps, 1))
        fields["audio"] = np.tile(fields["audio"], reps)
    elif name == "silent":
        fields["audio"] = np.zeros_like(fields["audio"])
    elif name == "wild-motion":
        fields["motion"] = fields["motion"].copy()
        fields["motion"][3, 60] = 1e6
    path = tmp_path / f"{name}.npz"
    np.savez(path, **fields)
    return path


def bad_vocoder(tmp_path: Path, kind: str) -> Path:
    folder = tmp_path / f"vocoder-{kind}"
    folder.mkdir()
    config = (defaults.packaged("vocoder") / "config.yaml").read_text()
    weights = (defaults.packaged("vocoder") / "model.safetensors").read_bytes()
    if kind == "yaml":
        (folder / "config.yaml").write_text("backbone: [unclosed\n")
        (folder / "model.safetensors").write_bytes(weights)
    elif kind == "truncated":
        (folder / "config.yaml").write_text(config)
        (folder / "model.safetensors").write_bytes(weights[: len(weights) // 3])
    elif kind == "pickle":
        import pickle

        (folder / "config.yaml").write_text(config)
        (folder / "pytorch_model.bin").write_bytes(pickle.dumps({"x": print}))
    elif kind == "code":
        raw = yaml.safe_load(config)
        raw["head"]["class_path"] = "subprocess.Popen"
        (folder / "config.yaml").write_text(yaml.safe_dump(raw))
        (folder / "model.safetensors").write_bytes(weights)
    return folder


def fake_onnx(tmp_path: Path) -> Path:
    path = tmp_path / "renderer.onnx"
    path.write_bytes(b"this is not a protobuf")
    return path


# (case id, extra args (may use {tmp}), expected message)
GENERATE_CASES = [
    ("punctuation-only text", ["--text", "?!... ,,, ——"], "nothing to say: the text has no letters or digits"),
    ("emoji-only text", ["--text", "😀🎉👍"], "nothing to say"),
    ("motion-out not .npz/.json", ["--text", "Hi there.", "--motion-out", "{tmp}/m.csv"], "--motion-out must end in"),
    ("out is a folder", ["--text", "Hi there.", "--out", "{tmp}"], "is a folder"),
    ("out not .mp4", ["--text", "Hi there.", "--out", "{tmp}/o.avi"], "--out must end in .mp4"),
    ("text-file is a folder", ["--text-file", "{tmp}"], "--text-file {tmp} is a folder"),
    ("text-file missing", ["--text-file", "{tmp}/none.txt"], "does not exist"),
    ("text-file not UTF-8", ["--text-file", "{tmp}/latin1.txt"], "is not UTF-8 text"),
    ("cfg nan", ["--text", "Hi.", "--cfg", "nan"], "--cfg must be between 0.0 and 10.0"),
    ("cfg negative", ["--text", "Hi.", "--cfg", "-3"], "--cfg must be between"),
    ("speed 0", ["--text", "Hi.", "--speed", "0"], "--speed must be between 0.25 and 4.0"),
    ("speed negative", ["--text", "Hi.", "--speed", "-1"], "--speed must be between"),
    ("nfe 0", ["--text", "Hi.", "--nfe", "0"], "--nfe must be between 1 and 64"),
    ("nfe 1000", ["--text", "Hi.", "--nfe", "1000"], "--nfe must be between 1 and 64"),
    ("size 100000", ["--text", "Hi.", "--size", "100000"], "--size must be between 64 and 2048"),
    ("device tpu9", ["--text", "Hi.", "--device", "tpu9"], "device must be 'auto', 'cpu', 'cuda' or 'cuda:N'"),
    ("renderer unknown name", ["--text", "Hi.", "--renderer", "face.png"], "renderer must be one of ('auto', 'photo'"),
    ("renderer file not ONNX", ["--text", "Hi.", "--renderer", "{tmp}/renderer.onnx"], "not an ONNX model"),
    (
        "reference without transcript",
        ["--text", "Hi.", "--reference", "{tmp}/no-transcript.npz"],
        "lacks ['transcript']",
    ),
    ("reference of 40 s", ["--text", "Hi.", "--reference", "{tmp}/forty-seconds.npz"], "the reference lasts"),
    ("silent reference", ["--text", "Hi.", "--reference", "{tmp}/silent.npz"], "the reference audio is silent"),
    ("reference motion 1e6", ["--text", "Hi.", "--reference", "{tmp}/wild-motion.npz"], "reference motion gaze spans"),
    ("reference missing", ["--text", "Hi.", "--reference", "{tmp}/none.npz"], "reference not found"),
    ("vocoder bad YAML", ["--text", "Hi.", "--vocoder", "{tmp}/vocoder-yaml"], "cannot read the vocoder config"),
    ("vocoder truncated", ["--text", "Hi.", "--vocoder", "{tmp}/vocoder-truncated"], "not a readable safetensors file"),
    ("vocoder pickle", ["--text", "Hi.", "--vocoder", "{tmp}/vocoder-pickle"], "refused: not a plain tensor file"),
    ("vocoder class path", ["--text", "Hi.", "--vocoder", "{tmp}/vocoder-code"], "head.class_path must be"),
    ("checkpoint missing", ["--text", "Hi.", "--checkpoint", "{tmp}/nowhere"], "nowhere"),
]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("inputs")
    (tmp / "latin1.txt").write_bytes("Caf\xe9 au lait.".encode("latin-1"))
    for name in ("no-transcript", "forty-seconds", "silent", "wild-motion"):
        broken_reference(tmp, name)
    for kind in ("yaml", "truncated", "pickle", "code"):
        bad_vocoder(tmp, kind)
    fake_onnx(tmp)
    return tmp


@pytest.mark.parametrize("case, args, message", GENERATE_CASES, ids=[c[0] for c in GENERATE_CASES])
def test_generate_rejects_with_a_message_and_keeps_the_users_files(inputs, tmp_path, capfd, case, args, message):
    out, motion = tmp_path / "out.mp4", tmp_path / "m.json"
    out.write_bytes(OLD)
    motion.write_bytes(OLD)
    args = [a.replace("{tmp}", str(inputs)) for a in args]
    if "--out" not in args:
        args += ["--out", str(out)]
    code = main(
        ["generate", *args, "--motion-out", str(motion), "--size", "64", "--nfe", "2"]
        if "--motion-out" not in args and "--size" not in args and "--nfe" not in args
        else ["generate", *args]
    )
    err = capfd.readouterr().err
    assert code == 2
    assert message.replace("{tmp}", str(inputs)) in err
    assert "Traceback" not in err
    assert out.read_bytes() == OLD and motion.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "out.mp4"], "no temp file left"


def test_device_cuda_without_a_gpu_is_a_clear_error(tmp_path, capfd):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is here")
    out = tmp_path / "out.mp4"
    out.write_bytes(OLD)
    assert main(["generate", "--text", "Hi.", "--device", "cuda", "--out", str(out)]) == 2
    assert "torch sees no CUDA GPU here" in capfd.readouterr().err and out.read_bytes() == OLD


def test_control_characters_are_removed_and_named_not_lost(tmp_path, capfd):
    out = tmp_path / "out.mp4"
    assert (
        main(["generate", "--text", "Hello\x00 there\x1b[31m friend.", "--out", str(out), "--size", "64", "--nfe", "2"])
        == 0
    )
    err = capfd.readouterr().err
    assert "removed control characters from the text: '\\x00', '\\x1b'" in err
    from avatar_omnitalker.render.video import read_mp4

    assert read_mp4(out)[0] > 25  # "there friend" was spoken too, not cut at the NUL


def test_prepare_reference_on_an_audio_only_file(tmp_path, capfd):
    import av

    clip = tmp_path / "voice.mp4"
    with av.open(str(clip), "w") as f:
        stream = f.add_stream("aac", rate=24000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 24000), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 24000, 0
        for packet in list(stream.encode(frame)) + list(stream.encode(None)):
            f.mux(packet)
    ref = tmp_path / "ref.npz"
    ref.write_bytes(OLD)
    assert main(["prepare-reference", str(clip), "--transcript", "Hello.", "-o", str(ref)]) == 2
    assert "no video track (audio only?)" in capfd.readouterr().err and ref.read_bytes() == OLD


def test_sigterm_while_rendering_leaves_no_temp_file_and_the_old_output(tmp_path):
    out = tmp_path / "out.mp4"
    out.write_bytes(OLD)
    text = "This sentence is long enough to keep the renderer busy for a while. " * 6
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "avatar_omnitalker.cli",
            "generate",
            "--text",
            text,
            "--out",
            str(out),
            "--nfe",
            "2",
            "--size",
            "256",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(p.name.startswith(".out.") for p in tmp_path.iterdir()):
        time.sleep(0.05)
    time.sleep(1.0)  # well inside generation and encoding
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert out.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"], "no temp file left"
    assert os.path.exists(out)


def test_voices_not_installed_says_how(tmp_path, capsys):
    assert main(["voices", "list", "--home", str(tmp_path / "none")]) == 2
    assert "recipes/install_voices.sh" in capsys.readouterr().err
    assert main(["voices", "install", "--home", str(tmp_path / "none")]) == 2
    assert "needs --kokoro-js" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--mixed-share", "1.5"], "--mixed-share is a probability between 0 and 1, got 1.5"),
        (["--langs", "en,fr"], "unknown language 'fr'"),
        (["--minutes", "0"], "--minutes must be positive"),
    ],
)
def test_synth_corpus_rejects_before_writing_anything(tmp_path, capsys, args, message):
    out = tmp_path / "corpus"
    base = {"--minutes": "1", "--langs": "zh"}
    base.update(dict(zip(args[::2], args[1::2])))
    assert main(["synth-corpus", "--out", str(out), *[x for kv in base.items() for x in kv]]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_average_rejects_foreign_files_and_keeps_the_output(tmp_path, capsys):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"garbage")
    out = tmp_path / "soup"
    out.mkdir()
    (out / "model.safetensors").write_bytes(OLD)
    assert main(["average", "--checkpoint", str(junk), "--checkpoint", str(junk), "--out", str(out)]) == 2
    assert "not a safetensors file" in capsys.readouterr().err
    assert (out / "model.safetensors").read_bytes() == OLD and os.listdir(out) == ["model.safetensors"]


def test_eval_refuses_a_negative_sentence_offset_before_loading_anything(tmp_path, capsys):
    """The offset is checked before the corpus and the model are read (a junk checkpoint and a
    missing corpus would fail later, with other messages), and the existing report survives."""
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"garbage")
    out = tmp_path / "report.json"
    out.write_bytes(OLD)
    args = ["eval", "--corpus", str(tmp_path / "none"), "--out", str(out), "--checkpoint", str(junk)]
    assert main([*args, "--sentence-offset", "-1"]) == 2
    assert "the sentence offset must be 0 or more, got -1" in capsys.readouterr().err
    assert out.read_bytes() == OLD and sorted(os.listdir(tmp_path)) == ["junk.safetensors", "report.json"]
