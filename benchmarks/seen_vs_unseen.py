"""Underfitting or not generalising? A checkpoint heard on what it trained on and on what it did not.

    python benchmarks/seen_vs_unseen.py --checkpoint DIR --vocoder DIR --corpus runs/corpus-kokoro --lang en --n 8

For n training speakers and n held-out speakers of the corpus (references cut as `omnitalker eval`
cuts them), the error rate (WER en / CER zh, the eval's ear) of: a training speaker saying a
sentence it said in training; a training speaker saying a held-out sentence; a held-out speaker
saying that training sentence. Figures only; nothing here passes or fails.
"""

from __future__ import annotations

import json

import numpy as np
from corpus_listening import listening_parser, load

from avatar_omnitalker.data.splits import HELD_OUT, TRAIN
from avatar_omnitalker.eval.report import heldout_sentences, source_reference


def main() -> None:
    args = listening_parser().parse_args()
    corpus, pipe, ear = load(args)
    heldout = heldout_sentences(args.lang)
    rows: dict[str, list[float]] = {"train speaker, its training sentence": [], "train speaker, held-out sentence": []}
    rows["held-out speaker, that training sentence"] = []
    seen = [s for s in corpus.split(TRAIN) if s.meta["lang"] == args.lang][: args.n]
    unseen = [s for s in corpus.split(HELD_OUT) if s.meta["lang"] == args.lang][: args.n]
    for i, (src, other) in enumerate(zip(seen, unseen)):
        said = src.meta["segments"][-1]["text"]  # spoken in training, not part of the reference cut
        pipe.set_reference(source_reference(corpus, src))
        rows["train speaker, its training sentence"].append(
            ear.error_rate(said, pipe.generate(said, progress=False).audio)
        )
        text = heldout[i % len(heldout)]
        rows["train speaker, held-out sentence"].append(ear.error_rate(text, pipe.generate(text, progress=False).audio))
        pipe.set_reference(source_reference(corpus, other))
        rows["held-out speaker, that training sentence"].append(
            ear.error_rate(said, pipe.generate(said, progress=False).audio)
        )
    print(json.dumps({k: round(float(np.mean(v)), 3) for k, v in rows.items()} | {"lang": args.lang, "n": len(seen)}))


if __name__ == "__main__":
    main()
