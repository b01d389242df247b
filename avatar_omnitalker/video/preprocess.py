"""`omnitalker preprocess`: a folder of talking-head videos + transcripts -> training shards.

Transcripts: CSV with a header (`file,text[,speaker][,split]`) or JSON lines with the same keys.
Each video becomes one source in the corpus format (data/corpus.py). Long recordings are cut
into segments at silences; when a video has one transcript, its sentences are given to the
segments in order, by length (recorded as `"alignment": "proportional"`). Phoneme timings for
aligned-mode training come from espeak-ng, stretched over each segment's speech. Videos that
cannot be used are skipped and listed with the reason in `rejected.jsonl`.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import torch
from loguru import logger
from tqdm import tqdm

from avatar_omnitalker import spec
from avatar_omnitalker.audio.loudness import active_frames, normalize_loudness
from avatar_omnitalker.audio.mel import MelExtractor
from avatar_omnitalker.data.shards import shard_done, write_header, write_shard
from avatar_omnitalker.data.splits import TRAIN
from avatar_omnitalker.text.timing import fit_phonemes
from avatar_omnitalker.text.tokenizer import is_chinese
from avatar_omnitalker.video.extract import extract_motion
from avatar_omnitalker.video.media import read_audio

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi"}
MIN_SEGMENT_S = 1.0
MIN_PAUSE_FRAMES = 6  # 240 ms of silence is a place to cut


def read_transcripts(path: str | Path) -> dict[str, dict]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"transcripts not found: {path}")
    rows: list[dict] = []
    if path.suffix in (".jsonl", ".json"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise ValueError(f"{path}:{n}: not JSON ({err})") from None
    else:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    out = {}
    for n, row in enumerate(rows, 1):
        if not row.get("file") or not str(row.get("text", "")).strip():
            raise ValueError(f"{path}: row {n} needs 'file' and 'text'")
        out[Path(row["file"]).name] = row
    return out


def segments_at_silence(audio: np.ndarray, frames: int) -> list[tuple[int, int]]:
    """Speech stretches between pauses (about one sentence each); fragments under MIN_SEGMENT_S
    join their predecessor."""
    active = active_frames(audio)[:frames]
    spans, start, quiet = [], None, 0
    for k, a in enumerate(active):
        if a:
            start = k if start is None else start
            quiet = 0
        elif start is not None:
            quiet += 1
            if quiet >= MIN_PAUSE_FRAMES:
                spans.append((start, k - quiet + 1))
                start, quiet = None, 0
    if start is not None:
        spans.append((start, frames - quiet))
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and (b - a < MIN_SEGMENT_S * spec.FPS or merged[-1][1] - merged[-1][0] < MIN_SEGMENT_S * spec.FPS):
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return [(max(0, a - 2), min(frames, b + 2)) for a, b in merged if b - a >= spec.FPS // 2]


def split_sentences(text: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"(?<=[.!?。！？；;])\s*", text) if p.strip()]
    return parts or [text.strip()]


def assign_text(sentences: list[str], spans: list[tuple[int, int]]) -> list[str]:
    """Give the sentences, in order, to the speech segments in proportion to their lengths."""
    if len(spans) <= 1 or len(sentences) <= 1:
        return [" ".join(sentences)] + [""] * (len(spans) - 1)
    weights = np.cumsum([b - a for a, b in spans]) / sum(b - a for a, b in spans)
    lengths = np.array([len(s) for s in sentences], dtype=float)
    middles = (np.cumsum(lengths) - lengths / 2) / lengths.sum()  # each sentence goes where its middle falls
    out = [[] for _ in spans]
    for s, c in zip(sentences, middles):
        out[min(int(np.searchsorted(weights, c - 1e-9)), len(spans) - 1)].append(s)
    return [" ".join(x) for x in out]


def process_video(video: Path, row: dict, source_id: str, task_file: str | None) -> tuple[dict, dict[str, np.ndarray]]:
    audio = read_audio(video)
    ex = extract_motion(video, task_file)
    frames = min(len(ex.motion), audio.size // spec.SAMPLES_PER_FRAME)
    audio = normalize_loudness(audio[: spec.samples_for_frames(frames)])
    spans = segments_at_silence(audio, frames)
    if not spans:
        raise ValueError(f"{video.name}: no speech found in the audio")
    texts = assign_text(split_sentences(str(row["text"])), spans)
    segments = []
    for (a, b), text in zip(spans, texts):
        if not text:
            continue
        fitted, _ = fit_phonemes(
            text, audio[spec.samples_for_frames(a) : spec.samples_for_frames(b)], offset_s=a / spec.FPS
        )
        timed = [[s, round(x, 4), round(y, 4), False] for s, x, y in fitted]
        segments.append(
            {
                "text": text,
                "start": a,
                "end": b,
                "phonemes": timed,
                "alignment": "proportional" if len(spans) > 1 else "whole",
            }
        )
    lang = "zh" if any(is_chinese(c) for c in str(row["text"])) else "en"
    meta = {
        "source_id": source_id,
        "speaker_id": str(row.get("speaker") or video.stem),
        "split": str(row.get("split") or TRAIN),
        "lang": lang,
        "emotion": "unknown",
        "style": {},
        "voice": {},
        "frames": frames,
        "segments": segments,
        "video": video.name,
        "tracking_confidence": round(float(np.mean(ex.confidence)), 3),
    }
    mel = MelExtractor().for_clip(torch.from_numpy(audio)).numpy()
    arrays = {"audio": audio, "mel": mel, "motion": ex.motion[:frames]}
    return meta, arrays


def _shard(out: Path, k: int, items: list[tuple[str, Path, dict]], task_file: str | None) -> tuple[int, list[dict]]:
    sources, rejected = [], []
    for source_id, video, row in items:
        try:
            sources.append(process_video(video, row, source_id, task_file))
        except Exception as err:  # every rejection is reported with its file and reason
            rejected.append({"file": video.name, "reason": str(err)})
    write_shard(out, k, sources)
    return len(items), rejected


def preprocess(
    videos: str | Path,
    transcripts: str | Path,
    out: str | Path,
    task_file: str | None = None,
    workers: int = 1,
    per_shard: int = 8,
) -> Path:
    videos, out = Path(videos), Path(out)
    if not videos.is_dir():
        raise FileNotFoundError(f"video folder not found: {videos}")
    rows = read_transcripts(transcripts)
    files = sorted(p for p in videos.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
    missing = [p.name for p in files if p.name not in rows]
    if missing:
        logger.warning("no transcript for {} video(s), skipped: {}", len(missing), ", ".join(missing[:10]))
    items = [(f"vid{i:05d}", p, rows[p.name]) for i, p in enumerate(files) if p.name in rows]
    if not items:
        raise ValueError(f"{videos}: no video has a transcript in {transcripts}")
    write_header(
        out,
        {
            "kind": "preprocessed",
            "videos": str(videos),
            "sources": len(items),
            "sample_rate": spec.SAMPLE_RATE,
            "fps": spec.FPS,
        },
    )
    shards = [items[i : i + per_shard] for i in range(0, len(items), per_shard)]
    todo = [k for k in range(len(shards)) if not shard_done(out, k)]
    rejected_path = out / "rejected.jsonl"
    context = multiprocessing.get_context("spawn")
    with (
        ProcessPoolExecutor(max(1, workers), mp_context=context) as pool,
        tqdm(
            total=len(items),
            initial=sum(len(shards[k]) for k in range(len(shards)) if k not in todo),
            desc="preprocess",
            unit="video",
        ) as bar,
    ):
        jobs = [pool.submit(_shard, out, k, shards[k], task_file) for k in todo]
        for job in as_completed(jobs):
            count, rejected = job.result()
            bar.update(count)
            for r in rejected:
                logger.warning("skipped {}: {}", r["file"], r["reason"])
                with rejected_path.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return out
