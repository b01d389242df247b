"""Packed corpora: training's view of a corpus, small enough to carry to a GPU."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from avatar_omnitalker import spec
from avatar_omnitalker.audio.mel import MelExtractor
from avatar_omnitalker.data.dataset import PairDataset, stored_mel
from avatar_omnitalker.data.pack import pack_corpus
from avatar_omnitalker.data.shards import Corpus, CorpusError, dequantize_mel, quantize_mel
from avatar_omnitalker.fileio import folder_bytes
from avatar_omnitalker.text.modes import tokenizer_for


@pytest.fixture(scope="module")
def packed(small_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("pack") / "p"
    pack_corpus([small_corpus], out)
    return Corpus(small_corpus), Corpus(out)


def test_a_pack_keeps_the_training_split_only_and_is_far_smaller(packed):
    original, pack = packed
    assert [s.meta["source_id"] for s in pack.sources] == [s.meta["source_id"] for s in original.split("train")]
    assert folder_bytes(pack.root) < 0.3 * folder_bytes(original.root)
    assert pack.header["packed"]["splits"] == ["train"] and not pack.has_audio


def test_packed_arrays_are_the_originals_within_quantisation(packed):
    original, pack = packed
    for a, b in zip(original.split("train"), pack.sources):
        x, y = original.arrays(a), pack.arrays(b)
        assert "audio" not in y and y["mel"].dtype == np.float32 and y["motion"].dtype == np.float32
        step = (x["mel"].max() - x["mel"].min()) / 255
        assert np.abs(y["mel"] - x["mel"].astype(np.float32)).max() <= step / 2 + 1e-3
        np.testing.assert_allclose(y["motion"], x["motion"], rtol=1e-3, atol=1e-3)


def test_quantisation_round_trip_and_a_constant_mel():
    mel = np.random.default_rng(0).normal(-4, 2, (50, spec.N_MELS)).astype(np.float32)
    codes, (lo, hi) = quantize_mel(mel)
    assert codes.dtype == np.uint8 and np.abs(dequantize_mel(codes, lo, hi) - mel).max() <= (hi - lo) / 510 + 1e-6
    flat = np.full((4, spec.N_MELS), -11.5, np.float32)
    np.testing.assert_array_equal(dequantize_mel(*((c := quantize_mel(flat))[0],), *c[1]), flat)


def test_stored_mel_is_the_mel_of_the_spans(packed):
    """On hop-aligned spans (motion frames multiple of 4) the cut equals the clip's own mel,
    up to the frames touching the joins; elsewhere it is at most half a hop off. (The stored mel
    was computed before the audio was rounded to int16, which lifts espeak's empty top bands:
    the median, not the mean, compares them.)"""
    original, _ = packed
    source = original.split("train")[0]
    arrays = original.arrays(source)
    spans = [(8, 48), (60, 100)]
    wav = np.concatenate([arrays["audio"][spec.samples_for_frames(a) : spec.samples_for_frames(b)] for a, b in spans])
    reference = MelExtractor().for_clip(torch.from_numpy(wav)).numpy()
    cut = stored_mel(arrays["mel"].astype(np.float32), spans)
    assert cut.shape == reference.shape
    first = spec.mel_frames_for_motion(40)
    inner = np.r_[3 : first - 3, first + 3 : cut.shape[0] - 3]
    assert np.median(np.abs(cut[inner] - reference[inner])) < 0.01


def test_the_dataset_gives_the_same_pairs_and_text_from_a_pack(packed):
    original, pack = packed
    stats = original.motion_stats("train")
    tok = tokenizer_for("ipa_phonemes")
    a, b = PairDataset(original, "train", stats, tok, seed=1), PairDataset(pack, "train", stats, tok, seed=1)
    assert a.pairs(0) == b.pairs(0)
    for pair in a.pairs(0)[:5]:
        x, y = a.load(pair), b.load(pair)
        assert x.mel.shape == y.mel.shape and x.text == y.text and x.ref_frames == y.ref_frames
        torch.testing.assert_close(x.motion, y.motion, atol=2e-3, rtol=1e-3)


def test_what_needs_audio_says_the_corpus_is_packed(packed, tmp_path):
    _, pack = packed
    with pytest.raises(CorpusError, match="packed corpus"):
        pack.opening(pack.sources[0], 3.0)
    with pytest.raises(CorpusError, match="packed corpus"):
        pack_corpus([pack.root], tmp_path / "again")


def test_pack_refuses_a_non_empty_folder_and_an_empty_selection(packed, tmp_path):
    original, _ = packed
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    with pytest.raises(CorpusError, match="not empty"):
        pack_corpus([original.root], tmp_path / "busy")
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"
    with pytest.raises(CorpusError, match="no sources of split"):
        pack_corpus([original.root], tmp_path / "none", splits=("nonexistent",))
    assert not (tmp_path / "none" / "corpus.json").exists()  # a failed pack is never taken for a corpus
    assert json.loads((original.root / "corpus.json").read_text())["format"]
