"""The OpenAvatarChat handler inside the stand-in host: contract, sync, pacing, turns, interruption."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from avatar_omnitalker.standin.converse import text_bundle
from avatar_omnitalker.standin.engine import EngineError, StandInEngine  # puts the stand-in chat_engine on sys.path

from chat_engine.data_models.chat_data_type import ChatDataType  # noqa: E402
from chat_engine.data_models.chat_signal import ChatSignal, ChatSignalType, ChatStreamType  # noqa: E402
from chat_engine.data_models.runtime_data.data_bundle import DataBundle  # noqa: E402

HANDLERS = str(Path(__file__).resolve().parents[2] / "handlers")
FPS = 25


def make_engine(concurrent_limit: int = 1, **overrides) -> StandInEngine:
    cfg = dict(module="omnitalker_avatar/omnitalker_handler", nfe=2, frame_size=96, device="cpu", unknown_key="ignored")
    cfg.update(overrides)
    engine = StandInEngine({"default": {"chat_engine": {
        "model_root": "models", "concurrent_limit": concurrent_limit, "handler_search_path": [HANDLERS],
        "handler_configs": {"OmniTalker": cfg}}}})
    engine.load()
    return engine


@pytest.fixture(scope="module")
def engine():
    e = make_engine(concurrent_limit=2)
    handler = e.handlers[0].handler
    spoken: list[str] = []
    original = handler.pipeline.synthesize

    def recording(texts, seeds=None):
        spoken.extend(texts)
        return original(texts, seeds)

    handler.pipeline.synthesize = recording
    e.spoken = spoken
    yield e
    e.shutdown()


def say(session, text: str, speech_id: str, step: int = 4, v06: bool = False) -> None:
    """Stream `text` as LLM deltas, then the end marker (v0.5 meta, or v0.6 is_last_data)."""
    for i in range(0, len(text), step):
        session.inject(ChatDataType.AVATAR_TEXT, text_bundle(text[i:i + step], speech_id, False))
    if v06:
        session.inject(ChatDataType.AVATAR_TEXT, text_bundle("", speech_id, False), is_last_data=True)
    else:
        session.inject(ChatDataType.AVATAR_TEXT, text_bundle("", speech_id, True))


def audio_frames(session):
    return [r.data for r in session.received(ChatDataType.AVATAR_AUDIO)]


def wait_for(predicate, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def speech_ends(session) -> list:
    return [d for d in audio_frames(session) if d.data.get_meta("avatar_speech_end")]


def test_contract_shapes_and_order(engine):
    session = engine.session("contract")
    try:
        time.sleep(0.5)
        say(session, "Hello there! Nice to meet you.", "turn-1")
        wait_for(lambda: len(speech_ends(session)) == 1)
        time.sleep(0.2)
    finally:
        session.close()
    kinds = [r.data.type for r in session.client if r.data.type != ChatDataType.AVATAR_TEXT]
    assert kinds[0] == ChatDataType.AVATAR_AUDIO
    assert all(a == ChatDataType.AVATAR_AUDIO and b == ChatDataType.AVATAR_VIDEO for a, b in zip(kinds[::2], kinds[1::2]))
    for r in session.received(ChatDataType.AVATAR_AUDIO):
        assert r.data.data.get_main_data().shape == (1, 960)
    shapes = {r.data.data.get_main_data().shape for r in session.received(ChatDataType.AVATAR_VIDEO)}
    assert shapes == {(1, 96, 96, 3)}
    assert {r.data.data.get_main_data().dtype for r in session.received(ChatDataType.AVATAR_VIDEO)} == {np.dtype(np.uint8)}
    speaking = [d for d in audio_frames(session) if d.data.get_meta("speech_id") == "turn-1"]
    assert speaking and np.abs(speaking[len(speaking) // 2].data.get_main_data()).max() > 0
    assert not session.errors


def test_every_character_spoken_once_in_order_across_turns(engine):
    engine.spoken.clear()
    session = engine.session("conservation")
    turns = ["Good morning! The weather is fine today, isn't it?", "你好，我们今天去公园吧。好的！", "Mixed 中文 and English, 一起说。"]
    try:
        for i, text in enumerate(turns):
            say(session, text, f"t{i}", step=3, v06=(i == 1))
        wait_for(lambda: len(speech_ends(session)) == len(turns), timeout=40)
    finally:
        session.close()
    assert "".join(engine.spoken) == "".join(turns)
    ids = [d.data.get_meta("speech_id") for d in speech_ends(session)]
    assert ids == ["t0", "t1", "t2"]


def test_pacing_idle_and_turn_end_signals():
    engine = make_engine()
    session = engine.session("pacing")
    session.context.shared_states.enable_vad = False  # the host turned VAD off while the avatar talks
    vad_on_at: list[float] = []
    try:
        start = time.monotonic()
        time.sleep(1.0)
        say(session, "One short sentence.", "turn-a")
        while time.monotonic() - start < 10.0:
            if session.context.shared_states.enable_vad and not vad_on_at:
                vad_on_at.append(time.monotonic())
            time.sleep(0.005)
    finally:
        session.close()
        engine.shutdown()
    audio = session.received(ChatDataType.AVATAR_AUDIO)
    video = session.received(ChatDataType.AVATAR_VIDEO)
    assert abs(len(audio) - len(video)) <= 1
    window = [r for r in video if start + 1.0 <= r.time <= start + 9.0]
    rate = len(window) / 8.0
    assert abs(rate - FPS) <= 0.05 * FPS, f"{rate:.2f} frames/s"
    ids = [r.data.data.get_meta("speech_id") for r in audio]
    first, last = ids.index("turn-a"), len(ids) - 1 - ids[::-1].index("turn-a")
    assert first > 10 and last < len(ids) - 10, "idle frames before and after the turn"
    assert all(np.abs(r.data.data.get_main_data()).max() == 0 for r in audio[:first] + audio[last + 1:]), "silence when idle"
    ends = [i for i, r in enumerate(audio) if r.data.data.get_meta("avatar_speech_end")]
    assert ends == [last], "avatar_speech_end on exactly the last speaking frame"
    assert vad_on_at and vad_on_at[0] >= audio[last].time - 0.01, "enable_vad only after the last speaking frame"


def test_two_sessions_keep_real_time(engine):
    a, b = engine.session("a"), engine.session("b")
    try:
        start = time.monotonic()
        say(a, "Session A is speaking now. It has two sentences.", "a1")
        say(b, "Session B speaks at the same time, in parallel.", "b1")
        time.sleep(6.0)
    finally:
        a.close()
        b.close()
    for s in (a, b):
        video = [r for r in s.received(ChatDataType.AVATAR_VIDEO) if start + 1.0 <= r.time <= start + 5.5]
        assert abs(len(video) / 4.5 - FPS) <= 0.05 * FPS
        assert speech_ends(s), "both sessions finished speaking"
    assert max(engine.handlers[0].handler.scheduler.batches) >= 1


def test_interruption_drops_speech_within_a_frame(engine):
    session = engine.session("interrupt")
    try:
        say(session, "This is a long answer that will be interrupted. " * 4, "long")
        wait_for(lambda: any(d.data.get_meta("speech_id") == "long" for d in audio_frames(session)))
        time.sleep(0.3)
        session.signal(ChatSignal(type=ChatSignalType.STREAM_CANCEL, stream_type=ChatStreamType.CLIENT_PLAYBACK))
        cut = time.monotonic()
        time.sleep(0.6)
    finally:
        session.close()
    after = [r for r in session.received(ChatDataType.AVATAR_AUDIO) if r.time > cut]
    late = [r for r in after if r.data.data.get_meta("speech_id") == "long"]
    assert len(late) <= 1, f"{len(late)} speaking frames after the interruption"
    assert after and all(np.abs(r.data.data.get_main_data()).max() == 0 for r in after[1:])


def test_destroy_mid_utterance_is_fast_and_clean(engine):
    session = engine.session("destroy")
    say(session, "I will be stopped in the middle of this rather long sentence, right now.", "d")
    wait_for(lambda: any(d.data.get_meta("speech_id") == "d" for d in audio_frames(session)))
    seconds = session.close()
    assert seconds < 2.0 and not session.errors
    n = len(session.client)
    time.sleep(0.2)
    assert len(session.client) == n, "no frames after destroy_context"


def test_motion_mode_bundles():
    engine = make_engine(output_mode="motion")
    session = engine.session("motion")
    try:
        say(session, "Motion for a client renderer.", "m")
        wait_for(lambda: any(r.data.data.get_meta("end_of_stream") for r in session.received(ChatDataType.AVATAR_MOTION_DATA)))
    finally:
        session.close()
        engine.shutdown()
    bundles = [r.data.data for r in session.received(ChatDataType.AVATAR_MOTION_DATA)]
    assert not session.received(ChatDataType.AVATAR_VIDEO) and not session.received(ChatDataType.AVATAR_AUDIO)
    for b in bundles:
        arkit, audio = b.get_main_data(), b.get_data("avatar_audio")
        assert arkit.shape == (6, 52) and arkit.dtype == np.float32 and audio.shape == (1, 4800)
        assert arkit.min() >= 0 and arkit.max() <= 1 and (arkit[:, -1] == 0).all()
    starts = [b for b in bundles if b.get_meta("start_of_stream")]
    ends = [b for b in bundles if b.get_meta("end_of_stream")]
    assert len(starts) == 1 and len(ends) == 1 and ends[0].get_meta("avatar_speech_end")


@pytest.mark.parametrize("field, value", [("fps", 33), ("nfe", 0), ("output_mode", "hologram"), ("frame_size", 8), ("device", "tpu")])
def test_bad_config_names_the_field(field, value):
    with pytest.raises(Exception) as err:
        make_engine(**{field: value})
    assert field in str(err.value)


def test_concurrent_limit_comes_from_the_engine(engine):
    assert engine.handlers[0].config.concurrent_limit == 2


def test_module_holds_exactly_one_concrete_handler():
    import inspect

    import omnitalker_avatar.omnitalker_handler as module
    from chat_engine.common.handler_base import HandlerBase

    concrete = [m for _, m in inspect.getmembers(module) if inspect.isclass(m) and issubclass(m, HandlerBase) and not inspect.isabstract(m)]
    assert [c.__name__ for c in concrete] == ["HandlerOmniTalker"]


def test_stand_in_rejects_what_the_host_rejects(engine):
    session = engine.session("strict")
    try:
        handler_ctx = session.slots[0].context
        bundle = DataBundle(handler_ctx.definitions[ChatDataType.AVATAR_AUDIO])
        with pytest.raises(ValueError, match="empty time axis"):
            bundle.set_main_data(np.zeros((1, 0), np.float32))
        with pytest.raises(ValueError, match="rank"):
            bundle.set_main_data(np.zeros(960, np.float32))
        bundle.set_main_data(np.zeros((1, 960), np.float32))
        with pytest.raises(EngineError, match="bare DataBundle"):
            handler_ctx.submit_data(bundle)
    finally:
        session.close()


def test_converse_records_what_a_client_receives(tmp_path):
    from avatar_omnitalker.cli import main
    from avatar_omnitalker.render.video import read_mp4

    out = tmp_path / "session.mp4"
    assert main(["converse", "--text", "Hi there! Nice to see you.", "--text", "Bye.", "--out", str(out), "--size", "96", "--nfe", "2"]) == 0
    frames, audio, fps = read_mp4(out)
    assert fps == FPS and frames > 3 * FPS  # idle before, two turns, idle after
    assert abs(audio.size - frames * 960) < 1024
    assert np.abs(audio).max() > 0.01  # the turns were spoken
