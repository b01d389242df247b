"""Mirrors src/chat_engine/data_models/chat_engine_config_data.py (OpenAvatarChat b4e8d15)."""

from pydantic import BaseModel, Field

from chat_engine.common.engine_channel_type import EngineChannelType
from chat_engine.data_models.chat_data_type import ChatDataType


class HandlerBaseConfigModel(BaseModel):
    enabled: bool = Field(default=True)
    module: str | None = Field(default=None)
    concurrent_limit: int = Field(default=1)


class ChatEngineOutputSource(BaseModel):
    handler: str | list[str] | None
    type: ChatDataType


class ChatEngineConfigModel(BaseModel):
    model_root: str = ""
    concurrent_limit: int = Field(default=1)
    handler_search_path: list[str] = Field(default_factory=list)
    handler_configs: dict[str, dict] | None = None
    outputs: dict[EngineChannelType, ChatEngineOutputSource] = Field(default_factory=dict)
    turn_config: dict | None = Field(default=None)
