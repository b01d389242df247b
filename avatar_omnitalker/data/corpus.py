"""The synthetic audio-visual corpus: speakers, long source recordings, written as shards
(data/shards.py has the folder format).

Source i of the corpus depends only on (seed, i): the output is identical for a seed, however
often the run was resumed.
"""

from __future__ import annotations

import dataclasses
import json
import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from loguru import logger
from tqdm import tqdm

from avatar_omnitalker import spec
from avatar_omnitalker.audio.mel import MelExtractor
from avatar_omnitalker.audio.resample import resample
from avatar_omnitalker.data.open_text import OpenText
from avatar_omnitalker.data.sentences import TEXT_VERSION, TEXT_VERSIONS, sentences
from avatar_omnitalker.data.shards import FORMAT, shard_done, write_header, write_shard
from avatar_omnitalker.data.splits import HELD_OUT, SPLITS, TRAIN
from avatar_omnitalker.data.style import EMOTIONS, SpeakerStyle, face_motion
from avatar_omnitalker.text.espeak import Espeak, Phoneme, Utterance, VoiceSettings

if TYPE_CHECKING:
    from avatar_omnitalker.data.kokoro import Kokoro, KokoroVoice

SOURCES_PER_SHARD = 8
SOURCE_SECONDS = (20.0, 40.0)
MIXED_SHARE = 0.2  # of a Mandarin speaker's sentences, those with English words inside
OPEN_SHARE = 0.5  # of a speaker's sentences, those from open text when a corpus is given some
VOICES = {"en": ["en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc", "en-gb-x-gbclan"], "zh": ["cmn"]}
ENGINES = ("espeak", "kokoro")
# Kokoro voices by language; the held-out ones never speak in training, alone or in a blend
KOKORO_VOICES = {
    "en": {
        TRAIN: [
            "af_heart", "af_bella", "af_nicole", "af_aoede", "af_kore", "af_sarah", "af_nova", "af_alloy",
            "af_jessica", "af_river", "am_michael", "am_fenrir", "am_eric", "am_liam", "am_onyx", "am_adam",
            "am_echo", "am_santa", "bf_emma", "bf_isabella", "bf_alice", "bm_george", "bm_lewis", "bm_daniel",
        ],
        HELD_OUT: ["af_sky", "am_puck", "bf_lily", "bm_fable"],
    },
    "zh": {
        # zf_xiaoni is left out: whisper base mishears it on half the characters (0.51 CER on
        # held-out sentences; the other voices 0.04-0.17)
        TRAIN: ["zf_xiaoxiao", "zf_xiaobei", "zm_yunjian", "zm_yunxi", "zm_yunyang"],
        HELD_OUT: ["zf_xiaoyi", "zm_yunxia"],
    },
}  # fmt: skip
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
    split: str  # TRAIN | HELD_OUT
    voice: VoiceSettings | KokoroVoice
    style: SpeakerStyle

    @property
    def engine(self) -> str:
        return "espeak" if isinstance(self.voice, VoiceSettings) else "kokoro"


