"""Shapes, masks and the time alignment of the two token streams."""

from __future__ import annotations

import torch

from avatar_omnitalker import spec
from avatar_omnitalker.model.dit import OmniTalkerDiT
from tests.conftest import randomize


def make(cfg) -> OmniTalkerDiT:
    return randomize(OmniTalkerDiT(cfg), std=0.1).eval()


def test_output_shapes(tiny_backbone_config):
    model = make(tiny_backbone_config)
    k = 20
    na = spec.mel_frames_for_motion(k)
    va, vm = model(
        torch.randn(3, na, 100),
        torch.randn(3, na, 100),
        torch.rand(3),
        text=torch.randint(0, 50, (3, 12)),
        x_motion=torch.randn(3, k, 61),
        cond_motion=torch.randn(3, k, 61),
    )
    assert va.shape == (3, na, spec.N_MELS) and vm.shape == (3, k, spec.MOTION_DIM)


def test_padding_does_not_leak_into_valid_frames(tiny_backbone_config):
    """A short sample batched with a long one (and masked) gives what it gives alone."""
    model = make(tiny_backbone_config)
    g = torch.Generator().manual_seed(0)
    ks = (24, 16)
    nas = [spec.mel_frames_for_motion(k) for k in ks]
    xa = torch.randn(2, nas[0], 100, generator=g)
    xm = torch.randn(2, ks[0], 61, generator=g)
    text = torch.randint(0, 50, (2, 10), generator=g)
    t = torch.rand(2, generator=g)
    am = torch.arange(nas[0])[None] < torch.tensor(nas)[:, None]
    mm = torch.arange(ks[0])[None] < torch.tensor(ks)[:, None]
    xa, xm = xa * am[..., None], xm * mm[..., None]
    with torch.no_grad():
        va, vm = model(xa, xa, t, text=text, x_motion=xm, cond_motion=xm, audio_mask=am, motion_mask=mm)
        sa, sm = model(
            xa[1:, : nas[1]],
            xa[1:, : nas[1]],
            t[1:],
            text=text[1:],
            x_motion=xm[1:, : ks[1]],
            cond_motion=xm[1:, : ks[1]],
        )
    assert torch.allclose(va[1, : nas[1]], sa[0], atol=5e-4)  # float32 batching noise
    assert torch.allclose(vm[1, : ks[1]], sm[0], atol=5e-4)


def test_motion_changes_audio_only_through_fusion(tiny_backbone_config):
    """Motion tokens influence the audio velocity (joint attention), and vice versa."""
    model = make(tiny_backbone_config)
    g = torch.Generator().manual_seed(1)
    xa, text, t = (
        torch.randn(1, 75, 100, generator=g),
        torch.randint(0, 50, (1, 8), generator=g),
        torch.rand(1, generator=g),
    )
    xm1, xm2 = torch.randn(1, 20, 61, generator=g), torch.randn(1, 20, 61, generator=g)
    with torch.no_grad():
        a1, m1 = model(xa, xa, t, text=text, x_motion=xm1)
        a2, m2 = model(xa, xa, t, text=text, x_motion=xm2)
        a3, m3 = model(xa * 0.5, xa, t, text=text, x_motion=xm1)
    assert not torch.allclose(a1, a2) and not torch.allclose(m1, m3)


def test_rotary_positions_share_instants(tiny_backbone_config):
    """Motion frame k is placed at the mel position of its centre instant (k + 0.5) / fps."""
    model = OmniTalkerDiT(tiny_backbone_config)
    k = torch.arange(8, dtype=torch.float32)
    pos = spec.motion_frame_position(k)
    seconds = pos * spec.HOP_LENGTH / spec.SAMPLE_RATE
    assert torch.allclose(seconds, (k + 0.5) / spec.FPS)
    # every 4 motion frames = 15 mel frames exactly: frame 2's centre is mel position 9.375
    rope_m = model.rotary(pos)
    rope_a = model.rotary(torch.tensor([9.375]))
    assert torch.allclose(rope_m[0, 2], rope_a[0, 0])


def test_fresh_model_outputs_zero(tiny_backbone_config):
    """adaLN-zero initialisation: an untrained model predicts zero velocity for both branches."""
    model = OmniTalkerDiT(tiny_backbone_config)
    va, vm = model(
        torch.randn(1, 30, 100),
        torch.zeros(1, 30, 100),
        torch.rand(1),
        text=torch.zeros(1, 5, dtype=torch.long),
        x_motion=torch.randn(1, 8, 61),
    )
    assert va.abs().max() == 0 and vm.abs().max() == 0
