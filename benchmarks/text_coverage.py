"""How much of what the evaluation asks the corpus text ever says: for each grammar version, the
share of the held-out sentences' phonemes and phoneme-to-phoneme transitions that occur in a
corpus-sized sample of training sentences (a model hears transitions, not phonemes alone).

    python benchmarks/text_coverage.py [--sample 1500] [--open-text runs/open-text --open-share 0.7]

A Mandarin sample is drawn as a Mandarin speaker talks: MIXED_SHARE of it code-switched, where the
version has such sentences; with --open-text, the newest version with that share of open
text (data/open_text.py) in place of grammar sentences, as synth-corpus mixes it. Labels are
espeak-ng's, as the aligned text mode uses them.
"""

from __future__ import annotations

import argparse
import random

from avatar_omnitalker.data.corpus import MIXED_SHARE, OPEN_SHARE
from avatar_omnitalker.data.open_text import OpenText
from avatar_omnitalker.data.sentences import TEXT_VERSIONS, sentences
from avatar_omnitalker.data.splits import TRAIN
from avatar_omnitalker.eval.report import heldout_sentences
from avatar_omnitalker.text.phonemes import PAUSE
from avatar_omnitalker.text.timing import phonemize


def labels(text: str) -> list[str]:
    return [symbol for symbol, _, _ in phonemize(text)[0] if symbol != PAUSE]


def sample(lang: str, version: int, n: int, seed: int, real: tuple[str, ...] = (), share: float = 0.0) -> list[str]:
    rng = random.Random(seed)
    plain = sentences(lang, TRAIN, version)
    mixed = sentences("mixed", TRAIN, version) if lang == "zh" else ()
    out = []
    for _ in range(n):
        text = rng.choice(mixed) if mixed and rng.random() < MIXED_SHARE else rng.choice(plain)
        out.append(rng.choice(real) if real and rng.random() < share else text)
    return out


def coverage(training: list[str], heldout: list[str]) -> tuple[float, float, int]:
    """(share of held-out phonemes seen, share of held-out transitions seen, distinct transitions seen)."""
    seen, pairs = set(), set()
    for text in training:
        units = labels(text)
        seen.update(units)
        pairs.update(zip(units, units[1:]))
    hits = total = pair_hits = pair_total = 0
    for text in heldout:
        units = labels(text)
        hits += sum(u in seen for u in units)
        total += len(units)
        pair_hits += sum(p in pairs for p in zip(units, units[1:]))
        pair_total += len(units) - 1
    return hits / total, pair_hits / pair_total, len(pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=int, default=1500, help="training sentences per language (a 40-min corpus)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--open-text", help="an open-text folder (omnitalker open-text): adds its rows")
    parser.add_argument("--open-share", type=float, default=OPEN_SHARE)
    args = parser.parse_args()
    opened = OpenText.load(args.open_text) if args.open_text else None
    print("| held-out set | grammar version | phonemes seen | transitions seen | distinct transitions in the sample |")
    print("|---|---|---|---|---|")
    for name, lang in (("en", "en"), ("zh", "zh"), ("mixed", "zh")):
        for version in TEXT_VERSIONS:
            phonemes, transitions, distinct = coverage(
                sample(lang, version, args.sample, args.seed), heldout_sentences(name)
            )
            print(f"| {name} | {version} | {phonemes:.3f} | {transitions:.3f} | {distinct} |")
        if opened is not None:
            real = opened.sentences(lang, TRAIN)
            drawn = sample(lang, TEXT_VERSIONS[-1], args.sample, args.seed, real, args.open_share)
            phonemes, transitions, distinct = coverage(drawn, heldout_sentences(name))
            label = f"{TEXT_VERSIONS[-1]} + open text ({args.open_share:g})"
            print(f"| {name} | {label} | {phonemes:.3f} | {transitions:.3f} | {distinct} |")


if __name__ == "__main__":
    main()
