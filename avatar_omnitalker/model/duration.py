"""A learned duration model for aligned text: how long each phoneme lasts, and the pauses.

Aligned mode lays phoneme ids over mel frames, so the timings decide what the network hears at
every frame. espeak-ng's own timings, uniformly stretched to the reference's rate, are what an
espeak-trained model learned from; a model trained on natural speech learned natural timings, and
heard with espeak's it is much less intelligible (benchmarks/timing_oracle.py, the natural-voice
fine-tune with the corpus's own timings in their place: English WER 0.41 -> 0.20 on training
speakers, 0.39 -> 0.28 on held-out ones). This network predicts natural timings from what inference knows: espeak-ng's
units of the text (symbol, stress, word edges, espeak's own durations and pauses) and the
reference's rate. It travels beside the checkpoint it was trained for (DURATION_FILE).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import Tensor, nn

from avatar_omnitalker.errors import OmniTalkerError
from avatar_omnitalker.fileio import atomic_path
from avatar_omnitalker.model.checkpoint import CheckpointError, load_weights
from avatar_omnitalker.text.espeak import Phoneme
from avatar_omnitalker.text.modes import tokenizer_for
from avatar_omnitalker.text.phonemes import PAUSE, PHONEME_VOCAB, PhonemeTokenizer
from avatar_omnitalker.text.timing import Timed, espeak_units

FORMAT = "avatar-omnitalker/durations/1"
DURATION_FILE = "durations.safetensors"  # beside a checkpoint's model.safetensors
PAUSE_FLOOR = 0.02  # s: pauses are learned as log(pause + floor), so "no pause" is a finite target
MIN_UNIT_S = 0.02  # a predicted phoneme lasts at least this long (half a motion frame)
FEATURES = 8  # per unit, see unit_features()
RATE_FEATURE = 6  # the column holding log rate (training draws it per reference cut)


class DurationError(OmniTalkerError, ValueError):
    pass


@dataclass(frozen=True)
class DurationConfig:
    vocab_size: int
    dim: int = 128
    layers: int = 4
    kernel: int = 5
    dropout: float = 0.1


def spoken_units(text: str) -> list[Phoneme]:
    """espeak-ng's non-pause units of `text`, the sequence a duration is predicted for."""
    return [p for p in espeak_units(text) if p.symbol != PAUSE]


def unit_features(text: str, log_rate: float) -> tuple[list[str], np.ndarray]:
    """(symbols, (n, FEATURES) float32) of the text's spoken units; log_rate: log of the reference's
    seconds per espeak second (text/timing.fit_phonemes)."""
    units = espeak_units(text)
    spoken = [k for k, p in enumerate(units) if p.symbol != PAUSE]
    n = len(spoken)
    feats = np.zeros((n, FEATURES), np.float32)
    for i, k in enumerate(spoken):
        p = units[k]
        prev_word = units[spoken[i - 1]].word_index if i else None
        next_word = units[spoken[i + 1]].word_index if i + 1 < n else None
        before = p.start - (units[spoken[i - 1]].end if i else 0.0)
        after = (units[spoken[i + 1]].start if i + 1 < n else units[-1].end) - p.end
        feats[i] = (
            float(p.stressed),
            float(p.word_index != prev_word),
            float(p.word_index != next_word),
            np.log(max(p.end - p.start, 1e-3)),
            np.log(max(before, 0.0) + PAUSE_FLOOR),
            np.log(max(after, 0.0) + PAUSE_FLOOR),
            log_rate,
            i / max(n - 1, 1),
        )
    return [units[k].symbol for k in spoken], feats


