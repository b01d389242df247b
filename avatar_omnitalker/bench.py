"""Speed of the model itself: a 3 s prompt + 10 s target, CFG packed, random weights."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import torch
from loguru import logger

from avatar_omnitalker import spec
from avatar_omnitalker.infer.config import PipelineConfig
from avatar_omnitalker.model.cfm import FlowMatching
from avatar_omnitalker.model.config import ModelConfig


@dataclass
class BenchResult:
    config: str
    device: str
    dtype: str
    params: int
    nfe: int
    method: str
    cfg_strength: float
    prompt_s: float
    target_s: float
    seconds: float  # median wall time of one request
    rtf: float  # seconds / target_s (per request: / batch)
    runs: int
    batch: int = 1
    engine: str = "torch"
    capture_s: float = 0.0  # engine graphs: warm-up + capture of the solve's graph (once per bucket)

    def as_dict(self) -> dict:
        return asdict(self)


def bench_model(
    config: ModelConfig,
    device: str = "cpu",
    nfe: int = 16,
    prompt_s: float = 3.0,
    target_s: float = 10.0,
    cfg_strength: float = PipelineConfig().cfg,
    method: str = "euler",
    dtype: str = "float32",
    runs: int = 3,
    compile: bool = False,
    batch: int = 1,
    engine: str = "torch",
) -> BenchResult:
    torch_dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    model = FlowMatching(config).to(device=device, dtype=torch_dtype).eval()
    for p in model.parameters():  # adaLN-zero weights would make every block the identity
        torch.nn.init.normal_(p, std=0.02)
    if compile:
        model.backbone = torch.compile(model.backbone)
    ref_frames = round(prompt_s * spec.FPS)
    total = ref_frames + round(target_s * spec.FPS)
    ref_mel = torch.randn(batch, spec.mel_frames_for_motion(ref_frames), config.model.mel_dim)
    ref_motion = torch.randn(batch, ref_frames, config.model.motion_dim)
    text = torch.randint(0, config.model.text_vocab_size, (batch, int(13 * 15)))  # ~15 chars/s
    velocity = None
    sampler = model
    if engine == "graphs":
        from avatar_omnitalker.model.graphs import GraphSampler

        sampler = GraphSampler(model)
    if engine == "onnx":
        from avatar_omnitalker.infer.pipeline import onnx_engine_for

        velocity = onnx_engine_for(model.float(), device)

    def once() -> float:
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        sampler.sample(
            ref_mel,
            ref_motion,
            text,
            total,
            steps=nfe,
            cfg_strength=cfg_strength,
            method=method,
            seed=list(range(batch)),
            engine=velocity,
        )
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - start

    logger.info("warming up {} on {} ({})", config.name, device, dtype)
    once()
    times = sorted(once() for _ in range(runs))
    seconds = times[len(times) // 2]
    params = sum(p.numel() for p in model.backbone.parameters())
    return BenchResult(
        config.name,
        device,
        dtype,
        params,
        nfe,
        method,
        cfg_strength,
        prompt_s,
        target_s,
        round(seconds, 4),
        round(seconds / target_s / batch, 4),
        runs,
        batch,
        engine,
        round(sum(sampler.captures.values()), 3) if engine == "graphs" else 0.0,
    )
