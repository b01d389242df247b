"""The sampler's velocity step on ONNX Runtime: one guided evaluation (conditional and
unconditional passes packed into one batch) exported with dynamic batch and length axes.

`FlowMatching.sample` owns the ODE loop either way; an engine only replaces the network call, so
the schedule, noise, CFG and masking are the same code for torch and ONNX. Text is embedded once
per request by torch (a few ms) and enters the graph as an embedding.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from loguru import logger
from torch import Tensor, nn

INPUTS = [
    "x_audio",
    "x_motion",
    "time",
    "cond_audio",
    "cond_motion",
    "text_cond",
    "text_uncond",
    "audio_mask",
    "motion_mask",
    "cfg",
]
OUTPUTS = ["v_audio", "v_motion"]
# Bumped whenever the graph's inputs or outputs change: part of the cache key of exported graphs,
# so a graph exported by an older version is exported anew rather than fed inputs it lacks.
# 2: `cfg` holds (audio, motion) strengths.
GRAPH_VERSION = 2


class GuidedVelocity(nn.Module):
    """(b, ...) inputs -> the CFG-guided audio and motion velocities, as FlowMatching computes them."""

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone

    def forward(
        self,
        x_audio: Tensor,  # (b, na, mel_dim)
        x_motion: Tensor,  # (b, nm, motion_dim)
        time: Tensor,  # (1,) flow time
        cond_audio: Tensor,  # (b, na, mel_dim)
        cond_motion: Tensor,  # (b, nm, motion_dim)
        text_cond: Tensor,  # (b, na, text_dim)
        text_uncond: Tensor,  # (b, na, text_dim)
        audio_mask: Tensor,  # (b, na) bool
        motion_mask: Tensor,  # (b, nm) bool
        cfg: Tensor,  # (2,) guidance strengths: audio, motion
    ) -> tuple[Tensor, Tensor]:
        b = x_audio.shape[0]
        two = lambda x: torch.cat((x, x), 0)
        drop = torch.cat((torch.zeros(b, dtype=torch.bool), torch.ones(b, dtype=torch.bool))).to(x_audio.device)
        va, vm = self.backbone(
            two(x_audio),
            two(cond_audio),
            time.expand(2 * b),
            text_emb=torch.cat((text_cond, text_uncond), 0),
            x_motion=two(x_motion),
            cond_motion=two(cond_motion),
            audio_mask=two(audio_mask),
            motion_mask=two(motion_mask),
            drop_cond=drop,
        )
        va_c, va_u = va.chunk(2)
        vm_c, vm_u = vm.chunk(2)
        return va_c + (va_c - va_u) * cfg[0:1], vm_c + (vm_c - vm_u) * cfg[1:2]


def export_velocity(model: nn.Module, path: str | Path, frames: tuple[int, int] = (187, 50)) -> Path:
    """Export the guided velocity of `model` (a FlowMatching) to ONNX with dynamic batch, mel and
    motion lengths; `frames` (mel, motion) only sizes the tracing example."""
    path = Path(path)
    c = model.config.model
    na, nm = frames
    example = (
        torch.randn(1, na, c.mel_dim),
        torch.randn(1, nm, c.motion_dim),
        torch.tensor([0.5]),
        torch.randn(1, na, c.mel_dim),
        torch.randn(1, nm, c.motion_dim),
        torch.randn(1, na, c.text_dim),
        torch.randn(1, na, c.text_dim),
        torch.ones(1, na, dtype=torch.bool),
        torch.ones(1, nm, dtype=torch.bool),
        torch.tensor([2.0, 3.0]),
    )
    dynamic = {
        name: {0: "batch", 1: "mel"}
        for name in ("x_audio", "cond_audio", "text_cond", "text_uncond", "audio_mask", "v_audio")
    }
    dynamic.update({name: {0: "batch", 1: "motion"} for name in ("x_motion", "cond_motion", "motion_mask", "v_motion")})
    wrapper = GuidedVelocity(model.backbone.float().eval())
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            wrapper,
            example,
            str(path),
            input_names=INPUTS,
            output_names=OUTPUTS,
            dynamic_axes=dynamic,
            opset_version=17,
            dynamo=False,
        )
    logger.info("exported the guided velocity to {} ({:.1f} MB)", path, path.stat().st_size / 1e6)
    return path


class OnnxVelocity:
    """The exported graph run by onnxruntime: CUDA when asked and present, else the CPU."""

    def __init__(self, path: str | Path, device: str = "cpu", threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        wanted = (
            ["CUDAExecutionProvider", "CPUExecutionProvider"] if device.startswith("cuda") else ["CPUExecutionProvider"]
        )
        self.session = ort.InferenceSession(str(path), options, providers=wanted)
        self.providers = self.session.get_providers()  # CUDA can silently fall back: say what runs
        logger.info("ONNX velocity {} on {}", Path(path).name, self.providers)

    def __call__(self, **inputs: Tensor) -> tuple[Tensor, Tensor]:
        feed = {k: v.detach().cpu().numpy() if isinstance(v, Tensor) else np.asarray(v) for k, v in inputs.items()}
        va, vm = self.session.run(OUTPUTS, feed)
        return torch.from_numpy(va), torch.from_numpy(vm)
