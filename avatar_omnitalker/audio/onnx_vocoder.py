"""The Vocos vocoder on ONNX Runtime: backbone and spectral head in the graph, the inverse STFT
outside it (opset 17 has an STFT but no inverse; the overlap-add is a few cheap torch ops).

Same split as the velocity engine: the network runs where the engine says, the signal
processing stays one torch implementation, so torch and ONNX decode through the same ISTFT.
"""

from __future__ import annotations

from pathlib import Path

import torch
from loguru import logger
from torch import Tensor, nn

from avatar_omnitalker import spec
from avatar_omnitalker.audio.vocoder import Vocoder, VocosVocoder
from avatar_omnitalker.fileio import atomic_path, state_digest, user_cache


class SpectralHead(nn.Module):
    """(b, n_mels, t) mel -> (b, n_fft + 2, t): log-magnitudes and phases, before the ISTFT."""

    def __init__(self, vocos: nn.Module) -> None:
        super().__init__()
        self.backbone, self.out = vocos.backbone, vocos.head.out

    def forward(self, mel: Tensor) -> Tensor:
        return self.out(self.backbone(mel)).transpose(1, 2)


def export_vocoder(vocoder: VocosVocoder, path: str | Path, frames: int = 94) -> Path:
    """Export with dynamic batch and length axes; `frames` only sizes the tracing example."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    head = SpectralHead(vocoder.model).float().eval()
    example = torch.randn(1, spec.N_MELS, frames)
    with torch.no_grad():
        torch.onnx.export(
            head,
            (example,),
            str(path),
            input_names=["mel"],
            output_names=["spectrum"],
            dynamic_axes={"mel": {0: "batch", 2: "frames"}, "spectrum": {0: "batch", 2: "frames"}},
            opset_version=17,
            dynamo=False,
        )
    logger.info("exported the vocoder to {} ({:.1f} MB)", path, path.stat().st_size / 1e6)
    return path


class OnnxVocoder(Vocoder):
    name = "vocos-onnx"

    def __init__(self, path: str | Path, istft: nn.Module, device: str = "cpu", threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        wanted = ["CUDAExecutionProvider"] if device.startswith("cuda") else []
        self.session = ort.InferenceSession(str(path), options, providers=[*wanted, "CPUExecutionProvider"])
        self.istft = istft.cpu()
        logger.info("ONNX vocoder {} on {}", Path(path).name, self.session.get_providers())

    @torch.no_grad()
    def decode(self, mel: Tensor) -> Tensor:
        """(b, t, n_mels) -> (b, samples), as VocosVocoder.decode."""
        feed = mel.detach().float().cpu().transpose(1, 2).contiguous().numpy()
        out = torch.from_numpy(self.session.run(["spectrum"], {"mel": feed})[0])  # (b, n_fft + 2, t)
        log_mag, phase = out.chunk(2, dim=1)
        mag = torch.exp(log_mag).clip(max=1e2)  # Vocos's own safeguard
        return self.istft(mag * (torch.cos(phase) + 1j * torch.sin(phase))).float()

    def to(self, device: str | torch.device) -> OnnxVocoder:
        return self  # the session's providers were chosen at construction


def onnx_vocoder_for(vocoder: Vocoder, device: str) -> Vocoder:
    """The ONNX twin of a Vocos vocoder, exported once per weights into the user cache."""
    if not isinstance(vocoder, VocosVocoder):
        return vocoder  # Griffin-Lim has no network to export
    path = user_cache("onnx", f"vocoder-{state_digest(vocoder.model.state_dict())}.onnx")
    if not path.is_file():
        with atomic_path(path) as tmp:
            export_vocoder(vocoder, tmp)
    return OnnxVocoder(path, vocoder.model.head.istft, device)
