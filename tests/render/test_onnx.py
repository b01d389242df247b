"""The ONNX renderer slot runs a user model with the documented inputs and outputs."""

from __future__ import annotations

import numpy as np
import pytest

from avatar_omnitalker import spec
from avatar_omnitalker.render.onnx_renderer import OnnxRenderer

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
TensorProto, helper = onnx.TensorProto, onnx.helper

H = W = 32


def build(path, weights: np.ndarray, input_names=("motion", "appearance")) -> None:
    """frames[t] = clip(appearance * (1 + motion[t] . w), 0, 1): brightness follows the motion."""
    motion = helper.make_tensor_value_info(input_names[0], TensorProto.FLOAT, ["T", spec.MOTION_DIM])
    appearance = helper.make_tensor_value_info(input_names[1], TensorProto.FLOAT, [3, H, W])
    frames = helper.make_tensor_value_info("frames", TensorProto.FLOAT, ["T", 3, H, W])
    nodes = [
        helper.make_node("MatMul", [input_names[0], "w"], ["gain"]),  # (T, 1)
        helper.make_node("Add", ["gain", "one"], ["scale"]),
        helper.make_node("Reshape", ["scale", "shape"], ["scale4"]),  # (T, 1, 1, 1)
        helper.make_node("Unsqueeze", [input_names[1], "axes"], ["app4"]),  # (1, 3, H, W)
        helper.make_node("Mul", ["app4", "scale4"], ["raw"]),
        helper.make_node("Clip", ["raw", "lo", "hi"], ["frames"]),
    ]
    inits = [
        helper.make_tensor("w", TensorProto.FLOAT, [spec.MOTION_DIM, 1], weights.tolist()),
        helper.make_tensor("one", TensorProto.FLOAT, [], [1.0]),
        helper.make_tensor("shape", TensorProto.INT64, [4], [-1, 1, 1, 1]),
        helper.make_tensor("axes", TensorProto.INT64, [1], [0]),
        helper.make_tensor("lo", TensorProto.FLOAT, [], [0.0]),
        helper.make_tensor("hi", TensorProto.FLOAT, [], [1.0]),
    ]
    graph = helper.make_graph(nodes, "renderer", [motion, appearance], [frames], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def test_runs_user_model(tmp_path):
    w = np.zeros(spec.MOTION_DIM, np.float32)
    w[spec.MOTION_INDEX["jawOpen"]] = 1.0
    build(tmp_path / "r.onnx", w)
    appearance = np.full((H, W, 3), 100, np.uint8)
    renderer = OnnxRenderer(tmp_path / "r.onnx", appearance, providers=["CPUExecutionProvider"])
    assert renderer.size == (H, W)
    motion = np.zeros((3, spec.MOTION_DIM), np.float32)
    motion[:, spec.MOTION_INDEX["jawOpen"]] = [0.0, 0.5, 1.0]
    frames = renderer.render(motion)
    assert frames.shape == (3, H, W, 3) and frames.dtype == np.uint8
    expected = np.clip(np.round(100 / 255 * np.array([1.0, 1.5, 2.0]) * 255), 0, 255)
    assert np.allclose(frames[:, 0, 0, 0], expected, atol=1)


def test_wrong_inputs_are_named(tmp_path):
    build(tmp_path / "bad.onnx", np.zeros(spec.MOTION_DIM, np.float32), input_names=("pose", "appearance"))
    with pytest.raises(ValueError, match="motion"):
        OnnxRenderer(tmp_path / "bad.onnx", np.zeros((H, W, 3), np.uint8), providers=["CPUExecutionProvider"])
    with pytest.raises(FileNotFoundError):
        OnnxRenderer(tmp_path / "none.onnx", np.zeros((H, W, 3), np.uint8))