def make_speakers(
    count: int, langs: list[str], seed: int, test_every: int = 4, engine: str = "espeak"
) -> list[Speaker]:
    rng = np.random.default_rng([seed, 1])
    out = []
    for i in range(count):
        # languages take turns by blocks of test_every speakers, so every language has held-out
        # speakers (turn by turn, the held-out slot would always fall on the same language)
        lang = langs[(i // test_every) % len(langs)]
        split = HELD_OUT if i % test_every == test_every - 1 else TRAIN
        if engine == "kokoro":
            voice = _kokoro_voice(rng, lang, split)
        else:
            base = VOICES[lang][int(rng.integers(len(VOICES[lang])))]
            voice = VoiceSettings(
                voice=f"{base}+{VARIANTS[int(rng.integers(len(VARIANTS)))]}",
                rate=int(rng.integers(140, 200)),
                pitch=int(rng.integers(25, 80)),
                pitch_range=int(rng.integers(25, 85)),
                volume=100,
            )
        out.append(Speaker(f"spk{i:03d}", lang, split, voice, SpeakerStyle.sample(rng)))
    return out


def _kokoro_voice(rng: np.random.Generator, lang: str, split: str) -> KokoroVoice:
    """A voice of the split's pool, often blended with a second one of the same language and
    sex (a new timbre between two), at its own tempo."""
    from avatar_omnitalker.data.kokoro import KokoroVoice

    pool = KOKORO_VOICES[lang][split]
    first = pool[int(rng.integers(len(pool)))]
    partners = [v for v in pool if v != first and v[1] == first[1]]
    if partners and rng.random() < 0.6:
        second = partners[int(rng.integers(len(partners)))]
        w = float(np.round(rng.uniform(0.55, 0.8), 2))
        voices, weights = (first, second), (w, round(1.0 - w, 2))
    else:
        voices, weights = (first,), (1.0,)
    accent = "zh" if lang == "zh" else ("en-gb" if first.startswith("b") else "en-us")
    return KokoroVoice(accent, voices, weights, float(np.round(rng.uniform(0.85, 1.15), 2)))


def speaker_voice(speaker: Speaker, emotion: str) -> VoiceSettings | KokoroVoice:
    """The speaker's voice as the emotion colours it (Kokoro can only change tempo)."""
    if isinstance(speaker.voice, VoiceSettings):
        return EMOTIONS[emotion].voice(speaker.voice)
    speed = speaker.voice.speed * EMOTIONS[emotion].tempo
    return dataclasses.replace(speaker.voice, speed=float(np.clip(speed, 0.5, 2.0)))


def make_engine(engine: str, threads: int = 1) -> Espeak | Kokoro:
    if engine not in ENGINES:
        raise ValueError(f"unknown speech engine {engine!r}: one of {ENGINES}")
    if engine == "kokoro":
        from avatar_omnitalker.data.kokoro import Kokoro

        return Kokoro(threads=threads)
    return Espeak()


def synthesize(engine: Espeak | Kokoro, text: str, voice: VoiceSettings | KokoroVoice) -> Utterance:
    if isinstance(voice, VoiceSettings) != isinstance(engine, Espeak):
        raise TypeError(f"{type(engine).__name__} cannot speak with a {type(voice).__name__}")
    return engine.synthesize(text, voice)


def speaker_count(minutes: float, langs: list[str]) -> int:
    return max(5 * len(langs), int(round(minutes * 1.5)))


def generate_source(
    index: int,
    speaker: Speaker,
    seed: int,
    engine: Espeak | Kokoro,
    mixed_share: float = 0.0,
    text_version: int = TEXT_VERSION,
    open_text: OpenText | None = None,
    open_share: float = 0.0,
    open_keeps_mixed: bool = False,
) -> tuple[dict, dict[str, np.ndarray]]:
    """One long recording of one speaker in one emotion: sentences separated by short pauses.

    A Mandarin speaker says a code-switched sentence in place of a plain one with probability
    mixed_share, and any speaker a sentence of open text (data/open_text.py) with probability
    open_share, each decided by a stream of its own: at 0 the recording is what it was before
    that option existed. Open text has no code-switched sentences, so with open_keeps_mixed it
    replaces only plain ones; without it (corpora written before the rule) it replaced those too,
    and at a share of 0.7 left a Mandarin speaker 6 % code-switched where mixed_share asked 20 %."""
    rng = np.random.default_rng([seed, 2, index])
    switch = np.random.default_rng([seed, 4, index])
    opening = np.random.default_rng([seed, 5, index])
    emotion = list(EMOTIONS)[int(rng.integers(len(EMOTIONS)))]
    pool = sentences(speaker.lang, speaker.split, text_version)
    switching = speaker.lang == "zh" and mixed_share > 0
    mixed = sentences("mixed", speaker.split, text_version) if switching else ()
    real = open_text.sentences(speaker.lang, speaker.split) if open_text and open_share > 0 else ()
    target = rng.uniform(*SOURCE_SECONDS)
    audio_parts, phonemes, segments = [], [], []
    t = 0.0
    while t < target:
        text = pool[int(rng.integers(len(pool)))]
        switched = bool(mixed) and switch.random() < mixed_share
        if switched:
            text = mixed[int(switch.integers(len(mixed)))]
        if real and opening.random() < open_share and not (switched and open_keeps_mixed):
            text = real[int(opening.integers(len(real)))]
        utt = synthesize(engine, text, speaker_voice(speaker, emotion))
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
        "engine": speaker.engine,
        "voice": asdict(speaker_voice(speaker, emotion)),
        "frames": frames,
        "segments": segments,
    }
    arrays = {"audio": audio, "mel": mel, "motion": motion}
    return meta, arrays


def generate_corpus(
    out: str | Path,
    minutes: float,
    langs: list[str] = ("en",),
    seed: int = 0,
    workers: int = 1,
    engine: str = "espeak",
    mixed_share: float = MIXED_SHARE,
    text_version: int = TEXT_VERSION,
    open_text: str | Path | None = None,
    open_share: float = OPEN_SHARE,
    split: str | None = None,
) -> Path:
    """With `split` only that split's sources are written (HELD_OUT: an evaluation corpus in a
    quarter of the time); each is the source the whole corpus has at the same index."""
    out = Path(out)
    langs = list(langs)
    for lang in langs:
        if lang not in VOICES:
            raise ValueError(f"unknown language {lang!r}: the generator speaks {sorted(VOICES)}")
    if minutes <= 0:
        raise ValueError(f"--minutes must be positive, got {minutes}")
    if not 0.0 <= mixed_share <= 1.0:
        raise ValueError(f"--mixed-share is a probability between 0 and 1, got {mixed_share}")
    if text_version not in TEXT_VERSIONS:
        raise ValueError(f"--text-version must be one of {TEXT_VERSIONS}, got {text_version}")
    if not 0.0 <= open_share <= 1.0:
        raise ValueError(f"--open-share is a probability between 0 and 1, got {open_share}")
    if split not in (None, *SPLITS):
        raise ValueError(f"--split must be one of {SPLITS}, got {split!r}")
    opened = OpenText.load(open_text) if open_text is not None else None
    if opened is not None:
        missing = [lang for lang in langs if lang not in opened.pools]
        if missing:
            raise ValueError(f"{open_text}: no open text for {', '.join(missing)} (the corpus speaks {langs})")
    open_record = (
        {"share": open_share, "sha256": opened.sha256, "keeps_mixed": True} if opened and open_share > 0 else None
    )
    # only Mandarin speakers switch, and only version 2 on has code-switched sentences
    mixed_share = mixed_share if "zh" in langs and text_version >= 2 else 0.0
    if engine not in ENGINES:
        raise ValueError(f"unknown speech engine {engine!r}: one of {ENGINES}")
    if engine == "kokoro":
        from avatar_omnitalker.data.kokoro_assets import KokoroAssets

        KokoroAssets.find()  # a clear error now, not one per worker later
    num_sources = max(2, math.ceil(minutes * 60 / np.mean(SOURCE_SECONDS)))
    speakers = make_speakers(speaker_count(minutes, langs), langs, seed, engine=engine)
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
        "engine": engine,
        "text_version": text_version,
        "mixed_share": mixed_share,
        "open_text": open_record,
        "only_split": split,
        "speakers": [
            {
                "speaker_id": s.speaker_id,
                "lang": s.lang,
                "split": s.split,
                "engine": s.engine,
                "voice": asdict(s.voice),
                "style": s.style.as_dict(),
            }
            for s in speakers
        ],
    }
    header = json.loads(json.dumps(header))  # as it reads back: a Kokoro blend's tuples become lists
    open_record = header["open_text"]  # the record as written is the one the shards follow
    existing = out / "corpus.json"
    if existing.is_file():
        old = json.loads(existing.read_text())
        old.setdefault("engine", "espeak")  # corpora written before engines were named
        old.setdefault("text_version", 1)  # ... before the grammars had versions
        old.setdefault("mixed_share", 0.0)  # ... and before code-switched sentences
        old.setdefault("open_text", None)  # ... and before open text
        old.setdefault("only_split", None)  # ... and before a corpus could hold one split
        for speaker in old.get("speakers", []):
            speaker.setdefault("engine", "espeak")
        if old["open_text"] and open_record and "keeps_mixed" not in old["open_text"]:
            # open text overwrote code-switched draws when this corpus began: it resumes that way
            old["open_text"]["keeps_mixed"] = open_record["keeps_mixed"] = False
        if {k: old.get(k) for k in header} != header:
            raise ValueError(
                f"{out} holds a corpus made with other settings"
                f"{_differences(old, header)}; choose another --out or delete it"
            )
    write_header(out, header)
    opened_path = str(opened.root) if open_record else None
    done = sum(1 for k in range(num_shards) if shard_done(out, k))
    if done:
        logger.info("resuming: {} of {} shards already written", done, num_shards)
    todo = [k for k in range(num_shards) if not shard_done(out, k)]
    # One fresh process per shard: espeak-ng keeps state across utterances, so a shard is
    # reproducible only when its calls start from a fresh library, however the run is resumed.
    context = multiprocessing.get_context("spawn")
    size = lambda k: len(_shard_indices(k, num_sources, speakers, split))
    total = sum(size(k) for k in range(num_shards))
    with (
        ProcessPoolExecutor(max(1, workers), mp_context=context, max_tasks_per_child=1) as pool,
        tqdm(
            total=total,
            initial=total - sum(size(k) for k in todo),
            desc="synth-corpus",
            unit="source",
        ) as bar,
    ):
        jobs = [
            pool.submit(
                _write_shard,
                out,
                k,
                num_sources,
                speakers,
                seed,
                mixed_share,
                text_version,
                open_record,
                opened_path,
                split,
            )
            for k in todo
        ]
        for job in as_completed(jobs):
            bar.update(job.result())
    return out


