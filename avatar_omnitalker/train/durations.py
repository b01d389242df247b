"""Train the duration model (model/duration.py) on a corpus's exact phoneme timings.

Inputs are what inference will have: espeak-ng's units of each sentence's text and the speaker's
rate measured the way inference measures it (espeak stretched onto an opening cut of the source,
text/timing.fit_phonemes). Targets are the corpus's timings (Kokoro's duration predictor, exact).
A sentence is used only where espeak's units equal the corpus labels one for one (labels made by
another front end, e.g. Kokoro's Mandarin pinyin path or a British espeak voice, sometimes differ).

The figure that matters for aligned mode is frame agreement: the share of mel frames whose phoneme
(or pause) the predicted timing puts where the real speech has it. `evaluate` reports it beside
espeak's uniformly scaled timing, the rule used before.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from loguru import logger
from tqdm import tqdm

from avatar_omnitalker import spec
from avatar_omnitalker.data.shards import Corpus, Source
from avatar_omnitalker.data.splits import HELD_OUT, TRAIN
from avatar_omnitalker.model.duration import (
    FEATURES,
    PAUSE_FLOOR,
    RATE_FEATURE,
    DurationConfig,
    DurationPredictor,
    Durations,
    unit_features,
)
from avatar_omnitalker.text.phonemes import PAUSE, PhonemeTokenizer
from avatar_omnitalker.text.timing import Timed, fit_phonemes, scaled_phonemes

RATE_CUTS_S = (3.0, 5.0, 8.0)  # reference lengths the rate is measured on (a user's will vary)


@dataclass
class Sentence:
    text: str
    ids: list[int]
    feats: np.ndarray  # (n, FEATURES), the rate column filled per draw
    targets: np.ndarray  # (n, 3): log duration, log(pause after + floor), log(pause before + floor)
    labels: list[Timed]  # the corpus timing, from 0 at the segment start
    length_s: float
    rates: tuple[float, ...]  # the source's rate at each RATE_CUTS_S


def source_rates(corpus: Corpus, source: Source) -> tuple[float, ...]:
    rates = []
    for cut in RATE_CUTS_S:
        audio, _, transcript = corpus.opening(source, cut)
        rates.append(fit_phonemes(transcript, audio)[1])
    return tuple(rates)


def sentences(corpora: list[str], split: str, tokenizer: PhonemeTokenizer) -> tuple[list[Sentence], int]:
    """Every usable sentence of the corpora's split, and how many were skipped (labels differ)."""
    out: list[Sentence] = []
    skipped = 0
    for root in corpora:
        corpus = Corpus(root)
        for source in tqdm(corpus.split(split), desc=f"durations {Path(root).name} {split}", unit="source"):
            rates = source_rates(corpus, source)
            for seg in source.meta["segments"]:
                t0 = seg["start"] / spec.FPS
                labels = [(p[0], p[1] - t0, p[2] - t0) for p in seg["phonemes"]]
                made = _sentence(seg["text"], labels, (seg["end"] - seg["start"]) / spec.FPS, rates, tokenizer)
                if made is None:
                    skipped += 1
                else:
                    out.append(made)
    return out, skipped


def _sentence(text: str, labels: list[Timed], length_s: float, rates, tokenizer) -> Sentence | None:
    symbols, feats = unit_features(text, 0.0)
    spoken = [k for k, p in enumerate(labels) if p[0] != PAUSE]
    if not symbols or [labels[k][0] for k in spoken] != symbols:
        return None
    targets = np.zeros((len(spoken), 3), np.float32)
    for i, k in enumerate(spoken):
        _, start, end = labels[k]
        nxt = labels[spoken[i + 1]][1] if i + 1 < len(spoken) else length_s
        targets[i] = (math.log(max(end - start, 1e-3)), math.log(max(nxt - end, 0.0) + PAUSE_FLOOR), 0.0)
    targets[:, 2] = math.log(max(labels[spoken[0]][1], 0.0) + PAUSE_FLOOR)
    return Sentence(text, tokenizer.ids(symbols), feats, targets, labels, length_s, tuple(rates))


def _batch(items: list[Sentence], rng: np.random.Generator):
    n = max(len(s.ids) for s in items)
    ids = torch.zeros(len(items), n, dtype=torch.long)
    feats = torch.zeros(len(items), n, FEATURES)
    targets = torch.zeros(len(items), n, 3)
    mask = torch.zeros(len(items), n, dtype=torch.bool)
    for b, s in enumerate(items):
        m = len(s.ids)
        f = s.feats.copy()
        f[:, RATE_FEATURE] = math.log(s.rates[rng.integers(len(s.rates))])
        ids[b, :m] = torch.tensor(s.ids)
        feats[b, :m] = torch.from_numpy(f)
        targets[b, :m] = torch.from_numpy(s.targets)
        mask[b, :m] = True
    return ids, feats, targets, mask


