"""Mirrors src/chat_engine/data_models/runtime_data/data_bundle.py (OpenAvatarChat b4e8d15).

What the handler relies on, with the real checks: a bundle locks a copy of its definition; an
array's rank must equal the entry's, fixed dimensions must match, and the time axis must be longer
than 0; dtype is not checked; `start_of_stream` / `end_of_stream` are attributes (the motion
serializer reads them); a framed entry with channel names needs a channel axis.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chat_engine.data_models.runtime_data.time_unit_type import TimeUnitType


@dataclass
class VariableSize:
    min_size: int | None = None
    max_size: int | None = None
    default: int = 1

    def validate(self, value: int) -> int:
        if self.max_size is not None:
            value = min(self.max_size, value)
        if self.min_size is not None:
            value = max(self.min_size, value)
        return value


@dataclass
class DataBundleEntry:
    name: str
    index: int = -1
    shape: list[int | VariableSize] = field(default_factory=list)
    time_axis: int = -1
    sample_rate: int = 0
    time_unit: TimeUnitType = TimeUnitType.NONE
    channel_axis: int | None = field(default=None)
    channel_names: list[str] | None = field(default=None)

    @staticmethod
    def create_audio_entry(name: str, channel_num: int, sample_rate: int) -> DataBundleEntry:
        return DataBundleEntry(
            name=name,
            shape=[channel_num, VariableSize()],
            time_axis=1,
            sample_rate=sample_rate,
            time_unit=TimeUnitType.AUDIO_SAMPLE,
        )

    @staticmethod
    def create_framed_entry(
        name: str,
        shape: list[int | VariableSize],
        time_axis: int,
        sample_rate: int = 30,
        channel_axis: int | None = None,
        channel_names: list[str] | None = None,
    ):
        if channel_axis is None and channel_names is not None:
            raise RuntimeError("Channel axis must be specified, if channel names is provided.")
        return DataBundleEntry(
            name=name,
            shape=shape,
            time_axis=time_axis,
            sample_rate=sample_rate,
            time_unit=TimeUnitType.FRAME,
            channel_axis=channel_axis,
            channel_names=channel_names,
        )

    @staticmethod
    def create_text_entry(name: str) -> DataBundleEntry:
        return DataBundleEntry(
            name=name, shape=[VariableSize()], time_axis=-1, sample_rate=-1, time_unit=TimeUnitType.NONE
        )

    def get_time_axis_size(self, shape) -> int | None:
        if self.time_unit == TimeUnitType.NONE:
            return 0
        if not 0 <= self.time_axis < len(shape):
            raise RuntimeError(f"Invalid time axis {self.time_axis} for shape {self.shape}")
        return shape[self.time_axis]

    def calculate_shape(self, timed_axis_size: int | None = None, reference_shape=None) -> list:
        if reference_shape is not None and len(reference_shape) != len(self.shape):
            raise RuntimeError(f"Reference shape size {reference_shape} does not match definition shape {self.shape}")
        result = []
        for i, size in enumerate(self.shape):
            if isinstance(size, VariableSize):
                size = size.validate(reference_shape[i]) if reference_shape is not None else size.default
            result.append(size)
        if timed_axis_size is not None:
            result[self.time_axis] = timed_axis_size
        return result


@dataclass
class DataBundleDefinition:
    entries: dict[str, DataBundleEntry] = field(default_factory=dict)
    main_entry_name: str | None = None
    _conformed: bool = True
    _locked: bool = False
    _lockdown_copy: DataBundleDefinition | None = None

    def add_entry(self, entry: DataBundleEntry) -> None:
        if self._locked:
            raise RuntimeError("Cannot add entry to a locked definition")
        if entry.name in self.entries:
            raise RuntimeError(f"Duplicated data name {entry.name}")
        self.entries[entry.name] = entry
        if self.main_entry_name is None:
            self.main_entry_name = entry.name
        self._conformed, self._lockdown_copy = False, None

    def find_entry(self, entry_name: str) -> DataBundleEntry | None:
        return self.entries.get(entry_name)

    def set_main_entry(self, name: str) -> None:
        if self._locked:
            raise RuntimeError("Cannot set main entry to a locked definition")
        if name not in self.entries:
            raise RuntimeError(f"Invalid main entry {name}")
        self.main_entry_name = name
        self._conformed, self._lockdown_copy = False, None

    def get_main_entry(self) -> DataBundleEntry | None:
        return None if self.main_entry_name is None else self.entries.get(self.main_entry_name)

    def lockdown(self) -> DataBundleDefinition:
        if self._locked:
            return self
        if self._lockdown_copy is None:
            for index, entry in enumerate(self.entries.values()):
                entry.index = index
            self._conformed = True
            locked = DataBundleDefinition({n: copy.copy(e) for n, e in self.entries.items()}, self.main_entry_name)
            locked._locked = True
            self._lockdown_copy = locked
        return self._lockdown_copy

    @property
    def locked(self) -> bool:
        return self._locked


class DataBundle:
    def __init__(self, definition: DataBundleDefinition):
        self._definition = definition.lockdown()
        self.metadata: dict[str, Any] = {}
        self.events: list = []
        self.start_of_stream: bool = False
        self.end_of_stream: bool = False
        self._values: dict[str, Any] = {}

    @property
    def definition(self) -> DataBundleDefinition:
        return self._definition

    def set_data(self, name: str, data: np.ndarray | str) -> None:
        entry = self._definition.entries.get(name)
        if entry is None:
            raise RuntimeError(f"Unknown data name {name}")
        if isinstance(data, np.ndarray):
            timed = entry.get_time_axis_size(data.shape)
            if timed is None or timed <= 0:
                raise RuntimeError(f"Dimension mismatch: {name}: {data.shape} is not valid")
            allowed = entry.calculate_shape(timed_axis_size=timed, reference_shape=data.shape)
            if list(data.shape) != list(allowed):
                raise RuntimeError(f"Shape mismatch: Shape of {name} is {data.shape}, not fit defined {allowed}")
        elif not isinstance(data, str):
            raise RuntimeError(f"Input data type {type(data)} is not supported.")
        self._values[name] = data

    def set_main_data(self, data: np.ndarray | str) -> None:
        if self._definition.main_entry_name is None:
            raise RuntimeError("No main data entry")
        self.set_data(self._definition.main_entry_name, data)

    def get_data(self, name: str):
        return self._values.get(name)

    def get_main_data(self):
        name = self._definition.main_entry_name
        return None if name is None else self.get_data(name)

    def add_meta(self, name, value) -> None:
        self.metadata[name] = value

    def get_meta(self, name, default=None):
        return self.metadata.get(name, default)
