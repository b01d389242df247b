"""Natural speech for the corpus: Kokoro-82M (int8 ONNX, 24 kHz) with exact phoneme timings.

The published graph returns audio only. Its duration predictor's rounded output (frames of 600
samples per input token) is an internal tensor; `Kokoro` exposes it as a second graph output, so
every phoneme's start and end are what the network actually spoke, not a fit afterwards.

Tokens are espeak-ng IPA for English (as Kokoro was trained) and misaki's pinyin->IPA for
Mandarin. The timed labels are espeak-ng phoneme units (the inventory the aligned text mode and
the lip model use) so the corpus speaks the same label language as inference.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from avatar_omnitalker import spec
from avatar_omnitalker.data.kokoro_assets import STYLE_ROWS, KokoroAssets
from avatar_omnitalker.errors import OmniTalkerError
from avatar_omnitalker.text.espeak import STRESS_MARKS, Espeak, Phoneme, Utterance
from avatar_omnitalker.text.phonemes import PAUSE
from avatar_omnitalker.text.tokenizer import is_chinese

SAMPLES_PER_DURATION = 600  # samples per unit of the duration predictor at 24 kHz (25 ms)
DURATION_TENSOR = "/encoder/Cast_output_0"  # int64 (1, tokens + 2): rounded, clipped durations
MAX_TOKENS = STYLE_ROWS - 2  # the two boundary pads count
LANGS = {"en-us": "en-us", "en-gb": "en-gb-x-rp", "zh": "cmn"}  # Kokoro language -> espeak voice
# Latin words inside Mandarin text: Kokoro is fed US English (its Mandarin voices say those words
# more clearly: whisper base CER 0.327 against 0.421 on the evaluation's code-switched ground truth),
# and the words are labelled with the English espeak's cmn voice switches to, as inference labels
# them (text/timing.py speaks the whole text with cmn)
CMN_SWITCH_ENGLISH = "en"
# espeak IPA that Kokoro's training front end spelled otherwise
_KOKORO_SPELLING = str.maketrans({"ʲ": "j", "r": "ɹ", "x": "k", "ɬ": "l"})
_PUNCT = {"，": ",", "、": ",", "。": ".", "！": "!", "？": "?", "：": ":", "；": ";", "…": "…", "—": "—"}
_PUNCT_RUN = re.compile(r"([,.!?;:…—，、。！？：；]+)")
_VOWELS = set("aeiouyɑɐɒæɔəɚɛɜɪʊʌɨɯɤøœɵʉɝ")


class KokoroError(OmniTalkerError, ValueError):
    pass


@dataclass(frozen=True)
class KokoroVoice:
    """One corpus speaker's voice: a blend of Kokoro style tables, a language and a tempo."""

    lang: str = "en-us"  # "en-us" | "en-gb" | "zh"
    voices: tuple[str, ...] = ("af_heart",)
    weights: tuple[float, ...] = (1.0,)
    speed: float = 1.0  # >1 speaks faster

    def __post_init__(self) -> None:
        if self.lang not in LANGS:
            raise KokoroError(f"Kokoro language must be one of {sorted(LANGS)}, got {self.lang!r}")
        if len(self.voices) != len(self.weights) or not self.voices:
            raise KokoroError(f"a voice blend needs one weight per voice, got {self.voices} / {self.weights}")
        if not 0.5 <= self.speed <= 2.0:
            raise KokoroError(f"Kokoro speed must be within 0.5-2.0, got {self.speed}")

    @property
    def name(self) -> str:
        return "+".join(f"{v}*{w:.2f}" for v, w in zip(self.voices, self.weights, strict=True))


@dataclass
class _Unit:
    label: str  # an espeak phoneme unit, or PAUSE
    tokens: str  # Kokoro symbols that speak it
    stressed: bool = False
    word: int = 0


@dataclass
class _Plan:
    units: list[_Unit] = field(default_factory=list)
    words: int = 0

    def new_word(self) -> int:
        self.words += 1
        return self.words - 1

    def add(self, label: str, tokens: str, stressed: bool = False, word: int = 0) -> None:
        self.units.append(_Unit(label, tokens, stressed, word))


