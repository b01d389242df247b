"""The OpenAvatarChat handler run by the engine's own ChatSession (the real one when OAC_SRC is
set, else the fake that mirrors it): contract, sync, turns, VAD hand-back, motion mode, config."""

from __future__ import annotations

import inspect
import time

import numpy as np
import pytest
from chat_engine.data_models.chat_data_type import ChatDataType

from tests.handlers.oac_host import Host, HostSession, engine_line

SMALL = dict(nfe=2, size=96, device="cpu", unknown_key="ignored by the host")


@pytest.fixture(scope="module")
def host():
    h = Host(SMALL, concurrent_limit=2)
    spoken: list[str] = []
    original = h.handler.pipeline.synthesize

    def recording(texts, seeds=None):
        spoken.extend(texts)
        return original(texts, seeds)

    h.handler.pipeline.synthesize = recording
    h.spoken = spoken
    yield h
    h.shutdown()


def sequence(session: HostSession) -> list:
    """What the client got from the avatar, in arrival order (text bubbles left out)."""
    return [r for r in session.client.received if r.data.type != ChatDataType.AVATAR_TEXT]


def turn_frames(session: HostSession, speech_id: str) -> list[int]:
    audio = session.received(ChatDataType.AVATAR_AUDIO)
    return [i for i, r in enumerate(audio) if r.data.data.get_meta("speech_id") == speech_id]


def test_context_uses_the_hosts_session_id(host):
    session = host.session("the-session-id")
    try:
        assert session.avatar_context.session_id == "the-session-id"
    finally:
        session.close()


