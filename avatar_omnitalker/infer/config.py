"""PipelineConfig: every option that decides what the pipeline loads, how it samples and how it
renders, in one validated form. The CLI builds it from its arguments (declared from these fields),
a YAML file loads into it, and the OpenAvatarChat handler's config model is made from it, so a
default, a range or a message exists once. Importable without torch (the CLI reads it at start).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from avatar_omnitalker.errors import ConfigError

# The shipped default: 7 ODE steps on F5-TTS's EPSS schedule keep the built-in model faster than
# real time on a 2-core CPU (16 steps measured 1.18 x real time there).
DEFAULT_NFE = 7
# Chosen on a validation set (held-out speakers of another seed, other held-out sentences; the
# README's "Guidance strength"): against F5-TTS's 2.0, 2.5 cut Mandarin CER by 0.048 (paired 95 %
# interval -0.077 to -0.021 over 27 cases) with English, mixed and lip sync unchanged; 4 was worse.
DEFAULT_CFG = 2.5
METHODS = ("euler", "midpoint")
RENDERERS = ("auto", "photo", "parametric")
ENGINES = ("torch", "onnx", "graphs")
DTYPES = ("auto", "float32", "bfloat16")
DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda|cuda:\d+)$")


def _opt(default: Any, help: str, low: float | None = None, high: float | None = None, **extra: Any):
    return field(default=default, metadata={"help": help, "low": low, "high": high, **extra})


@dataclass(frozen=True)
class PipelineConfig:
    checkpoint: str | None = _opt(
        None, "model folder or .safetensors, or random:PRESET (untrained); default: the built-in model"
    )
    reference: str | None = _opt(None, "reference .npz from prepare-reference; default: the built-in avatar")
    vocoder: str | None = _opt(None, "Vocos folder (config.yaml + weights); default: the built-in vocoder")
    durations: str = _opt(
        "auto",
        "phoneme timings of aligned text: 'auto' (the duration model beside the checkpoint, "
        "durations.safetensors, else espeak), 'espeak' (espeak-ng's, scaled to the reference's rate) "
        "or a durations.safetensors path",
    )
    device: str = _opt("auto", "'auto' (CUDA when torch sees a GPU, else CPU), 'cpu', 'cuda' or 'cuda:N'")
    nfe: int = _opt(DEFAULT_NFE, "ODE steps (EPSS schedule at 5, 6, 7, 10, 12, 16)", 1, 64)
    cfg: float = _opt(DEFAULT_CFG, "classifier-free guidance strength", 0.0, 10.0)
    cfg_motion: float | None = _opt(
        None,
        "the motion branch's own guidance strength; None: cfg. Higher gives larger head and jaw "
        "motion that follows the speech's lips less closely",
        0.0,
        10.0,
    )
    sway: float | None = _opt(-1.0, "sway sampling coefficient (None: uniform steps)", -1.0, 1.0)
    method: str = _opt("euler", "ODE solver: euler or midpoint", choices=METHODS)
    seed: int = _opt(0, "random seed (the same seed and text give the same output)", 0, 2**31 - 1)
    speed: float = _opt(1.0, "speaking rate relative to the reference", 0.25, 4.0)
    engine: str = _opt(
        "torch",
        "the solver's runtime: 'torch', 'onnx' (ONNX Runtime; exported once, cached) or 'graphs' "
        "(torch, each ODE solve replayed from a CUDA graph; for GPUs)",
        choices=ENGINES,
    )
    dtype: str = _opt(
        "auto",
        "model precision: 'auto' (bfloat16 on CUDA and on CPUs with AMX, else float32), 'float32' or 'bfloat16'",
        choices=DTYPES,
    )
    prompt_s: float = _opt(
        0.0,
        "longest part of the reference the model hears before each reply: its first whole "
        "sentences within this many seconds (each model call runs the prompt again: shorter is "
        "faster); 0: the whole reference",
        0.0,
        10.0,
    )
    # 5 s: the longest target the built-in model trained on; it speaks longer calls less clearly
    # (8 held-out paragraphs: WER 0.435 at 5 s, 0.574 at 10 s, 0.549 at 15 s, at RTF 0.13-0.17 each)
    offline_chunk_s: float = _opt(
        5.0,
        "longest speech one model call makes for a whole text (generate, render): neighbouring "
        "sentences are joined up to it (fewer calls, each also running the reference prompt: "
        "faster, but a model speaks calls longer than its training targets less clearly); 0 keeps "
        "the streaming cut",
        0.0,
        30.0,
        offline_only=True,  # streaming (the handler) cuts as text arrives: not one of its options
    )
    renderer: str = _opt(
        "auto",
        "'auto' (the photo renderer when the reference has face frames, else parametric), "
        "'photo', 'parametric' or a path to an .onnx renderer",
    )
    size: int = _opt(512, "video frame size in pixels (square)", 64, 2048)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value, meta = getattr(self, f.name), f.metadata
            if value is None:
                if f.default is not None:
                    raise ConfigError(f"{f.name} must be set ({meta['help']})")
                continue
            if meta.get("low") is not None:
                number_type = int if f.type in ("int", int) else float
                if (
                    isinstance(value, bool)
                    or not isinstance(value, (int, float))
                    or (number_type is int and not float(value).is_integer())
                ):
                    raise ConfigError(
                        f"{f.name} must be a{'n integer' if number_type is int else ' number'}, got {value!r}"
                    )
                if not math.isfinite(value) or not meta["low"] <= value <= meta["high"]:
                    raise ConfigError(f"{f.name} must be between {meta['low']} and {meta['high']}, got {value!r}")
            if "choices" in meta and value not in meta["choices"]:
                raise ConfigError(f"{f.name} must be one of {meta['choices']}, got {value!r}")
        if not DEVICE_PATTERN.match(self.device):
            raise ConfigError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {self.device!r}")
        if self.engine == "graphs" and max(self.cfg, self.cfg_motion or 0.0) <= 0:
            raise ConfigError("engine graphs captures the guided solve: it needs cfg > 0 (or cfg_motion > 0)")
        if self.engine == "onnx" and self.dtype == "bfloat16":
            raise ConfigError("dtype bfloat16 needs engine torch or graphs: the ONNX engine runs float32")
        if self.renderer not in RENDERERS and not str(self.renderer).endswith(".onnx"):
            raise ConfigError(f"renderer must be one of {RENDERERS} or a path to an .onnx file, got {self.renderer!r}")

    def replace(self, **changes: Any) -> PipelineConfig:
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ other forms of the same options
    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "config") -> PipelineConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ConfigError(f"{source}: unknown option(s) {unknown}; known: {sorted(names)}")
        return cls(**values)

    @classmethod
    def from_yaml(cls, path: str | Path) -> PipelineConfig:
        path = Path(path)
        try:
            values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f"cannot read pipeline config {path}: {err}") from err
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: a pipeline config is a mapping of option: value")
        return cls.from_dict(values, str(path))

    def to_yaml(self) -> str:
        return yaml.safe_dump(dataclasses.asdict(self), sort_keys=False)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
        """One --option per field (defaults left to the dataclass), plus --pipeline-config FILE."""
        parser.add_argument("--pipeline-config", help="YAML of pipeline options; options given here override it")
        for f in dataclasses.fields(cls):
            if f.name in skip:
                continue
            kind = {"int": int, "float": float, "float | None": float}.get(str(f.type), str)
            parser.add_argument(
                f"--{f.name}", type=kind, default=None, help=f"{f.metadata['help']} (default: {f.default})"
            )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> PipelineConfig:
        base = cls.from_yaml(args.pipeline_config) if getattr(args, "pipeline_config", None) else cls()
        given = {
            f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if getattr(args, f.name, None) is not None
        }
        try:
            return base.replace(**given)
        except ConfigError as err:
            raise ConfigError(f"--{err}") from None
