"""The graph sampler: padded buckets give each request what the eager sampler gives it.

CUDA graph capture itself needs a GPU (benchmarks/gpu_session.py checks it there); the padding,
masking and batch filling it relies on run here, eagerly."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from avatar_omnitalker import spec
from avatar_omnitalker.model.cfm import FlowMatching
from avatar_omnitalker.model.config import load_config
from avatar_omnitalker.model.graphs import GraphSampler
from tests.conftest import randomize


@pytest.fixture(scope="module", params=[True, False], ids=["attn_mask", "no_attn_mask"])
def model(request) -> FlowMatching:
    """attn_mask off is F5-TTS v1's (and the base preset's) training rule: sampling masks anyway."""
    cfg = load_config("tiny")
    cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, attn_mask=request.param))
    torch.manual_seed(0)
    m = FlowMatching(cfg)
    randomize(m, std=0.05)  # at the conftest's 0.2 the random network is chaotic: 1e-6 grows 10x a step
    return m.eval()


def _request(b: int, totals: list[int], ref: int = 12, seed: int = 3):
    g = torch.Generator().manual_seed(seed)
    ref_mel = torch.randn(b, spec.mel_frames_for_motion(ref), spec.N_MELS, generator=g)
    ref_motion = torch.randn(b, ref, spec.MOTION_DIM, generator=g)
    text = torch.randint(0, 50, (b, 40), generator=g)
    return ref_mel, ref_motion, text, torch.tensor(totals), ref


@pytest.mark.parametrize("totals", [[31], [31, 44, 27]])
@pytest.mark.parametrize("method", ["euler", "midpoint"])
def test_padded_bucket_equals_eager_sampler(model, totals, method):
    ref_mel, ref_motion, text, total, ref = _request(len(totals), totals)
    kw = dict(ref_frames=ref, steps=5, cfg_strength=2.0, method=method, seed=[7 + i for i in range(len(totals))])
    eager = model.sample(ref_mel, ref_motion, text, total, **kw)
    sampler = GraphSampler(model, bucket_frames=25)
    graphed = sampler.sample(ref_mel, ref_motion, text, total, **kw)
    assert graphed.mel.shape == eager.mel.shape and graphed.motion.shape == eager.motion.shape
    torch.testing.assert_close(graphed.mel, eager.mel, atol=2e-4, rtol=1e-4)
    torch.testing.assert_close(graphed.motion, eager.motion, atol=2e-4, rtol=1e-4)
    assert list(sampler.captures)[0][:3] == sampler.buckets(len(totals), max(totals))


def test_a_request_gets_the_same_result_alone_or_in_a_padded_batch(model):
    ref_mel, ref_motion, text, total, ref = _request(3, [30, 41, 26])
    sampler = GraphSampler(model, bucket_frames=25)
    kw = dict(ref_frames=ref, steps=4, cfg_strength=2.0)
    batch = sampler.sample(ref_mel, ref_motion, text, total, seed=[1, 2, 3], **kw)
    alone = sampler.sample(ref_mel[1:2], ref_motion[1:2], text[1:2], total[1:2], seed=[2], **kw)
    n = int(alone.mel_lens[0])
    torch.testing.assert_close(batch.mel[1, :n], alone.mel[0, :n], atol=2e-4, rtol=1e-4)


def test_buckets_round_batch_to_powers_of_two_and_length_to_the_bucket(model):
    sampler = GraphSampler(model, bucket_frames=50)
    assert sampler.buckets(1, 325) == (1, spec.mel_frames_for_motion(350), 350)
    assert sampler.buckets(3, 50) == (4, spec.mel_frames_for_motion(50), 50)
    assert sampler.buckets(16, 51)[0] == 16 and sampler.buckets(17, 51)[0] == 32


def test_what_the_graph_sampler_does_not_capture_is_refused_clearly(model):
    ref_mel, ref_motion, text, total, ref = _request(1, [30])
    sampler = GraphSampler(model)
    with pytest.raises(ValueError, match="cfg > 0"):
        sampler.sample(ref_mel, ref_motion, text, total, ref_frames=ref, steps=4, cfg_strength=0.0)
    with pytest.raises(ValueError, match="bucket_frames"):
        GraphSampler(model, bucket_frames=0)
    with pytest.raises(ValueError, match="CUDA device"):
        GraphSampler(model, capture=True)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graph capture needs a GPU")
def test_cuda_graph_replay_equals_eager_and_reuses_its_bucket():
    cfg = load_config("tiny")
    torch.manual_seed(0)
    m = FlowMatching(cfg)
    randomize(m, std=0.05)
    m = m.to("cuda").eval()
    ref_mel, ref_motion, text, total, ref = _request(2, [40, 33])
    kw = dict(ref_frames=ref, steps=6, cfg_strength=2.0, seed=[4, 5])
    eager = m.sample(ref_mel, ref_motion, text, total, **kw)
    sampler = GraphSampler(m, bucket_frames=25)
    first = sampler.sample(ref_mel, ref_motion, text, total, **kw)
    again = sampler.sample(ref_mel, ref_motion, text, total - 3, **kw)  # same bucket: replayed, not captured
    assert len(sampler.captures) == 1
    torch.testing.assert_close(first.mel, eager.mel, atol=1e-3, rtol=1e-3)
    torch.testing.assert_close(first.motion, eager.motion, atol=1e-3, rtol=1e-3)
    assert again.mel.shape[1] == int(again.mel_lens.max()) < first.mel.shape[1]
