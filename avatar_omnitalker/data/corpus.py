"""The synthetic audio-visual corpus: speakers, long source recordings, written as shards
(data/shards.py has the folder format).

Source i of the corpus depends only on (seed, i): the output is identical for a seed, however
often the run was resumed.
"""

from __future__ import annotations

import json
import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from loguru import logger
from tqdm import tqdm

from avatar_omnitalker import spec
from avatar_omnitalker.audio.mel import MelExtractor
from avatar_omnitalker.audio.resample import resample
from avatar_omnitalker.data.sentences import sentences
from avatar_omnitalker.data.shards import FORMAT, shard_done, write_header, write_shard
from avatar_omnitalker.data.style import EMOTIONS, SpeakerStyle, face_motion
from avatar_omnitalker.text.espeak import Espeak, Phoneme, VoiceSettings

SOURCES_PER_SHARD = 8
SOURCE_SECONDS = (20.0, 40.0)
VOICES = {"en": ["en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc", "en-gb-x-gbclan"], "zh": ["cmn"]}
VARIANTS = [
    "m1",
    "m2",
    "m3",
    "m4",
    "m5",
    "m6",
    "m7",
    "f1",
    "f2",
    "f3",
    "f4",
    "f5",
    "klatt",
    "klatt3",
    "whisper",
    "croak",
]


@dataclass(frozen=True)
class Speaker:
    speaker_id: str
    lang: str
    split: str  # "train" | "test" (held-out speakers)
    voice: VoiceSettings
    style: SpeakerStyle


def make_speakers(count: int, langs: list[str], seed: int, test_every: int = 4) -> list[Speaker]:
    rng = np.random.default_rng([seed, 1])
    out = []
    for i in range(count):
        lang = langs[i % len(langs)]
        base = VOICES[lang][int(rng.integers(len(VOICES[lang])))]
        voice = VoiceSettings(
            voice=f"{base}+{VARIANTS[int(rng.integers(len(VARIANTS)))]}",
            rate=int(rng.integers(140, 200)),
            pitch=int(rng.integers(25, 80)),
            pitch_range=int(rng.integers(25, 85)),
            volume=100,
        )
        split = "test" if i % test_every == test_every - 1 else "train"
        out.append(Speaker(f"spk{i:03d}", lang, split, voice, SpeakerStyle.sample(rng)))
    return out


def speaker_count(minutes: float, langs: list[str]) -> int:
    return max(5 * len(langs), int(round(minutes * 1.5)))


def generate_source(index: int, speaker: Speaker, seed: int, espeak: Espeak) -> tuple[dict, dict[str, np.ndarray]]:
    """One long recording of one speaker in one emotion: sentences separated by short pauses."""
    rng = np.random.default_rng([seed, 2, index])
    emotion = list(EMOTIONS)[int(rng.integers(len(EMOTIONS)))]
    pool = sentences(speaker.lang, speaker.split)
    target = rng.uniform(*SOURCE_SECONDS)
    audio_parts, phonemes, segments = [], [], []
    t = 0.0
    while t < target:
        text = pool[int(rng.integers(len(pool)))]
        utt = espeak.synthesize(text, EMOTIONS[emotion].voice(speaker.voice))
        wav = resample(utt.audio, utt.sample_rate, spec.SAMPLE_RATE)
        frames = math.ceil(wav.size / spec.SAMPLES_PER_FRAME)
        wav = np.pad(wav, (0, spec.samples_for_frames(frames) - wav.size))
        start_frame = int(round(t * spec.FPS))
        segments.append(
            {
                "text": text,
                "start": start_frame,
                "end": start_frame + frames,
                "phonemes": [[p.symbol, round(p.start + t, 4), round(p.end + t, 4), p.stressed] for p in utt.phonemes],
            }
        )
        phonemes += [Phoneme(p.symbol, p.start + t, p.end + t, p.stressed, p.word_index) for p in utt.phonemes]
        audio_parts.append(wav)
        pause = int(rng.integers(5, 15))  # 0.2-0.6 s between sentences
        audio_parts.append(np.zeros(spec.samples_for_frames(pause), np.float32))
        t += (frames + pause) / spec.FPS
    audio = np.concatenate(audio_parts)
    frames = audio.size // spec.SAMPLES_PER_FRAME
    motion = face_motion(phonemes, frames, speaker.style, EMOTIONS[emotion], np.random.default_rng([seed, 3, index]))
    mel = MelExtractor().for_clip(torch.from_numpy(audio)).numpy()
    meta = {
        "source_id": f"src{index:05d}",
        "speaker_id": speaker.speaker_id,
        "split": speaker.split,
        "lang": speaker.lang,
        "emotion": emotion,
        "style": speaker.style.as_dict(),
        "voice": asdict(speaker.voice),
        "frames": frames,
        "segments": segments,
    }
    arrays = {"audio": audio, "mel": mel, "motion": motion}
    return meta, arrays


