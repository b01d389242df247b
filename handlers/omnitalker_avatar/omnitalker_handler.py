"""OpenAvatarChat handler: the LLM's streamed reply in, the avatar's synced audio + video out.

A thin adapter. The library's AvatarSession owns the frame clock and the BatchScheduler owns the
model (loaded once per process, shared by all sessions); this module only translates between the
host's ChatData/DataBundle world and them. Works on the host's v0.5 and v0.6 APIs: every host
object is built with keyword arguments and v0.6-only hooks are optional.
"""

from __future__ import annotations

from typing import Literal, Optional

import numpy as np
from loguru import logger
from pydantic import Field, field_validator

from chat_engine.common.handler_base import HandlerBase, HandlerBaseInfo, HandlerDataInfo, HandlerDetail
from chat_engine.contexts.handler_context import HandlerContext
from chat_engine.contexts.session_context import SessionContext
from chat_engine.data_models.chat_data.chat_data_model import ChatData
from chat_engine.data_models.chat_data_type import ChatDataType
from chat_engine.data_models.chat_engine_config_data import ChatEngineConfigModel, HandlerBaseConfigModel
from chat_engine.data_models.runtime_data.data_bundle import DataBundle, DataBundleDefinition, DataBundleEntry, VariableSize

from avatar_omnitalker import spec
from avatar_omnitalker.infer.pipeline import Pipeline
from avatar_omnitalker.infer.settings import DEFAULT_NFE, GenerationSettings
from avatar_omnitalker.realtime.scheduler import BatchScheduler
from avatar_omnitalker.realtime.session import VALID_FPS, AvatarSession, SessionSettings


class OmniTalkerConfig(HandlerBaseConfigModel):
    checkpoint: Optional[str] = Field(default=None, description="model folder; default: the built-in model")
    reference: Optional[str] = Field(default=None, description="reference .npz; default: the built-in avatar")
    vocoder: Optional[str] = Field(default=None, description="Vocos folder; default: the built-in vocoder")
    device: str = Field(default="cpu")
    fps: int = Field(default=25)
    nfe: int = Field(default=DEFAULT_NFE, ge=1, le=64)
    cfg: float = Field(default=2.0, ge=0.0, le=10.0)
    seed: int = Field(default=0)
    renderer: str = Field(default="parametric", description="'parametric' or a path to an .onnx renderer")
    frame_size: int = Field(default=512, ge=64, le=2048)
    output_mode: Literal["video", "motion"] = Field(default="video")
    first_chunk_chars: int = Field(default=10, ge=1, le=200)
    idle_motion: bool = Field(default=True, description="reference-style idle motion between turns, else a still face")
    max_batch: int = Field(default=8, ge=1, le=64)

    @field_validator("fps")
    @classmethod
    def _fps(cls, value: int) -> int:
        if value not in VALID_FPS:
            raise ValueError(f"fps must be one of {VALID_FPS}: at most 30 and dividing 24000 exactly")
        return value

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        if not (value == "cpu" or value.startswith("cuda")):
            raise ValueError(f"device must be 'cpu' or 'cuda[:N]', got {value!r}")
        return value


class OmniTalkerContext(HandlerContext):
    def __init__(self, session_id: str) -> None:
        super().__init__(session_id)
        self.session: Optional[AvatarSession] = None
        self.session_context: Optional[SessionContext] = None
        self.definitions: dict = {}


class _Sink:
    """AvatarSession output -> host ChatData, audio strictly before the frame's video."""

    def __init__(self, context: OmniTalkerContext) -> None:
        self.context = context

    def _bundle(self, kind: ChatDataType, data: np.ndarray, speech_id: Optional[str]) -> DataBundle:
        bundle = DataBundle(self.context.definitions[kind])
        bundle.set_main_data(data)
        if speech_id is not None:
            bundle.add_meta("speech_id", speech_id)
        return bundle

    def video_frame(self, audio, image_bgr, speech_id, speech_end) -> None:
        audio_bundle = self._bundle(ChatDataType.AVATAR_AUDIO, audio[None].astype(np.float32), speech_id)
        audio_bundle.add_meta("avatar_speech_end", bool(speech_end))
        self.context.submit_data(ChatData(type=ChatDataType.AVATAR_AUDIO, data=audio_bundle))
        video_bundle = self._bundle(ChatDataType.AVATAR_VIDEO, image_bgr[None], speech_id)
        self.context.submit_data(ChatData(type=ChatDataType.AVATAR_VIDEO, data=video_bundle))

    def motion_bundle(self, arkit, audio, speech_id, start, end) -> None:
        bundle = self._bundle(ChatDataType.AVATAR_MOTION_DATA, arkit.astype(np.float32), speech_id)
        bundle.set_data("avatar_audio", audio[None].astype(np.float32))
        bundle.add_meta("avatar_speech_end", bool(end))
        bundle.add_meta("start_of_stream", bool(start))
        bundle.add_meta("end_of_stream", bool(end))
        self.context.submit_data(ChatData(type=ChatDataType.AVATAR_MOTION_DATA, data=bundle))

    def speech_ended(self, speech_id) -> None:
        if self.context.session_context is not None:
            self.context.session_context.shared_states.enable_vad = True  # v0.5: listen to the user again


