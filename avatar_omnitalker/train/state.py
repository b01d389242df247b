"""Resumable training state in safetensors: raw weights, EMA weights, optimiser moments, counters.

The inference export (EMA weights + config + motion statistics) is a regular model checkpoint
written next to it, so any saved step can be loaded by `load_checkpoint`.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from avatar_omnitalker.fileio import atomic_path

STATE_FILE = "train_state.safetensors"
LATEST = "latest"  # a run folder's pointer to its newest complete checkpoint folder


def latest_checkpoint(run: Path) -> Path | None:
    """The run's newest complete checkpoint folder (run/checkpoints/step-N), or None."""
    pointer = Path(run) / LATEST
    if not pointer.is_file():
        return None
    folder = Path(run) / "checkpoints" / pointer.read_text().strip()
    return folder if (folder / STATE_FILE).is_file() else None


def mark_latest(run: Path, folder: Path) -> None:
    with atomic_path(Path(run) / LATEST) as tmp:
        Path(tmp).write_text(folder.name)


def save_state(
    folder: Path,
    model: torch.nn.Module,
    ema: dict[str, torch.Tensor],
    optimizer: torch.optim.Optimizer,
    step: int,
    extra: dict,
) -> None:
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tensors.update({f"ema.{k}": v.detach().cpu().contiguous() for k, v in ema.items()})
    opt = optimizer.state_dict()
    for idx, slots in opt["state"].items():
        for name, value in slots.items():
            tensors[f"optim.{idx}.{name}"] = torch.as_tensor(value).detach().cpu().contiguous()
    meta = {"step": str(step), "param_groups": json.dumps(opt["param_groups"]), "extra": json.dumps(extra)}
    with atomic_path(folder / STATE_FILE) as tmp:
        save_file(tensors, tmp, metadata=meta)


def load_state(
    folder: Path, model: torch.nn.Module, ema: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer
) -> tuple[int, dict]:
    path = folder / STATE_FILE
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
        keys = list(f.keys())
        model.load_state_dict({k[6:]: f.get_tensor(k) for k in keys if k.startswith("model.")})
        for k in keys:
            if k.startswith("ema."):
                ema[k[4:]].copy_(f.get_tensor(k))
        state: dict[int, dict[str, torch.Tensor]] = {}
        for k in keys:
            if k.startswith("optim."):
                _, idx, name = k.split(".", 2)
                state.setdefault(int(idx), {})[name] = f.get_tensor(k)
    device = next(model.parameters()).device
    state = {i: {n: (v.to(device) if n != "step" else v) for n, v in s.items()} for i, s in state.items()}
    optimizer.load_state_dict({"state": state, "param_groups": json.loads(meta["param_groups"])})
    return int(meta["step"]), json.loads(meta["extra"])
