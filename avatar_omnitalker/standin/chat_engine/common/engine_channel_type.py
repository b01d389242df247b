from enum import Enum


class EngineChannelType(str, Enum):
    NONE = "none"
    TEXT = "text"
    EVENT = "event"
    AUDIO = "audio"
    VIDEO = "video"
    MOTION_DATA = "motion_data"
