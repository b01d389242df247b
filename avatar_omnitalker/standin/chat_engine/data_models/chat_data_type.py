from enum import Enum

from chat_engine.common.engine_channel_type import EngineChannelType


class ChatDataType(str, Enum):
    NONE = "none"
    HUMAN_TEXT = "human_text"
    AVATAR_TEXT = "avatar_text"
    HUMAN_VAD = "human_vad"
    MIC_AUDIO = "mic_audio"
    HUMAN_AUDIO = "human_audio"
    AVATAR_AUDIO = "avatar_audio"
    CAMERA_VIDEO = "camera_video"
    AVATAR_VIDEO = "avatar_video"
    AVATAR_MOTION_DATA = "avatar_motion_data"

    @property
    def channel_type(self) -> EngineChannelType:
        return _CHANNELS[self]


_CHANNELS = {
    ChatDataType.NONE: EngineChannelType.NONE,
    ChatDataType.HUMAN_TEXT: EngineChannelType.TEXT, ChatDataType.AVATAR_TEXT: EngineChannelType.TEXT,
    ChatDataType.HUMAN_VAD: EngineChannelType.EVENT,
    ChatDataType.MIC_AUDIO: EngineChannelType.AUDIO, ChatDataType.HUMAN_AUDIO: EngineChannelType.AUDIO,
    ChatDataType.AVATAR_AUDIO: EngineChannelType.AUDIO,
    ChatDataType.CAMERA_VIDEO: EngineChannelType.VIDEO, ChatDataType.AVATAR_VIDEO: EngineChannelType.VIDEO,
    ChatDataType.AVATAR_MOTION_DATA: EngineChannelType.MOTION_DATA,
}
