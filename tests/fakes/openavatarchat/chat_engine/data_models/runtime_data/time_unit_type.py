"""Mirrors src/chat_engine/data_models/runtime_data/time_unit_type.py (OpenAvatarChat b4e8d15)."""

from enum import IntEnum


class TimeUnitType(IntEnum):
    NONE = 0
    FRAME = 1
    AUDIO_SAMPLE = 2
    SECOND = 3
