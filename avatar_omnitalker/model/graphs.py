"""The sampler with the whole ODE loop replayed from one CUDA graph per shape bucket.

Why: on a GPU the eager sampler is launch-bound. Each velocity evaluation is hundreds of small
kernels, and Python issues them more slowly than the GPU runs them (issue #15's profile:
18.5 ms of kernels per step against ~70 ms of wall time). Captured once, a solve costs one
replay. Graphs need static shapes, so requests are padded to buckets:
- batch size rounds up to a power of two (padding rows repeat the first request);
- motion length rounds up to `bucket_frames`, and the mel length follows it.
Padding is masked, so a request gets what the eager sampler gives it, within float tolerance
(tests/model/test_graphs.py, on the padded path that also runs on the CPU).

Everything outside the loop stays eager, once per request: the text embedding, the noise
(a CPU generator per seed) and the final copy-back. The schedule and guidance are FlowMatching's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from loguru import logger
from torch import Tensor

from avatar_omnitalker.model.cfm import (
    FlowMatching,
    SampleOutput,
    SampleSetup,
    _per_sample,
    guidance,
    mel_lens_for_frames,
)

BUCKET_FRAMES = 50  # motion frames (2 s): a 30 s request uses at most 15 buckets of length


@dataclass
class _Captured:
    graph: torch.cuda.CUDAGraph | None
    inputs: SampleSetup  # static input buffers the graph reads
    xa: Tensor  # static outputs the graph writes
    xm: Tensor | None
    seconds: float  # capture time (warm-up + capture), reported by benchmarks


class GraphSampler:
    """`sample` with FlowMatching.sample's arguments and result (guided, CFG > 0).

    On CUDA the solve of each (batch, length, steps, method, cfg) bucket is captured on first
    use and replayed after; elsewhere the same padded solve runs eagerly, which is how the
    shape logic is tested without a GPU. One thread at a time (the scheduler's): the graphs share
    one memory pool, so a graph's outputs are read before any other graph replays."""

    def __init__(self, model: FlowMatching, bucket_frames: int = BUCKET_FRAMES, capture: bool | None = None) -> None:
        if bucket_frames < 1:
            raise ValueError(f"bucket_frames must be >= 1, got {bucket_frames}")
        self.model = model
        self.bucket_frames = bucket_frames
        self.capture = model.device.type == "cuda" if capture is None else capture
        if self.capture and model.device.type != "cuda":
            raise ValueError("CUDA graphs need the model on a CUDA device")
        self._graphs: dict[tuple, _Captured] = {}
        self._pool = torch.cuda.graph_pool_handle() if self.capture else None

    @property
    def captures(self) -> dict[tuple, float]:
        """Bucket key -> seconds its capture took."""
        return {k: c.seconds for k, c in self._graphs.items()}

    def buckets(self, batch: int, motion_frames: int) -> tuple[int, int, int]:
        """(padded batch, padded mel frames, padded motion frames) for a request batch."""
        b = 1 << max(0, batch - 1).bit_length()
        nm = -(-motion_frames // self.bucket_frames) * self.bucket_frames
        return b, int(mel_lens_for_frames(torch.tensor(nm))), nm

    @torch.no_grad()
    def sample(
        self,
        ref_mel: Tensor,
        ref_motion: Tensor | None,
        text: Tensor,
        total_frames: Tensor | int,
        *,
        ref_frames: Tensor | int | None = None,
        steps: int,
        cfg_strength: float,
        motion_cfg_strength: float | None = None,
        sway: float | None = -1.0,
        method: str = "euler",
        epss: bool = True,
        seed: int | Sequence[int] | None = None,
        generate_motion: bool = True,
        engine: None = None,
    ) -> SampleOutput:
        if engine is not None:
            raise ValueError("the graph sampler runs the torch model; an external engine has its own runtime")
        cfg = guidance(cfg_strength, motion_cfg_strength)
        if max(cfg) <= 0 or not generate_motion:
            raise ValueError("the graph sampler captures the guided audio + motion solve (cfg > 0, with motion)")
        b = ref_mel.shape[0]
        bb, na, nm = self.buckets(b, int(_per_sample(total_frames, b, "total_frames").max()))
        s = self.model.setup(
            ref_mel,
            ref_motion,
            text,
            total_frames,
            ref_frames=ref_frames,
            steps=steps,
            guided=True,
            sway=sway,
            method=method,
            epss=epss,
            seed=seed,
            generate_motion=True,
            frames=(na, nm),
        )
        key = (bb, na, nm, steps, method, cfg, tuple(s.ts.tolist()), s.xa.dtype)
        padded = _pad_batch(s, bb)
        captured = self._graphs.get(key)
        if captured is None:
            captured = self._graphs[key] = self._capture(padded, method, cfg)
            logger.info(
                "captured the solve for batch {} x {} frames, {} steps in {:.2f} s", bb, nm, steps, captured.seconds
            )
        _copy_into(captured.inputs, padded)
        if captured.graph is not None:
            captured.graph.replay()
            xa, xm = captured.xa, captured.xm
        else:
            xa, xm = self._solve(captured.inputs, method, cfg)
        return self.model.finish(s, xa[:b], xm[:b])

    def _solve(self, s: SampleSetup, method: str, cfg: tuple[float, float]) -> tuple[Tensor, Tensor | None]:
        velocity = self.model._velocity_fn(s.cond_a, s.cond_m, s.text_c, s.text_u, s.audio_mask, s.motion_mask, cfg)
        return self.model.integrate(velocity, s.xa, s.xm, s.ts, method)

    def _capture(self, s: SampleSetup, method: str, cfg: tuple[float, float]) -> _Captured:
        start = time.perf_counter()
        static = _clone(s)
        if not self.capture:
            return _Captured(None, static, static.xa, static.xm, 0.0)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # warm-up: kernels chosen, workspaces allocated, outside the graph
            self._solve(static, method, cfg)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=self._pool):
            xa, xm = self._solve(static, method, cfg)
        torch.cuda.synchronize()
        return _Captured(graph, static, xa, xm, time.perf_counter() - start)


def _pad_batch(s: SampleSetup, b: int) -> SampleSetup:
    """Rows n..b-1 repeat row 0: work the graph does and the caller drops."""
    n = s.xa.shape[0]
    if n == b:
        return s
    idx = torch.cat((torch.arange(n), torch.zeros(b - n, dtype=torch.long))).to(s.xa.device)
    rows = {f: None if v is None else v[idx] for f, v in vars(s).items() if f != "ts"}
    return SampleSetup(**rows, ts=s.ts)


def _clone(s: SampleSetup) -> SampleSetup:
    return SampleSetup(**{f: None if v is None else v.clone() for f, v in vars(s).items()})


def _copy_into(static: SampleSetup, s: SampleSetup) -> None:
    for f, v in vars(s).items():
        target = getattr(static, f)
        if (v is None) != (target is None):
            raise RuntimeError(f"graph input {f} changed presence between capture and replay")
        if v is not None:
            target.copy_(v)


__all__ = ["BUCKET_FRAMES", "GraphSampler"]
