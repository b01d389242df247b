"""Offline generation (`Pipeline.generate`) end to end: wall time per second of speech, and with
--score what the speed costs, heard by the independent ear and embedders (prints figures, asserts
nothing).

The texts are paragraphs of three consecutive held-out English sentences (eval/heldout/en.txt,
written outside the corpus generator). Run one configuration per process: espeak-ng carries state
between utterances, so configurations compared inside one process would not hear the same timings.

python benchmarks/generate_time.py [--paragraphs 8] [--score] [--render] [pipeline options, e.g.
    --dtype bfloat16 --offline_chunk_s 5 --engine onnx --checkpoint DIR --reference REF.npz]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from avatar_omnitalker.eval.report import heldout_sentences
from avatar_omnitalker.infer.config import PipelineConfig
from avatar_omnitalker.infer.pipeline import Pipeline, model_dtype, resolve_device
from avatar_omnitalker.render.factory import make_renderer


def paragraphs(count: int) -> list[str]:
    lines = heldout_sentences("en")
    if count * 3 > len(lines):
        raise SystemExit(f"--paragraphs: at most {len(lines) // 3} paragraphs of 3 held-out sentences")
    return [" ".join(lines[3 * i : 3 * i + 3]) for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--paragraphs", type=int, default=8, help="texts to speak (3 held-out sentences each)")
    parser.add_argument("--score", action="store_true", help="also WER (whisper), voice similarity and lip-sync lag")
    parser.add_argument("--render", action="store_true", help="also render the frames")
    PipelineConfig.add_arguments(parser)
    args = parser.parse_args()
    config = PipelineConfig.from_args(args)
    pipe = Pipeline.load(config)
    device = resolve_device(config.device)
    pipe.generate("Hello there.", progress=False)  # warm-up: first-call allocations and kernel choice
    texts = paragraphs(args.paragraphs)
    seconds = speech = render = 0.0
    chunks = 0
    results = []
    for text in texts:
        chunks += len(pipe.plan(text))
        start = time.perf_counter()
        result = pipe.generate(text, progress=False)
        seconds += time.perf_counter() - start
        speech += result.duration
        results.append(result)
        if args.render:
            start = time.perf_counter()
            for _ in make_renderer(config, pipe.reference).frames(result.motion):
                pass
            render += time.perf_counter() - start
    figures = {
        "model": pipe.model.config.name,
        "device": device,
        "dtype": str(model_dtype(config.dtype, device, config.engine)).removeprefix("torch."),
        "engine": config.engine,
        "nfe": config.nfe,
        "prompt_s": config.prompt_s,
        "prompt_seconds": pipe.prompt.duration,
        "offline_chunk_s": config.offline_chunk_s,
        "paragraphs": len(texts),
        "model_calls": chunks,
        "speech_seconds": round(speech, 2),
        "generate_seconds": round(seconds, 3),
        "rtf": round(seconds / speech, 4),
        "render_seconds": round(render, 3),
    }
    if args.score:
        figures |= score(pipe, texts, results)
    print(json.dumps(figures))


def score(pipe: Pipeline, texts: list[str], results: list) -> dict:
    """WER of whisper tiny.en, cosine of each output to the reference's voice (two embedders), and
    the pooled mouth-to-sound lag."""
    from avatar_omnitalker.eval.dvector import DVectorEncoder
    from avatar_omnitalker.eval.ear import Ear
    from avatar_omnitalker.eval.metrics import SpeakerEncoder, cosine, pooled_lip_sync, sync_curve

    ear = Ear("en")
    wer = [ear.error_rate(text, r.audio) for text, r in zip(texts, results)]
    out = {"wer": round(float(np.mean(wer)), 3), "wer_each": [round(w, 3) for w in wer]}
    for name, encoder in (("resemblyzer", SpeakerEncoder()), ("dvector", DVectorEncoder())):
        own = encoder.embed(pipe.reference.audio)
        out[f"sim_{name}"] = round(float(np.mean([cosine(encoder.embed(r.audio), own) for r in results])), 3)
    lag, corr = pooled_lip_sync([sync_curve(r.motion, r.audio) for r in results])
    out["lip_lag_frames"], out["lip_corr"] = lag, round(corr, 3)
    return out


if __name__ == "__main__":
    main()
