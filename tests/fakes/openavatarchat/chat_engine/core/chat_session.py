"""Mirrors src/chat_engine/core/chat_session.py (OpenAvatarChat b4e8d15).

The behaviour a handler meets: `prepare_handler` (create_context, then get_handler_detail, inputs
become sinks), `start` (data_submitter set, start_context, one pump thread per handler, the input
pump), routing by data type to every consumer but the producer (ONCE stops at the first), engine
outputs to the session's output queues, a bare DataBundle accepted only from a handler with a
single output type, and `stop` (pumps joined, then destroy_context, then queues drained).
"""

import asyncio
import queue
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import uuid4

from chat_engine.common.engine_channel_type import EngineChannelType
from chat_engine.common.handler_base import ChatDataConsumeMode, HandlerBase, HandlerBaseInfo, HandlerDataInfo
from chat_engine.contexts.handler_context import HandlerContext
from chat_engine.contexts.session_context import SessionContext
from chat_engine.data_models.chat_data.chat_data_model import ChatData
from chat_engine.data_models.chat_data_type import ChatDataType
from chat_engine.data_models.chat_engine_config_data import ChatEngineConfigModel, HandlerBaseConfigModel
from chat_engine.data_models.runtime_data.data_bundle import DataBundle, DataBundleDefinition, DataBundleEntry


@dataclass
class HandlerEnv:
    handler_info: HandlerBaseInfo
    handler: HandlerBase
    config: HandlerBaseConfigModel
    context: HandlerContext | None = None
    input_queue: queue.Queue | None = None
    output_info: dict[ChatDataType, HandlerDataInfo] | None = None


@dataclass
class HandlerRecord:
    env: HandlerEnv
    pump_thread: threading.Thread | None = None


@dataclass
class DataSink:
    owner: str = ""
    sink_queue: queue.Queue = None
    consume_info: HandlerDataInfo | None = None


class ChatDataSubmitter:
    def __init__(self, handler_name: str, output_info, session_context, sinks, outputs):
        self.handler_name = handler_name
        self.output_info = output_info
        self.session_context = session_context
        self.sinks = sinks
        self.outputs = outputs

    def submit(self, data):
        ChatSession.submit_data(
            data, self.handler_name, self.output_info, self.session_context, self.sinks, self.outputs
        )


