"""v0.6 signals, as far as the contract describes them: a type and the stream type it targets."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class ChatSignalType(str, Enum):
    STREAM_BEGIN = "stream_begin"
    STREAM_END = "stream_end"
    STREAM_CANCEL = "stream_cancel"


class ChatStreamType(str, Enum):
    CLIENT_PLAYBACK = "client_playback"


@dataclass
class ChatSignal:
    type: ChatSignalType
    stream_type: ChatStreamType | None = None
    source_name: str = ""
