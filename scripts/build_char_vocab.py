"""Rebuild the built-in char+pinyin vocab from pypinyin's dictionary (run by maintainers).

`python scripts/build_char_vocab.py` (from a checkout) rewrites the package's text/vocab/char_pinyin.txt. The file is
committed: token ids are part of a trained model, so the vocab must never change under it.
New symbols may only be appended.
"""

from __future__ import annotations

from pathlib import Path

import avatar_omnitalker.text
from avatar_omnitalker.text.tokenizer import DEFAULT_VOCAB

CJK_PUNCTUATION = "，。！？、；：（）《》【】「」『』…—～·"
LATIN_EXTRA = "".join(chr(c) for c in range(0xC0, 0x100) if chr(c) not in "×÷")


def pinyin_syllables() -> list[str]:
    """Every TONE3 reading pypinyin can produce, plus the neutral-tone (digit-less) form."""
    from pypinyin.contrib.tone_convert import to_tone3
    from pypinyin.pinyin_dict import pinyin_dict

    found: set[str] = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            tone3 = to_tone3(reading.strip())
            found.add(tone3)
            found.add(tone3.rstrip("12345"))
    for base in sorted({s.rstrip("12345") for s in found}):
        for tone in "12345":
            found.add(base + tone)
    return sorted(s for s in found if s)


def build_tokens() -> list[str]:
    tokens = [" "] + [chr(c) for c in range(33, 127)] + list(LATIN_EXTRA) + list(CJK_PUNCTUATION)
    singles = set(tokens)
    tokens += [s for s in pinyin_syllables() if s not in singles]
    return tokens


def main() -> None:
    out = Path(avatar_omnitalker.text.__file__).with_name("vocab") / f"{DEFAULT_VOCAB}.txt"
    tokens = build_tokens()
    out.write_text("\n".join(tokens) + "\n", encoding="utf-8")
    print(f"wrote {len(tokens)} tokens to {out}")


if __name__ == "__main__":
    main()
