"""Mirrors src/chat_engine/common/engine_channel_type.py (OpenAvatarChat b4e8d15)."""

from enum import Enum


class EngineChannelType(str, Enum):
    NONE = "none"
    TEXT = "text"
    AUDIO = "audio"
    VIDEO = "video"
    EVENT = "event"
    MOTION_DATA = "motion_data"
