"""The names of the two splits: training speakers and held-out ones.

A corpus marks each source with one (evaluation, shipping and validation read the held-out
speakers; training and packing the others), and sentence pools (grammars, open text) are split by
the same names. The CLI offers them at start, so this module imports nothing.
"""

from __future__ import annotations

TRAIN = "train"
HELD_OUT = "test"  # the word corpora on disk carry in corpus.json and shard metadata
SPLITS = (TRAIN, HELD_OUT)
