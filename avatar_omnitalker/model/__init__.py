"""The model: blocks (modules), the dual-branch network (dit), the flow math (cfm), I/O."""

from avatar_omnitalker.model.cfm import FlowMatching, LossOutput, SampleOutput, TrainBatch, f5_duration
from avatar_omnitalker.model.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from avatar_omnitalker.model.config import BackboneConfig, ConfigError, FlowConfig, ModelConfig, load_config
from avatar_omnitalker.model.dit import OmniTalkerDiT
from avatar_omnitalker.model.f5_compat import F5CheckpointError, load_f5_into

__all__ = [
    "BackboneConfig",
    "CheckpointError",
    "ConfigError",
    "F5CheckpointError",
    "FlowConfig",
    "FlowMatching",
    "LossOutput",
    "ModelConfig",
    "OmniTalkerDiT",
    "SampleOutput",
    "TrainBatch",
    "f5_duration",
    "load_checkpoint",
    "load_config",
    "load_f5_into",
    "save_checkpoint",
]
