"""The slot for a user-supplied neural renderer, run with onnxruntime(-gpu).

Contract of the ONNX model (documented in the README):
    inputs   motion      float32 [T, 61]        raw 61-D motion (spec.MOTION_NAMES order)
             appearance  float32 [3, H, W]      the reference appearance frame, RGB in [0, 1]
    output   frames      float32 [T, 3, H, W]   RGB in [0, 1]
H and W are taken from the model when fixed, else from `size`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from loguru import logger

from avatar_omnitalker.render.base import Renderer, check_motion


class OnnxRenderer(Renderer):
    def __init__(
        self, path: str | Path, appearance: np.ndarray, size: int = 512, providers: list[str] | None = None
    ) -> None:
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"ONNX renderer not found: {path}")
        wanted = providers or ["CUDAExecutionProvider", "CPUExecutionProvider"]
        available = ort.get_available_providers()
        try:
            self.session = ort.InferenceSession(str(path), providers=[p for p in wanted if p in available])
        except Exception as err:  # onnxruntime's own errors (InvalidProtobuf, ...) are not ValueErrors
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ValueError(f"{path}: not an ONNX model onnxruntime can load ({first})") from None
        logger.info("ONNX renderer {} on {}", path.name, self.session.get_providers())  # CUDA may silently fall back
        names = {i.name: i for i in self.session.get_inputs()}
        missing = {"motion", "appearance"} - set(names)
        if missing:
            raise ValueError(
                f"{path}: the renderer model lacks input(s) {sorted(missing)} (needs motion [T,61], appearance [3,H,W])"
            )
        shape = names["appearance"].shape
        h = shape[1] if isinstance(shape[1], int) else size
        w = shape[2] if isinstance(shape[2], int) else size
        self.size = (h, w)
        img = np.asarray(appearance)
        if img.shape[:2] != (h, w):
            img = _resize(img, h, w)
        self.appearance = np.ascontiguousarray(img.transpose(2, 0, 1).astype(np.float32) / 255.0)

    def render(self, motion: np.ndarray) -> np.ndarray:
        motion = check_motion(motion).astype(np.float32)
        (frames,) = self.session.run(["frames"], {"motion": motion, "appearance": self.appearance})
        if frames.ndim != 4 or frames.shape[0] != motion.shape[0] or frames.shape[1] != 3:
            raise ValueError(f"the ONNX renderer returned {frames.shape}, expected ({motion.shape[0]}, 3, H, W)")
        return np.clip(frames.transpose(0, 2, 3, 1) * 255 + 0.5, 0, 255).astype(np.uint8)


def _resize(img: np.ndarray, h: int, w: int) -> np.ndarray:
    """Nearest-neighbour resize (the appearance only conditions the renderer)."""
    ys = (np.arange(h) * img.shape[0] / h).astype(int)
    xs = (np.arange(w) * img.shape[1] / w).astype(int)
    return img[ys][:, xs]