def test_frames_are_audio_then_video_with_the_contracts_shapes(host):
    session = host.session("contract")
    try:
        session.say("Hello there! Nice to meet you.")
        session.wait_turns(1)
        time.sleep(0.2)
    finally:
        session.close()
    kinds = [r.data.type for r in sequence(session)]
    assert kinds[0] == ChatDataType.AVATAR_AUDIO
    assert kinds[::2] == [ChatDataType.AVATAR_AUDIO] * len(kinds[::2])
    assert kinds[1::2] == [ChatDataType.AVATAR_VIDEO] * len(kinds[1::2])
    audio = [r.data.data.get_main_data() for r in session.received(ChatDataType.AVATAR_AUDIO)]
    video = [r.data.data.get_main_data() for r in session.received(ChatDataType.AVATAR_VIDEO)]
    assert {a.shape for a in audio} == {(1, 960)} and {a.dtype for a in audio} == {np.dtype(np.float32)}
    assert {v.shape for v in video} == {(1, 96, 96, 3)} and {v.dtype for v in video} == {np.dtype(np.uint8)}
    speech_id = session.llm.speech_ids[0]
    frames = turn_frames(session, speech_id)
    assert frames and np.abs(audio[frames[len(frames) // 2]]).max() > 0


def test_every_character_spoken_once_in_order_across_turns(host):
    host.spoken.clear()
    session = host.session("conservation", delta_chars=3, delta_interval_s=0.0)
    turns = [
        "Good morning! The weather is fine today, isn't it?",
        "你好，我们今天去公园吧。好的！",
        "Mixed 中文 and English, 一起说。",
    ]
    try:
        for text in turns:
            session.say(text)
        session.wait_turns(len(turns), timeout=90)
    finally:
        session.close()
    assert "".join(host.spoken) == "".join(turns)
    ends = [r.data.data.get_meta("speech_id") for r in session.speech_ends()]
    assert ends == session.llm.speech_ids


def test_idle_silence_around_a_turn_and_vad_handed_back_after_its_last_frame(host):
    session = host.session("turn")
    try:
        time.sleep(0.6)
        session.say("One short sentence.")
        session.wait_turns(1)
        time.sleep(0.6)
    finally:
        session.close()
    audio = session.received(ChatDataType.AVATAR_AUDIO)
    assert abs(len(audio) - len(session.received(ChatDataType.AVATAR_VIDEO))) <= 1
    frames = turn_frames(session, session.llm.speech_ids[0])
    first, last = frames[0], frames[-1]
    assert frames == list(range(first, last + 1)), "a reply plays without idle frames inside it"
    assert first > 5 and last < len(audio) - 5, "idle frames before and after the reply"
    idle = audio[:first] + audio[last + 1 :]
    assert all(np.abs(r.data.data.get_main_data()).max() == 0 for r in idle), "silence when idle"
    ends = [i for i, r in enumerate(audio) if r.data.data.get_meta("avatar_speech_end")]
    assert ends == [last], "avatar_speech_end on exactly the last speaking frame"
    if session.vad_log:  # 0.5.1: listening is handed back after the last speaking frame, not before
        assert session.vad_log[0][0] is False  # the VAD turned it off when the user stopped talking
        on = [frames_out for value, frames_out in session.vad_log if value]
        assert on == [last + 1]


def test_two_sessions_share_one_model_and_both_finish(host):
    a, b = host.session("a"), host.session("b")
    try:
        a.say("Session A is speaking now. It has two sentences.")
        b.say("Session B speaks at the same time, in parallel.")
        a.wait_turns(1)
        b.wait_turns(1)
    finally:
        a.close()
        b.close()
    for s in (a, b):
        n_audio, n_video = len(s.received(ChatDataType.AVATAR_AUDIO)), len(s.received(ChatDataType.AVATAR_VIDEO))
        assert abs(n_audio - n_video) <= 1


def test_stopping_mid_reply_is_clean(host):
    session = host.session("destroy")
    session.say("I will be stopped in the middle of this rather long sentence, right now.")
    deadline = time.monotonic() + 60
    while (
        not turn_frames(session, session.llm.speech_ids[0] if session.llm.speech_ids else "")
        and time.monotonic() < deadline
    ):
        time.sleep(0.02)
    session.close()
    assert not session.avatar_context.session.running
    n = len(session.client.received)
    time.sleep(0.2)
    assert len(session.client.received) == n, "no frames after destroy_context"


def test_motion_mode_bundles_as_lam_emits_them():
    host = Host(dict(SMALL, output_mode="motion"))
    session = host.session("motion")
    try:
        session.say("Motion for a client renderer.")
        session.wait_turns(1)
    finally:
        session.close()
        host.shutdown()
    bundles = [r.data.data for r in session.received(ChatDataType.AVATAR_MOTION_DATA)]
    assert not session.received(ChatDataType.AVATAR_VIDEO) and not session.received(ChatDataType.AVATAR_AUDIO)
    entry = bundles[0].definition.get_main_entry()
    assert entry.name == "arkit_face" and entry.channel_axis == 1 and len(entry.channel_names) == 52
    assert entry.channel_names[-1] == "tongueOut" and entry.sample_rate == 30
    for b in bundles:
        arkit, audio = b.get_main_data(), b.get_data("avatar_audio")
        assert arkit.shape == (6, 52) and arkit.dtype == np.float32 and audio.shape == (1, 4800)
        assert arkit.min() >= 0 and arkit.max() <= 1 and (arkit[:, -1] == 0).all()
    starts = [i for i, b in enumerate(bundles) if b.start_of_stream]
    ends = [i for i, b in enumerate(bundles) if b.end_of_stream]
    assert len(starts) == 1 and len(ends) == 1 and starts[0] <= ends[0]
    assert bundles[ends[0]].get_meta("avatar_speech_end") and bundles[starts[0]].get_meta("speech_id")


@pytest.mark.parametrize(
    "field, value", [("fps", 33), ("nfe", 0), ("output_mode", "hologram"), ("size", 8), ("device", "tpu")]
)
def test_bad_config_names_the_field(field, value):
    with pytest.raises(Exception) as err:
        Host({**SMALL, field: value})
    assert field in str(err.value)


def test_concurrent_limit_comes_from_the_engine(host):
    assert host.config.concurrent_limit == 2


def test_handler_options_are_the_pipeline_config_with_its_ranges_and_messages():
    from avatar_omnitalker.infer.config import ConfigError, PipelineConfig
    from omnitalker_avatar.omnitalker_handler import OmniTalkerConfig

    assert OmniTalkerConfig().pipeline_config() == PipelineConfig()
    assert OmniTalkerConfig().device == "auto"
    assert OmniTalkerConfig(prompt_s=3.0).pipeline_config().prompt_s == 3.0
    assert "offline_chunk_s" not in OmniTalkerConfig.model_fields  # whole texts only; streaming cuts as text arrives
    for bad in (dict(nfe=65), dict(cfg=float("nan")), dict(speed=0.0), dict(renderer="face.png")):
        with pytest.raises(ConfigError) as direct:
            PipelineConfig(**bad)
        with pytest.raises(Exception) as hosted:
            OmniTalkerConfig.model_validate(bad)
        assert str(direct.value) in str(hosted.value)


def test_module_holds_exactly_one_concrete_handler():
    from chat_engine.common.handler_base import HandlerBase

    import omnitalker_avatar.omnitalker_handler as module

    concrete = [
        m
        for _, m in inspect.getmembers(module)
        if inspect.isclass(m) and issubclass(m, HandlerBase) and not inspect.isabstract(m)
    ]
    assert [c.__name__ for c in concrete] == ["HandlerOmniTalker"]


@pytest.mark.skipif(engine_line() != "0.6", reason="OpenAvatarChat 0.5.1 delivers no signal to a handler")
def test_cancelled_playback_stream_interrupts_within_a_frame(host):
    session = host.session("interrupt", delta_interval_s=0.0)
    try:
        session.say("This is a long answer that will be interrupted. " * 4)
        deadline = time.monotonic() + 60
        while session.avatar_context.playing is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)
        assert session.cancel_playback()
        cut = time.monotonic()
        time.sleep(0.2)
        late_text = session.avatar_context.playing
        time.sleep(0.6)
    finally:
        session.close()
    speech_id = session.llm.speech_ids[0]
    after = [r for r in session.received(ChatDataType.AVATAR_AUDIO) if r.time > cut]
    late = [r for r in after if r.data.data.get_meta("speech_id") == speech_id]
    assert len(late) <= 2, f"{len(late)} speaking frames after the cancel"
    assert after and all(np.abs(r.data.data.get_main_data()).max() == 0 for r in after[2:])
    assert late_text is None and speech_id in session.avatar_context.session.cancelled


def test_signal_hooks_follow_the_hosts_line(host):
    session = host.session("detail")
    try:
        detail = host.handler.get_handler_detail(session.context, session.avatar_context)
    finally:
        session.close()
    if engine_line() == "0.6":
        (rule,) = detail.signal_filters
        assert rule.signal_type.value == "stream_cancel" and rule.stream_type == ChatDataType.CLIENT_PLAYBACK
        assert session.avatar_context.playback is not None
    else:
        assert not hasattr(detail, "signal_filters") and session.avatar_context.playback is None
