"""Cut streamed LLM text into chunks the model speaks one at a time.

Rules: cut after sentence punctuation (Chinese and English); the first chunk of a turn may cut
at a clause (comma) once it is long enough, so the avatar starts talking early; a chunk that grows
too long is cut at the last clause or space. Every character fed in comes out exactly once and in
order: `"".join(chunks) == "".join(deltas)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SENTENCE_END = set("。！？!?；;…\n")
CLAUSE_END = set("，,、：:")
CLOSERS = set("\"'”’）)」』】》")


def _wide(ch: str) -> bool:
    """A Chinese (CJK) character: it speaks about as long as two Latin ones."""
    return ord(ch) > 0x2E80


def _past_closers(text: str, end: int) -> int:
    """The index after the closing quotes and brackets that start at `end` (they stay with the
    punctuation before them)."""
    while end < len(text) and text[end] in CLOSERS:
        end += 1
    return end


def _period_ends_before(after: str) -> bool:
    """Whether a period followed by `after` ("" at the end of the text) ends a sentence: only
    before a space, a Chinese character or the end, so "3.5" stays whole."""
    return not after or after.isspace() or _wide(after)


def sentences(text: str) -> list[str]:
    """`text` cut after each sentence end (closing quotes stay with their sentence); a period ends
    a sentence only before a space, a Chinese character or the end, so "3.5" stays whole.
    "".join(sentences(text)) == text."""
    out, start = [], 0
    for i, ch in enumerate(text):
        if ch not in SENTENCE_END and ch != ".":
            continue
        end = _past_closers(text, i + 1)
        after = text[end : end + 1]
        if after in SENTENCE_END or after == ".":
            continue  # "?!" or "...": the run ends the sentence at its last mark
        if ch == "." and not _period_ends_before(after):
            continue
        if end > start:
            out.append(text[start:end])
            start = end
    if start < len(text):
        out.append(text[start:])
    return out


def text_weight(text: str) -> int:
    """Speaking length: a Chinese character counts as two Latin characters."""
    return sum(2 if _wide(c) else 1 for c in text)


@dataclass
class TextChunker:
    first_min: int = 10  # weight after which the first chunk may cut at a clause
    min_len: int = 24  # chunks shorter than this wait for more text (except at the end)
    max_len: int = 160  # force a cut beyond this weight
    _buffer: str = ""
    _emitted: int = field(default=0)

    def feed(self, delta: str) -> list[str]:
        """Add a delta; return the chunks that are now complete."""
        self._buffer += delta
        out: list[str] = []
        while True:
            cut = self._find_cut()
            if cut is None:
                break
            out.append(self._buffer[:cut])
            self._buffer = self._buffer[cut:]
            self._emitted += 1
        return out

    @property
    def pending_text(self) -> str:
        """Text fed in but not yet cut into a chunk."""
        return self._buffer

    def flush(self) -> list[str]:
        """End of the turn: whatever is left is the last chunk (possibly only spaces)."""
        rest, self._buffer = self._buffer, ""
        self._emitted = 0
        return [rest] if rest else []

    def _find_cut(self) -> int | None:
        buf = self._buffer
        first = self._emitted == 0
        minimum = self.first_min if first else self.min_len
        last_clause = last_space = None
        for i, ch in enumerate(buf):
            end = _past_closers(buf, i + 1)
            if end >= len(buf) and ch not in "\n":
                # punctuation at the very end may still be followed by a closer or digits ("3.5")
                if ch in SENTENCE_END | CLAUSE_END or ch == ".":
                    break
            weight = text_weight(buf[:end])
            is_period = ch == "." and end < len(buf) and _period_ends_before(buf[end])
            if (ch in SENTENCE_END or is_period) and weight >= minimum:
                return end
            if ch in CLAUSE_END:
                last_clause = end
                if first and weight >= self.first_min:
                    return end
            if ch.isspace():
                last_space = i + 1
            if weight >= self.max_len:
                return last_clause or last_space or end
        return None
