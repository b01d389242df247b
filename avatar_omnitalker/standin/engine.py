"""The stand-in engine: loads handlers from a config the way OpenAvatarChat does, runs sessions."""

from __future__ import annotations

import importlib
import inspect
import queue
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

STANDIN_ROOT = str(Path(__file__).resolve().parent)
if STANDIN_ROOT not in sys.path:
    sys.path.insert(0, STANDIN_ROOT)

from chat_engine.common.handler_base import ChatDataConsumeMode, HandlerBase  # noqa: E402
from chat_engine.contexts.session_context import SessionContext  # noqa: E402
from chat_engine.data_models.chat_data.chat_data_model import ChatData  # noqa: E402
from chat_engine.data_models.chat_data_type import ChatDataType  # noqa: E402
from chat_engine.data_models.chat_engine_config_data import ChatEngineConfigModel  # noqa: E402
from chat_engine.data_models.runtime_data.data_bundle import DataBundle  # noqa: E402

CLIENT_INPUTS = (ChatDataType.AVATAR_TEXT, ChatDataType.AVATAR_AUDIO, ChatDataType.AVATAR_VIDEO, ChatDataType.AVATAR_MOTION_DATA)


class EngineError(RuntimeError):
    pass


@dataclass
class LoadedHandler:
    name: str
    handler: HandlerBase
    config: Any
    priority: int


def find_handler_class(module) -> type:
    """The first concrete HandlerBase subclass among the module's members sorted by name."""
    for _, member in inspect.getmembers(module):  # getmembers sorts by name
        if inspect.isclass(member) and issubclass(member, HandlerBase) and not inspect.isabstract(member):
            return member
    raise EngineError(f"module {module.__name__} holds no concrete HandlerBase subclass")


class StandInEngine:
    def __init__(self, config: dict | str | Path) -> None:
        if not isinstance(config, dict):
            config = yaml.safe_load(Path(config).read_text(encoding="utf-8"))
        if "default" not in config or "chat_engine" not in config["default"]:
            raise EngineError("config must have default.chat_engine")
        self.raw = config["default"]["chat_engine"]
        self.config = ChatEngineConfigModel.model_validate(self.raw)
        self.handlers: list[LoadedHandler] = []

    def load(self, skip: tuple[str, ...] = ()) -> None:
        for path in reversed(self.config.handler_search_path):
            if path not in sys.path:
                sys.path.insert(0, path)
        for name, entry in self.config.handler_configs.items():
            entry = dict(entry or {})
            if name in skip or entry.get("enabled", True) is False:
                continue
            module = entry.get("module")
            if not module:
                raise EngineError(f"handler {name}: no module")
            if not any((Path(p) / f"{module}.py").is_file() for p in self.config.handler_search_path):
                raise EngineError(f"handler {name}: {module}.py not found on handler_search_path")
            cls = find_handler_class(importlib.import_module(module.replace("/", ".")))
            handler = cls()
            handler.handler_root = str(Path(inspect.getfile(cls)).parent)
            handler.engine = weakref.ref(self)
            handler.on_before_register()
            info = handler.get_handler_info()
            if info.config_model is None:
                raise EngineError(f"handler {name}: get_handler_info() gave no config_model")
            cfg = info.config_model.model_validate(entry)  # pydantic errors name the field
            cfg.concurrent_limit = self.config.concurrent_limit
            handler.load(self.config, cfg)
            self.handlers.append(LoadedHandler(name, handler, cfg, info.load_priority))
        self.handlers.sort(key=lambda h: h.priority)

    def session(self, session_id: str = "session-0") -> "Session":
        return Session(self, session_id)

    def shutdown(self) -> None:
        for h in self.handlers:
            h.handler.destroy()


@dataclass
class Received:
    time: float
    data: ChatData


@dataclass
class _Slot:
    loaded: LoadedHandler
    context: Any
    detail: Any
    inbox: queue.Queue = field(default_factory=queue.Queue)
    thread: threading.Thread | None = None


