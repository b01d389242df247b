"""espeak-ng through ctypes (the library and voices shipped by `espeakng-loader`).

espeak gives what no neural TTS here can: speech in many voices with the exact time of every
phoneme, which is the ground truth the synthetic corpus and the default avatar are built from.
The library is a process-wide singleton, so every call holds one lock.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from avatar_omnitalker.errors import OmniTalkerError
from avatar_omnitalker.text.phonemes import PAUSE

ESPEAK_RATE = 22_050  # the library's fixed output rate
STRESS_MARKS = "ˈˌ"

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS = 0x0001
_INIT_PHONEME_IPA = 0x0002  # phoneme events name their phoneme in IPA, with stress marks
_INIT_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_END_PAUSE = 0x1000
_POS_CHARACTER = 1
_IPA = 0x02  # espeak_TextToPhonemes: IPA names; bits 8-23 carry the separator between units
_UNIT_SEP = "|"
_EVENT_LIST_TERMINATED, _EVENT_WORD, _EVENT_PHONEME = 0, 1, 7
_PARAM = {"rate": 1, "volume": 2, "pitch": 3, "range": 4, "wordgap": 7}


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


class EspeakError(OmniTalkerError, RuntimeError):
    pass


@dataclass(frozen=True)
class Phoneme:
    symbol: str  # IPA, stress marks removed; PAUSE for silence
    start: float  # seconds from the start of the utterance
    end: float
    stressed: bool  # the syllable carries stress
    word_index: int


@dataclass(frozen=True)
class Utterance:
    audio: np.ndarray  # (N,) float32 at ESPEAK_RATE
    phonemes: tuple[Phoneme, ...]
    sample_rate: int = ESPEAK_RATE

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate


@dataclass(frozen=True)
class VoiceSettings:
    voice: str = "en-us"  # espeak voice, optionally with a variant: "en-us+f3", "cmn+m2"
    rate: int = 165  # words per minute
    pitch: int = 50  # 0-100
    pitch_range: int = 50  # 0-100, intonation depth
    volume: int = 100  # 0-200
    word_gap: int = 0  # extra pause between words, units of 10 ms


class Espeak:
    """Synthesise text into (audio, timed phonemes)."""

    _lock = threading.Lock()

    def __init__(self) -> None:
        self._lib = _library()
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, int, str]] = []  # (type, sample index in the utterance, phoneme)
        self._callback = _CALLBACK(self._on_synth)

    def _on_synth(self, wav, numsamples, events) -> int:
        if numsamples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(numsamples,)).astype(np.float32) / 32768.0)
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            ev = events[i]
            if ev.type == _EVENT_PHONEME:
                raw = bytes(ev.id.string).split(b"\0", 1)[0]
                # `sample` is exact; `audio_position` (ms) is rounded against state left by earlier
                # utterances, which would make timings depend on what was synthesised before
                self._events.append((ev.type, ev.sample, raw.decode("utf-8", "replace")))
            elif ev.type == _EVENT_WORD:
                self._events.append((ev.type, ev.sample, ""))
            i += 1
        return 0

    def synthesize(self, text: str, settings: VoiceSettings = VoiceSettings()) -> Utterance:
        if not text.strip():
            raise ValueError("nothing to synthesise: the text is empty")
        with Espeak._lock:
            lib = self._lib
            lib.espeak_SetSynthCallback(self._callback)
            if lib.espeak_SetVoiceByName(settings.voice.encode()) != 0:
                raise EspeakError(f"espeak-ng has no voice {settings.voice!r}")
            for name, value in (
                ("rate", settings.rate),
                ("pitch", settings.pitch),
                ("range", settings.pitch_range),
                ("volume", settings.volume),
                ("wordgap", settings.word_gap),
            ):
                lib.espeak_SetParameter(_PARAM[name], int(value), 0)
            self._chunks, self._events = [], []
            # espeak draws noise (klatt, breath) from its own generator and from rand(); both are
            # seeded per utterance. Some synthesis state (e.g. the pitch-flutter phase) still
            # carries over from earlier utterances and no API resets it: output is reproducible
            # for the same sequence of calls in a fresh process (the corpus uses one per shard).
            lib.espeak_ng_SetRandSeed(0)
            _libc().srand(0)
            data = text.encode("utf-8") + b"\0"
            err = lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _END_PAUSE, None, None)
            if err != 0:
                raise EspeakError(f"espeak_Synth failed with code {err}")
            lib.espeak_Synchronize()
            audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
            events = list(self._events)
        return Utterance(audio, _phonemes(events, len(audio) / ESPEAK_RATE))

    def phoneme_words(self, text: str, voice: str = "en-us") -> list[list[str]]:
        """espeak-ng's IPA of `text` without synthesis: words of phoneme units (stress marks kept
        on the unit they precede). Mostly the names the phoneme events use; Mandarin units carry
        tone digits, and a few phonemes that synthesis folds into a neighbour are spelt out.

        Punctuation is dropped (espeak reads it as clause breaks); callers that need it split the
        text at punctuation first. This is how a neural TTS trained on espeak IPA is fed."""
        if not text.strip():
            return []
        with Espeak._lock:
            lib = self._lib
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise EspeakError(f"espeak-ng has no voice {voice!r}")
            buffer = ctypes.create_string_buffer(text.encode("utf-8") + b"\0")
            cursor = ctypes.c_char_p(ctypes.addressof(buffer))
            clauses = []
            while cursor.value:  # one clause per call; the library advances the cursor
                out = lib.espeak_TextToPhonemes(ctypes.byref(cursor), _CHARS_UTF8, _IPA | (ord(_UNIT_SEP) << 8))
                clauses.append((out or b"").decode("utf-8", "replace"))
        words = " ".join(clauses).split()
        units = [[u for u in word.split(_UNIT_SEP) if u and not is_language_switch(u)] for word in words]
        return [word for word in units if word]


def is_language_switch(symbol: str) -> bool:
    """espeak-ng marks a switch of language inside a text as a pseudo-phoneme "(en)", "(cmn)"."""
    return symbol.startswith("(") and symbol.endswith(")")


def _phonemes(events: list[tuple[int, int, str]], duration: float) -> tuple[Phoneme, ...]:
    """Phoneme events carry start times only; each phoneme ends where the next begins."""
    word = -1
    starts: list[tuple[float, str, bool, int]] = []
    for kind, sample, sym in events:
        if kind == _EVENT_WORD:
            word += 1
            continue
        if is_language_switch(sym):
            continue
        stressed = sym.startswith(tuple(STRESS_MARKS))
        starts.append((sample / ESPEAK_RATE, sym.lstrip(STRESS_MARKS) or PAUSE, stressed, max(word, 0)))
    out: list[Phoneme] = []
    for i, (start, sym, stressed, w) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else duration
        if end > start:
            out.append(Phoneme(sym, start, min(end, duration), stressed, w))
    return tuple(out)


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


@lru_cache(maxsize=1)
def _library() -> ctypes.CDLL:
    try:
        import espeakng_loader
    except ImportError as err:  # pragma: no cover - a declared dependency
        raise EspeakError("espeakng-loader is not installed (pip install espeakng-loader)") from err
    lib = ctypes.cdll.LoadLibrary(espeakng_loader.get_library_path())
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
    lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
    lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int]
    lib.espeak_Synth.argtypes = [
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]
    data_path = espeakng_loader.get_data_path().encode()
    rate = lib.espeak_Initialize(
        _AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, _INIT_PHONEME_EVENTS | _INIT_PHONEME_IPA | _INIT_DONT_EXIT
    )
    if rate <= 0:
        raise EspeakError(f"espeak_Initialize failed ({rate})")
    if rate != ESPEAK_RATE:
        raise EspeakError(f"espeak-ng runs at {rate} Hz, expected {ESPEAK_RATE}")
    return lib
