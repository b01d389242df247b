"""Vocoder speed, torch vs ONNX Runtime, on the shipped Vocos weights (real-time factors).

python benchmarks/vocoder_speed.py --seconds 10 --repeats 5 [--threads 2]
"""

from __future__ import annotations

import argparse
import importlib.resources
import json
import time

import torch

from avatar_omnitalker import spec
from avatar_omnitalker.audio.onnx_vocoder import OnnxVocoder, export_vocoder
from avatar_omnitalker.audio.vocoder import VocosVocoder
from avatar_omnitalker.fileio import user_cache


def best_of(decode, mel: torch.Tensor, repeats: int) -> float:
    decode(mel)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        decode(mel)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch_voc = VocosVocoder.from_folder(importlib.resources.files("avatar_omnitalker") / "assets" / "vocoder")
    path = export_vocoder(torch_voc, user_cache("onnx", "vocoder-bench.onnx"))
    onnx_voc = OnnxVocoder(path, torch_voc.model.head.istft, threads=args.threads)
    mel = torch.randn(1, int(args.seconds * spec.MEL_RATE), spec.N_MELS) - 4.0
    result = {"audio_s": args.seconds, "threads": args.threads}
    for name, voc in (("torch", torch_voc), ("onnx", onnx_voc)):
        seconds = best_of(voc.decode, mel, args.repeats)
        result[name] = {"seconds": round(seconds, 4), "rtf": round(seconds / args.seconds, 4)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
