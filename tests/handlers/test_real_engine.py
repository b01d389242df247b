"""The handler inside the real OpenAvatarChat engine core, end to end, with the built-in model.

Skipped unless OAC_SRC names a real checkout's src/ (the 0.5.1 line: HumanAIGC-Engineering/
OpenAvatarChat main). An English and a Mandarin reply stream through the engine's own ChatSession
from a scripted LLM; the figures a person deploying the avatar wants are printed (and written as
JSON to $OAC_REPORT when set): frames per second on the wall clock, first speaking frame after the
first sentence's text, audio/video counts, avatar_speech_end and enable_vad per turn. The motion
mode is checked through the engine's own MotionDataSerializer, as the LAM client receives it.
Assertions are on behaviour (counts, order, flags), never on speed.
"""

from __future__ import annotations

import json
import os
import struct
import time

import pytest
from chat_engine.data_models.chat_data_type import ChatDataType

from avatar_omnitalker.realtime.timeline import idle_frames_inside
from tests.handlers.oac_host import Host, engine_line, first_speaking_latency, is_real_engine

pytestmark = pytest.mark.skipif(not is_real_engine(), reason="set OAC_SRC to an OpenAvatarChat checkout's src/")

TURNS = {
    "en": "Hello! I am your digital host. Today we will talk about the weather and the news.",
    "zh": "你好！我是你的数字人主持人。今天我们聊聊天气和新闻。",
}


def _report(name: str, figures: dict) -> None:
    print(f"\n{name}: {json.dumps(figures, ensure_ascii=False, indent=1)}")
    path = os.environ.get("OAC_REPORT")
    if path:
        data = json.load(open(path)) if os.path.exists(path) else {}
        data[name] = figures
        json.dump(data, open(path, "w"), ensure_ascii=False, indent=1)


def test_english_and_mandarin_turns_in_the_real_engine():
    host = Host(dict(device="cpu", size=int(os.environ.get("OAC_FRAME_SIZE", "512"))))
    session = host.session("real-engine")
    try:
        time.sleep(1.0)
        for n, text in enumerate(TURNS.values(), start=1):
            session.say(text)
            session.wait_turns(n, timeout=120)
            time.sleep(1.0)
    finally:
        session.close()
        host.shutdown()
    audio = session.received(ChatDataType.AVATAR_AUDIO)
    video = session.received(ChatDataType.AVATAR_VIDEO)
    span = audio[-1].time - audio[0].time
    ids = [r.data.data.get_meta("speech_id") for r in audio]
    turns = {}
    vad_on = [frames for value, frames in session.vad_log if value]
    for (lang, text), speech_id in zip(TURNS.items(), session.llm.speech_ids):
        frames = [i for i, s in enumerate(ids) if s == speech_id]
        ends = [i for i in frames if audio[i].data.data.get_meta("avatar_speech_end")]
        idle_inside = idle_frames_inside(ids, speech_id)
        turns[lang] = dict(
            text_chars=len(text),
            speaking_frames=len(frames),
            seconds=round(len(frames) / 25, 2),
            idle_frames_inside=idle_inside,
            first_speaking_frame_s=round(first_speaking_latency(session, speech_id), 3),
            avatar_speech_end_frames=len(ends),
            speech_end_on_last_frame=ends == [frames[-1]],
            enable_vad_after_last_frame=(frames[-1] + 1) in vad_on,
        )
        assert ends == [frames[-1]]
        if vad_on or session.vad_log:
            assert (frames[-1] + 1) in vad_on
    figures = dict(
        engine_line=engine_line(),
        handler_manager=host.used_handler_manager,
        audio_frames=len(audio),
        video_frames=len(video),
        wall_s=round(span, 2),
        frames_per_s=round((len(audio) - 1) / span, 2),
        frame_size=video[0].data.data.get_main_data().shape[1:3],
        turns=turns,
    )
    _report("video", figures)
    assert abs(len(audio) - len(video)) <= 1
    assert all(t["speaking_frames"] > 0 for t in turns.values())


def test_motion_mode_through_the_engines_motion_serializer():
    from chat_engine.data_models.runtime_data.motion_data import MotionDataSerializer

    host = Host(dict(device="cpu", output_mode="motion"))
    session = host.session("real-engine-motion")
    try:
        session.say(TURNS["en"])
        session.wait_turns(1, timeout=120)
    finally:
        session.close()
        host.shutdown()
    serializer = MotionDataSerializer()
    serializer.register_data("arkit_face", "arkit_face", "float32")
    serializer.register_audio_data("avatar_audio")
    received = [r.data for r in session.received(ChatDataType.AVATAR_MOTION_DATA)]
    bundles = [d.data for d in received]
    header = _decode(serializer.serialize(bundles[0].definition, include_channel_names=True))
    names = header["data_records"]["arkit_face"]["channel_names"]
    assert len(names) == 52 and names[-1] == "tongueOut"
    if engine_line() == "0.6":  # the ws client passes the ChatData's stream flags
        batches = [
            _decode(serializer.serialize(d.data, start_of_stream=d.is_first_data, end_of_stream=d.is_last_data))
            for d in received
        ]
    else:  # 0.5.1 reads the bundle's start_of_stream / end_of_stream attributes
        batches = [_decode(serializer.serialize(b)) for b in bundles]
    speech_id = session.llm.speech_ids[0]
    starts = [i for i, h in enumerate(batches) if h["start_of_batch"] and h["batch_name"] == speech_id]
    ends = [i for i, h in enumerate(batches) if h["end_of_batch"] and h["batch_name"] == speech_id]
    assert len(starts) == 1 and len(ends) == 1 and starts[0] < ends[0]
    assert batches[ends[0]]["metadata"]["avatar_speech_end"]
    speaking = [h for h in batches[starts[0] : ends[0] + 1]]
    assert all(h["data_records"]["arkit_face"]["shape"] == [6, 52] for h in speaking)
    _report(
        "motion",
        dict(
            bundles=len(bundles),
            speaking_bundles=len(speaking),
            start_of_batch=starts,
            end_of_batch=ends,
            channel_names=len(names),
        ),
    )


def _decode(packet: bytes) -> dict:
    assert packet[:4] == b"JBIN"
    json_size, _ = struct.unpack("<II", packet[4:12])
    return json.loads(packet[12 : 12 + json_size])
