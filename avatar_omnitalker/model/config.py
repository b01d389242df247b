"""Model and flow-matching configuration: YAML data validated into dataclasses on load."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from avatar_omnitalker import spec
from avatar_omnitalker.errors import ConfigError

PRESETS = ("tiny", "builtin", "small", "base")


@dataclass(frozen=True)
class BackboneConfig:
    """The dual-branch DiT. Audio path depth = fusion_depth + audio_depth (F5-TTS's `depth`)."""

    dim: int = 1024
    heads: int = 16
    dim_head: int = 64
    ff_mult: float = 2.0
    dropout: float = 0.1
    text_vocab_size: int = 2728  # tokens in the vocab; id 0 of the embedding is the filler
    text_dim: int = 512
    conv_layers: int = 4  # ConvNeXt-V2 blocks in the text embedding
    fusion_depth: int = 16  # joint audio+motion blocks
    audio_depth: int = 6  # audio-only blocks after fusion
    motion_depth: int = 8  # motion-only blocks after fusion
    qk_norm: str | None = None  # None | "rms_norm"
    attn_mask: bool = False  # mask padded keys in attention (F5-TTS v1: off)
    mel_dim: int = spec.N_MELS
    motion_dim: int = spec.MOTION_DIM

    def validate(self) -> None:
        positive = ("dim", "heads", "dim_head", "text_vocab_size", "text_dim", "mel_dim", "motion_dim")
        for name in positive:
            _check(getattr(self, name) > 0, f"model.{name} must be positive, got {getattr(self, name)}")
        for name in ("conv_layers", "fusion_depth", "audio_depth", "motion_depth"):
            _check(getattr(self, name) >= 0, f"model.{name} must be >= 0, got {getattr(self, name)}")
        _check(self.fusion_depth + self.audio_depth > 0, "model needs at least one audio block")
        _check(self.ff_mult > 0, f"model.ff_mult must be positive, got {self.ff_mult}")
        _check(0 <= self.dropout < 1, f"model.dropout must be in [0, 1), got {self.dropout}")
        _check(self.dim % 16 == 0, f"model.dim must be a multiple of 16 (grouped conv), got {self.dim}")
        _check(self.dim_head % 2 == 0, f"model.dim_head must be even (rotary pairs), got {self.dim_head}")
        _check(self.qk_norm in (None, "rms_norm"), f"model.qk_norm must be null or 'rms_norm', got {self.qk_norm!r}")


@dataclass(frozen=True)
class FlowConfig:
    """Training-time flow-matching settings (sampling settings are per call)."""

    audio_drop_prob: float = 0.3  # drop the reference (audio + motion)
    cond_drop_prob: float = 0.2  # drop reference and text
    frac_lengths_mask: tuple[float, float] = (0.7, 1.0)  # F5 random-span masking
    audio_loss_weight: float = 1.0
    motion_loss_weight: float = 1.0
    # weight of the same error's frame-to-frame difference on the motion target: flat MSE leaves
    # the noise the network fails to cancel spread evenly over frequencies, which shows as jitter
    motion_delta_loss_weight: float = 0.0

    def validate(self) -> None:
        for name in ("audio_drop_prob", "cond_drop_prob"):
            value = getattr(self, name)
            _check(0 <= value <= 1, f"flow.{name} must be in [0, 1], got {value}")
        lo, hi = self.frac_lengths_mask
        _check(
            0 < lo <= hi <= 1, f"flow.frac_lengths_mask must satisfy 0 < lo <= hi <= 1, got {self.frac_lengths_mask}"
        )
        for name in ("audio_loss_weight", "motion_loss_weight", "motion_delta_loss_weight"):
            _check(getattr(self, name) >= 0, f"flow.{name} must be >= 0, got {getattr(self, name)}")


@dataclass(frozen=True)
class ModelConfig:
    name: str = "custom"
    vocab: str = "char_pinyin"  # built-in vocab name or a path to a vocab.txt
    model: BackboneConfig = field(default_factory=BackboneConfig)
    flow: FlowConfig = field(default_factory=FlowConfig)

    def validate(self) -> ModelConfig:
        self.model.validate()
        self.flow.validate()
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> ModelConfig:
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: top level must be a mapping, got {type(data).__name__}")
        data = dict(data)
        try:
            model = _build(BackboneConfig, data.pop("model", {}) or {}, "model")
            flow_data = dict(data.pop("flow", {}) or {})
            if "frac_lengths_mask" in flow_data:
                flow_data["frac_lengths_mask"] = tuple(flow_data["frac_lengths_mask"])
            flow = _build(FlowConfig, flow_data, "flow")
            top = _build(cls, data, "")
        except ConfigError as err:
            raise ConfigError(f"{source}: {err}") from None
        cfg = dataclasses.replace(top, model=model, flow=flow)
        try:
            return cfg.validate()
        except ConfigError as err:
            raise ConfigError(f"{source}: {err}") from None


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def _build(cls: type, data: Any, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"'{prefix}' must be a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    nested = {"model", "flow"} if cls is ModelConfig else set()
    unknown = sorted(set(data) - set(fields) - nested)
    if unknown:
        where = f"{prefix}." if prefix else ""
        raise ConfigError(f"unknown field(s) {', '.join(where + u for u in unknown)}")
    kwargs = {}
    for name, value in data.items():
        expected = fields[name].type
        label = f"{prefix}.{name}" if prefix else name
        if "int" in str(expected) and "float" not in str(expected) and isinstance(value, float):
            raise ConfigError(f"{label} must be an integer, got {value}")
        if "bool" == str(expected) and not isinstance(value, bool):
            raise ConfigError(f"{label} must be true or false, got {value!r}")
        if str(expected) in ("int", "float") and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            raise ConfigError(f"{label} must be a number, got {value!r}")
        kwargs[name] = value
    return cls(**kwargs)


def preset_path(name: str) -> Path:
    ref = resources.files("avatar_omnitalker.model") / "presets" / f"{name}.yaml"
    with resources.as_file(ref) as path:
        return Path(path)


def load_config(name_or_path: str | Path) -> ModelConfig:
    """A preset name (tiny, small, base) or a YAML file path -> validated ModelConfig."""
    path = Path(name_or_path)
    if str(name_or_path) in PRESETS:
        path = preset_path(str(name_or_path))
    elif not path.is_file():
        raise ConfigError(f"no model config {str(name_or_path)!r}: not a preset ({', '.join(PRESETS)}) nor a file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: invalid YAML: {err}") from None
    return ModelConfig.from_dict(data, source=str(path))
