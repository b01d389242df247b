"""The sampler on a GPU: eager against CUDA-graph replay, one request and batches (figures only).

    python benchmarks/gpu_sampler.py [--config base] [--json out.json]

For each (NFE, batch): median seconds per solve over `--runs` after a warm-up, for the eager
sampler and the graph sampler (capture time reported apart), on random weights in bfloat16,
a 3 s prompt + 10 s target, CFG packed (issue #15's setting). Before timing, the graph solve
is compared with the eager one on the same inputs: the relative L2 error, which bf16 puts near
1e-2 (NaN or far above fails loudly in the table).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time

import torch

from avatar_omnitalker import spec
from avatar_omnitalker.model.cfm import FlowMatching
from avatar_omnitalker.model.config import load_config
from avatar_omnitalker.model.graphs import GraphSampler


def inputs(model: FlowMatching, batch: int, prompt_s: float, target_s: float, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    c = model.config.model
    ref = round(prompt_s * spec.FPS)
    total = ref + round(target_s * spec.FPS)
    ref_mel = torch.randn(batch, spec.mel_frames_for_motion(ref), c.mel_dim, generator=g)
    ref_motion = torch.randn(batch, ref, c.motion_dim, generator=g)
    text = torch.randint(0, c.text_vocab_size, (batch, int((prompt_s + target_s) * 15)), generator=g)
    return ref_mel, ref_motion, text, total, ref


def timed(fn, runs: int) -> float:
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="base")
    parser.add_argument("--nfe", type=int, nargs="+", default=[32, 16, 7])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--prompt", type=float, default=3.0)
    parser.add_argument("--target", type=float, default=10.0)
    parser.add_argument("--json", help="write the rows here too")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device: this benchmark needs a GPU", file=sys.stderr)
        return 2
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.manual_seed(0)
    model = FlowMatching(load_config(args.config)).to("cuda")
    for p in model.parameters():  # adaLN-zero would make every block the identity
        torch.nn.init.normal_(p, std=0.02)
    model = model.to(torch.bfloat16).eval()
    params = sum(p.numel() for p in model.backbone.parameters())
    sampler = GraphSampler(model)
    rows = []
    print(f"{args.config}: {params / 1e6:.1f} M params, {torch.cuda.get_device_name()}, torch {torch.__version__}")
    for batch in args.batch:
        ref_mel, ref_motion, text, total, ref = inputs(model, batch, args.prompt, args.target)
        for nfe in args.nfe:
            kw = dict(ref_frames=ref, steps=nfe, cfg_strength=2.0, seed=list(range(batch)))
            args_ = (ref_mel, ref_motion, text, total)
            eager = functools.partial(model.sample, *args_, **kw)
            graphed = functools.partial(sampler.sample, *args_, **kw)
            a, b = eager(), graphed()
            err = float((b.mel.float() - a.mel.float()).norm() / a.mel.float().norm())
            err_m = float((b.motion.float() - a.motion.float()).norm() / a.motion.float().norm())
            t_eager = timed(eager, args.runs)
            t_graph = timed(graphed, args.runs)
            row = dict(
                config=args.config,
                card=torch.cuda.get_device_name(),
                dtype="bfloat16",
                batch=batch,
                nfe=nfe,
                eager_s=round(t_eager, 4),
                graphs_s=round(t_graph, 4),
                rtf_eager=round(t_eager / args.target / batch, 5),
                rtf_graphs=round(t_graph / args.target / batch, 5),
                capture_s=round(sum(sampler.captures.values()), 2),
                rel_err_mel=round(err, 5),
                rel_err_motion=round(err_m, 5),
            )
            rows.append(row)
            print(json.dumps(row), flush=True)
    print("\n| batch | NFE | eager s | graphs s | aggregate RTF eager / graphs | rel. error mel / motion |")
    for r in rows:
        print(
            f"| {r['batch']} | {r['nfe']} | {r['eager_s']:.3f} | {r['graphs_s']:.3f} | "
            f"{r['rtf_eager']:.4f} / {r['rtf_graphs']:.4f} | {r['rel_err_mel']:.4f} / {r['rel_err_motion']:.4f} |"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
