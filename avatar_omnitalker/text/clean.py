"""Control characters in text: removed with a warning, never silently lost.

A NUL ends a C string, so espeak-ng would drop everything after it; other control characters
(escape sequences from a terminal, stray bytes from an LLM stream) have no sound either. Each one
becomes a space, and the caller is told which were there.
"""

from __future__ import annotations

import unicodedata

KEPT = "\t\n\r"  # layout, read as spaces by the chunker and the tokenizers


NOTHING_TO_SAY = "nothing to say: the text has no letters or digits"


def has_words(text: str) -> bool:
    """Anything to speak: a letter or a digit (punctuation and emoji alone make no speech)."""
    return any(ch.isalnum() for ch in text)


def strip_control(text: str) -> tuple[str, list[str]]:
    """(text with control and format characters replaced by spaces, the distinct ones removed)."""
    removed = [c for c in dict.fromkeys(text) if c not in KEPT and unicodedata.category(c) in ("Cc", "Cs")]
    for c in removed:
        text = text.replace(c, " ")
    return text, removed