class DurationPredictor(nn.Module):
    """Units -> (log duration s, log(pause after + floor), log(pause before + floor)) per unit.

    Convolutions over the unit sequence (a FastSpeech-style variance predictor): a phoneme's length
    depends on its neighbours, its word and the phrase edges near it."""

    def __init__(self, config: DurationConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.embed = nn.Embedding(c.vocab_size, c.dim)
        self.features = nn.Linear(FEATURES, c.dim)
        self.convs = nn.ModuleList(nn.Conv1d(c.dim, c.dim, c.kernel, padding=c.kernel // 2) for _ in range(c.layers))
        self.norms = nn.ModuleList(nn.LayerNorm(c.dim) for _ in range(c.layers))
        self.dropout = nn.Dropout(c.dropout)
        self.head = nn.Linear(c.dim, 3)

    def forward(self, ids: Tensor, feats: Tensor, mask: Tensor) -> Tensor:
        # ids (b, n) long, feats (b, n, FEATURES), mask (b, n) bool -> (b, n, 3)
        x = self.embed(ids) + self.features(feats)
        keep = mask[..., None].to(x.dtype)
        for conv, norm in zip(self.convs, self.norms):
            y = conv((x * keep).transpose(1, 2)).transpose(1, 2)
            x = x + self.dropout(norm(torch.nn.functional.gelu(y)))
        return self.head(x) * keep


class Durations:
    """A trained DurationPredictor and the phoneme table it was trained with."""

    def __init__(self, net: DurationPredictor, tokenizer: PhonemeTokenizer | None = None, source: str = "") -> None:
        self.net = net.eval()
        self.source = source  # the file it was loaded from (reports name it)
        # the phoneme table only ever grows at the end: a model trained before symbols were appended
        # reads the table as it was then (text/modes.tokenizer_for)
        self.tokenizer = tokenizer or tokenizer_for(PHONEME_VOCAB, net.config.vocab_size)
        if len(self.tokenizer) != net.config.vocab_size:
            raise DurationError(
                f"duration model knows {net.config.vocab_size} phonemes, the phoneme table has {len(self.tokenizer)}"
            )

    @torch.no_grad()
    def timings(self, text: str, rate: float, offset_s: float, speed: float = 1.0) -> tuple[list[Timed], float]:
        """Timed units of new text for a speaker of `rate` (reference s per espeak s), starting at
        offset_s, pauses left as gaps; and the spoken length from offset_s to the last unit's end
        (scaled_phonemes' contract, so either can time a request)."""
        symbols, feats = unit_features(text, float(np.log(rate)))
        if not symbols:
            return [], 0.0
        ids = torch.tensor([self.tokenizer.ids(symbols)])  # (1, n)
        mask = torch.ones(1, len(symbols), dtype=torch.bool)
        out = self.net(ids, torch.from_numpy(feats)[None], mask)[0].numpy()  # (n, 3)
        dur = np.maximum(np.exp(out[:, 0]), MIN_UNIT_S) / speed
        after = np.maximum(np.exp(out[:, 1]) - PAUSE_FLOOR, 0.0) / speed
        t = offset_s + max(float(np.exp(out[0, 2])) - PAUSE_FLOOR, 0.0) / speed
        timed: list[Timed] = []
        for k, sym in enumerate(symbols):
            timed.append((sym, t, t + float(dur[k])))
            t += float(dur[k]) + (float(after[k]) if k + 1 < len(symbols) else 0.0)
        return timed, t - offset_s

    def save(self, path: str | Path, extra: dict[str, str] | None = None) -> Path:
        path = Path(path)
        if path.suffix != ".safetensors":
            path = path / DURATION_FILE
        tensors = {k: v.detach().contiguous().cpu() for k, v in self.net.state_dict().items()}
        meta = {"format": FORMAT, "config": json.dumps(asdict(self.net.config))}
        meta.update({f"extra.{k}": str(v) for k, v in (extra or {}).items()})
        with atomic_path(path) as tmp:
            save_file(tensors, tmp, metadata=meta)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Durations:
        path = Path(path)
        if path.is_dir():
            path = path / DURATION_FILE
        if not path.is_file():
            raise FileNotFoundError(f"duration model not found: {path}")
        try:
            with safe_open(str(path), framework="pt") as f:
                meta = f.metadata() or {}
        except Exception as err:  # safetensors raises its own types for other files
            raise DurationError(f"{path}: not a safetensors file ({err})") from None
        if meta.get("format") != FORMAT:
            raise DurationError(f"{path}: not an avatar-omnitalker duration model (format {meta.get('format')!r})")
        net = DurationPredictor(DurationConfig(**json.loads(meta["config"])))
        try:
            load_weights(net, path)  # the checkpoints' strict loader: every name and shape must fit
        except CheckpointError as err:
            raise DurationError(f"{path}: tensors do not fit the duration model: {err}") from None
        return cls(net, source=str(path))


def beside(checkpoint: str | Path) -> Path | None:
    """The duration model that travels with a checkpoint (file or folder), if there is one."""
    path = Path(checkpoint)
    folder = path if path.is_dir() else path.parent
    found = folder / DURATION_FILE
    return found if found.is_file() else None
