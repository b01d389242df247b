"""Run the OmniTalker handler the way OpenAvatarChat runs it, in whichever engine is on sys.path.

Everything the engine does is the engine's own code: SessionContext, SessionInfoData and
ChatSession create the session, pump every handler's queue on its own thread and route ChatData by
type. Handler discovery is the real HandlerManager when it imports (it needs gradio and fastapi);
otherwise `_discover` repeats its steps (handler_manager.py at b4e8d15: `<search path>/<module>.py`,
import of the dotted name, the first concrete HandlerBase subclass by sorted member name, config
validated by the handler's model with concurrent_limit overwritten, then `load`).

Around the avatar sit two small handlers playing the neighbours it has in a real chat: an LLM that
streams a scripted reply as AVATAR_TEXT deltas (as llm_handler_openai_compatible.py yields them),
and a client that records what the browser would be sent (as client_handler_rtc.py consumes it).
"""

from __future__ import annotations

import importlib
import inspect
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

try:
    from chat_engine.common.engine_channel_type import EngineChannelType
except ImportError:  # the v0.6 line moved it
    from chat_engine.data_models.engine_channel_type import EngineChannelType
from chat_engine.common.handler_base import HandlerBase, HandlerBaseInfo, HandlerDataInfo, HandlerDetail
from chat_engine.contexts.handler_context import HandlerContext
from chat_engine.contexts.session_context import SessionContext
from chat_engine.core.chat_session import ChatSession
from chat_engine.data_models.chat_data.chat_data_model import ChatData
from chat_engine.data_models.chat_data_type import ChatDataType
from chat_engine.data_models.chat_engine_config_data import ChatEngineConfigModel, HandlerBaseConfigModel
from chat_engine.data_models.runtime_data.data_bundle import DataBundle, DataBundleDefinition, DataBundleEntry
from chat_engine.data_models.session_info_data import SessionInfoData

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"
MODULE = "omnitalker_avatar/omnitalker_handler"
SENTENCE_END = ".!?。！？"


def engine_line() -> str:
    """'0.5' for the OpenAvatarChat main line, '0.6' for the streams/signals line."""
    import chat_engine.data_models.chat_signal_type as types

    return "0.6" if hasattr(types.ChatSignalType, "STREAM_CANCEL") else "0.5"


def is_real_engine() -> bool:
    import chat_engine

    return "fakes" not in Path(chat_engine.__file__).parts


class ScriptedLLM(HandlerBase):
    """HUMAN_TEXT in -> the same text streamed back as AVATAR_TEXT deltas, then the end marker."""

    def __init__(self, delta_chars: int = 4, delta_interval_s: float = 0.03) -> None:
        super().__init__()
        self.delta_chars = delta_chars
        self.delta_interval_s = delta_interval_s
        self.sentence_end_at: dict[str, float] = {}  # speech_id -> when its first sentence's text was out
        self.speech_ids: list[str] = []
        self.definition = DataBundleDefinition()
        self.definition.add_entry(DataBundleEntry.create_text_entry("avatar_text"))

    def get_handler_info(self) -> HandlerBaseInfo:
        return HandlerBaseInfo(name="ScriptedLLM", config_model=HandlerBaseConfigModel)

    def load(self, engine_config, handler_config=None) -> None:
        pass

    def create_context(self, session_context, handler_config=None) -> HandlerContext:
        return HandlerContext(session_context.session_info.session_id)

    def get_handler_detail(self, session_context, context) -> HandlerDetail:
        return HandlerDetail(
            inputs={ChatDataType.HUMAN_TEXT: HandlerDataInfo(type=ChatDataType.HUMAN_TEXT)},
            outputs={
                ChatDataType.AVATAR_TEXT: HandlerDataInfo(type=ChatDataType.AVATAR_TEXT, definition=self.definition)
            },
        )

    def start_context(self, session_context, handler_context) -> None:
        pass

    def handle(self, context, inputs: ChatData, output_definitions):
        if inputs.type != ChatDataType.HUMAN_TEXT:
            return None
        text = inputs.data.get_main_data()
        speech_id = inputs.data.get_meta("speech_id")
        self.speech_ids.append(speech_id)
        if engine_line() == "0.6":  # a v0.6 LLM ends its reply by finishing its AVATAR_TEXT stream
            for bundle in self._deltas(text, speech_id, with_end_marker=False):
                context.submit_data(bundle)
            context.submit_data(self._bundle("", speech_id, False), finish_stream=True)
            return None
        return self._deltas(text, speech_id, with_end_marker=True)

    def _deltas(self, text: str, speech_id: str, with_end_marker: bool):
        for i in range(0, len(text), self.delta_chars):
            piece = text[i : i + self.delta_chars]
            yield self._bundle(piece, speech_id, False)
            if speech_id not in self.sentence_end_at and any(c in SENTENCE_END for c in piece):
                self.sentence_end_at[speech_id] = time.monotonic()
            time.sleep(self.delta_interval_s)
        self.sentence_end_at.setdefault(speech_id, time.monotonic())
        if with_end_marker:
            yield self._bundle("", speech_id, True)

    def _bundle(self, text: str, speech_id: str, end: bool) -> DataBundle:
        bundle = DataBundle(self.definition)
        bundle.set_main_data(text)
        bundle.add_meta("avatar_text_end", end)
        bundle.add_meta("speech_id", speech_id)
        return bundle

    def destroy_context(self, context) -> None:
        pass


