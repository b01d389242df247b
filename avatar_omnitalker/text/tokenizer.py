"""F5-TTS-style text front end: characters for Latin scripts, tone-numbered pinyin for Chinese.

The symbol rules follow F5-TTS's `convert_char_to_pinyin` so that F5-TTS checkpoints see the
text they were trained on; jieba segments words so pypinyin can resolve polyphones in context.
Unlike F5-TTS, a symbol missing from the vocab is an error naming it, never a silent space.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from avatar_omnitalker.errors import OmniTalkerError

DEFAULT_VOCAB = "char_pinyin"

# F5-TTS's substitutions for symbols its vocab lacks.
_TRANSLATE = str.maketrans({";": ",", "\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


class UnknownSymbolsError(OmniTalkerError, ValueError):
    """Text holds symbols the vocab cannot encode; `symbols` lists them in order of appearance."""

    def __init__(self, symbols: list[str], text: str) -> None:
        self.symbols = symbols
        shown = ", ".join(repr(s) for s in symbols)
        super().__init__(f"{len(symbols)} symbol(s) not in the vocab: {shown} (in text {text[:80]!r})")


def is_chinese(char: str) -> bool:
    return "\u3100" <= char <= "\u9fff"


def common_hanzi() -> list[str]:
    """The 3,755 common characters of GB 2312 level 1 (code rows 0xB0-0xD7, 94 cells a row, row
    0xD7 has 89): what the phoneme vocab must cover one character at a time."""
    out = []
    for row in range(0xB0, 0xD8):
        for cell in range(0xA1, 0xFF):
            try:
                out.append(bytes([row, cell]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return out


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def words(text: str) -> list[str]:
    """jieba's segmentation of Mandarin text (its words decide polyphones)."""
    return _jieba().lcut(text)


def _pinyin(text: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(text, style=Style.TONE3, tone_sandhi=True)


def text_to_symbols(text: str) -> list[str]:
    """Split text into vocab symbols: Latin characters one by one, each Hanzi as ' ' + pinyin."""
    symbols: list[str] = []
    for seg in _jieba().cut(text.translate(_TRANSLATE)):
        n_bytes = len(seg.encode("utf-8"))
        if n_bytes == len(seg):  # ASCII letters and symbols only
            if symbols and n_bytes > 1 and symbols[-1] not in " :'\"":
                symbols.append(" ")
            symbols.extend(seg)
        elif n_bytes == 3 * len(seg):  # East-Asian characters only
            readings = _pinyin(seg)
            for char, reading in zip(seg, readings):
                if is_chinese(char):
                    symbols.append(" ")
                symbols.append(reading)
        else:  # mixed
            for char in seg:
                if ord(char) < 256:
                    symbols.append(char)
                elif is_chinese(char):
                    symbols.append(" ")
                    symbols.extend(_pinyin(char))
                else:
                    symbols.append(char)
    return symbols


@dataclass(frozen=True)
class Vocab:
    """One token per line (F5-TTS vocab.txt format); the line number is the token id."""

    tokens: tuple[str, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for i, tok in enumerate(self.tokens):
            if tok in seen:
                raise ValueError(f"vocab token {tok!r} appears twice (second time on line {i + 1})")
            seen.add(tok)

    @classmethod
    def from_file(cls, path: str | Path) -> Vocab:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"vocab file not found: {path}")
        lines = path.read_text(encoding="utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # the newline after the last token
        if not lines:
            raise ValueError(f"vocab file is empty: {path}")
        return cls(tuple(line.rstrip("\r") for line in lines))

    @classmethod
    def builtin(cls, name: str = DEFAULT_VOCAB) -> Vocab:
        ref = resources.files("avatar_omnitalker.text") / "vocab" / f"{name}.txt"
        if not ref.is_file():
            raise FileNotFoundError(f"no built-in vocab named {name!r}")
        with resources.as_file(ref) as path:
            return cls.from_file(path)

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def index(self) -> dict[str, int]:
        return _index(self.tokens)


@lru_cache(maxsize=8)
def _index(tokens: tuple[str, ...]) -> dict[str, int]:
    return {tok: i for i, tok in enumerate(tokens)}


class Tokenizer:
    """Text -> token ids for the model; raises UnknownSymbolsError rather than guessing."""

    def __init__(self, vocab: Vocab | None = None) -> None:
        self.vocab = vocab or Vocab.builtin()

    def __len__(self) -> int:
        return len(self.vocab)

    def unknown_symbols(self, text: str) -> list[str]:
        index = self.vocab.index
        unknown: list[str] = []
        for sym in text_to_symbols(text):
            if sym not in index and sym not in unknown:
                unknown.append(sym)
        return unknown

    def encode(self, text: str) -> list[int]:
        symbols = text_to_symbols(text)
        index = self.vocab.index
        unknown = [s for s in dict.fromkeys(symbols) if s not in index]
        if unknown:
            raise UnknownSymbolsError(unknown, text)
        return [index[s] for s in symbols]

    def decode(self, ids: list[int]) -> str:
        return "".join(self.vocab.tokens[i] for i in ids if i >= 0)
