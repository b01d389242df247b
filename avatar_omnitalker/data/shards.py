"""The corpus folder format, shared by `synth-corpus` and `preprocess`, read by training and eval.

    corpus.json                    what was made: format, and the maker's settings
    shards/shard-00000.npz         per source i of the shard: `{i}.audio` int16 (N,) 24 kHz,
                                   `{i}.mel` float16 (M, 100), `{i}.motion` float32 (K, 61),
                                   with N = 960 K and M = ceil(N / 256)
    shards/shard-00000.json        per source: source_id, speaker_id, split, lang, ... and
                                   segments: [{text, start, end (motion frames), phonemes}]

A packed corpus (data/pack.py, for carrying a training set to another machine) has no audio:
`{i}.mel` is uint8 with its float32 range in `{i}.mel_range` (lo, hi), `{i}.motion` is float16.
Training then reads the stored mel; whatever needs the waveform says it needs an unpacked corpus.

A shard is complete when its .json exists (written after its .npz, both atomically), so an
interrupted run resumes at the first missing shard.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from avatar_omnitalker import spec
from avatar_omnitalker.data.splits import TRAIN
from avatar_omnitalker.errors import OmniTalkerError
from avatar_omnitalker.fileio import atomic_path
from avatar_omnitalker.motion.stats import MotionStats

FORMAT = "avatar-omnitalker/corpus/1"
ARRAYS = ("audio", "mel", "motion")
PCM16_SCALE = 32767.0


class CorpusError(OmniTalkerError, ValueError):
    pass


def to_pcm16(audio: np.ndarray) -> np.ndarray:
    """float32 in [-1, 1] -> int16, as shards store audio."""
    return np.clip(np.round(audio * PCM16_SCALE), -32768, 32767).astype(np.int16)


def from_pcm16(pcm: np.ndarray) -> np.ndarray:
    """int16 -> float32 in [-1, 1] (-32768 is the one code below -1 and clips to it)."""
    return np.maximum(pcm.astype(np.float32) / PCM16_SCALE, -1.0)


def shard_stem(root: Path, k: int) -> Path:
    return root / "shards" / f"shard-{k:05d}"


def shard_done(root: Path, k: int) -> bool:
    return shard_stem(root, k).with_suffix(".json").is_file()


def write_header(root: Path, header: dict) -> None:
    (root / "shards").mkdir(parents=True, exist_ok=True)
    with atomic_path(root / "corpus.json") as tmp:
        Path(tmp).write_text(json.dumps({"format": FORMAT, **header}, indent=1))


def write_shard(root: Path, k: int, sources: list[tuple[dict, dict[str, np.ndarray]]]) -> None:
    """[(meta, {audio: float32, mel, motion})] -> shard k; its .json last, so it marks completion."""
    stem = shard_stem(root, k)
    arrays = {}
    for local, (_, arr) in enumerate(sources):
        arrays.update(
            {
                f"{local}.audio": to_pcm16(arr["audio"]),
                f"{local}.mel": arr["mel"].astype(np.float16),
                f"{local}.motion": arr["motion"].astype(np.float32),
            }
        )
    if sources:
        with atomic_path(stem.with_suffix(".npz")) as tmp:
            np.savez(tmp, **arrays)
    with atomic_path(stem.with_suffix(".json")) as tmp:
        Path(tmp).write_text(json.dumps([meta for meta, _ in sources], ensure_ascii=False))


@dataclass(frozen=True)
class Source:
    shard: Path
    local: int
    meta: dict

    @property
    def speaker_id(self) -> str:
        return self.meta["speaker_id"]


class Corpus:
    """An index over a corpus folder; arrays load lazily, a few shards cached."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        header = self.root / "corpus.json"
        if not header.is_file():
            raise CorpusError(
                f"{self.root}: no corpus.json (make one with `omnitalker synth-corpus` or `omnitalker preprocess`)"
            )
        self.header = json.loads(header.read_text())
        if self.header.get("format") != FORMAT:
            raise CorpusError(f"{header}: format {self.header.get('format')!r}, expected {FORMAT!r}")
        self.sources: list[Source] = []
        for meta_path in sorted((self.root / "shards").glob("shard-*.json")):
            shard = meta_path.with_suffix(".npz")
            for local, meta in enumerate(json.loads(meta_path.read_text(encoding="utf-8"))):
                self.sources.append(Source(shard, local, meta))
        if not self.sources:
            raise CorpusError(f"{self.root}: no complete shards")
        self._packed_arrays: dict[tuple[Path, int], dict[str, np.ndarray]] = {}

    def split(self, name: str) -> list[Source]:
        return [s for s in self.sources if s.meta["split"] == name]

    @property
    def has_audio(self) -> bool:
        return "packed" not in self.header

    def arrays(self, source: Source) -> dict[str, np.ndarray]:
        """audio (float32, 24 kHz; absent from a packed corpus), mel (float16 or float32 when
        dequantised) and motion (float32) of one source. A packed corpus is small, so all of it
        stays in memory once read (training draws from every shard in every batch)."""
        key = (source.shard, source.local)
        if key in self._packed_arrays:
            return self._packed_arrays[key]
        data = _load_shard(str(source.shard))
        out = {k: data[f"{source.local}.{k}"] for k in ARRAYS if f"{source.local}.{k}" in data}
        if "audio" in out:
            out["audio"] = from_pcm16(out["audio"])
        if out["mel"].dtype == np.uint8:
            lo, hi = data[f"{source.local}.mel_range"]
            out["mel"] = dequantize_mel(out["mel"], float(lo), float(hi))
        out["motion"] = out["motion"].astype(np.float32, copy=False)
        if not self.has_audio:
            self._packed_arrays[key] = out
        return out

    def require_audio(self, purpose: str) -> None:
        if not self.has_audio:
            raise CorpusError(
                f"{self.root} is a packed corpus (mel only, no audio); {purpose} needs the original corpus"
            )

    def opening(self, source: Source, max_s: float) -> tuple[np.ndarray, np.ndarray, str]:
        """The source's first whole sentences within max_s (at least one): (audio, motion,
        transcript), the span a reference is cut from."""
        segs = source.meta["segments"]
        n = 1
        while n < len(segs) and segs[n]["end"] - segs[0]["start"] <= max_s * spec.FPS:
            n += 1
        a, b = segs[0]["start"], segs[n - 1]["end"]
        self.require_audio("a reference clip")
        arrays = self.arrays(source)
        audio = arrays["audio"][spec.samples_for_frames(a) : spec.samples_for_frames(b)]
        return audio, arrays["motion"][a:b], " ".join(s["text"] for s in segs[:n])

    def motion_stats(self, split: str = TRAIN) -> MotionStats:
        return MotionStats.from_clips(torch.from_numpy(self.arrays(s)["motion"]) for s in self.split(split))


MEL_LEVELS = 255


def quantize_mel(mel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(M, n_mels) log-mel -> uint8 codes and (lo, hi): a step of (hi - lo) / 255, about 0.07 for
    speech, an error far below what the model learns to reproduce."""
    lo, hi = float(mel.min()), float(mel.max())
    scale = (hi - lo) / MEL_LEVELS or 1.0
    codes = np.clip(np.round((mel.astype(np.float32) - lo) / scale), 0, MEL_LEVELS).astype(np.uint8)
    return codes, np.array([lo, hi], dtype=np.float32)


def dequantize_mel(codes: np.ndarray, lo: float, hi: float) -> np.ndarray:
    scale = (hi - lo) / MEL_LEVELS or 1.0
    return (codes.astype(np.float32) * scale + lo).astype(np.float32)


@lru_cache(maxsize=4)
def _load_shard(path: str) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}
