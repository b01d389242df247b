"""Pack corpora into a small, training-only corpus: mel (uint8) + motion (float16), no audio.

Why: training on a lent GPU means carrying the data there, and a corpus's int16 audio is two
thirds of its bytes. The model trains on log-mel, so the audio can stay behind: a packed
corpus is about a fifth of the original. Several corpora can be merged into one pack; only
the splits asked for are kept (held-out speakers stay out of a training pack).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

from avatar_omnitalker.data.shards import Corpus, CorpusError, quantize_mel, shard_stem, write_header
from avatar_omnitalker.data.splits import TRAIN
from avatar_omnitalker.fileio import atomic_path


def pack_corpus(sources: list[str | Path], out: str | Path, splits: tuple[str, ...] = (TRAIN,)) -> dict:
    """Each corpus's sources of `splits` -> `out`, one shard per input shard; returns its header."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise CorpusError(f"{out} exists and is not empty; pack into a new folder")
    corpora = [Corpus(s) for s in sources]
    for c in corpora:
        c.require_audio("packing (a pack is made from an original corpus)")
    header = {
        "packed": {"from": [str(c.root) for c in corpora], "splits": list(splits), "mel": "uint8", "audio": False},
        "makers": [c.header for c in corpora],
    }
    k = 0
    shards = [(c, shard) for c in corpora for shard in sorted({s.shard for s in c.sources})]
    for corpus, shard in tqdm(shards, desc="pack", unit="shard"):
        kept = [s for s in corpus.sources if s.shard == shard and s.meta["split"] in splits]
        if not kept:
            continue
        arrays, metas = {}, []
        for local, source in enumerate(kept):
            data = corpus.arrays(source)
            codes, mel_range = quantize_mel(data["mel"])
            arrays[f"{local}.mel"] = codes
            arrays[f"{local}.mel_range"] = mel_range
            arrays[f"{local}.motion"] = data["motion"].astype(np.float16)
            metas.append({**source.meta, "packed_from": f"{corpus.root.name}/{shard.name}#{source.local}"})
        stem = shard_stem(out, k)
        with atomic_path(stem.with_suffix(".npz")) as tmp:
            np.savez_compressed(tmp, **arrays)
        with atomic_path(stem.with_suffix(".json")) as tmp:
            Path(tmp).write_text(json.dumps(metas, ensure_ascii=False))
        k += 1
    if k == 0:
        raise CorpusError(f"no sources of split(s) {', '.join(splits)} in {', '.join(map(str, sources))}")
    write_header(out, header)  # last: an interrupted pack is not mistaken for a corpus
    return header