class ChatSession:
    def __init__(self, session_context: SessionContext, engine_config: ChatEngineConfigModel):
        self.session_context = session_context
        self.data_sinks: dict[ChatDataType, list[DataSink]] = {}
        self.outputs: dict[tuple[str, ChatDataType], DataSink] = {}
        self.handlers: dict[str, HandlerRecord] = {}
        self.input_pump_thread: threading.Thread | None = None
        self.inputs = (
            [session_context.input_queues[EngineChannelType.TEXT]]
            if EngineChannelType.TEXT in session_context.input_queues
            else []
        )
        for output_info in engine_config.outputs.values():
            channel = output_info.type.channel_type
            if channel not in session_context.output_queues:
                continue
            names = output_info.handler if isinstance(output_info.handler, list) else [output_info.handler]
            for name in names:
                self.outputs.setdefault(
                    (name, output_info.type),
                    DataSink(
                        sink_queue=session_context.output_queues[channel],
                        consume_info=HandlerDataInfo(type=output_info.type),
                    ),
                )

    @classmethod
    def _packet_chat_data(cls, handler_name, output_info, session_context, data):
        if data is None:
            return None
        timestamp = session_context.get_timestamp()
        if isinstance(data, ChatData):
            chat_data = data
        elif isinstance(data, DataBundle):
            if len(output_info) != 1:
                raise ValueError("Bare DataBundle is supported only if handler outputs single chat data type.")
            chat_data = ChatData(data=data, type=next(iter(output_info)), timestamp=timestamp)
        else:
            raise ValueError(f"Unsupported handler output type {type(data)}")
        if not chat_data.is_timestamp_valid():
            chat_data.timestamp = timestamp
        chat_data.source = handler_name
        return chat_data

    @classmethod
    def distribute_data(cls, data: ChatData, sinks, outputs):
        engine_output = outputs.get((data.source, data.type))
        if engine_output is not None:
            engine_output.sink_queue.put_nowait(data)
        for sink in sinks.get(data.type, []):
            if sink.owner == data.source:
                continue
            sink.sink_queue.put_nowait(data)
            if sink.consume_info.input_consume_mode == ChatDataConsumeMode.ONCE:
                break

    @classmethod
    def submit_data(cls, data, handler_name, output_info, session_context, sinks, outputs):
        chat_data = cls._packet_chat_data(handler_name, output_info, session_context, data)
        if chat_data is not None:
            cls.distribute_data(chat_data, sinks, outputs)

    @classmethod
    def handler_pumper(cls, session_context, handler_env: HandlerEnv, sinks, outputs):
        output_info = handler_env.output_info or {}
        while session_context.shared_states.active:
            try:
                input_data = handler_env.input_queue.get_nowait()
            except (queue.Empty, asyncio.QueueEmpty):
                time.sleep(0.03)
                continue
            result = handler_env.handler.handle(handler_env.context, input_data, output_info)
            if not isinstance(result, Iterable):
                result = [result]
            for output in result:
                chat_data = cls._packet_chat_data(handler_env.handler_info.name, output_info, session_context, output)
                if chat_data is not None:
                    cls.distribute_data(chat_data, sinks, outputs)

    def _inputs_pumper(self) -> None:
        """TEXT input -> HUMAN_TEXT with a fresh speech_id and human_text_end, as the real one packs it."""
        definition = DataBundleDefinition()
        definition.add_entry(DataBundleEntry.create_text_entry("human_text"))
        while self.session_context.shared_states.active:
            try:
                _, text = self.inputs[0].get_nowait()
            except (queue.Empty, asyncio.QueueEmpty, IndexError):
                time.sleep(0.03)
                continue
            bundle = DataBundle(definition)
            bundle.set_main_data(text)
            bundle.add_meta("speech_id", str(uuid4()))
            bundle.add_meta("human_text_end", True)
            chat_data = ChatData(
                type=ChatDataType.HUMAN_TEXT, data=bundle, timestamp=self.session_context.get_timestamp()
            )
            chat_data.source = ""
            self.distribute_data(chat_data, self.data_sinks, self.outputs)

    def prepare_handler(
        self, handler: HandlerBase, handler_info: HandlerBaseInfo, handler_config: HandlerBaseConfigModel
    ):
        env = HandlerEnv(handler_info=handler_info, handler=handler, config=handler_config)
        env.context = handler.create_context(self.session_context, env.config)
        env.context.owner = handler_info.name
        env.input_queue = queue.Queue()
        detail = handler.get_handler_detail(self.session_context, env.context)
        for input_type, input_info in detail.inputs.items():
            self.data_sinks.setdefault(input_type, []).append(
                DataSink(owner=handler_info.name, sink_queue=env.input_queue, consume_info=input_info)
            )
        env.output_info = detail.outputs
        self.handlers[handler_info.name] = HandlerRecord(env=env)
        return env

    def start(self) -> None:
        states = self.session_context.shared_states
        if states.active:
            return
        states.active = True
        for sink_list in self.data_sinks.values():
            sink_list.sort(key=lambda sink: sink.consume_info)
        for name, record in self.handlers.items():
            record.env.context.data_submitter = ChatDataSubmitter(
                name, record.env.output_info, self.session_context, self.data_sinks, self.outputs
            )
            record.env.handler.start_context(self.session_context, record.env.context)
            record.pump_thread = threading.Thread(
                target=self.handler_pumper, args=(self.session_context, record.env, self.data_sinks, self.outputs)
            )
            record.pump_thread.start()
        self.input_pump_thread = threading.Thread(target=self._inputs_pumper)
        self.input_pump_thread.start()
        self.session_context.set_input_start()

    def stop(self) -> None:
        self.session_context.shared_states.active = False
        if self.input_pump_thread:
            self.input_pump_thread.join()
            self.input_pump_thread = None
        for record in self.handlers.values():
            if record.pump_thread:
                record.pump_thread.join()
                record.pump_thread = None
            record.env.handler.destroy_context(record.env.context)
        self.handlers.clear()
        self.session_context.cleanup()
