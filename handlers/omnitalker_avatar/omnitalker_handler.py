"""OpenAvatarChat handler: the LLM's streamed reply in, the avatar's synced audio + video out.

A thin adapter. The library's AvatarSession owns the frame clock and the BatchScheduler owns the
model (loaded once per process, shared by all sessions); this module only translates between the
host's ChatData/DataBundle world and them.

Written against OpenAvatarChat's engine core at main b4e8d15 (the 0.5.1 line: `src/chat_engine/
common/handler_base.py`, `contexts/session_context.py`, `core/chat_session.py`) and, by feature
detection, the v0.6 line (signals, streams): every host object is built with keyword arguments,
and a v0.6-only name is used only when the host has it.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Literal

import numpy as np
from chat_engine.common.handler_base import HandlerBase, HandlerBaseInfo, HandlerDataInfo, HandlerDetail
from chat_engine.contexts.handler_context import HandlerContext
from chat_engine.contexts.session_context import SessionContext
from chat_engine.data_models.chat_data.chat_data_model import ChatData
from chat_engine.data_models.chat_data_type import ChatDataType
from chat_engine.data_models.chat_engine_config_data import ChatEngineConfigModel, HandlerBaseConfigModel
from chat_engine.data_models.runtime_data.data_bundle import (
    DataBundle,
    DataBundleDefinition,
    DataBundleEntry,
    VariableSize,
)
from loguru import logger
from pydantic import Field, create_model, field_validator, model_validator

from avatar_omnitalker import spec
from avatar_omnitalker.infer.config import PipelineConfig
from avatar_omnitalker.infer.pipeline import Pipeline
from avatar_omnitalker.realtime.scheduler import BatchScheduler
from avatar_omnitalker.realtime.session import VALID_FPS, AvatarSession, SessionSettings
from avatar_omnitalker.render.base import Renderer

try:  # v0.6 line: interruption arrives as a STREAM_CANCEL signal on the client's playback stream
    from chat_engine.data_models.chat_signal import SignalFilterRule
    from chat_engine.data_models.chat_signal_type import ChatSignalType
    from chat_engine.data_models.chat_stream_config import ChatStreamConfig

    _STREAM_CANCEL = ChatSignalType.STREAM_CANCEL
    _CLIENT_PLAYBACK = ChatDataType.CLIENT_PLAYBACK
except (ImportError, AttributeError):  # 0.5.1: no streams, and no signal ever reaches a handler
    SignalFilterRule = ChatStreamConfig = None
    _STREAM_CANCEL = _CLIENT_PLAYBACK = None


def _streaming_options() -> list[dataclasses.Field]:
    """The PipelineConfig options that mean something to a streaming session."""
    return [f for f in dataclasses.fields(PipelineConfig) if not f.metadata.get("offline_only")]


def _pipeline_fields() -> dict:
    """The PipelineConfig options as pydantic fields: one declaration of names, defaults and help."""
    types = typing.get_type_hints(PipelineConfig)
    return {
        f.name: (types[f.name], Field(default=f.default, description=f.metadata["help"])) for f in _streaming_options()
    }


class OmniTalkerConfig(create_model("_PipelineOptions", __base__=HandlerBaseConfigModel, **_pipeline_fields())):
    fps: int = Field(default=25, description=f"frames per second, one of {VALID_FPS}")
    output_mode: Literal["video", "motion"] = Field(default="video")
    first_chunk_chars: int = Field(default=10, ge=1, le=200)
    idle_motion: bool = Field(default=True, description="reference-style idle motion between turns, else a still face")
    max_batch: int = Field(default=8, ge=1, le=64)
    latency_budget_s: float = Field(
        default=0.0, ge=0.0, description="cap a batch's predicted solve time (seconds); 0: only max_batch caps it"
    )

    @field_validator("fps")
    @classmethod
    def _fps(cls, value: int) -> int:
        if value not in VALID_FPS:
            raise ValueError(f"fps must be one of {VALID_FPS}: at most 30 and dividing 24000 exactly")
        return value

    @model_validator(mode="after")
    def _pipeline_options(self) -> OmniTalkerConfig:
        self.pipeline_config()  # the ranges and messages of PipelineConfig, exactly as the CLI has them
        return self

    def pipeline_config(self) -> PipelineConfig:
        return PipelineConfig(**{f.name: getattr(self, f.name) for f in _streaming_options()})


class OmniTalkerContext(HandlerContext):
    def __init__(self, session_id: str) -> None:
        super().__init__(session_id)
        self.session: AvatarSession | None = None
        self.session_context: SessionContext | None = None
        self.definitions: dict = {}
        self.playback = None  # v0.6: the CLIENT_PLAYBACK lifecycle streamer, open while a reply plays
        self.playing: str | None = None  # speech_id whose playback stream is open


def _set_vad(session_context: SessionContext | None) -> None:
    """0.5.1: the host stops listening while the avatar talks; turn listening back on. v0.6 has
    no such flag (its turn logic listens to playback streams), so nothing is set there."""
    states = getattr(session_context, "shared_states", None)
    if states is not None and hasattr(states, "enable_vad"):
        states.enable_vad = True


class _Sink:
    """AvatarSession output -> host ChatData, audio strictly before the frame's video."""

    def __init__(self, context: OmniTalkerContext) -> None:
        self.context = context

    def _bundle(self, kind: ChatDataType, data: np.ndarray, speech_id: str | None) -> DataBundle:
        bundle = DataBundle(self.context.definitions[kind])
        bundle.set_main_data(data)
        if speech_id is not None:
            bundle.add_meta("speech_id", speech_id)
        return bundle

    def _playing(self, speech_id: str | None) -> None:
        """v0.6: one CLIENT_PLAYBACK lifecycle stream per reply, opened at its first speaking frame."""
        ctx = self.context
        if ctx.playback is None or speech_id is None or ctx.playing == speech_id:
            return
        ctx.playback.open_stream(sources=[], name=f"omnitalker:{speech_id}")
        ctx.playing = speech_id

    def video_frame(self, audio, image_bgr, speech_id, speech_end) -> None:
        self._playing(speech_id)
        audio_bundle = self._bundle(ChatDataType.AVATAR_AUDIO, audio[None].astype(np.float32), speech_id)
        audio_bundle.add_meta("avatar_speech_end", bool(speech_end))
        self.context.submit_data(ChatData(type=ChatDataType.AVATAR_AUDIO, data=audio_bundle))
        video_bundle = self._bundle(ChatDataType.AVATAR_VIDEO, image_bgr[None], speech_id)
        self.context.submit_data(ChatData(type=ChatDataType.AVATAR_VIDEO, data=video_bundle))

    def motion_bundle(self, arkit, audio, speech_id, start, end) -> None:
        """As LAM's handler emits it (avatar_handler_lam_audio2expression.py, b4e8d15): meta
        speech_id + avatar_speech_end, and the bundle *attributes* start_of_stream/end_of_stream
        that the host's MotionDataSerializer turns into start_of_batch/end_of_batch."""
        self._playing(speech_id)
        bundle = self._bundle(ChatDataType.AVATAR_MOTION_DATA, arkit.astype(np.float32), speech_id)
        bundle.set_data("avatar_audio", audio[None].astype(np.float32))
        bundle.add_meta("avatar_speech_end", bool(end))
        bundle.start_of_stream = bool(start)
        bundle.end_of_stream = bool(end)
        data = ChatData(type=ChatDataType.AVATAR_MOTION_DATA, data=bundle)
        get_streamer = getattr(self.context.data_submitter, "get_streamer", None)
        if get_streamer is None:
            self.context.submit_data(data)
            return
        # v0.6: the client's serializer takes start/end of a batch from the ChatData stream's first and
        # last data and the batch name from meta stream_key, so each reply is a stream of its own.
        if start:
            get_streamer(ChatDataType.AVATAR_MOTION_DATA).finish_current()  # close the idle stream before it
        bundle.add_meta("stream_key", speech_id if speech_id is not None else "idle")
        self.context.submit_data(data, finish_stream=True if end else None)

    def speech_ended(self, speech_id) -> None:
        ctx = self.context
        _set_vad(ctx.session_context)
        if ctx.playback is not None and ctx.playing is not None:
            ctx.playback.finish_current()
            ctx.playing = None