def loss_of(pred: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """MSE of log duration and log pause after on every unit, of log pause before on the first."""
    m = mask.float()
    per_unit = ((pred[..., :2] - targets[..., :2]) ** 2).sum(-1)
    first = (pred[:, 0, 2] - targets[:, 0, 2]) ** 2
    return (per_unit * m).sum() / m.sum() + first.mean()


def train_durations(
    corpora: list[str],
    out: str | Path,
    steps: int = 3000,
    batch: int = 32,
    lr: float = 2e-3,
    seed: int = 0,
    config: DurationConfig | None = None,
) -> Path:
    """Train on the corpora's training speakers, report on their held-out speakers; write
    out/durations.safetensors, out/durations.json (figures) and out/durations_loss.png."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    out = Path(out)
    tokenizer = PhonemeTokenizer()
    train, skipped = sentences(corpora, TRAIN, tokenizer)
    if not train:
        raise ValueError(f"{corpora}: no training sentence whose labels match espeak-ng's units")
    logger.info("duration model: {} training sentences ({} skipped: labels differ from espeak)", len(train), skipped)
    net = DurationPredictor(config or DurationConfig(vocab_size=len(tokenizer)))
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s / steps, 1.0))))
    curve: list[tuple[int, float]] = []
    running = 0.0
    net.train()
    for step in tqdm(range(1, steps + 1), desc="train durations", unit="step"):
        picks = rng.choice(len(train), size=min(batch, len(train)), replace=False)
        ids, feats, targets, mask = _batch([train[i] for i in picks], rng)
        loss = loss_of(net(ids, feats, mask), targets, mask)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        running += loss.item()
        if step % 50 == 0:
            curve.append((step, running / 50))
            running = 0.0
    model = Durations(net, tokenizer)
    test, test_skipped = sentences(corpora, HELD_OUT, tokenizer)
    figures = {"train_sentences": len(train), "train_skipped": skipped, "steps": steps}
    figures |= {"heldout": evaluate(model, test), "heldout_skipped": test_skipped}
    logger.info("duration model, held-out speakers: {}", figures["heldout"])
    path = model.save(out, extra={"corpora": ",".join(corpora), "steps": str(steps)})
    (out / "durations.json").write_text(json.dumps(figures, indent=1) + "\n")
    _plot(curve, out / "durations_loss.png")
    return path


def frame_agreement(predicted: list[Timed], truth: list[Timed], length_s: float) -> float:
    """Share of mel frames where both timings sound the same unit (pauses count as a unit)."""
    frames = max(1, round(length_s * spec.SAMPLE_RATE / spec.HOP_LENGTH))
    t = np.arange(frames) * spec.HOP_LENGTH / spec.SAMPLE_RATE
    return float(np.mean(_unit_at(predicted, t) == _unit_at(truth, t)))


def _unit_at(timed: list[Timed], t: np.ndarray) -> np.ndarray:
    """Index of the spoken unit sounding at each time, -1 in pauses."""
    at = np.full(t.shape, -1)
    for k, (_, a, b) in enumerate(p for p in timed if p[0] != PAUSE):
        at[(t >= a) & (t < b)] = k
    return at


def evaluate(model: Durations, items: list[Sentence]) -> dict[str, float]:
    """Frame agreement and end-time error of the model and of espeak scaled to the rate (5 s cut)."""
    if not items:
        return {"sentences": 0}
    rows: dict[str, list[float]] = {"model": [], "espeak": []}
    length: dict[str, list[float]] = {"model": [], "espeak": []}
    for s in items:
        rate = s.rates[RATE_CUTS_S.index(5.0)]
        true_end = max(p[2] for p in s.labels if p[0] != PAUSE)
        for name in rows:  # both as inference times a request: from the end of the reference
            if name == "model":
                timed, spoken = model.timings(s.text, rate, 0.0)
            else:  # the rule before: espeak's span scaled to the rate, no leading pause
                timed, spoken = scaled_phonemes(s.text, rate, 0.0)
            rows[name].append(frame_agreement(timed, s.labels, s.length_s))
            length[name].append(abs(spoken - true_end))
    return {
        "sentences": len(items),
        **{f"frame_agreement_{k}": round(float(np.mean(v)), 4) for k, v in rows.items()},
        **{f"length_error_s_{k}": round(float(np.mean(v)), 4) for k, v in length.items()},
    }


def _plot(curve: list[tuple[int, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot([c[0] for c in curve], [c[1] for c in curve])
    ax.set_xlabel("step")
    ax.set_ylabel("duration loss (log-s MSE)")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
