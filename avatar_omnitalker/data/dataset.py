"""Training pairs from corpus shards: a reference clip and a target clip of the same source.

This is how OmniTalker learns in context: the reference shows the voice, prosody and motion
style; the target is what the model must produce in that style. Pairs are drawn at segment
(sentence) boundaries so both transcripts are exact. Everything random derives from
(seed, epoch), so an epoch's pairs and batches are reproducible (exact resume, DDP equivalence).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from avatar_omnitalker import spec
from avatar_omnitalker.audio.mel import MelExtractor
from avatar_omnitalker.data.shards import Corpus, CorpusError
from avatar_omnitalker.model.cfm import TrainBatch
from avatar_omnitalker.motion.stats import MotionStats
from avatar_omnitalker.text.modes import AnyTokenizer, mode_of


@dataclass(frozen=True)
class Pair:
    source: int  # index into the dataset's sources
    ref: tuple[int, int]  # segment range [a, b)
    target: tuple[int, int]


@dataclass
class Example:
    mel: torch.Tensor  # (Na, 100)
    motion: torch.Tensor  # (K, 61) normalised
    text: list[int]
    ref_frames: int

    @property
    def frames(self) -> int:
        return self.motion.shape[0]


class PairDataset:
    def __init__(
        self,
        corpus: Corpus,
        split: str,
        stats: MotionStats,
        tokenizer: AnyTokenizer,
        seed: int = 0,
        max_ref_s: float = 10.0,
        max_target_s: float = 10.0,
    ) -> None:
        """`tokenizer` decides the text mode (text/modes.py): phonemes per frame, or F5 text."""
        self.corpus = corpus
        self.sources = corpus.split(split)
        if not self.sources:
            raise CorpusError(f"{corpus.root}: no sources in split {split!r}")
        self.stats = stats
        self.tokenizer = tokenizer
        self.text_mode = mode_of(tokenizer)
        self.seed = seed
        self.max_ref = int(max_ref_s * spec.FPS)
        self.max_target = int(max_target_s * spec.FPS)
        self.mel = MelExtractor()

    def pairs(self, epoch: int) -> list[Pair]:
        """Deterministic pairs for an epoch: about one per two segments of every source."""
        rng = np.random.default_rng([self.seed, epoch])
        out = []
        for si, source in enumerate(self.sources):
            segs = source.meta["segments"]
            if len(segs) < 2:
                continue
            for _ in range(max(1, len(segs) // 2)):
                out.append(self._draw(si, segs, rng))
        return out

    def _span(self, segs: list[dict], start: int, limit: int) -> int:
        end = start + 1
        while end < len(segs) and segs[end]["end"] - segs[start]["start"] <= limit:
            end += 1
        return end

    def _draw(self, si: int, segs: list[dict], rng: np.random.Generator) -> Pair:
        """A reference span from a random sentence, a target span from the sentences outside it."""
        a = int(rng.integers(len(segs)))
        ref = (a, self._span(segs, a, self.max_ref))
        others = [i for i in range(len(segs)) if i < ref[0] or i >= ref[1]]
        if not others:  # the whole source fits in one reference: keep one sentence as reference
            ref = (a, a + 1)
            others = [i for i in range(len(segs)) if i != a]
        t = int(rng.choice(others))
        end = self._span(segs, t, self.max_target)
        return Pair(si, ref, (t, min(end, ref[0]) if t < ref[0] else end))

    def load(self, pair: Pair) -> Example:
        source = self.sources[pair.source]
        segs = source.meta["segments"]
        arrays = self.corpus.arrays(source)
        motion = arrays["motion"]
        spans = [
            (segs[pair.ref[0]]["start"], segs[pair.ref[1] - 1]["end"]),
            (segs[pair.target[0]]["start"], segs[pair.target[1] - 1]["end"]),
        ]
        mot = np.concatenate([motion[a:b] for a, b in spans])
        if "audio" in arrays:
            audio = arrays["audio"]
            wav = np.concatenate([audio[spec.samples_for_frames(a) : spec.samples_for_frames(b)] for a, b in spans])
            mel = self.mel.for_clip(torch.from_numpy(wav))
        else:
            mel = torch.from_numpy(stored_mel(arrays["mel"], spans))
        ref_frames = spans[0][1] - spans[0][0]
        if self.text_mode == "implicit":
            ref_text = " ".join(s["text"] for s in segs[pair.ref[0] : pair.ref[1]])
            tgt_text = " ".join(s["text"] for s in segs[pair.target[0] : pair.target[1]])
            ids = self.tokenizer.encode(ref_text + " " + tgt_text)
        else:
            phonemes = []
            offset = 0.0
            for (a, b), (s0, s1) in zip(spans, (pair.ref, pair.target)):
                shift = offset - a / spec.FPS
                for seg in segs[s0:s1]:
                    phonemes += [(p[0], p[1] + shift, p[2] + shift) for p in seg["phonemes"]]
                offset += (b - a) / spec.FPS
            ids = self.tokenizer.frame_ids(phonemes, mel.shape[0])
        return Example(mel, self.stats.normalize(torch.from_numpy(mot)), ids, ref_frames)


def stored_mel(mel: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """The mel of the concatenated spans, cut from a source's stored mel (a packed corpus).

    A motion frame is 3.75 mel hops, so a span's first mel frame is rounded to the nearest hop
    (at most half a hop, 5 ms, early or late); the total length is the one for_clip would give."""
    total = spec.mel_frames_for_motion(sum(b - a for a, b in spans))
    parts, taken = [], 0
    for k, (a, b) in enumerate(spans):
        n = total - taken if k == len(spans) - 1 else round((b - a) * spec.SAMPLES_PER_FRAME / spec.HOP_LENGTH)
        start = round(a * spec.SAMPLES_PER_FRAME / spec.HOP_LENGTH)
        part = mel[start : start + n]
        if part.shape[0] < n:  # the source's last frames: repeat the final one (silence)
            part = np.concatenate([part, np.repeat(mel[-1:], n - part.shape[0], 0)])
        parts.append(part)
        taken += n
    return np.concatenate(parts).astype(np.float32)


def dynamic_batches(lengths: list[int], max_frames: int, max_samples: int, seed: int, epoch: int) -> list[list[int]]:
    """Group examples of similar length so that (longest x count) <= max_frames; shuffled batches."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches, current, longest = [], [], 0
    for i in order:
        longest_if = max(longest, lengths[i])
        if current and (longest_if * (len(current) + 1) > max_frames or len(current) >= max_samples):
            batches.append(current)
            current, longest_if = [], lengths[i]
        current.append(i)
        longest = longest_if
    if current:
        batches.append(current)
    rng = np.random.default_rng([seed, epoch, 7])
    return [batches[i] for i in rng.permutation(len(batches))]


def collate(examples: list[Example]) -> TrainBatch:
    b = len(examples)
    na = max(e.mel.shape[0] for e in examples)
    nm = max(e.frames for e in examples)
    nt = max(len(e.text) for e in examples)
    mel = torch.zeros(b, na, spec.N_MELS)
    motion = torch.zeros(b, nm, spec.MOTION_DIM)
    text = torch.full((b, nt), -1, dtype=torch.long)
    for i, e in enumerate(examples):
        mel[i, : e.mel.shape[0]] = e.mel
        motion[i, : e.frames] = e.motion
        text[i, : len(e.text)] = torch.tensor(e.text, dtype=torch.long)
    return TrainBatch(
        mel,
        torch.tensor([e.mel.shape[0] for e in examples]),
        text,
        motion,
        torch.tensor([e.frames for e in examples]),
        torch.tensor([e.ref_frames for e in examples]),
    )