@dataclass
class Received:
    time: float
    data: ChatData


class RecordingClient(HandlerBase):
    """Consumes what the RTC client consumes from an avatar and records it with arrival times."""

    def __init__(self, keep_data: bool = True) -> None:
        super().__init__()
        self.text_definition = DataBundleDefinition()
        self.text_definition.add_entry(DataBundleEntry.create_text_entry("human_text"))
        self.keep_data = keep_data  # False: only `log` (long runs must not hold every frame)
        self.received: list[Received] = []
        self.log: list[tuple] = []  # (time, data type, speech_id, avatar_speech_end, peak |audio|)
        self.lock = threading.Lock()

    def get_handler_info(self) -> HandlerBaseInfo:
        return HandlerBaseInfo(name="RecordingClient", config_model=HandlerBaseConfigModel)

    def load(self, engine_config, handler_config=None) -> None:
        pass

    def create_context(self, session_context, handler_config=None) -> HandlerContext:
        context = HandlerContext(session_context.session_info.session_id)
        context.session_context = session_context
        return context

    def get_handler_detail(self, session_context, context) -> HandlerDetail:
        kinds = (
            ChatDataType.AVATAR_TEXT,
            ChatDataType.AVATAR_AUDIO,
            ChatDataType.AVATAR_VIDEO,
            ChatDataType.AVATAR_MOTION_DATA,
        )
        outputs = {}
        if engine_line() == "0.6":  # no input queues there: the client handler submits HUMAN_TEXT
            outputs = {
                ChatDataType.HUMAN_TEXT: HandlerDataInfo(type=ChatDataType.HUMAN_TEXT, definition=self.text_definition)
            }
        return HandlerDetail(inputs={k: HandlerDataInfo(type=k) for k in kinds}, outputs=outputs)

    def start_context(self, session_context, handler_context) -> None:
        pass

    def handle(self, context, inputs: ChatData, output_definitions) -> None:
        bundle = inputs.data
        peak = 0.0
        if inputs.type == ChatDataType.AVATAR_AUDIO:
            peak = float(abs(bundle.get_main_data()).max())
        entry = (
            time.monotonic(),
            inputs.type,
            bundle.get_meta("speech_id"),
            bool(bundle.get_meta("avatar_speech_end")),
            peak,
        )
        with self.lock:
            self.log.append(entry)
            if self.keep_data:
                self.received.append(Received(entry[0], inputs))

    def destroy_context(self, context) -> None:
        pass

    def of(self, kind: ChatDataType) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.data.type == kind]


def _discover(search_path: list[str], module_name: str) -> type:
    for root in search_path:
        if (Path(root) / f"{module_name}.py").is_file():
            module = importlib.import_module(module_name.replace("/", "."))
            for _, member in inspect.getmembers(module):
                if inspect.isclass(member) and not inspect.isabstract(member) and issubclass(member, HandlerBase):
                    return member
            raise ValueError(f"Handler module {module_name} does not contain a HandlerBase subclass.")
    raise ValueError(f"Handler {module_name} not found in search path.")


class _EngineRef:
    """What HandlerManager keeps a weak reference to."""


@dataclass
class Host:
    """The avatar loaded once, as the engine loads it; sessions are created on demand."""

    handler_config: dict
    concurrent_limit: int = 1
    engine_config: ChatEngineConfigModel = field(init=False)
    handler: HandlerBase = field(init=False)
    info: HandlerBaseInfo = field(init=False)
    config: HandlerBaseConfigModel = field(init=False)
    used_handler_manager: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        raw = {"module": MODULE, **self.handler_config}
        self.engine_config = ChatEngineConfigModel(
            model_root="models",
            concurrent_limit=self.concurrent_limit,
            handler_search_path=[str(HANDLERS)],
            handler_configs={"OmniTalker": raw},
        )
        try:
            from chat_engine.core.handler_manager import HandlerManager
        except ImportError:  # gradio / fastapi absent: the same steps, see _discover
            HandlerManager = None
        if HandlerManager is not None:
            self._engine = _EngineRef()
            manager = HandlerManager(self._engine)
            manager.initialize(self.engine_config)
            manager.load_handlers(self.engine_config)
            registry = manager.get_enabled_handler_registries()[0]
            self.handler, self.info, self.config = registry.handler, registry.base_info, registry.handler_config
            self.used_handler_manager = True
            return
        handler_class = _discover(self.engine_config.handler_search_path, MODULE)
        self.handler = handler_class()
        self.handler.handler_root = str(Path(inspect.getfile(handler_class)).parent)
        self.handler.on_before_register()
        self.info = self.handler.get_handler_info()
        self.info.name = "OmniTalker"
        if not issubclass(self.info.config_model, HandlerBaseConfigModel):
            raise ValueError(f"invalid config model {self.info.config_model}")
        self.config = self.info.config_model.model_validate(raw)
        self.config.concurrent_limit = self.concurrent_limit
        self.handler.load(self.engine_config, self.config)

    def session(
        self, session_id: str, delta_chars: int = 4, delta_interval_s: float = 0.03, keep_data: bool = True
    ) -> HostSession:
        return HostSession(self, session_id, ScriptedLLM(delta_chars, delta_interval_s), keep_data)

    def shutdown(self) -> None:
        self.handler.destroy()


