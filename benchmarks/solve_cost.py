"""What one batched solve (`Pipeline.synthesize`) costs against the number of requests and the
length of the longest text, and how well the scheduler's cost model (`realtime/cost.py`) and a
plain cost per character predict it (prints figures, asserts nothing).

The texts are held-out English sentences (eval/heldout/en.txt) joined and cut to each length.

python benchmarks/solve_cost.py [--lengths 12 30 51 71 120] [--requests 1 2] [--repeats 2]
    [pipeline options, e.g. --dtype bfloat16 --device cuda]
"""

from __future__ import annotations

import argparse
import json
import time

from avatar_omnitalker import spec
from avatar_omnitalker.eval.report import heldout_sentences
from avatar_omnitalker.infer.chunking import text_weight
from avatar_omnitalker.infer.config import PipelineConfig
from avatar_omnitalker.infer.pipeline import Pipeline, resolve_device
from avatar_omnitalker.realtime.cost import SolveCost


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lengths", type=int, nargs="+", default=[12, 30, 51, 71, 120], help="text lengths (chars)")
    parser.add_argument("--requests", type=int, nargs="+", default=[1, 2], help="batch sizes")
    parser.add_argument("--repeats", type=int, default=2, help="solves per case; the fastest counts")
    PipelineConfig.add_arguments(parser)
    args = parser.parse_args()
    config = PipelineConfig.from_args(args)
    pipe = Pipeline.load(config)
    source = " ".join(heldout_sentences("en"))
    if max(args.lengths) > len(source):
        raise SystemExit(f"--lengths: at most {len(source)} characters of held-out text")
    for text in ("Hello there!", source[:60]):  # warm-up: first-call allocations and kernel choice
        pipe.synthesize([text])
    rows = []
    for n in args.requests:
        for length in args.lengths:
            texts = [source[:length]] * n
            best = float("inf")
            for _ in range(args.repeats):
                start = time.perf_counter()
                out = pipe.synthesize(texts, list(range(n)))
                best = min(best, time.perf_counter() - start)
            speech = round(out[0][0].size / spec.SAMPLE_RATE, 2)
            rows.append(dict(requests=n, longest=text_weight(texts[0]), seconds=round(best, 3), speech_s=speech))
    cost = SolveCost(decay=0.999)  # all cases alike: the fit a long-running process would reach
    for r in rows:
        cost.observe(r["requests"], r["longest"], r["seconds"])
    per_char = sum(r["seconds"] for r in rows) / sum(r["requests"] * r["longest"] for r in rows)
    for r in rows:
        r["cost_model_s"] = round(cost.predict(r["requests"], r["longest"]), 3)
        r["per_char_model_s"] = round(per_char * r["requests"] * r["longest"], 3)
        print(json.dumps(r))
    errors = {
        "cost_model": max(abs(r["cost_model_s"] / r["seconds"] - 1) for r in rows),
        "per_char_model": max(abs(r["per_char_model_s"] / r["seconds"] - 1) for r in rows),
    }
    print(
        json.dumps(
            {
                "device": resolve_device(config.device),
                "nfe": config.nfe,
                "per_request_s": round(cost.per_request, 4),
                "per_char_s": round(cost.per_weight, 5),
                "worst_relative_error": {k: round(v, 3) for k, v in errors.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
