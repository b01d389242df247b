"""Flow-matching loss and sampler: where the loss looks, CFG packing, seeds, the reference."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from avatar_omnitalker import spec
from avatar_omnitalker.model.cfm import (
    FlowMatching,
    TrainBatch,
    f5_duration,
    lens_to_mask,
    mel_lens_for_frames,
    timesteps,
)
from avatar_omnitalker.model.config import FlowConfig, ModelConfig, load_config
from tests.conftest import randomize


def tiny_model(seed: int = 0, **flow) -> FlowMatching:
    cfg = load_config("tiny")
    if flow:
        cfg = dataclasses.replace(cfg, flow=dataclasses.replace(cfg.flow, **flow))
    return FlowMatching(cfg)


def make_batch(ref=(8, 6), frames=(24, 20), seed: int = 0) -> TrainBatch:
    g = torch.Generator().manual_seed(seed)
    k = torch.tensor(frames)
    m = mel_lens_for_frames(k)
    mel = torch.randn(len(frames), int(m.max()), spec.N_MELS, generator=g) * lens_to_mask(m)[..., None]
    motion = torch.randn(len(frames), int(k.max()), spec.MOTION_DIM, generator=g) * lens_to_mask(k)[..., None]
    text = torch.randint(0, 100, (len(frames), 15), generator=g)
    return TrainBatch(mel, m, text, motion, k, None if ref is None else torch.tensor(ref))


class Oracle(torch.nn.Module):
    """Stands in for the backbone: exact velocity on `exact` frames, garbage elsewhere."""

    def __init__(self, batch: TrainBatch, exact: str) -> None:
        super().__init__()
        self.batch, self.exact = batch, exact
        self.targets: tuple | None = None

    def forward(self, xa, conda, t, *, x_motion=None, cond_motion=None, **_):
        tt = t[:, None, None]
        flow_a = (self.batch.mel - xa) / (1 - tt)  # x1 - x0 recovered from x_t = (1-t) x0 + t x1
        flow_m = (self.batch.motion - x_motion) / (1 - tt)
        ta, tm = self.targets
        garbage_a, garbage_m = flow_a + 100, flow_m + 100
        if self.exact == "target":
            return torch.where(ta[..., None], flow_a, garbage_a), torch.where(tm[..., None], flow_m, garbage_m)
        return torch.where(ta[..., None], garbage_a, flow_a), torch.where(tm[..., None], garbage_m, flow_m)


@pytest.mark.parametrize("ref", [(8, 6), None])
def test_loss_counts_only_the_target_region(ref):
    batch = make_batch(ref=ref)
    for exact, expect_zero in [("target", True), ("outside", False)]:
        model = tiny_model()
        oracle = Oracle(batch, exact)
        oracle.targets = model.target_masks(batch, torch.Generator().manual_seed(5))
        model.backbone = oracle
        out = model(batch, torch.Generator().manual_seed(5))
        if expect_zero:
            assert out.audio < 1e-6 and out.motion < 1e-6
        else:
            assert out.audio > 1e3 and out.motion > 1e3


class MotionError(torch.nn.Module):
    """Stands in for the backbone: exact velocities, plus `error(frame index)` on every motion channel."""

    def __init__(self, batch: TrainBatch, error) -> None:
        super().__init__()
        self.batch, self.error = batch, error

    def forward(self, xa, conda, t, *, x_motion=None, **_):
        tt = t[:, None, None]
        frames = torch.arange(x_motion.shape[1], dtype=torch.float32)[None, :, None]
        flow_m = (self.batch.motion - x_motion) / (1 - tt) + self.error(frames)
        return (self.batch.mel - xa) / (1 - tt), flow_m


@pytest.mark.parametrize(
    "error, flat, delta",
    [
        (lambda k: torch.full_like(k, 0.5), 0.25, 0.0),  # a steady offset: drift, no jitter
        (lambda k: 0.5 * (-1.0) ** k, 0.25, 1.0),  # flips every frame: the same flat error, 4x as delta
    ],
    ids=["steady", "alternating"],
)
def test_the_delta_term_weighs_frame_to_frame_error_and_not_drift(error, flat, delta):
    batch = make_batch(ref=(8, 6))
    model = tiny_model(motion_delta_loss_weight=3.0)
    model.backbone = MotionError(batch, error)
    out = model(batch, torch.Generator().manual_seed(5))
    assert out.audio < 1e-6
    assert out.motion.item() == pytest.approx(flat, rel=1e-4)
    assert out.motion_delta.item() == pytest.approx(delta, rel=1e-4, abs=1e-6)
    assert out.loss.item() == pytest.approx((out.audio + out.motion + 3.0 * out.motion_delta).item(), rel=1e-5)


def test_the_delta_term_is_off_by_default_and_absent_without_motion():
    batch = make_batch(ref=(8, 6))
    model = tiny_model()
    model.backbone = MotionError(batch, lambda k: 0.5 * (-1.0) ** k)
    out = model(batch, torch.Generator().manual_seed(5))
    assert out.motion_delta > 0.9 and out.loss.item() == pytest.approx((out.audio + out.motion).item(), rel=1e-5)
    audio_only = dataclasses.replace(make_batch(ref=None), motion=None, motion_lens=None)
    assert tiny_model(motion_delta_loss_weight=1.0)(audio_only).motion_delta == 0


def test_in_context_target_is_after_the_reference():
    batch = make_batch(ref=(8, 6))
    ta, tm = tiny_model().target_masks(batch)
    assert tm[0].nonzero().min() == 8 and tm[0].nonzero().max() == 23 and tm[1].sum() == 20 - 6
    assert ta[0].nonzero().min() == spec.mel_frames_for_motion(8) and ta[1].sum() == batch.mel_lens[
        1
    ] - spec.mel_frames_for_motion(6)


def test_span_mask_is_70_to_100_percent_and_time_aligned():
    batch = make_batch(ref=None, frames=(200, 160))
    ta, tm = tiny_model().target_masks(batch, torch.Generator().manual_seed(3))
    frac = ta.sum(1) / batch.mel_lens
    assert ((frac >= 0.69) & (frac <= 1.0)).all()
    for i in range(2):  # motion span = frames whose centre lies in the audio span
        lo, hi = ta[i].nonzero().min().item(), ta[i].nonzero().max().item()
        centres = spec.motion_frame_position(tm[i].nonzero().squeeze(1).float())
        assert centres.min() >= lo and centres.max() < hi + 1


def test_audio_only_samples_train_the_audio_branch():
    batch = make_batch(ref=None)
    batch = dataclasses.replace(batch, motion=None, motion_lens=None)
    out = tiny_model()(batch, torch.Generator().manual_seed(0))
    assert out.motion == 0 and out.audio > 0


def test_tiny_model_overfits_one_batch():
    """One batch with one fixed draw of t and noise: the network must be able to fit it, through
    every part (text, both embeddings, fusion, both heads)."""
    torch.manual_seed(0)
    model = tiny_model(audio_drop_prob=0.0, cond_drop_prob=0.0)
    batch = make_batch(ref=(8, 6), frames=(24, 20))
    steps = 200
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 20) * 0.5 * (1 + math.cos(math.pi * s / steps))
    )
    losses, audio, motion = [], [], []
    for _ in range(steps):
        out = model(batch, torch.Generator().manual_seed(0))
        opt.zero_grad()
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(out.loss.item())
        audio.append(out.audio.item())
        motion.append(out.motion.item())
    assert losses[-1] * 5 <= losses[0], f"loss fell only from {losses[0]:.3f} to {losses[-1]:.3f}"
    assert audio[-1] * 5 <= audio[0] and motion[-1] * 5 <= motion[0], "both branches must learn"


def sampler_inputs(b: int = 2, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    ref_frames = torch.tensor([8, 6][:b])
    ref_mel = torch.randn(b, spec.mel_frames_for_motion(8), spec.N_MELS, generator=g)
    ref_motion = torch.randn(b, 8, spec.MOTION_DIM, generator=g)
    text = torch.randint(0, 100, (b, 20), generator=g)
    return ref_mel, ref_motion, text, torch.tensor([20, 16][:b]), ref_frames


# None: the motion branch takes the audio's strength; (0, 3.5): only motion guided, still one packed pass
@pytest.mark.parametrize("audio_cfg, motion_cfg", [(2.0, None), (2.0, 3.5), (0.0, 3.5)])
def test_packed_cfg_equals_two_passes(audio_cfg, motion_cfg):
    model = randomize(tiny_model(), std=0.1)
    ref_mel, ref_motion, text, total, ref_frames = sampler_inputs()
    captured = {}
    original = model._velocity_fn

    def spy(*args):
        captured["args"] = args
        return original(*args)

    model._velocity_fn = spy
    model.sample(
        ref_mel, ref_motion, text, total, ref_frames=ref_frames, steps=1, cfg_strength=audio_cfg,
        motion_cfg_strength=motion_cfg, seed=0,
    )  # fmt: skip
    cond_a, cond_m, text_c, text_u, am, mm, _ = captured["args"]
    w = audio_cfg if motion_cfg is None else motion_cfg
    guided = original(*captured["args"])
    g = torch.Generator().manual_seed(9)
    xa, xm, t = torch.randn(cond_a.shape, generator=g), torch.randn(cond_m.shape, generator=g), torch.tensor(0.3)
    with torch.no_grad():
        va, vm = guided(t, xa, xm)
        ca, cm = model.backbone(
            xa, cond_a, t.expand(2), text_emb=text_c, x_motion=xm, cond_motion=cond_m, audio_mask=am, motion_mask=mm
        )
        ua, um = model.backbone(
            xa,
            cond_a,
            t.expand(2),
            text_emb=text_u,
            x_motion=xm,
            cond_motion=cond_m,
            audio_mask=am,
            motion_mask=mm,
            drop_cond=True,
        )
    assert torch.allclose(va, ca + audio_cfg * (ca - ua), atol=1e-5)
    assert torch.allclose(vm, cm + w * (cm - um), atol=1e-5)


def test_motion_guidance_defaults_to_the_audio_strength_and_moves_only_through_motion():
    model = randomize(tiny_model(), std=0.1)
    ref_mel, ref_motion, text, total, ref_frames = sampler_inputs()
    run = lambda **kw: model.sample(
        ref_mel, ref_motion, text, total, ref_frames=ref_frames, steps=4, cfg_strength=2.0, seed=5, **kw
    )
    same, default, livelier = run(motion_cfg_strength=2.0), run(), run(motion_cfg_strength=4.0)
    assert torch.equal(same.mel, default.mel) and torch.equal(same.motion, default.motion)
    assert not torch.allclose(livelier.motion, default.motion)


def test_text_embedding_computed_once_per_request(monkeypatch):
    model = randomize(tiny_model(), std=0.1)
    calls = []
    original = model.backbone.text_embed.forward
    monkeypatch.setattr(model.backbone.text_embed, "forward", lambda *a, **k: calls.append(1) or original(*a, **k))
    model.sample(*sampler_inputs()[:4], ref_frames=sampler_inputs()[4], steps=6, cfg_strength=2.0, seed=0)
    assert len(calls) == 2  # conditional and unconditional, not 2 per step


@pytest.mark.parametrize("method", ["euler", "midpoint"])
def test_sampler_is_seeded_and_keeps_the_reference(method):
    model = randomize(tiny_model(), std=0.1)
    ref_mel, ref_motion, text, total, ref_frames = sampler_inputs()
    run = lambda seed: model.sample(
        ref_mel, ref_motion, text, total, ref_frames=ref_frames, steps=4, cfg_strength=2.0, method=method, seed=seed
    )
    a, b, c = run(7), run(7), run(8)
    assert torch.equal(a.mel, b.mel) and torch.equal(a.motion, b.motion)
    assert not torch.allclose(a.mel, c.mel)
    for i in range(2):
        rm = spec.mel_frames_for_motion(int(ref_frames[i]))
        assert torch.equal(a.mel[i, :rm], ref_mel[i, :rm])
        assert torch.equal(a.motion[i, : ref_frames[i]], ref_motion[i, : ref_frames[i]])
        assert (a.mel[i, a.mel_lens[i] :] == 0).all()
    assert a.mel_lens.tolist() == [spec.mel_frames_for_motion(20), spec.mel_frames_for_motion(16)]


def test_batched_request_matches_single_request():
    """A request gets the same result whatever shares its batch (the handler's scheduler relies on it)."""
    model = randomize(tiny_model(), std=0.1)
    ref_mel, ref_motion, text, total, ref_frames = sampler_inputs()
    both = model.sample(ref_mel, ref_motion, text, total, ref_frames=ref_frames, steps=4, cfg_strength=2.0, seed=[3, 4])
    alone = model.sample(
        ref_mel[1:], ref_motion[1:], text[1:], total[1:], ref_frames=ref_frames[1:], steps=4, cfg_strength=2.0, seed=4
    )
    n = int(alone.mel_lens[0])
    assert torch.allclose(both.mel[1, :n], alone.mel[0, :n], atol=1e-3)  # float32 batching noise
    assert torch.allclose(both.motion[1, :16], alone.motion[0], atol=1e-3)


def test_schedules():
    assert torch.allclose(timesteps(16, None, True)[:3], torch.tensor([0, 1 / 32, 2 / 32]))
    assert torch.allclose(timesteps(4, None, True), torch.linspace(0, 1, 5))
    t = timesteps(32, -1.0, True)
    assert t[0] == 0 and torch.isclose(t[-1], torch.tensor(1.0)) and (t[1:] > t[:-1]).all()
    assert t[16] < 0.5  # sway spends more steps early


def test_sampler_rejects_bad_requests():
    model = tiny_model()
    ref_mel, ref_motion, text, _, ref_frames = sampler_inputs()
    with pytest.raises(ValueError, match="nothing to generate"):
        model.sample(ref_mel, ref_motion, text, ref_frames, ref_frames=ref_frames, steps=2, cfg_strength=2.0)
    with pytest.raises(ValueError, match="method"):
        model.sample(ref_mel, ref_motion, text, 30, ref_frames=ref_frames, steps=2, cfg_strength=2.0, method="rk4")
    with pytest.raises(ValueError, match="reference mel has"):
        model.sample(ref_mel[:, :10], ref_motion, text, 30, ref_frames=ref_frames, steps=2, cfg_strength=2.0)


def test_f5_duration_rule():
    assert f5_duration(75, "a" * 30, "b" * 60) == 75 + 150
    assert f5_duration(75, "你好", "你好你好") == 75 + 150  # UTF-8 bytes, as F5-TTS counts
    with pytest.raises(ValueError, match="transcript is empty"):
        f5_duration(75, "", "x")


def test_flow_config_validation():
    with pytest.raises(ValueError, match="flow.audio_drop_prob"):
        ModelConfig.from_dict({"flow": {"audio_drop_prob": 1.5}})
    with pytest.raises(ValueError, match="flow.motion_delta_loss_weight"):
        ModelConfig.from_dict({"flow": {"motion_delta_loss_weight": -1}})
    assert FlowConfig().frac_lengths_mask == (0.7, 1.0)
