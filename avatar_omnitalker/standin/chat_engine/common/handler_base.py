from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Optional, Type

from chat_engine.data_models.chat_data_type import ChatDataType
from chat_engine.data_models.chat_engine_config_data import HandlerBaseConfigModel
from chat_engine.data_models.runtime_data.data_bundle import DataBundleDefinition


class ChatDataConsumeMode(int, Enum):
    ONCE = -1
    DEFAULT = 0


@dataclass
class HandlerBaseInfo:
    config_model: Optional[Type[HandlerBaseConfigModel]] = None
    load_priority: int = 0
    name: Optional[str] = None
    client_session_delegate_class: Any = None


@dataclass
class HandlerDataInfo:
    data_name: Optional[str] = None  # v0.6 adds this as the first field
    type: ChatDataType = ChatDataType.NONE
    definition: Optional[DataBundleDefinition] = None
    input_priority: int = 0
    input_consume_mode: ChatDataConsumeMode = ChatDataConsumeMode.DEFAULT


@dataclass
class HandlerDetail:
    inputs: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)
    signal_filters: list = field(default_factory=list)


class HandlerBase(ABC):
    def __init__(self) -> None:
        self.handler_root: Optional[str] = None
        self.engine = None

    def on_before_register(self) -> None:
        pass

    @abstractmethod
    def get_handler_info(self) -> HandlerBaseInfo: ...

    @abstractmethod
    def load(self, engine_config, handler_config=None) -> None: ...

    @abstractmethod
    def create_context(self, session_context, handler_config=None): ...

    def start_context(self, session_context, handler_context) -> None:
        pass

    @abstractmethod
    def get_handler_detail(self, session_context, context) -> HandlerDetail: ...

    @abstractmethod
    def handle(self, context, inputs, output_definitions): ...

    @abstractmethod
    def destroy_context(self, context) -> None: ...

    def destroy(self) -> None:
        pass
