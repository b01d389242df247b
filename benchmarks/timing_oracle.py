"""How much do phoneme timings decide intelligibility? One checkpoint, three timings of the same text.

    python benchmarks/timing_oracle.py --checkpoint DIR --vocoder DIR --durations FILE \
        --corpus runs/corpus-kokoro --lang en --split test --n 8

For n sources of the corpus split (references cut as `omnitalker eval` cuts them), each speaks its
own last sentence (said after the reference) timed three ways: espeak-ng's timings scaled to the
reference's rate (the rule without a duration model), the duration model's, and the corpus's own
timings (what the speaker really did: the ceiling any duration model can reach). Error rate by the
eval's ear (WER en / CER zh). Figures only; nothing here passes or fails.
"""

from __future__ import annotations

import json

import numpy as np
from corpus_listening import listening_parser, load

from avatar_omnitalker import spec
from avatar_omnitalker.data.splits import HELD_OUT, SPLITS
from avatar_omnitalker.eval.report import REF_SECONDS, source_reference
from avatar_omnitalker.infer.conditioning import AlignedText
from avatar_omnitalker.model.duration import Durations


class CorpusTiming:
    """Times one sentence as the corpus recorded it (the target part of a request)."""

    def __init__(self, base: AlignedText, segment: dict) -> None:
        t0 = segment["start"] / spec.FPS
        offset = base.reference.duration
        self.base = base
        self.timed = [(p[0], p[1] - t0 + offset, p[2] - t0 + offset) for p in segment["phonemes"]]
        self.frames = segment["end"] - segment["start"]

    def request(self, text: str, speed: float) -> tuple[list[int], int]:
        total = self.base.reference.frames + self.frames
        frames = spec.mel_frames_for_motion(total)
        ids = self.base.tokenizer.frame_ids(self.base.ref_phonemes + self.timed, frames, strict=False)
        return ids, total


def main() -> None:
    parser = listening_parser()
    parser.add_argument("--durations", required=True, help="a durations.safetensors (train-durations)")
    parser.add_argument("--split", default=HELD_OUT, choices=SPLITS)
    args = parser.parse_args()
    corpus, pipe, ear = load(args, durations="espeak")  # each timing below is set on pipe.text
    durations = Durations.load(args.durations)
    rows: dict[str, list[float]] = {"espeak timings": [], "duration model": [], "corpus timings": []}
    sources = [s for s in corpus.split(args.split) if s.meta["lang"] == args.lang][: args.n]
    for source in sources:
        said = source.meta["segments"][-1]  # after the reference cut: not part of what the model hears
        pipe.set_reference(source_reference(corpus, source))
        espeak = pipe.text
        timings = {
            "espeak timings": espeak,
            "duration model": AlignedText(pipe.tokenizer, pipe.prompt, durations),
            "corpus timings": CorpusTiming(espeak, said),
        }
        for name, timing in timings.items():
            pipe.text = timing
            rows[name].append(ear.error_rate(said["text"], pipe.generate(said["text"], progress=False).audio))
    summary = {k: round(float(np.mean(v)), 3) for k, v in rows.items()}
    print(json.dumps(summary | {"lang": args.lang, "split": args.split, "n": len(sources), "ref_s": REF_SECONDS}))


if __name__ == "__main__":
    main()
