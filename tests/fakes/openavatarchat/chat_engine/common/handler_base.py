"""Mirrors src/chat_engine/common/handler_base.py (OpenAvatarChat b4e8d15): no on_signal,
warmup_context or signal_filters in the 0.5.1 line."""

import weakref
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import Enum

from chat_engine.contexts.handler_context import HandlerContext
from chat_engine.contexts.session_context import SessionContext
from chat_engine.data_models.chat_data.chat_data_model import ChatData
from chat_engine.data_models.chat_data_type import ChatDataType
from chat_engine.data_models.chat_engine_config_data import ChatEngineConfigModel, HandlerBaseConfigModel
from chat_engine.data_models.runtime_data.data_bundle import DataBundleDefinition


class ChatDataConsumeMode(Enum):
    ONCE = -1
    DEFAULT = 0


@dataclass
class HandlerBaseInfo:
    name: str | None = None
    config_model: type | None = None
    client_session_delegate_class: type | None = None
    load_priority: int = 0


@dataclass
class HandlerDataInfo:
    type: ChatDataType = ChatDataType.NONE
    definition: DataBundleDefinition | None = None
    input_priority: int = 0
    input_consume_mode: ChatDataConsumeMode = ChatDataConsumeMode.DEFAULT

    def __lt__(self, other):
        if self.input_priority == other.input_priority:
            return self.type.value < other.type.value
        return self.input_priority < other.input_priority


@dataclass
class HandlerDetail:
    inputs: dict[ChatDataType, HandlerDataInfo] = field(default_factory=dict)
    outputs: dict[ChatDataType, HandlerDataInfo] = field(default_factory=dict)


class HandlerBase(ABC):
    def __init__(self):
        self.engine: weakref.ReferenceType | None = None
        self.handler_root: str | None = None

    def on_before_register(self):
        pass

    @abstractmethod
    def get_handler_info(self) -> HandlerBaseInfo: ...

    @abstractmethod
    def load(self, engine_config: ChatEngineConfigModel, handler_config: HandlerBaseConfigModel | None = None): ...

    @abstractmethod
    def create_context(
        self, session_context: SessionContext, handler_config: HandlerBaseConfigModel | None = None
    ) -> HandlerContext: ...

    @abstractmethod
    def start_context(self, session_context: SessionContext, handler_context: HandlerContext): ...

    @abstractmethod
    def get_handler_detail(self, session_context: SessionContext, context: HandlerContext) -> HandlerDetail: ...

    @abstractmethod
    def handle(
        self, context: HandlerContext, inputs: ChatData, output_definitions: dict[ChatDataType, HandlerDataInfo]
    ): ...

    @abstractmethod
    def destroy_context(self, context: HandlerContext): ...

    def destroy(self):
        pass
