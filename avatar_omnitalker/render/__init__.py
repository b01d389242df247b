"""Motion -> pixels: the renderer interface, the parametric face, the ONNX slot, MP4 output."""

from avatar_omnitalker.render.base import Renderer
from avatar_omnitalker.render.parametric import Palette, ParametricRenderer

__all__ = ["Palette", "ParametricRenderer", "Renderer"]
