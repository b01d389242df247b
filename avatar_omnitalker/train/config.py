"""Training configuration (YAML -> dataclass, validated with messages naming the field)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import yaml

from avatar_omnitalker.model.config import ConfigError, ModelConfig, load_config
from avatar_omnitalker.text.modes import TEXT_MODES


@dataclass(frozen=True)
class TrainConfig:
    corpus: str  # corpus folder (synth-corpus or preprocess output)
    out: str  # run folder: checkpoints, loss log, curves
    model: str = "tiny"  # preset name or model YAML
    text_mode: str = "aligned"  # "aligned" (IPA phonemes per frame) | "implicit" (F5 char+pinyin)
    steps: int = 1000
    micro_batches: int = 2  # per optimiser step; split over the ranks under torchrun
    max_frames: int = 3000  # padded mel frames per micro-batch
    max_samples: int = 16
    max_ref_s: float = 6.0
    max_target_s: float = 6.0
    lr: float = 1e-3
    warmup: int = 100
    decay: str = "cosine"  # "cosine" | "linear" | "constant"
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    save_every: int = 250
    log_every: int = 10
    seed: int = 0
    device: str = "auto"  # "auto" | "cpu" | "cuda"
    bf16: bool = True  # autocast on CUDA only
    init_f5: str | None = None  # F5-TTS v1 checkpoint for the audio branch
    init_from: str | None = None  # a checkpoint of ours to fine-tune (same preset; the vocab may have grown)
    freeze_audio: bool = False  # train only the motion side (from init_f5 or init_from)
    flow: dict | None = None  # overrides of the model's training-time flow settings (FlowConfig)
    threads: int = 0  # torch CPU threads per process; 0 = torch's default
    time_limit_s: float = 0.0  # > 0: save and stop after this much training time (a lease); 0 = none
    prefetch: int = 0  # micro-batches loaded ahead by background threads (0 = load in the loop)

    def validate(self) -> TrainConfig:
        checks = [
            (self.text_mode in TEXT_MODES, f"text_mode must be one of {TEXT_MODES}"),
            (self.steps >= 1, "steps must be >= 1"),
            (self.micro_batches >= 1, "micro_batches must be >= 1"),
            (self.max_frames >= 100, "max_frames must be >= 100"),
            (self.max_samples >= 1, "max_samples must be >= 1"),
            (self.lr > 0, "lr must be positive"),
            (self.warmup >= 0, "warmup must be >= 0"),
            (self.decay in ("cosine", "linear", "constant"), "decay must be cosine, linear or constant"),
            (0 <= self.min_lr_ratio <= 1, "min_lr_ratio must be in [0, 1]"),
            (0 <= self.ema_decay < 1, "ema_decay must be in [0, 1)"),
            (self.save_every >= 1 and self.log_every >= 1, "save_every and log_every must be >= 1"),
            (self.device in ("auto", "cpu") or self.device.startswith("cuda"), "device must be auto, cpu or cuda[:N]"),
            (self.grad_clip > 0, "grad_clip must be positive"),
            (
                not self.freeze_audio or self.init_f5 or self.init_from,
                "freeze_audio needs init_f5 or init_from (a frozen random audio branch learns nothing)",
            ),
            (self.flow is None or isinstance(self.flow, dict), "flow must be a mapping of flow settings"),
            (not (self.init_f5 and self.init_from), "init_from and init_f5 exclude each other"),
            (self.max_ref_s >= 1 and self.max_target_s >= 1, "max_ref_s and max_target_s must be >= 1"),
            (self.time_limit_s >= 0, "time_limit_s must be >= 0"),
            (self.prefetch >= 0, "prefetch must be >= 0"),
        ]
        for ok, message in checks:
            if not ok:
                field = message.split()[0]
                raise ConfigError(f"train.{field}: {message} (got {getattr(self, field, '?')!r})")
        self.model_config()  # names a bad model or flow setting now, not after the corpus is read
        return self

    def model_config(self) -> ModelConfig:
        """The model preset or file with this run's flow overrides applied."""
        base = load_config(self.model)
        if not self.flow:
            return base
        data = base.to_dict()
        data["flow"] = {**data["flow"], **self.flow}
        return ModelConfig.from_dict(data, source="train.flow")

    @classmethod
    def load(cls, path: str | Path, **overrides) -> TrainConfig:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"training config not found: {path}")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: invalid YAML: {err}") from None
        data.update({k: v for k, v in overrides.items() if v is not None})
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"{path}: unknown field(s) {', '.join('train.' + u for u in unknown)}")
        missing = [n for n in ("corpus", "out") if n not in data]
        if missing:
            raise ConfigError(f"{path}: missing field(s) {', '.join('train.' + m for m in missing)}")
        return cls(**data).validate()
