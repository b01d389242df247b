"""The dual-branch diffusion transformer: the network only; the flow math lives in cfm.py.

    text ids -> TextEmbedding (filler-padded to the mel length) -> c_t (mel rate)
    [x_audio | ref mel | c_t]                -> audio tokens  (mel rate, 93.75/s)
    [x_motion | ref motion | c_t @ 25 fps]   -> motion tokens (25/s)
    fusion blocks (one softmax over both) -> audio-only blocks -> mel velocity
                                          -> motion-only blocks -> motion velocity

Rotary positions are in mel-frame units: audio token i sits at i, motion token k at its centre
(k + 0.5) * 3.75, so tokens describing the same instant share a position.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from avatar_omnitalker import spec
from avatar_omnitalker.model.config import BackboneConfig
from avatar_omnitalker.model.modules import (
    AdaLayerNormFinal,
    ConvNeXtV2Block,
    ConvPositionEmbedding,
    DiTBlock,
    FusionBlock,
    RotaryEmbedding,
    TimestepEmbedding,
    sinusoid_table,
)
from avatar_omnitalker.motion.resample import mel_rate_to_motion


class TextEmbedding(nn.Module):
    """Token ids (b, nt), padded with -1, -> (b, n, text_dim) at the mel rate.

    Id 0 of the embedding is the filler: text shorter than the sequence is padded with it (the
    model learns the alignment, F5-TTS's implicit mode), while frame-level (aligned) text already
    has the sequence length and passes through unchanged.
    """

    def __init__(self, vocab_size: int, text_dim: int, conv_layers: int) -> None:
        super().__init__()
        self.text_embed = nn.Embedding(vocab_size + 1, text_dim)
        self.text_dim = text_dim
        self.text_blocks = nn.Sequential(*[ConvNeXtV2Block(text_dim, text_dim * 2) for _ in range(conv_layers)])

    def forward(self, text: Tensor, seq_len: Tensor, drop_text: Tensor) -> Tensor:
        """text (b, nt) long; seq_len (b,) valid mel frames; drop_text (b,) bool."""
        max_len = int(seq_len.max())
        ids = text[:, :max_len] + 1
        ids = F.pad(ids, (0, max_len - ids.shape[1]), value=0)
        valid = torch.arange(max_len, device=ids.device)[None, :] < seq_len[:, None]  # (b, n)
        ids = ids.masked_fill(~valid, 0)
        filler = ids == 0  # positions that carry no text, decided before any dropping
        ids = ids.masked_fill(drop_text[:, None], 0)
        x = self.text_embed(ids).masked_fill(~valid.unsqueeze(-1), 0.0)
        if len(self.text_blocks):
            pos = sinusoid_table(self.text_dim, max_len).to(x)
            x = x + pos.unsqueeze(0) * valid.unsqueeze(-1).to(x.dtype)
            x = x.masked_fill(filler.unsqueeze(-1), 0.0)
            for block in self.text_blocks:
                x = block(x).masked_fill(filler.unsqueeze(-1), 0.0)
        return x


class InputEmbedding(nn.Module):
    """[noisy x | zero-padded reference | text] -> tokens, plus a convolutional position code."""

    def __init__(self, feat_dim: int, text_dim: int, dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(feat_dim * 2 + text_dim, dim)
        self.conv_pos_embed = ConvPositionEmbedding(dim)

    def forward(self, x: Tensor, cond: Tensor, text: Tensor, drop_cond: Tensor, mask: Tensor | None) -> Tensor:
        cond = cond.masked_fill(drop_cond[:, None, None], 0.0)
        x = self.proj(torch.cat((x, cond, text), dim=-1))
        return self.conv_pos_embed(x, mask=mask) + x


class OmniTalkerDiT(nn.Module):
    def __init__(self, config: BackboneConfig) -> None:
        super().__init__()
        config.validate()
        self.config = c = config
        block = dict(
            dim=c.dim, heads=c.heads, dim_head=c.dim_head, ff_mult=c.ff_mult, dropout=c.dropout, qk_norm=c.qk_norm
        )
        self.time_embed = TimestepEmbedding(c.dim)
        self.text_embed = TextEmbedding(c.text_vocab_size, c.text_dim, c.conv_layers)
        self.audio_embed = InputEmbedding(c.mel_dim, c.text_dim, c.dim)
        self.motion_embed = InputEmbedding(c.motion_dim, c.text_dim, c.dim)
        self.rotary = RotaryEmbedding(c.dim_head)
        self.fusion_blocks = nn.ModuleList([FusionBlock(**block) for _ in range(c.fusion_depth)])
        self.audio_blocks = nn.ModuleList([DiTBlock(**block) for _ in range(c.audio_depth)])
        self.motion_blocks = nn.ModuleList([DiTBlock(**block) for _ in range(c.motion_depth)])
        self.audio_norm_out = AdaLayerNormFinal(c.dim)
        self.audio_proj_out = nn.Linear(c.dim, c.mel_dim)
        self.motion_norm_out = AdaLayerNormFinal(c.dim)
        self.motion_proj_out = nn.Linear(c.dim, c.motion_dim)
        self._zero_init()

    def _zero_init(self) -> None:
        """adaLN-zero: every block starts as the identity and both outputs start at zero."""
        blocks = [b for f in self.fusion_blocks for b in (f.audio, f.motion)]
        for b in blocks + list(self.audio_blocks) + list(self.motion_blocks):
            nn.init.zeros_(b.attn_norm.linear.weight)
            nn.init.zeros_(b.attn_norm.linear.bias)
        for layer in (
            self.audio_norm_out.linear,
            self.audio_proj_out,
            self.motion_norm_out.linear,
            self.motion_proj_out,
        ):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def embed_text(self, text: Tensor, audio_lens: Tensor, drop_text: Tensor | bool = False) -> Tensor:
        """(b, nt) ids -> (b, max(audio_lens), text_dim); once per request at inference."""
        drop = _as_flags(drop_text, text.shape[0], text.device)
        return self.text_embed(text, audio_lens.to(text.device), drop)

    def forward(
        self,
        x_audio: Tensor,  # (b, na, mel_dim) noisy mel
        cond_audio: Tensor,  # (b, na, mel_dim) reference mel, zero over the target
        time: Tensor,  # (b,) or ()
        *,
        text: Tensor | None = None,  # (b, nt) ids; or give text_emb
        text_emb: Tensor | None = None,  # (b, na, text_dim) from embed_text
        x_motion: Tensor | None = None,  # (b, nm, motion_dim) noisy motion
        cond_motion: Tensor | None = None,  # (b, nm, motion_dim) reference motion, zero over target
        audio_mask: Tensor | None = None,  # (b, na) valid frames; None = all valid
        motion_mask: Tensor | None = None,  # (b, nm)
        drop_cond: Tensor | bool = False,  # (b,) drop the reference (audio and motion)
        drop_text: Tensor | bool = False,  # (b,) drop the text (only used with `text`)
        mask_keys: bool | None = None,  # hide padded keys; None = config.attn_mask (training's rule)
    ) -> tuple[Tensor, Tensor | None]:
        b, na = x_audio.shape[:2]
        device = x_audio.device
        if time.ndim == 0:
            time = time.repeat(b)
        t = self.time_embed(time)  # (b, d)
        drop_c = _as_flags(drop_cond, b, device)
        audio_lens = audio_mask.sum(1) if audio_mask is not None else torch.full((b,), na, device=device)
        if text_emb is None:
            if text is None:
                raise ValueError("give either text ids or a precomputed text embedding")
            text_emb = self.embed_text(text, audio_lens, drop_text)
        if text_emb.shape[1] != na:
            raise ValueError(f"text embedding covers {text_emb.shape[1]} frames, the mel has {na}")

        audio_tokens = self.audio_embed(x_audio, cond_audio, text_emb, drop_c, audio_mask)
        rope_a = self.rotary(torch.arange(na, device=device, dtype=torch.float32))

        motion_tokens = rope_m = None
        has_motion = (
            x_motion is not None and x_motion.shape[1] > 0 and self.config.fusion_depth + self.config.motion_depth > 0
        )
        if has_motion:
            nm = x_motion.shape[1]
            text_m = mel_rate_to_motion(text_emb, nm)  # (b, nm, text_dim)
            if cond_motion is None:
                cond_motion = torch.zeros_like(x_motion)
            motion_tokens = self.motion_embed(x_motion, cond_motion, text_m, drop_c, motion_mask)
            rope_m = self.rotary(spec.motion_frame_position(torch.arange(nm, device=device, dtype=torch.float32)))

        mask_keys = self.config.attn_mask if mask_keys is None else mask_keys
        key_mask = self._key_mask(audio_mask, motion_mask, b, na, motion_tokens) if mask_keys else None
        audio_key_mask = None if key_mask is None else key_mask[:, :na]
        for block in self.fusion_blocks:
            audio_tokens, motion_tokens = block(
                audio_tokens, motion_tokens, t, (audio_mask, motion_mask), (rope_a, rope_m), key_mask
            )
        for block in self.audio_blocks:
            audio_tokens = block(audio_tokens, t, audio_mask, rope_a, audio_key_mask)
        v_audio = self.audio_proj_out(self.audio_norm_out(audio_tokens, t))

        v_motion = None
        if motion_tokens is not None:
            motion_key_mask = None if key_mask is None else key_mask[:, na:]
            for block in self.motion_blocks:
                motion_tokens = block(motion_tokens, t, motion_mask, rope_m, motion_key_mask)
            v_motion = self.motion_proj_out(self.motion_norm_out(motion_tokens, t))
        return v_audio, v_motion

    @staticmethod
    def _key_mask(
        audio_mask: Tensor | None, motion_mask: Tensor | None, b: int, na: int, motion_tokens: Tensor | None
    ) -> Tensor | None:
        if audio_mask is None and (motion_tokens is None or motion_mask is None):
            return None
        device = (
            motion_tokens.device
            if motion_tokens is not None
            else (audio_mask.device if audio_mask is not None else None)
        )
        am = audio_mask if audio_mask is not None else torch.ones(b, na, dtype=torch.bool, device=device)
        if motion_tokens is None:
            return am
        mm = (
            motion_mask
            if motion_mask is not None
            else torch.ones(b, motion_tokens.shape[1], dtype=torch.bool, device=device)
        )
        return torch.cat((am, mm), dim=1)

    def parameter_counts(self) -> dict[str, int]:
        """Parameters per part, for `omnitalker info`."""

        def count(*modules: nn.Module) -> int:
            return sum(p.numel() for m in modules for p in m.parameters())

        parts = {
            "time_embed": count(self.time_embed),
            "text_embed": count(self.text_embed),
            "audio_embed": count(self.audio_embed),
            "motion_embed": count(self.motion_embed),
            "fusion_blocks.audio": count(*[f.audio for f in self.fusion_blocks]),
            "fusion_blocks.motion": count(*[f.motion for f in self.fusion_blocks]),
            "audio_blocks": count(*self.audio_blocks),
            "motion_blocks": count(*self.motion_blocks),
            "audio_out": count(self.audio_norm_out, self.audio_proj_out),
            "motion_out": count(self.motion_norm_out, self.motion_proj_out),
        }
        parts["total"] = count(self)
        assert parts["total"] == sum(v for k, v in parts.items() if k != "total")
        return parts


def _as_flags(flag: Tensor | bool, batch: int, device: torch.device) -> Tensor:
    if isinstance(flag, Tensor):
        if flag.shape != (batch,):
            raise ValueError(f"per-sample flags must have shape ({batch},), got {tuple(flag.shape)}")
        return flag.to(device=device, dtype=torch.bool)
    return torch.full((batch,), bool(flag), device=device)