class HandlerOmniTalker(HandlerBase):
    def __init__(self) -> None:
        super().__init__()
        self.config: OmniTalkerConfig | None = None
        self.pipeline: Pipeline | None = None
        self.renderer: Renderer | None = None
        self.scheduler: BatchScheduler | None = None

    def get_handler_info(self) -> HandlerBaseInfo:
        return HandlerBaseInfo(config_model=OmniTalkerConfig, load_priority=-999)

    def load(self, engine_config: ChatEngineConfigModel, handler_config: OmniTalkerConfig | None = None) -> None:
        config = handler_config if isinstance(handler_config, OmniTalkerConfig) else OmniTalkerConfig()
        self.config = config
        pipeline_config = config.pipeline_config()
        self.pipeline = Pipeline.load(pipeline_config)
        if config.output_mode == "video":
            from avatar_omnitalker.render.factory import make_renderer

            self.renderer = make_renderer(pipeline_config, self.pipeline.reference)
        self.scheduler = BatchScheduler(
            self.pipeline, max_batch=max(config.max_batch, 1), latency_budget_s=config.latency_budget_s or None
        )
        self.scheduler.warm_up()  # one-off first-solve costs are paid here, not by a user's first reply
        logger.info(
            "OmniTalker loaded once on {} for up to {} sessions",
            next(self.pipeline.model.parameters()).device,
            config.concurrent_limit,
        )

    def create_context(self, session_context: SessionContext, handler_config=None) -> OmniTalkerContext:
        context = OmniTalkerContext(session_context.session_info.session_id)
        context.session_context = session_context
        c = self.config
        context.definitions = self._definitions()
        settings = SessionSettings(
            mode=c.output_mode, fps=c.fps, seed=c.seed, first_chunk_chars=c.first_chunk_chars, idle_motion=c.idle_motion
        )
        context.session = AvatarSession(
            self.scheduler, self.pipeline.reference.motion, self.renderer, _Sink(context), settings
        )
        return context

    def _definitions(self) -> dict:
        c = self.config
        if c.output_mode == "motion":
            motion = DataBundleDefinition()
            motion.add_entry(
                DataBundleEntry.create_framed_entry(
                    name="arkit_face",
                    shape=[1, len(spec.ARKIT52_NAMES)],
                    time_axis=0,
                    sample_rate=spec.ARKIT_FPS,
                    channel_axis=1,
                    channel_names=list(spec.ARKIT52_NAMES),
                )
            )
            motion.add_entry(
                DataBundleEntry.create_audio_entry(name="avatar_audio", channel_num=1, sample_rate=spec.SAMPLE_RATE)
            )
            motion.set_main_entry("arkit_face")
            return {ChatDataType.AVATAR_MOTION_DATA: motion}
        audio = DataBundleDefinition()
        audio.add_entry(
            DataBundleEntry.create_audio_entry(name="avatar_audio", channel_num=1, sample_rate=spec.SAMPLE_RATE)
        )
        audio.set_main_entry("avatar_audio")
        video = DataBundleDefinition()
        video.add_entry(
            DataBundleEntry.create_framed_entry(
                name="avatar_video",
                shape=[VariableSize(), VariableSize(), VariableSize(), 3],
                time_axis=0,
                sample_rate=c.fps,
            )
        )
        video.set_main_entry("avatar_video")
        return {ChatDataType.AVATAR_AUDIO: audio, ChatDataType.AVATAR_VIDEO: video}

    def get_handler_detail(self, session_context: SessionContext, context: OmniTalkerContext) -> HandlerDetail:
        inputs = {
            ChatDataType.AVATAR_TEXT: HandlerDataInfo(type=ChatDataType.AVATAR_TEXT)
        }  # DEFAULT: the client shows bubbles
        outputs = {t: HandlerDataInfo(type=t, definition=d) for t, d in context.definitions.items()}
        detail = HandlerDetail(inputs=inputs, outputs=outputs)
        if SignalFilterRule is not None and hasattr(detail, "signal_filters"):
            detail.signal_filters = [SignalFilterRule(_STREAM_CANCEL, None, _CLIENT_PLAYBACK)]
            if ChatStreamConfig is not None:  # the render loop is not one reply: never cancel or link it
                for info in outputs.values():
                    if hasattr(info, "output_stream_config"):
                        info.output_stream_config = ChatStreamConfig(cancelable=False, auto_link_input=False)
        return detail

    def start_context(self, session_context: SessionContext, handler_context: OmniTalkerContext) -> None:
        manager = getattr(handler_context, "stream_manager", None)
        if manager is not None and _CLIENT_PLAYBACK is not None and hasattr(manager, "create_lifecycle_streamer"):
            handler_context.playback = manager.create_lifecycle_streamer(
                data_type=_CLIENT_PLAYBACK,
                producer_name=handler_context.owner or "OmniTalker",
                config=ChatStreamConfig(cancelable=False),
            )
        handler_context.session.start()  # idle frames with silence from the first instant

    def handle(self, context: OmniTalkerContext, inputs: ChatData, output_definitions) -> None:
        if inputs.type != ChatDataType.AVATAR_TEXT or inputs.data is None:
            return
        bundle = inputs.data
        text = bundle.get_main_data() or ""
        end = bool(bundle.get_meta("avatar_text_end", False)) or bool(getattr(inputs, "is_last_data", False))
        speech_id = bundle.get_meta("speech_id", None)
        if speech_id is None:  # v0.6: a reply is one text stream
            stream = getattr(inputs, "stream_id", None)
            speech_id = getattr(stream, "stream_key_str", None) or (None if stream is None else str(stream))
        speech_id = None if speech_id is None else str(speech_id)
        context.session.on_text(str(text), speech_id, end)

    def on_signal(self, context: OmniTalkerContext, signal) -> None:
        """v0.6: the client cancelled playback (the user spoke over the avatar): go idle now."""
        if _STREAM_CANCEL is None or getattr(signal, "type", None) != _STREAM_CANCEL:
            return
        related = getattr(signal, "related_stream", None)
        if related is None or getattr(related, "data_type", None) != _CLIENT_PLAYBACK:
            return
        context.session.interrupt()  # the reply's late text stays unspoken too
        context.playing = None
        if context.playback is not None:
            context.playback.finish_current()

    def destroy_context(self, context: OmniTalkerContext) -> None:
        if context.session is not None:
            context.session.stop(timeout=2.0)

    def destroy(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
