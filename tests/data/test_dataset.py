"""Shards load back; pairs come from one source; batches have the layout the model expects."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avatar_omnitalker import spec
from avatar_omnitalker.data.dataset import PairDataset, collate, dynamic_batches
from avatar_omnitalker.data.shards import Corpus, CorpusError
from avatar_omnitalker.model.cfm import FlowMatching
from avatar_omnitalker.model.config import load_config
from avatar_omnitalker.text.modes import tokenizer_for, vocab_for_mode
from avatar_omnitalker.text.phonemes import PhonemeTokenizer


@pytest.fixture(scope="module")
def corpus(small_corpus):
    return Corpus(small_corpus)


def test_round_trip_types(corpus):
    arrays = corpus.arrays(corpus.sources[0])
    assert arrays["audio"].dtype == np.float32 and np.abs(arrays["audio"]).max() <= 1.0
    assert arrays["mel"].dtype == np.float16 and arrays["motion"].dtype == np.float32
    with np.load(corpus.sources[0].shard) as raw:  # stored as 16-bit PCM
        assert raw[f"{corpus.sources[0].local}.audio"].dtype == np.int16
    assert corpus.split("train") and corpus.split("test")


@pytest.mark.parametrize("mode", ["aligned", "implicit"])
def test_pairs_come_from_one_source(corpus, mode):
    ds = PairDataset(
        corpus, "train", corpus.motion_stats(), tokenizer_for(vocab_for_mode(mode)), seed=1, max_ref_s=5, max_target_s=5
    )
    pairs = ds.pairs(0)
    assert pairs == ds.pairs(0) and pairs != ds.pairs(1)
    for pair in pairs[:12]:
        segs = ds.sources[pair.source].meta["segments"]
        ref, tgt = set(range(*pair.ref)), set(range(*pair.target))
        assert ref and tgt and not ref & tgt
        assert segs[pair.ref[1] - 1]["end"] - segs[pair.ref[0]]["start"] <= 5 * spec.FPS or len(ref) == 1
        ex = ds.load(pair)
        assert ex.mel.shape[0] == spec.mel_frames_for_motion(ex.frames)
        assert ex.ref_frames == segs[pair.ref[1] - 1]["end"] - segs[pair.ref[0]]["start"]
        if mode == "aligned":
            assert len(ex.text) == ex.mel.shape[0] and max(ex.text) > 0


def test_batches_fit_the_model(corpus):
    ds = PairDataset(corpus, "train", corpus.motion_stats(), PhonemeTokenizer())
    examples = [ds.load(p) for p in ds.pairs(0)[:10]]
    batches = dynamic_batches([e.mel.shape[0] for e in examples], 3000, 4, seed=0, epoch=0)
    assert sorted(i for b in batches for i in b) == list(range(10))
    for b in batches:
        assert max(examples[i].mel.shape[0] for i in b) * len(b) <= 3000 or len(b) == 1
    batch = collate([examples[i] for i in batches[0]])
    cfg = load_config("tiny")
    import dataclasses

    cfg = dataclasses.replace(
        cfg, vocab="ipa_phonemes", model=dataclasses.replace(cfg.model, text_vocab_size=len(ds.tokenizer))
    )
    loss = FlowMatching(cfg)(batch, torch.Generator().manual_seed(0))
    assert torch.isfinite(loss.loss)


def test_missing_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="corpus.json"):
        Corpus(tmp_path)
