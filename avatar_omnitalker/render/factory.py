"""The renderer a PipelineConfig names, for one avatar's reference."""

from __future__ import annotations

from avatar_omnitalker.infer.config import PipelineConfig
from avatar_omnitalker.infer.reference import Reference
from avatar_omnitalker.render.base import Renderer


def make_renderer(config: PipelineConfig, reference: Reference) -> Renderer:
    if config.renderer == "parametric":
        from avatar_omnitalker.render.parametric import ParametricRenderer

        return ParametricRenderer(config.size, reference.appearance)
    from avatar_omnitalker.render.onnx_renderer import OnnxRenderer

    return OnnxRenderer(config.renderer, reference.appearance, config.size)
