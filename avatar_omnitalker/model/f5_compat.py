"""F5-TTS v1 checkpoints -> the audio branch. The one place that knows F5-TTS's key names.

F5-TTS `DiT` keys (under `transformer.`, or `ema_model.transformer.` in EMA state) map to ours:
    time_embed.*, text_embed.*          -> same names
    input_embed.*                       -> audio_embed.*
    rotary_embed.inv_freq               -> rotary.inv_freq
    transformer_blocks.{i}.*            -> fusion_blocks.{i}.audio.*  (i < fusion_depth)
                                        -> audio_blocks.{i - fusion_depth}.*
    norm_out.*, proj_out.*              -> audio_norm_out.*, audio_proj_out.*
Everything else in our model (the motion branch) keeps its own initialisation.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from torch import Tensor

from avatar_omnitalker.errors import OmniTalkerError
from avatar_omnitalker.model.dit import OmniTalkerDiT

_DIRECT = {
    "time_embed.": "time_embed.",
    "text_embed.": "text_embed.",
    "input_embed.": "audio_embed.",
    "norm_out.": "audio_norm_out.",
    "proj_out.": "audio_proj_out.",
}
_IGNORED = re.compile(r"^(initted|step|mel_spec\..*)$")  # EMA bookkeeping and F5's mel buffers
_BLOCK = re.compile(r"^transformer_blocks\.(\d+)\.(.*)$")


class F5CheckpointError(OmniTalkerError, ValueError):
    """The checkpoint does not fit the audio branch; the message lists the offending keys."""


def map_f5_key(key: str, fusion_depth: int) -> str | None:
    """One F5-TTS DiT key (without the `transformer.` prefix) -> our backbone key, or None."""
    if key == "rotary_embed.inv_freq":
        return "rotary.inv_freq"
    for src, dst in _DIRECT.items():
        if key.startswith(src):
            return dst + key[len(src) :]
    m = _BLOCK.match(key)
    if m:
        i, rest = int(m.group(1)), m.group(2)
        if i < fusion_depth:
            return f"fusion_blocks.{i}.audio.{rest}"
        return f"audio_blocks.{i - fusion_depth}.{rest}"
    return None


def read_f5_state(path: str | Path, use_ema: bool = True) -> dict[str, Tensor]:
    """Read an F5-TTS release file (.safetensors or .pt) -> {DiT key: tensor}, never unpickling."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"F5-TTS checkpoint not found: {path}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        raw: dict = load_file(str(path))
    elif path.suffix in (".pt", ".pth", ".ckpt"):
        raw = torch.load(str(path), map_location="cpu", weights_only=True)
    else:
        raise F5CheckpointError(f"{path}: expected a .safetensors or .pt file")
    if "ema_model_state_dict" in raw or "model_state_dict" in raw:
        key = "ema_model_state_dict" if use_ema and "ema_model_state_dict" in raw else "model_state_dict"
        if key not in raw:
            raise F5CheckpointError(f"{path}: no '{key}' in the checkpoint (has {sorted(raw)})")
        raw = raw[key]
    state: dict[str, Tensor] = {}
    for k, v in raw.items():
        k = k.removeprefix("ema_model.")
        if _IGNORED.match(k):
            continue
        state[k] = v
    return state


def load_f5_into(backbone: OmniTalkerDiT, source: str | Path | dict[str, Tensor], use_ema: bool = True) -> list[str]:
    """Copy F5-TTS DiT weights into the audio branch; returns the keys loaded.

    Every F5 tensor must find a place of the same shape and every audio-branch parameter must be
    covered; otherwise nothing is changed and the error lists what is missing or unexpected.
    """
    state = read_f5_state(source, use_ema) if not isinstance(source, dict) else dict(source)
    ours = backbone.state_dict()
    fusion = backbone.config.fusion_depth
    mapped: dict[str, Tensor] = {}
    unexpected, mismatched = [], []
    for key, value in state.items():
        bare = key.removeprefix("transformer.")
        dst = map_f5_key(bare, fusion) if key.startswith("transformer.") or key == bare else None
        if dst is None or dst not in ours:
            unexpected.append(key)
        elif tuple(ours[dst].shape) != tuple(value.shape):
            mismatched.append(f"{key} -> {dst}: checkpoint {tuple(value.shape)} vs model {tuple(ours[dst].shape)}")
        else:
            mapped[dst] = value
    audio_branch = [k for k in ours if _is_audio_branch(k)]
    missing = [k for k in audio_branch if k not in mapped]
    if unexpected or mismatched or missing:
        lines = ["F5-TTS checkpoint does not fit the audio branch:"]
        if mismatched:
            lines.append(f"  shape mismatch ({len(mismatched)}): " + "; ".join(mismatched[:10]))
        if missing:
            lines.append(
                f"  missing ({len(missing)}): " + ", ".join(missing[:20]) + (" ..." if len(missing) > 20 else "")
            )
        if unexpected:
            lines.append(
                f"  unexpected ({len(unexpected)}): "
                + ", ".join(unexpected[:20])
                + (" ..." if len(unexpected) > 20 else "")
            )
        raise F5CheckpointError("\n".join(lines))
    with torch.no_grad():
        for dst, value in mapped.items():
            ours[dst].copy_(value.to(ours[dst].dtype))
    return sorted(mapped)


def _is_audio_branch(key: str) -> bool:
    return (
        key.startswith(
            ("time_embed.", "text_embed.", "audio_embed.", "audio_blocks.", "audio_norm_out.", "audio_proj_out.")
        )
        or key == "rotary.inv_freq"
        or bool(re.match(r"^fusion_blocks\.\d+\.audio\.", key))
    )


def audio_branch_parameters(backbone: OmniTalkerDiT) -> list[torch.nn.Parameter]:
    """Parameters F5-TTS weights cover: freeze these to train only the motion side."""
    return [p for k, p in backbone.named_parameters() if _is_audio_branch(k)]
