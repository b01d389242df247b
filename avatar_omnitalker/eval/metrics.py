"""What a generated talking head is measured by: voice, lip sync, style (intelligibility: ear.py).

Each metric is computed on raw arrays (24 kHz audio, 25 fps 61-D motion) so the same code scores
ground truth and generated output.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from avatar_omnitalker import spec
from avatar_omnitalker.audio.resample import resample

IDX = spec.MOTION_INDEX


# ----------------------------------------------------------------------------- voice
class SpeakerEncoder:
    """resemblyzer's d-vector (its weights ship in the wheel)."""

    @cached_property
    def encoder(self):
        from resemblyzer import VoiceEncoder

        return VoiceEncoder(device="cpu", verbose=False)

    def embed(self, audio: np.ndarray) -> np.ndarray:
        from resemblyzer import preprocess_wav

        wav = preprocess_wav(resample(np.asarray(audio, np.float32), spec.SAMPLE_RATE, 16000), source_sr=16000)
        if wav.size < 1600:
            raise ValueError("too little voiced audio to embed a speaker")
        return self.encoder.embed_utterance(wav)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9))


# ----------------------------------------------------------------------------- lip sync
def mouth_opening(motion: np.ndarray) -> np.ndarray:
    return motion[:, IDX["jawOpen"]] + 0.5 * (
        motion[:, IDX["mouthLowerDownLeft"]] + motion[:, IDX["mouthLowerDownRight"]]
    )


def speech_envelope(audio: np.ndarray, frames: int) -> np.ndarray:
    """RMS level (dB, floored) of each motion frame's 960 samples."""
    a = np.asarray(audio, np.float64)[: spec.samples_for_frames(frames)]
    a = np.pad(a, (0, spec.samples_for_frames(frames) - a.size)).reshape(frames, spec.SAMPLES_PER_FRAME)
    db = 20 * np.log10(np.sqrt((a**2).mean(1)) + 1e-5)
    return np.maximum(db, db.max() - 50)


def _detrend(x: np.ndarray, window: int = 9) -> np.ndarray:
    """Remove the slow trend (0.36 s moving average): sync is about syllables, not sentences."""
    kernel = np.ones(window) / window
    return x - np.convolve(np.pad(x, (window // 2, window // 2), mode="edge"), kernel, mode="valid")


def sync_curve(motion: np.ndarray, audio: np.ndarray, max_lag: int = 6) -> np.ndarray:
    """Correlation of mouth opening[t] with speech envelope[t - lag] for lag = -max_lag..max_lag."""
    m = _detrend(mouth_opening(motion))
    e = _detrend(speech_envelope(audio, len(m)))
    out = np.full(2 * max_lag + 1, np.nan)
    for i, lag in enumerate(range(-max_lag, max_lag + 1)):
        x, y = (m[lag:], e[: len(e) - lag]) if lag >= 0 else (m[: len(m) + lag], e[-lag:])
        if len(x) >= 10 and x.std() > 1e-6 and y.std() > 1e-6:
            out[i] = float(np.corrcoef(x, y)[0, 1])
    return out


def lip_sync(motion: np.ndarray, audio: np.ndarray, max_lag: int = 6) -> tuple[int, float]:
    """(lag, correlation) of one clip; lag > 0: the mouth moves after the sound."""
    return pooled_lip_sync([sync_curve(motion, audio, max_lag)])


def pooled_lip_sync(curves: list[np.ndarray]) -> tuple[int, float]:
    """The lag of the mean correlation curve over many clips (one clip's peak is noisy)."""
    mean = np.nanmean(np.stack(curves), 0)
    if np.isnan(mean).all():
        return 0, float("nan")
    i = int(np.nanargmax(mean))
    return i - (len(mean) - 1) // 2, float(mean[i])


# ----------------------------------------------------------------------------- style
STYLE_FEATURES = (
    "pitch_std",
    "yaw_std",
    "roll_std",
    "head_tempo",
    "blink_rate",
    "brow_mean",
    "smile_mean",
    "gaze_aversion",
    "gaze_side",
)


def yaw_spectrum(motion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(frequencies in Hz, amplitudes) of the head's yaw, mean removed, Hann-windowed: the spectrum
    whose centroid is the tempo feature. A clip of 8 frames or fewer has none (zeros)."""
    yaw = np.asarray(motion, np.float64)[:, spec.HEAD_ROTATION][:, 1]
    if len(yaw) <= 8:
        return np.zeros(2), np.zeros(2)
    yaw = yaw - yaw.mean()
    return np.fft.rfftfreq(len(yaw), 1 / spec.FPS), np.abs(np.fft.rfft(yaw * np.hanning(len(yaw))))


def style_stats(motion: np.ndarray) -> np.ndarray:
    """Observable style of a motion clip, one number per STYLE_FEATURES entry."""
    m = np.asarray(motion, np.float64)
    seconds = len(m) / spec.FPS
    rot = m[:, spec.HEAD_ROTATION]
    freqs, spectrum = yaw_spectrum(m)
    band = (freqs > 0.05) & (freqs < 3.0)
    tempo = float((spectrum[band] * freqs[band]).sum() / max(spectrum[band].sum(), 1e-9)) if band.any() else 0.0
    blink = 0.5 * (m[:, IDX["eyeBlinkLeft"]] + m[:, IDX["eyeBlinkRight"]])
    blinks = int(((blink[1:] > 0.5) & (blink[:-1] <= 0.5)).sum())
    gaze_yaw = 0.5 * (m[:, spec.GAZE.start] + m[:, spec.GAZE.start + 2])
    averted = np.abs(gaze_yaw) > 0.08
    return np.array(
        [
            rot[:, 0].std(),
            rot[:, 1].std(),
            rot[:, 2].std(),
            tempo,
            60.0 * blinks / max(seconds, 1e-6),
            m[:, IDX["browInnerUp"]].mean(),
            0.5 * (m[:, IDX["mouthSmileLeft"]] + m[:, IDX["mouthSmileRight"]]).mean(),
            averted.mean(),
            gaze_yaw[averted].mean() if averted.any() else 0.0,
        ]
    )


def style_distance(a: np.ndarray, b: np.ndarray, scale: np.ndarray) -> float:
    """Mean absolute difference of style stats, each feature in units of its spread across speakers."""
    return float(np.mean(np.abs(a - b) / np.maximum(scale, 1e-6)))


def rank1(stats: np.ndarray, centroids: dict[str, np.ndarray], scale: np.ndarray) -> str:
    return min(centroids, key=lambda k: style_distance(stats, centroids[k], scale))