class Session:
    """One conversation: a context per handler, a pump thread per handler, a recording client."""

    def __init__(self, engine: StandInEngine, session_id: str) -> None:
        self.engine = engine
        self.context = SessionContext(session_id)
        self.client: list[Received] = []
        self.client_lock = threading.Lock()
        self.errors: list[BaseException] = []
        self.slots: list[_Slot] = []
        for loaded in engine.handlers:
            ctx = loaded.handler.create_context(self.context, loaded.config)
            detail = loaded.handler.get_handler_detail(self.context, ctx)
            slot = _Slot(loaded, ctx, detail)
            ctx.owner = loaded.name
            ctx.data_submitter = lambda data, finish=None, s=slot: self._submit(s, data)
            self.slots.append(slot)
        for slot in self.slots:
            slot.loaded.handler.start_context(self.context, slot.context)
            slot.thread = threading.Thread(target=self._pump, args=(slot,), name=f"pump-{slot.loaded.name}", daemon=True)
            slot.thread.start()

    # ------------------------------------------------------------------ data flow
    def inject(self, type: ChatDataType, bundle: DataBundle, source: str = "llm", **flags: Any) -> None:
        """Data from a handler outside this engine (the LLM in tests)."""
        self._route(None, ChatData(source=source, type=type, data=bundle, timestamp=self._stamp(), **flags))

    def _submit(self, slot: _Slot, data: Any) -> None:
        outputs = slot.detail.outputs
        if isinstance(data, DataBundle):
            if len(outputs) != 1:
                raise EngineError(f"{slot.loaded.name} declares {len(outputs)} outputs: submit ChatData, not a bare DataBundle")
            data = ChatData(type=next(iter(outputs)), data=data)
        if not isinstance(data, ChatData):
            raise EngineError(f"{slot.loaded.name} submitted {type(data).__name__}")
        if data.type not in outputs:
            raise EngineError(f"{slot.loaded.name} submitted {data.type} which it did not declare as an output")
        definition = outputs[data.type].definition
        if definition is not None and data.data is not None and data.data.definition is not definition:
            if set(data.data.definition.entries) != set(definition.entries):
                raise EngineError(f"{slot.loaded.name} submitted a {data.type} bundle whose entries differ from its declaration")
        data.source = slot.loaded.name
        if not data.is_timestamp_valid:
            data.timestamp = self._stamp()
        self._route(slot, data)

    def _route(self, producer: _Slot | None, data: ChatData) -> None:
        consumers = []
        for slot in self.slots:
            if slot is producer:
                continue
            info = slot.detail.inputs.get(data.type)
            if info is not None:
                consumers.append((getattr(info, "input_priority", 0), slot, info))
        consumers.sort(key=lambda c: c[0])
        if data.type in CLIENT_INPUTS:
            with self.client_lock:
                self.client.append(Received(time.monotonic(), data))
        for _, slot, info in consumers:
            slot.inbox.put(data)
            if getattr(info, "input_consume_mode", ChatDataConsumeMode.DEFAULT) == ChatDataConsumeMode.ONCE:
                break

    def _pump(self, slot: _Slot) -> None:
        defs = {t: info.definition for t, info in slot.detail.outputs.items()}
        while True:
            data = slot.inbox.get()
            if data is None:
                return
            try:
                result = slot.loaded.handler.handle(slot.context, data, defs)
                if inspect.isgenerator(result):
                    for item in result:
                        self._submit(slot, item)
                elif result is not None:
                    self._submit(slot, result)
            except BaseException as err:  # recorded for the tests, like the host's error log
                self.errors.append(err)

    def signal(self, signal: Any) -> None:
        for slot in self.slots:
            hook = getattr(slot.loaded.handler, "on_signal", None)
            if hook is not None:
                hook(slot.context, signal)

    @staticmethod
    def _stamp() -> tuple[int, int]:
        return int(time.monotonic() * 1000), 1000

    # ------------------------------------------------------------------ end
    def close(self) -> float:
        """Join the pumps, then destroy every context; returns the seconds destroy took."""
        for slot in self.slots:
            slot.inbox.put(None)
        for slot in self.slots:
            slot.thread.join(5)
        start = time.monotonic()
        for slot in self.slots:
            slot.loaded.handler.destroy_context(slot.context)
        return time.monotonic() - start

    def received(self, type: ChatDataType) -> list[Received]:
        with self.client_lock:
            return [r for r in self.client if r.data.type == type]