def generate_corpus(
    out: str | Path, minutes: float, langs: list[str] = ("en",), seed: int = 0, workers: int = 1
) -> Path:
    out = Path(out)
    langs = list(langs)
    for lang in langs:
        if lang not in VOICES:
            raise ValueError(f"unknown language {lang!r}: the generator speaks {sorted(VOICES)}")
    if minutes <= 0:
        raise ValueError(f"--minutes must be positive, got {minutes}")
    num_sources = max(2, math.ceil(minutes * 60 / np.mean(SOURCE_SECONDS)))
    speakers = make_speakers(speaker_count(minutes, langs), langs, seed)
    num_shards = math.ceil(num_sources / SOURCES_PER_SHARD)
    header = {
        "format": FORMAT,
        "seed": seed,
        "langs": langs,
        "minutes": minutes,
        "num_sources": num_sources,
        "sources_per_shard": SOURCES_PER_SHARD,
        "num_shards": num_shards,
        "sample_rate": spec.SAMPLE_RATE,
        "fps": spec.FPS,
        "speakers": [
            {
                "speaker_id": s.speaker_id,
                "lang": s.lang,
                "split": s.split,
                "voice": asdict(s.voice),
                "style": s.style.as_dict(),
            }
            for s in speakers
        ],
    }
    existing = out / "corpus.json"
    if existing.is_file():
        old = json.loads(existing.read_text())
        if {k: old.get(k) for k in header} != header:
            raise ValueError(f"{out} holds a corpus made with other settings; choose another --out or delete it")
    write_header(out, header)
    done = sum(1 for k in range(num_shards) if shard_done(out, k))
    if done:
        logger.info("resuming: {} of {} shards already written", done, num_shards)
    todo = [k for k in range(num_shards) if not shard_done(out, k)]
    # One fresh process per shard: espeak-ng keeps state across utterances, so a shard is
    # reproducible only when its calls start from a fresh library, however the run is resumed.
    context = multiprocessing.get_context("spawn")
    with (
        ProcessPoolExecutor(max(1, workers), mp_context=context, max_tasks_per_child=1) as pool,
        tqdm(
            total=num_sources,
            initial=num_sources - sum(_shard_size(k, num_sources) for k in todo),
            desc="synth-corpus",
            unit="source",
        ) as bar,
    ):
        jobs = [pool.submit(_write_shard, out, k, num_sources, speakers, seed) for k in todo]
        for job in as_completed(jobs):
            bar.update(job.result())
    return out


def _shard_size(k: int, num_sources: int) -> int:
    return min((k + 1) * SOURCES_PER_SHARD, num_sources) - k * SOURCES_PER_SHARD


def _write_shard(out: Path, k: int, num_sources: int, speakers: list[Speaker], seed: int) -> int:
    espeak = Espeak()
    sources = [
        generate_source(i, speakers[i % len(speakers)], seed, espeak)
        for i in range(k * SOURCES_PER_SHARD, min((k + 1) * SOURCES_PER_SHARD, num_sources))
    ]
    write_shard(out, k, sources)
    return len(sources)