def _observe_vad(context: SessionContext, frames_emitted) -> list[tuple[bool, int]]:
    """Log every write of shared_states.enable_vad with the avatar's frame count at that instant
    (the real SharedStates, subclassed only to observe). Empty on a host without the flag."""
    log: list[tuple[bool, int]] = []
    real = context.shared_states
    if not hasattr(real, "enable_vad"):
        return log

    class ObservedStates(type(real)):
        def __setattr__(self, name, value):
            if name == "enable_vad":
                log.append((bool(value), frames_emitted()))
            super().__setattr__(name, value)

    observed = ObservedStates()
    for name, value in vars(real).items():
        object.__setattr__(observed, name, value)
    log.clear()  # the dataclass __init__ wrote the default
    context.shared_states = observed
    return log


class HostSession:
    def __init__(self, host: Host, session_id: str, llm: ScriptedLLM, keep_data: bool = True) -> None:
        self.llm = llm
        self.client = RecordingClient(keep_data)
        self.text_input: queue.Queue = queue.Queue()
        info = SessionInfoData(session_id=session_id)
        if engine_line() == "0.6":
            self.context = SessionContext(session_info=info)
        else:
            self.context = SessionContext(
                session_info=info, input_queues={EngineChannelType.TEXT: self.text_input}, output_queues={}
            )
        self.session = ChatSession(self.context, host.engine_config)
        self.avatar = self.session.prepare_handler(host.handler, host.info, host.config)
        self.llm_env, self.client_env = (
            self.session.prepare_handler(neighbour, neighbour.get_handler_info(), HandlerBaseConfigModel())
            for neighbour in (llm, self.client)
        )
        self.vad_log = _observe_vad(self.context, lambda: self.avatar.context.session.frames_emitted)
        self.started = time.monotonic()
        self.session.start()
        self.closed = False

    @property
    def avatar_context(self):
        return self.avatar.context

    def say(self, text: str) -> None:
        """What the user said: the engine packs it as HUMAN_TEXT; the scripted LLM replies with it.
        SileroVad (0.5.1) turns enable_vad off when the user's speech ends; so does this."""
        if hasattr(self.context.shared_states, "enable_vad"):
            self.context.shared_states.enable_vad = False
        if engine_line() == "0.6":
            bundle = DataBundle(self.client.text_definition)
            bundle.set_main_data(text)
            bundle.add_meta("speech_id", f"human-{len(self.llm.speech_ids)}-{time.monotonic_ns()}")
            bundle.add_meta("human_text_end", True)
            self.client_env.context.submit_data(bundle, finish_stream=True)
            return
        self.text_input.put_nowait((None, text))

    def cancel_playback(self) -> bool:
        """v0.6: what the client does when the user talks over the avatar: cancel the playback
        stream, which the engine's signal manager routes as STREAM_CANCEL. False if none is open."""
        from chat_engine.data_models.chat_signal import ChatSignal
        from chat_engine.data_models.chat_signal_type import ChatSignalSourceType, ChatSignalType

        playback = self.avatar.context.playback
        stream = None if playback is None else playback.current_stream
        if stream is None:
            return False
        self.session.emit_signal(
            ChatSignal(
                type=ChatSignalType.STREAM_CANCEL,
                source_type=ChatSignalSourceType.CLIENT,
                related_stream=stream.identity,
                source_name="RecordingClient",
            )
        )
        return True

    def received(self, kind: ChatDataType) -> list[Received]:
        return self.client.of(kind)

    def speech_ends(self) -> list[Received]:
        kind = ChatDataType.AVATAR_AUDIO
        if self.avatar.output_info and ChatDataType.AVATAR_MOTION_DATA in self.avatar.output_info:
            kind = ChatDataType.AVATAR_MOTION_DATA
        return [r for r in self.received(kind) if r.data.data.get_meta("avatar_speech_end")]

    def wait_turns(self, n: int, timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if len(self.speech_ends()) >= n:
                return
            time.sleep(0.02)
        raise AssertionError(f"{len(self.speech_ends())} of {n} turns ended within {timeout} s")

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.session.stop()


def first_speaking_latency(session: HostSession, speech_id: str, kind=None) -> float | None:
    """Seconds from the end of the first sentence's text to the first frame of that reply;
    `kind`: the frames' data type (AVATAR_AUDIO in video mode, AVATAR_MOTION_DATA in motion mode)."""
    kind = ChatDataType.AVATAR_AUDIO if kind is None else kind
    first = next(
        (r.time for r in session.received(kind) if r.data.data.get_meta("speech_id") == speech_id),
        None,
    )
    said = session.llm.sentence_end_at.get(speech_id)
    return None if first is None or said is None else first - said
