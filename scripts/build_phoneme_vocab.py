"""Rebuild the IPA phoneme vocab from what espeak-ng says for the corpus sentences (maintainers).

`python scripts/build_phoneme_vocab.py` (from a checkout) rewrites the package's
text/vocab/ipa_phonemes.txt: the
pause first, then every phoneme symbol espeak-ng produced for a sample of English sentences in
every corpus voice and of Mandarin sentences, the held-out evaluation sentences, and every
Mandarin character alone (the Kokoro corpus labels each syllable by its character's phonemes):
those of the grammars and, since the open text (data/open_text.py) says what they never did,
the 3,755 common characters of GB 2312 level 1 (二 and 儿 gave espeak-ng's 'ər', which no
grammar sentence says).
Committed, and only ever appended to.
"""

from __future__ import annotations

from pathlib import Path

import avatar_omnitalker.text
from avatar_omnitalker.data.corpus import VOICES
from avatar_omnitalker.data.sentences import sentences
from avatar_omnitalker.eval.report import heldout_sentences
from avatar_omnitalker.text.espeak import Espeak, VoiceSettings
from avatar_omnitalker.text.phonemes import PAUSE, PHONEME_VOCAB
from avatar_omnitalker.text.tokenizer import common_hanzi, is_chinese

EXTRA_TEXT = [
    "Hello! I am your digital assistant. It is a pleasure to meet you today.",
    "The quick brown fox jumps over the lazy dog. Which judge voiced the thin measure?",
]


def collect() -> list[str]:
    espeak = Espeak()
    found: set[str] = set()
    for lang, voices in VOICES.items():
        heldout = heldout_sentences(lang) + (heldout_sentences("mixed") if lang == "zh" else [])
        texts = list(sentences(lang)[:300]) + (EXTRA_TEXT if lang == "en" else []) + heldout
        if lang == "zh":
            chars = {c for text in sentences(lang) + tuple(heldout) for c in text if is_chinese(c)}
            texts += sorted(chars | set(common_hanzi()))
        for voice in voices:
            for text in texts:
                found.update(p.symbol for p in espeak.synthesize(text, VoiceSettings(voice=voice)).phonemes)
    found.discard(PAUSE)
    return [PAUSE] + sorted(found)


def main() -> None:
    out = Path(avatar_omnitalker.text.__file__).with_name("vocab") / f"{PHONEME_VOCAB}.txt"
    tokens = collect()
    if out.is_file():
        old = out.read_text(encoding="utf-8").split("\n")[:-1]
        tokens = old + [t for t in tokens if t not in old]
    out.write_text("\n".join(tokens) + "\n", encoding="utf-8")
    print(f"wrote {len(tokens)} phonemes to {out}")


if __name__ == "__main__":
    main()
