"""Is it the words? Held-out speakers saying a grammar sentence, and saying an evaluation sentence.

    python benchmarks/grammar_vs_open.py [--checkpoint DIR --vocoder DIR] --corpus runs/corpus-kokoro --lang en --n 8

For n held-out speakers of the corpus (references cut as `omnitalker eval` cuts them), the error
rate (WER en / CER zh, the eval's ear) of their own last corpus sentence (grammar text, unseen by
the model when the speaker is held out) and of the i-th held-out evaluation sentence (words the
grammars never say). The gap is what open text (data/open_text.py) is for. Figures only.
"""

from __future__ import annotations

import json

import numpy as np
from corpus_listening import listening_parser, load

from avatar_omnitalker.data.splits import HELD_OUT
from avatar_omnitalker.eval.report import heldout_sentences, source_reference


def main() -> None:
    args = listening_parser(checkpoint_required=False).parse_args()
    corpus, pipe, ear = load(args)
    evaluation = heldout_sentences(args.lang)
    rows: dict[str, list[float]] = {"grammar sentence": [], "evaluation sentence": []}
    seconds: dict[str, list[float]] = {k: [] for k in rows}
    sources = [s for s in corpus.split(HELD_OUT) if s.meta["lang"] == args.lang][: args.n]
    for i, source in enumerate(sources):
        pipe.set_reference(source_reference(corpus, source))
        for name, text in (
            ("grammar sentence", source.meta["segments"][-1]["text"]),
            ("evaluation sentence", evaluation[i]),
        ):
            result = pipe.generate(text, progress=False)
            rows[name].append(ear.error_rate(text, result.audio))
            seconds[name].append(result.duration)
    summary = {
        k: {"error": round(float(np.mean(v)), 3), "seconds": round(float(np.mean(seconds[k])), 1)}
        for k, v in rows.items()
    }
    print(json.dumps(summary | {"lang": args.lang, "n": len(sources), "checkpoint": args.checkpoint or "built-in"}))


if __name__ == "__main__":
    main()
