"""Loudness normalisation and silence finding for reference audio.

Loudness is the RMS of the active frames only (frames within 40 dB of the loudest), so pauses
do not make a sparse speaker sound quieter; peaks are then limited so nothing clips.
"""

from __future__ import annotations

import numpy as np

from avatar_omnitalker import spec

TARGET_DBFS = -20.0
PEAK_LIMIT = 0.95
FRAME = spec.SAMPLES_PER_FRAME


def frame_db(audio: np.ndarray, frame: int = FRAME) -> np.ndarray:
    """Per-frame RMS level in dBFS (the last partial frame included)."""
    n = -(-audio.size // frame)
    padded = np.pad(audio.astype(np.float64), (0, n * frame - audio.size))
    rms = np.sqrt((padded.reshape(n, frame) ** 2).mean(1))
    return 20 * np.log10(np.maximum(rms, 1e-10))


def active_frames(audio: np.ndarray, floor_db: float = 40.0, frame: int = FRAME) -> np.ndarray:
    db = frame_db(audio, frame)
    return db > max(db.max() - floor_db, -70.0)


def normalize_loudness(audio: np.ndarray, target_dbfs: float = TARGET_DBFS) -> np.ndarray:
    audio = np.asarray(audio, dtype=np.float32)
    active = active_frames(audio)
    if not active.any():
        raise ValueError("the audio is silent: no frame rises above -70 dBFS")
    n = -(-audio.size // FRAME)
    frames = np.pad(audio, (0, n * FRAME - audio.size)).reshape(n, FRAME)[active]
    level = 10 * np.log10(max(float((frames.astype(np.float64) ** 2).mean()), 1e-20))
    out = audio * (10 ** ((target_dbfs - level) / 20))
    peak = float(np.abs(out).max())
    if peak > PEAK_LIMIT:
        out *= PEAK_LIMIT / peak
    return out.astype(np.float32)
