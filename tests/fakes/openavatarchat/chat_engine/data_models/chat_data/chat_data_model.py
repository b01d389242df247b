"""Mirrors src/chat_engine/data_models/chat_data/chat_data_model.py (OpenAvatarChat b4e8d15):
no stream_id / is_last_data in the 0.5.1 line."""

from dataclasses import dataclass

from chat_engine.data_models.chat_data_type import ChatDataType
from chat_engine.data_models.runtime_data.data_bundle import DataBundle


@dataclass
class ChatData:
    source: str | None = None
    type: ChatDataType = ChatDataType.NONE
    timestamp: tuple[int, int] = (0, 0)
    data: DataBundle | None = None

    def is_timestamp_valid(self) -> bool:
        return self.timestamp[0] >= 0 and self.timestamp[1] > 0
