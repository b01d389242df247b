"""`omnitalker` command line: parse, call the library, print. No logic of its own."""

from __future__ import annotations

import argparse
import json
import sys

from loguru import logger


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
