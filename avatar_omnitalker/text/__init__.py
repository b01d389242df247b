"""Text front end: F5-style characters + pinyin tokenizer and its vocab files."""

from avatar_omnitalker.text.tokenizer import Tokenizer, UnknownSymbolsError, Vocab, text_to_symbols

__all__ = ["Tokenizer", "UnknownSymbolsError", "Vocab", "text_to_symbols"]
