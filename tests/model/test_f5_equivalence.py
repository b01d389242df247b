"""With no motion tokens, the audio branch computes what F5-TTS v1's DiT computes."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from avatar_omnitalker.model.config import BackboneConfig
from avatar_omnitalker.model.dit import OmniTalkerDiT
from avatar_omnitalker.model.f5_compat import F5CheckpointError, load_f5_into, read_f5_state
from tests.conftest import SMALL, randomize

DEPTH, FUSION, VOCAB = 3, 2, 50
TOL = 1e-5


def make_pair(f5_dit, attn_mask: bool = False, qk_norm: str | None = None):
    f5 = f5_dit.DiT(
        dim=64,
        depth=DEPTH,
        heads=4,
        dim_head=16,
        ff_mult=2,
        text_dim=32,
        conv_layers=1,
        text_num_embeds=VOCAB,
        mel_dim=100,
        dropout=0.0,
        attn_mask_enabled=attn_mask,
        qk_norm=qk_norm,
    )
    randomize(f5).eval()
    cfg = BackboneConfig(
        **SMALL,
        text_vocab_size=VOCAB,
        fusion_depth=FUSION,
        audio_depth=DEPTH - FUSION,
        motion_depth=1,
        attn_mask=attn_mask,
        qk_norm=qk_norm,
    )
    ours = OmniTalkerDiT(cfg).eval()
    load_f5_into(ours, {f"transformer.{k}": v for k, v in f5.state_dict().items()})
    return f5, ours


def rel_err(got: torch.Tensor, ref: torch.Tensor) -> float:
    return float((got - ref).abs().max() / ref.abs().max())


def inputs(batch: int = 1, n: int = 90, nt: int = 40, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(batch, n, 100, generator=g),
        torch.randn(batch, n, 100, generator=g),
        torch.randint(0, VOCAB, (batch, nt), generator=g),
        torch.rand(batch, generator=g),
    )


@pytest.mark.parametrize("qk_norm", [None, "rms_norm"])
def test_single_pass_matches_f5(f5_dit, qk_norm):
    f5, ours = make_pair(f5_dit, qk_norm=qk_norm)
    x, cond, text, t = inputs()
    with torch.no_grad():
        for drop_a, drop_t in [(False, False), (True, False), (True, True)]:
            ref = f5(x, cond, text, t, drop_audio_cond=drop_a, drop_text=drop_t)
            got, motion = ours(x, cond, t, text=text, drop_cond=drop_a, drop_text=drop_t)
            assert motion is None
            assert rel_err(got, ref) <= TOL, (drop_a, drop_t)


def test_packed_cfg_matches_f5(f5_dit):
    f5, ours = make_pair(f5_dit)
    x, cond, text, t = inputs()
    with torch.no_grad():
        ref = f5(x, cond, text, t, cfg_infer=True)
        two = lambda z: torch.cat((z, z))
        got, _ = ours(
            two(x),
            two(cond),
            two(t),
            text=two(text),
            drop_cond=torch.tensor([False, True]),
            drop_text=torch.tensor([False, True]),
        )
    assert rel_err(got, ref) <= TOL


def test_padded_batch_matches_f5_with_masks(f5_dit):
    f5, ours = make_pair(f5_dit, attn_mask=True)
    x, cond, text, t = inputs(batch=2)
    mask = torch.arange(90)[None] < torch.tensor([90, 61])[:, None]
    with torch.no_grad():
        ref = f5(x, cond, text, t, mask=mask)
        got, _ = ours(x, cond, t, text=text, audio_mask=mask)
    assert rel_err(got[mask], ref[mask]) <= TOL


def _f5_release_state(f5) -> dict[str, torch.Tensor]:
    state = {f"ema_model.transformer.{k}": v.clone() for k, v in f5.state_dict().items()}
    state["ema_model.initted"] = torch.tensor([True])
    state["ema_model.step"] = torch.tensor([1250000])
    return state


@pytest.mark.parametrize("fmt", ["safetensors", "pt"])
def test_release_checkpoint_layouts_load(f5_dit, tmp_path, fmt):
    f5, _ = make_pair(f5_dit)
    state = _f5_release_state(f5)
    path = tmp_path / f"model_1250000.{fmt}"
    if fmt == "safetensors":
        save_file(state, str(path))  # release safetensors: flat EMA keys
    else:
        torch.save({"ema_model_state_dict": state, "model_state_dict": {}, "step": 7}, path)
    fresh = OmniTalkerDiT(make_pair(f5_dit)[1].config).eval()
    loaded = load_f5_into(fresh, path)
    assert "fusion_blocks.0.audio.attn.to_q.weight" in loaded and "audio_blocks.0.ff.ff.2.weight" in loaded
    x, cond, text, t = inputs()
    with torch.no_grad():
        assert rel_err(fresh(x, cond, t, text=text)[0], f5(x, cond, text, t)) <= TOL


def test_mismatched_checkpoint_lists_keys(f5_dit):
    f5, ours = make_pair(f5_dit)
    state = {f"transformer.{k}": v for k, v in f5.state_dict().items()}
    del state["transformer.proj_out.bias"]
    state["transformer.long_skip_connection.weight"] = torch.zeros(64, 128)
    before = ours.state_dict()["audio_proj_out.weight"].clone()
    with pytest.raises(F5CheckpointError) as err:
        load_f5_into(ours, state)
    assert "audio_proj_out.bias" in str(err.value) and "long_skip_connection.weight" in str(err.value)
    assert torch.equal(ours.state_dict()["audio_proj_out.weight"], before), "a failed load must change nothing"


def test_shape_mismatch_names_tensor(f5_dit):
    f5, _ = make_pair(f5_dit)
    cfg = BackboneConfig(**SMALL, text_vocab_size=VOCAB + 5, fusion_depth=FUSION, audio_depth=DEPTH - FUSION)
    with pytest.raises(F5CheckpointError, match=r"text_embed\.text_embed\.weight"):
        load_f5_into(OmniTalkerDiT(cfg), {f"transformer.{k}": v for k, v in f5.state_dict().items()})


def test_unreadable_format_refused(tmp_path):
    bad = tmp_path / "weights.bin"
    bad.write_bytes(b"\x80\x04not a checkpoint")
    with pytest.raises(F5CheckpointError, match="safetensors or .pt"):
        read_f5_state(bad)
