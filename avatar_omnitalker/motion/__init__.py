"""Motion representation helpers: normalisation, resampling between rates, ARKit export."""

from avatar_omnitalker.motion.arkit import to_arkit52
from avatar_omnitalker.motion.resample import mel_rate_to_motion, motion_to_mel_rate, resample_fps
from avatar_omnitalker.motion.stats import MotionStats

__all__ = ["MotionStats", "mel_rate_to_motion", "motion_to_mel_rate", "resample_fps", "to_arkit52"]
