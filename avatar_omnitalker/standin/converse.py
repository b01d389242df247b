"""`omnitalker converse`: the handler inside the stand-in host, fed scripted LLM deltas, recorded.

What the browser would have received (idle frames, every turn, idle again) is written as one
MP4, so an avatar can be checked before it is deployed into OpenAvatarChat.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from loguru import logger

from avatar_omnitalker.standin.engine import StandInEngine

from chat_engine.data_models.chat_data_type import ChatDataType  # noqa: E402  (on sys.path via the engine)
from chat_engine.data_models.runtime_data.data_bundle import DataBundle, DataBundleDefinition, DataBundleEntry  # noqa: E402


def default_handlers_dir() -> Path:
    """handlers/ of the source checkout this package runs from."""
    return Path(__file__).resolve().parents[2] / "handlers"


def text_bundle(text: str, speech_id: str, end: bool) -> DataBundle:
    definition = DataBundleDefinition()
    definition.add_entry(DataBundleEntry.create_text_entry("avatar_text"))
    definition.set_main_entry("avatar_text")
    bundle = DataBundle(definition)
    bundle.set_main_data(text)
    bundle.add_meta("speech_id", speech_id)
    bundle.add_meta("avatar_text_end", end)
    return bundle


@dataclass
class Conversation:
    audio: np.ndarray  # (frames * 960,)
    frames_bgr: list[np.ndarray]
    first_frame_latency: list[float]  # per turn: end of the first sentence's text -> first speaking frame


def converse(turns: list[str], handler_config: dict, handlers_dir: Path | None = None, idle_s: float = 1.0,
             delta_chars: int = 4, delta_interval_s: float = 0.03, timeout_s: float = 120.0) -> Conversation:
    handlers_dir = handlers_dir or default_handlers_dir()
    if not (handlers_dir / "omnitalker_avatar" / "omnitalker_handler.py").is_file():
        raise FileNotFoundError(f"the OmniTalker handler is not in {handlers_dir}; pass --handlers DIR (the repo's handlers/)")
    cfg = {"module": "omnitalker_avatar/omnitalker_handler", **handler_config}
    if cfg.get("output_mode", "video") != "video":
        raise ValueError("converse records video: use output_mode 'video'")
    engine = StandInEngine({"default": {"chat_engine": {"concurrent_limit": 1, "handler_search_path": [str(handlers_dir)],
                                                        "handler_configs": {"OmniTalker": cfg}}}})
    engine.load()
    session = engine.session("converse")
    latencies: list[float] = []
    try:
        time.sleep(idle_s)
        for n, text in enumerate(turns):
            speech_id = f"turn-{n}"
            first_sentence_end = None
            for i in range(0, len(text), delta_chars):
                piece = text[i:i + delta_chars]
                session.inject(ChatDataType.AVATAR_TEXT, text_bundle(piece, speech_id, False))
                if first_sentence_end is None and any(c in ".!?。！？" for c in piece):
                    first_sentence_end = time.monotonic()
                time.sleep(delta_interval_s)
            session.inject(ChatDataType.AVATAR_TEXT, text_bundle("", speech_id, True))
            first_sentence_end = first_sentence_end or time.monotonic()
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                audio = session.received(ChatDataType.AVATAR_AUDIO)
                if any(r.data.data.get_meta("avatar_speech_end") and r.data.data.get_meta("speech_id") == speech_id for r in audio):
                    break
                time.sleep(0.02)
            else:
                raise TimeoutError(f"turn {n} did not finish within {timeout_s} s")
            first = next(r.time for r in session.received(ChatDataType.AVATAR_AUDIO) if r.data.data.get_meta("speech_id") == speech_id)
            latencies.append(first - first_sentence_end)
            time.sleep(idle_s)
    finally:
        session.close()
        engine.shutdown()
    if session.errors:
        logger.error("the handler raised {} error(s): {}", len(session.errors), session.errors[0])
    audio = [r.data.data.get_main_data()[0] for r in session.received(ChatDataType.AVATAR_AUDIO)]
    video = [r.data.data.get_main_data()[0] for r in session.received(ChatDataType.AVATAR_VIDEO)]
    n = min(len(audio), len(video))
    return Conversation(np.concatenate(audio[:n]).astype(np.float32), video[:n], latencies)