class Kokoro:
    """Synthesise text into an `Utterance` (24 kHz audio + timed espeak phoneme units)."""

    def __init__(self, assets: KokoroAssets | None = None, threads: int | None = None) -> None:
        import onnx
        import onnxruntime as ort

        self.assets = assets or KokoroAssets.find()
        graph = onnx.load(str(self.assets.model))
        if DURATION_TENSOR not in {o for node in graph.graph.node for o in node.output}:
            raise KokoroError(f"{self.assets.model} has no duration tensor {DURATION_TENSOR}: not Kokoro v1.0")
        graph.graph.output.append(onnx.helper.make_tensor_value_info(DURATION_TENSOR, onnx.TensorProto.INT64, None))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or int(os.environ.get("OMP_NUM_THREADS", 0)) or (os.cpu_count() or 1)
        self._session = ort.InferenceSession(graph.SerializeToString(), options, providers=["CPUExecutionProvider"])
        self._vocab = self.assets.vocab()
        self._espeak = Espeak()

    def style(self, voice: KokoroVoice, n_tokens: int) -> np.ndarray:
        """(1, STYLE_DIM) float32: the weighted blend of the voices' rows for this length."""
        row = min(n_tokens, STYLE_ROWS - 1)
        weights = np.asarray(voice.weights, np.float32)
        rows = np.stack([_table(self.assets, v)[row] for v in voice.voices])  # (voices, STYLE_DIM)
        return (weights[:, None] * rows).sum(0, keepdims=True) / weights.sum()

    def plan(self, text: str, voice: KokoroVoice) -> _Plan:
        plan = _Plan()
        for piece in _PUNCT_RUN.split(text):
            if not piece.strip():
                continue
            if _PUNCT_RUN.fullmatch(piece):
                plan.add(PAUSE, "".join(_PUNCT.get(c, c) for c in piece), False, max(plan.words - 1, 0))
            elif voice.lang == "zh":
                self._plan_mixed(piece, plan)
            else:
                self._plan_espeak(piece, LANGS[voice.lang], plan)
        return plan

    def _plan_espeak(self, text: str, espeak_voice: str, plan: _Plan, label_voice: str | None = None) -> None:
        """Kokoro hears espeak_voice's units; each word is labelled with label_voice's units where
        that voice says the word in as many units (else with the units Kokoro hears)."""
        words = self._espeak.phoneme_words(text, espeak_voice)
        named = self._espeak.phoneme_words(text, label_voice) if label_voice else words
        if len(named) != len(words):
            named = words
        for word, names in zip(words, named):
            if plan.units and plan.units[-1].label != PAUSE:
                plan.units[-1].tokens += " "  # the word break is spoken inside the last phoneme
            index = plan.new_word()
            for unit, name in zip(word, names if len(names) == len(word) else word):
                bare = name.lstrip(STRESS_MARKS)
                plan.add(bare, unit.translate(_KOKORO_SPELLING), name != bare, index)

    def _plan_mixed(self, text: str, plan: _Plan) -> None:
        """Mandarin runs through misaki's pinyin->IPA, Latin runs through espeak's English."""
        for run in re.findall(r"[\u4e00-\u9fff]+|[^\u4e00-\u9fff]+", text):
            if not is_chinese(run[0]):
                if run.strip():
                    self._plan_espeak(run, LANGS["en-us"], plan, label_voice=CMN_SWITCH_ENGLISH)
                continue
            for syllable_tokens, char in _mandarin_syllables(run):
                word = plan.new_word()
                labels = _espeak_char(char)
                # the initial consonant keeps the tokens before the first vowel; the final gets the rest
                split = next((i for i, c in enumerate(syllable_tokens) if c in _VOWELS), 0)
                if len(labels) > 1 and split and not _VOWELS & set(labels[0]):
                    plan.add(labels[0], syllable_tokens[:split], False, word)
                    labels, syllable_tokens = labels[1:], syllable_tokens[split:]
                for k, label in enumerate(labels):  # the final's units share its tokens evenly
                    a = k * len(syllable_tokens) // len(labels)
                    b = (k + 1) * len(syllable_tokens) // len(labels)
                    plan.add(label, syllable_tokens[a:b], k == 0, word)

    def synthesize(self, text: str, voice: KokoroVoice = KokoroVoice()) -> Utterance:
        plan = self.plan(text, voice)
        ids: list[int] = []
        owner: list[int] = []  # unit index of every token
        for u, unit in enumerate(plan.units):
            for symbol in unit.tokens:
                if symbol in self._vocab:
                    ids.append(self._vocab[symbol])
                    owner.append(u)
        if not any(plan.units[u].label != PAUSE for u in owner):
            raise KokoroError(f"nothing Kokoro can speak in {text!r}")
        if len(ids) > MAX_TOKENS:
            raise KokoroError(f"{len(ids)} tokens: Kokoro speaks at most {MAX_TOKENS} at once; split the text")
        tokens = np.array([[0, *ids, 0]], np.int64)
        audio, durations = self._session.run(
            None,
            {"tokens": tokens, "style": self.style(voice, len(ids)), "speed": np.array([voice.speed], np.float32)},
        )
        audio = np.asarray(audio, np.float32).reshape(-1)
        ends = np.cumsum(durations.reshape(-1)) * SAMPLES_PER_DURATION / spec.SAMPLE_RATE  # (tokens + 2,)
        return Utterance(audio, _timed(plan, owner, ends, audio.size / spec.SAMPLE_RATE), spec.SAMPLE_RATE)


