"""The renderer a PipelineConfig names, for one avatar's reference."""

from __future__ import annotations

from avatar_omnitalker.infer.config import PipelineConfig
from avatar_omnitalker.infer.reference import Reference
from avatar_omnitalker.render.base import Renderer


def make_renderer(config: PipelineConfig, reference: Reference) -> Renderer:
    """'auto': the reference person's own frames when the reference carries them (prepared from a
    video), else the parametric face (the shipped default avatar is not a real person)."""
    kind = config.renderer
    if kind == "auto":
        kind = "photo" if reference.faces is not None else "parametric"
    if kind == "photo":
        from avatar_omnitalker.render.photo import PhotoRenderer

        return PhotoRenderer.for_reference(reference, config.size)
    if kind == "parametric":
        from avatar_omnitalker.render.parametric import ParametricRenderer

        return ParametricRenderer(config.size, reference.appearance)
    from avatar_omnitalker.render.onnx_renderer import OnnxRenderer

    return OnnxRenderer(config.renderer, reference.appearance, config.size)
