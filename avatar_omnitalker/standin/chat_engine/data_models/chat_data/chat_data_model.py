from __future__ import annotations

from typing import Any

from chat_engine.data_models.chat_data_type import ChatDataType
from chat_engine.data_models.runtime_data.data_bundle import DataBundle


class ChatData:
    """v0.6 field set (stream_id, is_first_data, is_last_data); keyword construction only."""

    def __init__(self, *, source: str | None = None, type: ChatDataType = ChatDataType.NONE,
                 timestamp: tuple[int, int] = (-1, -1), data: DataBundle | None = None,
                 stream_id: Any = None, is_first_data: bool = False, is_last_data: bool = False) -> None:
        if data is not None and not isinstance(data, DataBundle):
            raise TypeError(f"ChatData.data must be a DataBundle, got {data.__class__.__name__}")
        self.source, self.type, self.timestamp, self.data = source, type, timestamp, data
        self.stream_id, self.is_first_data, self.is_last_data = stream_id, is_first_data, is_last_data

    @property
    def is_timestamp_valid(self) -> bool:
        return self.timestamp[0] >= 0 and self.timestamp[1] > 0
