"""Mirrors src/chat_engine/data_models/chat_signal_type.py (OpenAvatarChat b4e8d15): the 0.5.1
line has BEGIN/END/INTERRUPT only (no STREAM_CANCEL, no stream types)."""

from enum import Enum


class ChatSignalType(str, Enum):
    BEGIN = "begin"
    END = "end"
    INTERRUPT = "interrupt"


class ChatSignalSourceType(str, Enum):
    CLIENT = "client"
