"""Which text front end a model uses: the one place that decides.

Two modes, one network: `implicit` (F5-TTS characters + pinyin, filler-padded; the model learns
the alignment) and `aligned` (one IPA phoneme id per mel frame, timings from espeak-ng). A model's
vocab names its mode: the phoneme vocab means aligned, anything else implicit.
"""

from __future__ import annotations

from pathlib import Path

from avatar_omnitalker.text.phonemes import PHONEME_VOCAB, PhonemeTokenizer
from avatar_omnitalker.text.tokenizer import DEFAULT_VOCAB, Tokenizer, Vocab

TEXT_MODES = ("implicit", "aligned")
AnyTokenizer = Tokenizer | PhonemeTokenizer


def check_mode(mode: str) -> str:
    if mode not in TEXT_MODES:
        raise ValueError(f"text_mode must be one of {TEXT_MODES}, got {mode!r}")
    return mode


def vocab_for_mode(mode: str, implicit_vocab: str = DEFAULT_VOCAB) -> str:
    """The vocab a new model of this mode trains with."""
    return PHONEME_VOCAB if check_mode(mode) == "aligned" else implicit_vocab


def mode_of_vocab(vocab: str) -> str:
    return "aligned" if Path(vocab).stem == PHONEME_VOCAB else "implicit"


def tokenizer_for(vocab: str, size: int | None = None) -> AnyTokenizer:
    """A built-in vocab name or a vocab .txt file -> the tokenizer of its mode.

    `size`: the number of tokens a trained model knows. Built-in vocabs only ever grow at the end,
    so a model trained before symbols were appended reads the first `size` tokens (newer symbols
    are then unknown to it, as they were when it was trained)."""
    path = Path(vocab)
    table = Vocab.from_file(path) if path.suffix == ".txt" else Vocab.builtin(vocab)
    if size is not None and path.suffix != ".txt" and size < len(table):
        table = Vocab(table.tokens[:size])
    return PhonemeTokenizer(table) if mode_of_vocab(vocab) == "aligned" else Tokenizer(table)


def mode_of(tokenizer: AnyTokenizer) -> str:
    return "aligned" if isinstance(tokenizer, PhonemeTokenizer) else "implicit"
