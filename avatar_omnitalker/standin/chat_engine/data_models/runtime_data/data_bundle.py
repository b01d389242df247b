"""DataBundle with the real host's checks: rank, fixed dimensions, non-empty time axis."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


class VariableSize:
    def __repr__(self) -> str:
        return "VariableSize()"


@dataclass
class DataBundleEntry:
    name: str
    kind: str  # "audio" | "framed" | "text"
    shape: list = field(default_factory=list)
    time_axis: int | None = None
    sample_rate: float | None = None
    channel_names: list[str] | None = None

    @classmethod
    def create_audio_entry(cls, name: str, channel_num: int, sample_rate: int) -> "DataBundleEntry":
        return cls(name, "audio", [channel_num, VariableSize()], 1, sample_rate)

    @classmethod
    def create_framed_entry(cls, name: str, shape: list, time_axis: int = 0, sample_rate: float = 30,
                            channel_names: list[str] | None = None) -> "DataBundleEntry":
        shape = list(shape)
        shape[time_axis] = VariableSize()  # the time axis is always variable, as in the host
        return cls(name, "framed", shape, time_axis, sample_rate, channel_names)

    @classmethod
    def create_text_entry(cls, name: str) -> "DataBundleEntry":
        return cls(name, "text")

    def check(self, value: Any) -> None:
        if self.kind == "text":
            if not isinstance(value, str):
                raise ValueError(f"entry '{self.name}' takes a str, got {type(value).__name__}")
            return
        if not isinstance(value, np.ndarray):
            raise ValueError(f"entry '{self.name}' takes a numpy array, got {type(value).__name__}")
        if value.ndim != len(self.shape):
            raise ValueError(f"entry '{self.name}' has rank {len(self.shape)}, got shape {value.shape}")
        for axis, (want, got) in enumerate(zip(self.shape, value.shape)):
            if not isinstance(want, VariableSize) and want != got:
                raise ValueError(f"entry '{self.name}' axis {axis} must be {want}, got shape {value.shape}")
        if value.shape[self.time_axis] <= 0:
            raise ValueError(f"entry '{self.name}' got an empty time axis: {value.shape}")


class DataBundleDefinition:
    def __init__(self) -> None:
        self.entries: dict[str, DataBundleEntry] = {}
        self.main_entry: str | None = None

    def add_entry(self, entry: DataBundleEntry) -> None:
        self.entries[entry.name] = entry

    def set_main_entry(self, name: str) -> None:
        if name not in self.entries:
            raise KeyError(f"no entry '{name}' in the definition")
        self.main_entry = name


class DataBundle:
    def __init__(self, definition: DataBundleDefinition) -> None:
        if not isinstance(definition, DataBundleDefinition):
            raise TypeError("DataBundle needs a DataBundleDefinition")
        self.definition = definition
        self.data: dict[str, Any] = {}
        self.metadata: dict[str, Any] = {}

    def set_data(self, name: str, value: Any) -> None:
        if name not in self.definition.entries:
            raise KeyError(f"the bundle definition has no entry '{name}'")
        self.definition.entries[name].check(value)
        self.data[name] = value

    def set_main_data(self, value: Any) -> None:
        if self.definition.main_entry is None:
            raise ValueError("the definition has no main entry")
        self.set_data(self.definition.main_entry, value)

    def get_main_data(self) -> Any:
        return self.data.get(self.definition.main_entry)

    def get_data(self, name: str) -> Any:
        return self.data.get(name)

    def add_meta(self, key: str, value: Any) -> None:
        self.metadata[key] = value

    def get_meta(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)
