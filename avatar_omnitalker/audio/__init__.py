"""Audio features: the mel extractor shared by data preparation and inference."""

from avatar_omnitalker.audio.mel import MelExtractor, mel_filterbank

__all__ = ["MelExtractor", "mel_filterbank"]
