"""`omnitalker` command line: parse, call the library, print. No logic of its own."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
from loguru import logger

from avatar_omnitalker.infer.settings import DEFAULT_NFE


def _info(args: argparse.Namespace) -> int:
    import torch

    from avatar_omnitalker.model.config import load_config
    from avatar_omnitalker.model.dit import OmniTalkerDiT

    config = load_config(args.config)
    with torch.device("meta"):  # count without allocating 0.8 B parameters
        counts = OmniTalkerDiT(config.model).parameter_counts()
    if args.json:
        print(json.dumps({"config": config.name, "parameters": counts}, indent=2))
        return 0
    print(f"config {config.name}: {counts['total'] / 1e6:.2f} M parameters")
    width = max(len(k) for k in counts)
    for part, n in counts.items():
        if part != "total":
            print(f"  {part:<{width}}  {n:>13,}  ({n / counts['total']:6.1%})")
    print(f"  {'total':<{width}}  {counts['total']:>13,}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from avatar_omnitalker.bench import bench_model
    from avatar_omnitalker.model.config import load_config

    result = bench_model(
        load_config(args.config), device=args.device, nfe=args.nfe, prompt_s=args.prompt, target_s=args.target,
        cfg_strength=args.cfg, method=args.method, dtype=args.dtype, runs=args.runs, compile=args.compile,
    )
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        print(f"{result.config} on {result.device} ({result.dtype}), {result.params / 1e6:.2f} M params, "
              f"NFE {result.nfe} {result.method}, CFG {result.cfg_strength} packed")
        print(f"{result.prompt_s:.0f} s prompt + {result.target_s:.0f} s target: "
              f"{result.seconds:.3f} s per request, real-time factor {result.rtf:.4f}")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from avatar_omnitalker.infer.pipeline import GenerationSettings, Pipeline
    from avatar_omnitalker.motion.export import save_motion
    from avatar_omnitalker.render.video import write_mp4, write_preview

    if args.text_file:
        text = Path(args.text_file).read_text(encoding="utf-8")
    else:
        text = args.text
    if not text or not text.strip():
        raise ValueError("nothing to say: give --text or a non-empty --text-file")
    if not str(args.out).endswith(".mp4"):
        raise ValueError(f"--out must be an .mp4 file, got {args.out}")
    settings = GenerationSettings(nfe=args.nfe, cfg=args.cfg, seed=args.seed, speed=args.speed)
    pipe = Pipeline.load(args.checkpoint, args.reference, args.vocoder, args.renderer, args.size, args.device, settings)
    result = pipe.generate(text)
    n = result.motion.shape[0]
    frames = tqdm(pipe.frames(result.motion), total=n, desc="render", unit="frame", disable=n < 50)
    write_mp4(args.out, frames, result.audio, n)
    logger.info("wrote {} ({:.2f} s, {} frames)", args.out, result.duration, n)
    if args.motion_out:
        save_motion(args.motion_out, result.motion, args.motion_fps)
        logger.info("wrote {} (ARKit-52 at {} fps)", args.motion_out, args.motion_fps)
    if args.preview_png:
        picks = [int(i) for i in np.linspace(0, max(n - 1, 0), num=min(8, n))]
        write_preview(args.preview_png, [pipe.renderer.render(result.motion[i:i + 1])[0] for i in picks], result.motion, text)
        logger.info("wrote {}", args.preview_png)
    return 0


def _converse(args: argparse.Namespace) -> int:
    from avatar_omnitalker.infer.pipeline import GenerationSettings, Pipeline
    from avatar_omnitalker.realtime.converse import converse

    pipe = Pipeline.load(args.checkpoint, args.reference, args.vocoder, args.renderer, args.size, args.device,
                         GenerationSettings(nfe=args.nfe))
    result = converse(pipe, args.text, args.out)
    logger.info("wrote {} ({} frames)", args.out, result.frames)
    return 0


def _synth_corpus(args: argparse.Namespace) -> int:
    import time

    from avatar_omnitalker.data.corpus import generate_corpus

    start = time.perf_counter()
    out = generate_corpus(args.out, args.minutes, [x.strip() for x in args.langs.split(",") if x.strip()], args.seed, args.workers)
    wall = time.perf_counter() - start
    logger.info("corpus in {} ({:.1f} min of audio; {:.1f} s wall time this run with {} worker(s))", out, args.minutes, wall, args.workers)
    return 0


def _train(args: argparse.Namespace) -> int:
    from avatar_omnitalker.train.config import TrainConfig
    from avatar_omnitalker.train.trainer import train

    cfg = TrainConfig.load(args.config, steps=args.steps, out=args.out, corpus=args.corpus, device=args.device)
    log = train(cfg)
    if log:
        logger.info("step {}: loss {:.4f} (audio {:.4f}, motion {:.4f})", log[-1]["step"], log[-1]["loss"], log[-1]["audio"], log[-1]["motion"])
    return 0


def _eval(args: argparse.Namespace) -> int:
    from avatar_omnitalker.eval.report import run_eval, table

    report = run_eval(args.checkpoint, args.corpus, args.out, args.nfe, args.device, args.per_source, args.vocoder)
    print(table(report))
    return 0


def _train_vocoder(args: argparse.Namespace) -> int:
    from avatar_omnitalker.train.vocoder import VocoderConfig, train_vocoder

    cfg = VocoderConfig(steps=args.steps, batch=args.batch, seed=args.seed)
    out = train_vocoder(args.corpus, args.out, cfg, args.max_minutes)
    logger.info("vocoder in {} (load with --vocoder {})", out, out)
    return 0


def _prepare_reference(args: argparse.Namespace) -> int:
    from pathlib import Path

    from avatar_omnitalker.video.prepare import prepare_reference

    transcript = Path(args.transcript_file).read_text(encoding="utf-8") if args.transcript_file else args.transcript
    if not transcript or not transcript.strip():
        raise ValueError("give --transcript (the exact words spoken in the video) or --transcript-file")
    ref = prepare_reference(args.video, transcript, args.out, args.task)
    logger.info("wrote {} ({:.2f} s, {} frames)", args.out, ref.duration, ref.frames)
    return 0


def _preprocess(args: argparse.Namespace) -> int:
    from avatar_omnitalker.video.preprocess import preprocess

    out = preprocess(args.videos, args.transcripts, args.out, args.task, args.workers)
    logger.info("shards in {}", out)
    return 0


def _ship(args: argparse.Namespace) -> int:
    from avatar_omnitalker.train.ship import ship

    ship(args.run, args.vocoder, args.corpus)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="omnitalker", description="Text + reference video -> speech and talking head.")
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("info", help="parameter counts per part of a model config")
    p.add_argument("--config", default="base", help="preset (tiny, small, base) or YAML path")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_info)

    p = sub.add_parser("bench", help="generation speed on random weights (3 s prompt + 10 s target)")
    p.add_argument("--config", default="tiny")
    p.add_argument("--device", default="cpu")
    p.add_argument("--nfe", type=int, default=16, help="ODE steps")
    p.add_argument("--cfg", type=float, default=2.0)
    p.add_argument("--method", choices=("euler", "midpoint"), default="euler")
    p.add_argument("--dtype", choices=("float32", "bfloat16", "float16"), default="float32")
    p.add_argument("--prompt", type=float, default=3.0, help="prompt seconds")
    p.add_argument("--target", type=float, default=10.0, help="target seconds")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--compile", action="store_true", help="torch.compile the backbone")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_bench)
    p = sub.add_parser("generate", help="text + reference -> talking-head MP4 (and motion data)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="what to say")
    src.add_argument("--text-file", help="a UTF-8 text file with what to say")
    p.add_argument("--reference", help="reference .npz (default: the built-in avatar)")
    p.add_argument("--checkpoint", help="model folder or .safetensors (default: the built-in model)")
    p.add_argument("--vocoder", help="Vocos folder: config.yaml + pytorch_model.bin/model.safetensors")
    p.add_argument("--out", required=True, help="output .mp4")
    p.add_argument("--motion-out", help="ARKit-52 motion as .npz or .json")
    p.add_argument("--motion-fps", type=float, default=30.0)
    p.add_argument("--preview-png", help="a PNG strip of frames with the motion curves")
    p.add_argument("--renderer", default="parametric", help="'parametric' or a path to an .onnx renderer")
    p.add_argument("--size", type=int, default=512, help="frame size in pixels")
    p.add_argument("--nfe", type=int, default=DEFAULT_NFE, help="ODE steps (EPSS schedule at 5, 6, 7, 10, 12, 16)")
    p.add_argument("--cfg", type=float, default=2.0)
    p.add_argument("--speed", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=_generate)
    p = sub.add_parser("converse", help="stream replies into a real-time avatar session and record what a client receives")
    p.add_argument("--text", action="append", required=True, help="one LLM reply per --text (several make several turns)")
    p.add_argument("--out", required=True, help="output .mp4")
    p.add_argument("--reference")
    p.add_argument("--checkpoint")
    p.add_argument("--vocoder")
    p.add_argument("--renderer", default="parametric")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--nfe", type=int, default=DEFAULT_NFE, help="ODE steps (EPSS schedule at 5, 6, 7, 10, 12, 16)")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=_converse)
    p = sub.add_parser("synth-corpus", help="generate the synthetic audio-visual corpus (espeak-ng voices, known styles)")
    p.add_argument("--out", required=True)
    p.add_argument("--minutes", type=float, required=True, help="minutes of audio to generate")
    p.add_argument("--langs", default="en", help="comma-separated: en, zh")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1, help="processes (one shard each at a time)")
    p.set_defaults(func=_synth_corpus)

    p = sub.add_parser("train", help="train on a corpus (one process, or under torchrun for DDP)")
    p.add_argument("--config", required=True, help="training YAML (see config/train/)")
    p.add_argument("--steps", type=int, help="override: total steps")
    p.add_argument("--out", help="override: run folder")
    p.add_argument("--corpus", help="override: corpus folder")
    p.add_argument("--device", help="override: auto, cpu, cuda")
    p.set_defaults(func=_train)
    p = sub.add_parser("eval", help="score a checkpoint on a corpus's held-out speakers and sentences")
    p.add_argument("--checkpoint", help="model folder (default: the built-in model)")
    p.add_argument("--corpus", required=True)
    p.add_argument("--out", required=True, help="report .json")
    p.add_argument("--vocoder")
    p.add_argument("--nfe", type=int, default=DEFAULT_NFE, help="ODE steps (EPSS schedule at 5, 6, 7, 10, 12, 16)")
    p.add_argument("--per-source", type=int, default=2, help="sentences said per held-out source")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=_eval)
    p = sub.add_parser("train-vocoder", help="train a Vocos-architecture vocoder on a corpus's audio")
    p.add_argument("--corpus", required=True)
    p.add_argument("--out", required=True, help="folder: config.yaml + model.safetensors")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-minutes", type=float, help="stop (and save) after this much wall time")
    p.set_defaults(func=_train_vocoder)
    p = sub.add_parser("prepare-reference", help="a short video of the person to imitate -> reference .npz")
    p.add_argument("video")
    t = p.add_mutually_exclusive_group(required=True)
    t.add_argument("--transcript", help="the exact words spoken in the video")
    t.add_argument("--transcript-file")
    p.add_argument("-o", "--out", required=True, help="reference .npz")
    p.add_argument("--task", help="MediaPipe face_landmarker.task: its 52 blendshapes instead of the geometric solver")
    p.set_defaults(func=_prepare_reference)

    p = sub.add_parser("preprocess", help="talking-head videos + transcripts -> training shards")
    p.add_argument("--videos", required=True, help="folder of videos")
    p.add_argument("--transcripts", required=True, help="CSV (file,text[,speaker][,split]) or JSON lines")
    p.add_argument("--out", required=True)
    p.add_argument("--task", help="MediaPipe face_landmarker.task")
    p.add_argument("--workers", type=int, default=1)
    p.set_defaults(func=_preprocess)
    p = sub.add_parser("ship", help="package a trained run (+ vocoder, + a held-out reference) as the built-in model")
    p.add_argument("--run", required=True, help="training run folder (its latest checkpoint is shipped)")
    p.add_argument("--vocoder", required=True, help="vocoder folder from train-vocoder")
    p.add_argument("--corpus", required=True, help="the corpus (a held-out speaker becomes the default reference)")
    p.set_defaults(func=_ship)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logger.remove()
    logger.add(sys.stderr, level="DEBUG" if args.verbose else "INFO")
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as err:
        logger.error(str(err))
        return 2


if __name__ == "__main__":
    sys.exit(main())