def _timed(plan: _Plan, owner: list[int], ends: np.ndarray, duration: float) -> tuple[Phoneme, ...]:
    """Token spans (pads included: ends[0] is the leading pad) summed into unit spans."""
    spans: dict[int, list[float]] = {}
    for k, u in enumerate(owner):
        start, end = float(ends[k]), float(ends[k + 1])
        span = spans.setdefault(u, [start, end])
        span[1] = end
    out = [Phoneme(PAUSE, 0.0, float(ends[0]), False, 0)] if ends[0] > 0 else []
    for u in sorted(spans):
        start, end = spans[u]
        unit = plan.units[u]
        if end > start:
            out.append(Phoneme(unit.label, start, min(end, duration), unit.stressed, unit.word))
    if duration > out[-1].end:
        out.append(Phoneme(PAUSE, out[-1].end, duration, False, out[-1].word_index))
    merged: list[Phoneme] = []
    for p in out:  # neighbouring pauses are one pause
        if merged and p.symbol == PAUSE == merged[-1].symbol:
            merged[-1] = Phoneme(PAUSE, merged[-1].start, p.end, False, merged[-1].word_index)
        else:
            merged.append(p)
    return tuple(merged)


@lru_cache(maxsize=64)
def _table(assets: KokoroAssets, name: str) -> np.ndarray:
    """(STYLE_ROWS, STYLE_DIM): read once per process (a corpus worker speaks many sentences)."""
    return assets.style_table(name)


def _mandarin_syllables(run: str) -> list[tuple[str, str]]:
    """(Kokoro tokens, character) per syllable: jieba words, pypinyin readings in context,
    misaki's pinyin->IPA with tone arrows (the front end Kokoro's Mandarin voices learnt)."""
    import jieba
    from misaki.zh import ZHG2P
    from pypinyin import Style, lazy_pinyin

    out = []
    for word in jieba.lcut(run, cut_all=False):
        readings = lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=True)
        if len(readings) != len(word):  # pypinyin kept a non-Chinese run whole
            continue
        out += [(ZHG2P.py2ipa(py).replace(chr(815), ""), char) for py, char in zip(readings, word, strict=True)]
    return out


@lru_cache(maxsize=8192)
def _espeak_char(char: str) -> tuple[str, ...]:
    """espeak-ng's Mandarin units for one character, named as its phoneme events name them (the
    labels inference fits; its IPA string spells tones into some finals, the events do not)."""
    from avatar_omnitalker.text.espeak import VoiceSettings

    units = [p.symbol for p in Espeak().synthesize(char, VoiceSettings(voice="cmn")).phonemes if p.symbol != PAUSE]
    return tuple(units) or (PAUSE,)