class HandlerOmniTalker(HandlerBase):
    def __init__(self) -> None:
        super().__init__()
        self.config: Optional[OmniTalkerConfig] = None
        self.pipeline: Optional[Pipeline] = None
        self.scheduler: Optional[BatchScheduler] = None

    def get_handler_info(self) -> HandlerBaseInfo:
        return HandlerBaseInfo(config_model=OmniTalkerConfig, load_priority=-999)

    def load(self, engine_config: ChatEngineConfigModel, handler_config: Optional[OmniTalkerConfig] = None) -> None:
        config = handler_config if isinstance(handler_config, OmniTalkerConfig) else OmniTalkerConfig()
        self.config = config
        renderer = config.renderer if config.output_mode == "video" else None
        self.pipeline = Pipeline.load(
            config.checkpoint, config.reference, config.vocoder, renderer, config.frame_size, config.device,
            GenerationSettings(nfe=config.nfe, cfg=config.cfg, seed=config.seed),
        )
        self.scheduler = BatchScheduler(self.pipeline, max_batch=max(config.max_batch, 1))
        logger.info("OmniTalker loaded once for up to {} sessions", config.concurrent_limit)

    def create_context(self, session_context: SessionContext, handler_config=None) -> OmniTalkerContext:
        context = OmniTalkerContext(session_context.session_id)
        context.session_context = session_context
        c = self.config
        context.definitions = self._definitions()
        settings = SessionSettings(mode=c.output_mode, fps=c.fps, seed=c.seed, first_chunk_chars=c.first_chunk_chars,
                                   idle_motion=c.idle_motion)
        context.session = AvatarSession(self.scheduler, self.pipeline.reference.motion, self.pipeline.renderer, _Sink(context), settings)
        return context

    def _definitions(self) -> dict:
        c = self.config
        audio = DataBundleDefinition()
        audio.add_entry(DataBundleEntry.create_audio_entry("avatar_audio", 1, spec.SAMPLE_RATE))
        audio.set_main_entry("avatar_audio")
        if c.output_mode == "motion":
            motion = DataBundleDefinition()
            motion.add_entry(DataBundleEntry.create_framed_entry("arkit_face", [1, len(spec.ARKIT52_NAMES)], 0, spec.ARKIT_FPS))
            motion.add_entry(DataBundleEntry.create_audio_entry("avatar_audio", 1, spec.SAMPLE_RATE))
            motion.set_main_entry("arkit_face")
            return {ChatDataType.AVATAR_MOTION_DATA: motion}
        video = DataBundleDefinition()
        video.add_entry(DataBundleEntry.create_framed_entry("avatar_video", [VariableSize(), VariableSize(), VariableSize(), 3], 0, c.fps))
        video.set_main_entry("avatar_video")
        return {ChatDataType.AVATAR_AUDIO: audio, ChatDataType.AVATAR_VIDEO: video}

    def get_handler_detail(self, session_context: SessionContext, context: OmniTalkerContext) -> HandlerDetail:
        inputs = {ChatDataType.AVATAR_TEXT: HandlerDataInfo(type=ChatDataType.AVATAR_TEXT)}  # DEFAULT: the client shows bubbles
        outputs = {t: HandlerDataInfo(type=t, definition=d) for t, d in context.definitions.items()}
        return HandlerDetail(inputs=inputs, outputs=outputs)

    def start_context(self, session_context: SessionContext, handler_context: OmniTalkerContext) -> None:
        handler_context.session.start()  # idle frames with silence from the first instant

    def handle(self, context: OmniTalkerContext, inputs: ChatData, output_definitions) -> None:
        if inputs.type != ChatDataType.AVATAR_TEXT or inputs.data is None:
            return
        bundle = inputs.data
        text = bundle.get_main_data() or ""
        end = bool(bundle.get_meta("avatar_text_end", False)) or bool(getattr(inputs, "is_last_data", False))
        speech_id = bundle.get_meta("speech_id", None) or getattr(inputs, "stream_id", None)
        context.session.on_text(str(text), None if speech_id is None else str(speech_id), end)

    def on_signal(self, context: OmniTalkerContext, signal) -> None:
        """v0.6: a cancelled client playback stream interrupts the avatar."""
        kind = str(getattr(getattr(signal, "type", None), "value", getattr(signal, "type", ""))).lower()
        if "cancel" in kind or "interrupt" in kind:
            context.session.interrupt()
            if context.session_context is not None:
                context.session_context.shared_states.enable_vad = True

    def destroy_context(self, context: OmniTalkerContext) -> None:
        if context.session is not None:
            context.session.stop(timeout=2.0)

    def destroy(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
