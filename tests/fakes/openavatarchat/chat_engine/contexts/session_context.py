"""Mirrors src/chat_engine/contexts/session_context.py (OpenAvatarChat b4e8d15): the session id
lives on `session_info`; there is no `session_context.session_id`."""

import time
from dataclasses import dataclass

from chat_engine.common.engine_channel_type import EngineChannelType
from chat_engine.data_models.session_info_data import IOQueueType, SessionInfoData


@dataclass
class SharedStates:
    active: bool = False
    enable_vad: bool = True


class SessionContext:
    def __init__(
        self,
        session_info: SessionInfoData,
        input_queues: dict[EngineChannelType, IOQueueType],
        output_queues: dict[EngineChannelType, IOQueueType],
    ):
        self.session_info = session_info
        self.input_queues = input_queues
        self.output_queues = output_queues
        self.shared_states = SharedStates()
        self.input_definitions: dict = {}
        self.input_start_time: float = -1.0

    def cleanup(self):
        for data_queue in list(self.input_queues.values()) + list(self.output_queues.values()):
            while not data_queue.empty():
                data_queue.get_nowait()

    def set_input_start(self):
        if self.input_start_time < 0:
            self.input_start_time = time.monotonic()

    def get_timestamp(self) -> tuple[int, int]:
        if self.input_start_time < 0:
            return -1, 0
        base = self.session_info.timestamp_base
        return round((time.monotonic() - self.input_start_time) * base), base