def _shard_indices(k: int, num_sources: int, speakers: list[Speaker], split: str | None) -> list[int]:
    """The source indices shard k holds: source i is spoken by speakers[i % len(speakers)]."""
    span = range(k * SOURCES_PER_SHARD, min((k + 1) * SOURCES_PER_SHARD, num_sources))
    return [i for i in span if split is None or speakers[i % len(speakers)].split == split]


def _differences(old: dict, new: dict) -> str:
    """' (seed: 1 there, 2 asked)' for the settings that differ, speakers summed up in one word."""
    keys = [k for k in new if old.get(k) != new[k]]
    shown = [f"{k}: {old.get(k)} there, {new[k]} asked" if k != "speakers" else "speakers" for k in keys]
    return f" ({'; '.join(shown)})" if shown else ""


def _write_shard(
    out: Path,
    k: int,
    num_sources: int,
    speakers: list[Speaker],
    seed: int,
    mixed_share: float,
    text_version: int,
    open_record: dict | None,
    open_text: str | None,
    split: str | None = None,
) -> int:
    engine = make_engine(speakers[0].engine)
    opened = OpenText.load(open_text) if open_record and open_text else None
    if opened is not None and opened.sha256 != open_record["sha256"]:
        raise ValueError(f"{open_text}: the open text changed while the corpus was being written")
    open_share = open_record["share"] if opened is not None else 0.0
    keeps_mixed = bool(open_record and open_record.get("keeps_mixed"))
    sources = [
        generate_source(
            i, speakers[i % len(speakers)], seed, engine, mixed_share, text_version, opened, open_share, keeps_mixed
        )
        for i in _shard_indices(k, num_sources, speakers, split)
    ]
    write_shard(out, k, sources)
    return len(sources)
