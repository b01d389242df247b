"""What the benchmarks that put a checkpoint on corpus speakers share (seen_vs_unseen.py,
grammar_vs_open.py, timing_oracle.py, style_features.py): the options naming checkpoint, corpus
and language, and the corpus, pipeline and ear they load. One home, so they all hear and sample
with the same settings."""

from __future__ import annotations

import argparse

from avatar_omnitalker.data.shards import Corpus
from avatar_omnitalker.eval.ear import Ear
from avatar_omnitalker.infer.config import PipelineConfig
from avatar_omnitalker.infer.pipeline import Pipeline


def listening_parser(checkpoint_required: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    if checkpoint_required:
        parser.add_argument("--checkpoint", required=True)
    else:
        parser.add_argument("--checkpoint", help="default: the built-in model")
    parser.add_argument("--vocoder")
    parser.add_argument("--corpus", required=True, help="an original (unpacked) corpus")
    parser.add_argument("--lang", default="en", choices=("en", "zh"))
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--nfe", type=int, default=7)
    parser.add_argument("--cfg_motion", type=float, help="the motion branch's guidance (default: the pipeline's)")
    return parser


def load(args: argparse.Namespace, durations: str = "auto") -> tuple[Corpus, Pipeline, Ear]:
    """The corpus, a CPU pipeline of args' checkpoint (its text timed by `durations`), and the eval's ear."""
    config = PipelineConfig(
        checkpoint=args.checkpoint,
        vocoder=args.vocoder,
        nfe=args.nfe,
        cfg_motion=args.cfg_motion,
        device="cpu",
        durations=durations,
    )
    return Corpus(args.corpus), Pipeline.load(config), Ear(args.lang)
