"""Package a trained run as the built-in model: weights, vocoder and default reference, in fp16.

`omnitalker ship --run runs/builtin --vocoder runs/vocoder --corpus runs/corpus-builtin [--durations DIR]`
writes avatar_omnitalker/assets/{model,vocoder,reference.npz}, which the CLI and the handler then use by
default. Weights are stored in float16 (loaded back into float32) to keep the package small.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from loguru import logger
from safetensors import safe_open
from safetensors.torch import save_file

from avatar_omnitalker import spec
from avatar_omnitalker.data.shards import Corpus
from avatar_omnitalker.data.splits import HELD_OUT
from avatar_omnitalker.fileio import atomic_path, folder_bytes
from avatar_omnitalker.infer.reference import Reference
from avatar_omnitalker.model.checkpoint import MODEL_FILE
from avatar_omnitalker.model.duration import DURATION_FILE, Durations
from avatar_omnitalker.render.parametric import Palette, ParametricRenderer
from avatar_omnitalker.train.state import latest_checkpoint

ASSETS = Path(__file__).resolve().parent / "assets"  # what infer/defaults.py reads
PALETTES = [
    ((52, 78, 104), (231, 186, 160), (92, 56, 38)),
    ((96, 70, 110), (198, 150, 120), (40, 30, 28)),
    ((60, 100, 80), (240, 200, 175), (170, 120, 60)),
    ((110, 90, 70), (150, 105, 80), (25, 20, 20)),
]


def _read(path: str | Path) -> tuple[dict[str, str] | None, dict[str, torch.Tensor]]:
    with safe_open(str(path), framework="pt") as f:
        return f.metadata(), {k: f.get_tensor(k) for k in f.keys()}


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)


def fp16_copy(src: str | Path, dst: str | Path) -> bool:
    """A safetensors file with its floating tensors in float16, metadata kept (written atomically).
    A destination that already holds the same tensors and metadata is left as it is (False):
    safetensors writes metadata in hash order, so rewriting it would make a needless binary diff."""
    meta, tensors = _read(src)
    tensors = {k: (t.half() if t.is_floating_point() else t) for k, t in tensors.items()}
    if Path(dst).is_file():
        old_meta, old = _read(dst)
        if old_meta == meta and old.keys() == tensors.keys() and all(_same(old[k], t) for k, t in tensors.items()):
            return False
    with atomic_path(dst) as tmp:
        save_file(tensors, tmp, metadata=meta)
    return True


def save_reference(reference: Reference, path: Path) -> bool:
    """Saved unless `path` already holds the same arrays (False): npz members carry the time they
    were written, so an unchanged reference would otherwise differ byte for byte."""
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:  # beside it: the move is atomic
        fresh = reference.save(Path(tmp) / path.name)
        if path.is_file():
            with np.load(fresh, allow_pickle=False) as a, np.load(path, allow_pickle=False) as b:
                if a.files == b.files and all(np.array_equal(a[k], b[k]) for k in a.files):
                    return False
        os.replace(fresh, path)
    return True


def appearance_for(speaker_id: str, size: int = 256) -> np.ndarray:
    """Corpus speakers have no photo: each gets a parametric face in its own colours."""
    colors = PALETTES[sum(map(ord, speaker_id)) % len(PALETTES)]
    renderer = ParametricRenderer(size)
    renderer.palette = Palette.from_colors(*colors)
    return renderer.render(np.zeros((1, spec.MOTION_DIM), np.float32))[0]


def pick_reference(corpus: Corpus, max_s: float = 6.0) -> Reference:
    """The first held-out English source: its first sentences (<= max_s) become the reference."""
    for source in corpus.split(HELD_OUT):
        if source.meta["lang"] != "en":
            continue
        audio, motion, transcript = corpus.opening(source, max_s)
        return Reference.prepare(
            audio,
            spec.SAMPLE_RATE,
            motion,
            transcript,
            appearance_for(source.meta["speaker_id"]),
            name=f"builtin-{source.meta['speaker_id']}",
        )
    raise ValueError(f"{corpus.root}: no held-out English source for the default reference")


def ship(
    run: str | Path, vocoder: str | Path, corpus: str | Path, out: Path = ASSETS, durations: str | Path | None = None
) -> Path:
    """`durations`: the run's duration model (train-durations), shipped beside the model; without
    one a duration model left there by an earlier ship is removed, so it never times another model."""
    run = Path(run)
    latest = run if (run / MODEL_FILE).is_file() else latest_checkpoint(run)
    if latest is None:
        raise FileNotFoundError(f"{run}: no complete checkpoint to ship (give a training run or a checkpoint folder)")
    model_src = latest / MODEL_FILE
    (out / "model").mkdir(parents=True, exist_ok=True)
    fp16_copy(model_src, out / "model" / MODEL_FILE)
    timing = out / "model" / DURATION_FILE
    if durations is not None:
        checked = Durations.load(durations)  # refuse what is not a duration model before copying it
        fp16_copy(checked.source, timing)
    else:
        timing.unlink(missing_ok=True)
    (out / "vocoder").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(vocoder) / "config.yaml", out / "vocoder" / "config.yaml")
    fp16_copy(Path(vocoder) / "model.safetensors", out / "vocoder" / "model.safetensors")
    save_reference(pick_reference(Corpus(corpus)), out / "reference.npz")
    logger.info(
        "shipped {} ({}) + vocoder + reference: {:.1f} MB in {}", latest.name, run, folder_bytes(out) / 1e6, out
    )
    return out
