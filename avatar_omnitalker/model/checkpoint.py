"""Whole-model checkpoints: one safetensors file holding weights, config and motion statistics.

The config travels as JSON in the safetensors metadata, so a checkpoint rebuilds its own model
and nothing is ever unpickled. Loading refuses any tensor whose name or shape does not fit.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from avatar_omnitalker.errors import OmniTalkerError
from avatar_omnitalker.fileio import atomic_path
from avatar_omnitalker.model.cfm import FlowMatching
from avatar_omnitalker.model.config import ModelConfig

FORMAT = "avatar-omnitalker/model/1"
MODEL_FILE = "model.safetensors"


class CheckpointError(OmniTalkerError, ValueError):
    """The file is not an avatar-omnitalker checkpoint or does not fit the model."""


def resolve(path: str | Path) -> Path:
    """A checkpoint file, or a folder holding model.safetensors."""
    path = Path(path)
    return path / MODEL_FILE if path.is_dir() else path


def save_checkpoint(model: FlowMatching, path: str | Path, extra: dict[str, str] | None = None) -> Path:
    """Write atomically (temp file + rename): a crash never leaves half a checkpoint."""
    path = Path(path)
    if path.suffix != ".safetensors":
        path = path / MODEL_FILE
    tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    metadata = {"format": FORMAT, "config": json.dumps(model.config.to_dict())}
    metadata.update({f"extra.{k}": str(v) for k, v in (extra or {}).items()})
    with atomic_path(path) as tmp:
        save_file(tensors, tmp, metadata=metadata)
    return path


def read_metadata(path: str | Path) -> dict[str, str]:
    path = resolve(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except Exception as err:  # safetensors raises its own error types for non-safetensors files
        raise CheckpointError(f"{path}: not a safetensors file ({err})") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an avatar-omnitalker model checkpoint (format {meta.get('format')!r})")
    return meta


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> FlowMatching:
    """Rebuild the model from the embedded config and load its weights strictly."""
    path = resolve(path)
    meta = read_metadata(path)
    config = ModelConfig.from_dict(json.loads(meta["config"]), source=f"{path} (embedded config)")
    model = FlowMatching(config)
    load_weights(model, path)
    return model.to(device)


def load_weights(model: torch.nn.Module, path: str | Path) -> None:
    """Load tensors into an existing model (any module); every name and shape must match exactly."""
    path = resolve(path)
    expected = model.state_dict()
    with safe_open(str(path), framework="pt") as f:
        keys = set(f.keys())
        missing = sorted(set(expected) - keys)
        unexpected = sorted(keys - set(expected))
        problems = []
        for key in sorted(keys & set(expected)):
            shape = tuple(f.get_slice(key).get_shape())
            if shape != tuple(expected[key].shape):
                problems.append(
                    f"tensor '{key}' has shape {shape} in the file, the model needs {tuple(expected[key].shape)}"
                )
        if missing:
            problems.append(f"missing tensors: {', '.join(missing[:20])}")
        if unexpected:
            problems.append(f"unexpected tensors: {', '.join(unexpected[:20])}")
        if problems:
            raise CheckpointError(f"{path} does not fit the model:\n  " + "\n  ".join(problems))
        with torch.no_grad():
            for key in expected:
                expected[key].copy_(f.get_tensor(key))


def init_from_checkpoint(model: FlowMatching, path: str | Path) -> list[str]:
    """Start `model` from another checkpoint of the same architecture (fine-tuning).

    The vocab files are append-only, so a text embedding that grew keeps the old rows and its
    new symbols start from the mean of the old ones. Every other tensor must match exactly.
    Returns the names of the tensors that grew."""
    path = resolve(path)
    expected = model.state_dict()
    grown: list[str] = []
    with safe_open(str(path), framework="pt") as f:
        keys = set(f.keys())
        problems = [f"missing tensor '{k}'" for k in sorted(set(expected) - keys)]
        problems += [f"unexpected tensor '{k}'" for k in sorted(keys - set(expected))]
        for key in sorted(keys & set(expected)):
            shape, want = tuple(f.get_slice(key).get_shape()), tuple(expected[key].shape)
            rows_only = key.endswith("text_embed.text_embed.weight") and shape[1:] == want[1:] and shape[0] <= want[0]
            if shape != want and not rows_only:
                problems.append(f"tensor '{key}' has shape {shape} in the file, the model needs {want}")
        if problems:
            raise CheckpointError(f"{path} cannot start this model:\n  " + "\n  ".join(problems[:20]))
        with torch.no_grad():
            for key in expected:
                tensor = f.get_tensor(key)
                if tensor.shape != expected[key].shape:  # (old_rows, dim) -> (new_rows, dim)
                    expected[key][: tensor.shape[0]].copy_(tensor)
                    expected[key][tensor.shape[0] :].copy_(tensor[1:].mean(0))  # row 0 is the filler
                    grown.append(key)
                else:
                    expected[key].copy_(tensor)
    return grown


def average_checkpoints(paths: list[str | Path], out: str | Path, weights: list[float] | None = None) -> Path:
    """A weighted average of checkpoints of one model (a "model soup"): two fine-tunes of one start
    on different data often keep what each learnt better than either alone. Only checkpoints of
    the same config and motion statistics average meaningfully; anything else is refused, and
    nothing is written then."""
    if len(paths) < 2:
        raise CheckpointError("averaging needs at least two checkpoints")
    weights = [1.0] * len(paths) if weights is None else [float(w) for w in weights]
    if len(weights) != len(paths):
        raise CheckpointError(f"{len(weights)} weights for {len(paths)} checkpoints: give one weight per checkpoint")
    if any(not w > 0 for w in weights):  # also refuses nan
        raise CheckpointError(f"weights must be positive, got {weights}")
    total = sum(weights)
    first = load_checkpoint(paths[0])
    # a running float64 sum, one checkpoint in memory beside it: soups of big presets fit
    sums = {k: t.double() * (weights[0] / total) for k, t in first.state_dict().items() if t.is_floating_point()}
    for path, weight in zip(paths[1:], weights[1:]):
        model = load_checkpoint(path)
        if model.config != first.config:
            raise CheckpointError(f"{path}: another model config than {paths[0]}; only one model's checkpoints average")
        for name in ("mean", "std"):
            a, b = getattr(first.stats, name), getattr(model.stats, name)
            if not torch.allclose(a, b, rtol=1e-4, atol=1e-6):
                raise CheckpointError(
                    f"{path}: motion {name} differs from {paths[0]}'s (max {float((a - b).abs().max()):.3g}); "
                    "checkpoints normalised differently do not average"
                )
        state = model.state_dict()
        for key, acc in sums.items():
            acc.add_(state[key].double(), alpha=weight / total)
        del model, state
    with torch.no_grad():
        for key, tensor in first.state_dict().items():
            if key in sums:
                tensor.copy_(sums[key].to(tensor.dtype))
    sources = [{"checkpoint": str(p), "weight": w / total} for p, w in zip(paths, weights)]
    return save_checkpoint(first, out, extra={"averaged_from": json.dumps(sources)})
