"""Network blocks. Parameter names and arithmetic follow F5-TTS v1 (`f5_tts/model/modules.py`)
wherever a block has an F5-TTS counterpart, so that F5-TTS weights load by a plain key rename
and compute the same function; the joint (fusion) attention is the one new block.

ein notation: b batch, n sequence, d dim, h heads, k head dim.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class SinusPositionEmbedding(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor, scale: float = 1000.0) -> Tensor:  # (b,) -> (b, dim)
        half = self.dim // 2
        freq = torch.exp(torch.arange(half, device=x.device).float() * -(math.log(10000) / (half - 1)))
        emb = scale * x.unsqueeze(1) * freq.unsqueeze(0)
        return torch.cat((emb.sin(), emb.cos()), dim=-1)


class TimestepEmbedding(nn.Module):
    """Flow time t in [0, 1] -> (b, dim) conditioning for every adaLN."""

    def __init__(self, dim: int, freq_embed_dim: int = 256) -> None:
        super().__init__()
        self.time_embed = SinusPositionEmbedding(freq_embed_dim)
        self.time_mlp = nn.Sequential(nn.Linear(freq_embed_dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t: Tensor) -> Tensor:
        return self.time_mlp(self.time_embed(t).to(t.dtype))


def sinusoid_table(dim: int, length: int, theta: float = 10000.0) -> Tensor:
    """(length, dim) [cos | sin] absolute positions, F5-TTS's text position code."""
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 2)[: dim // 2].float() / dim))
    angles = torch.outer(torch.arange(length, device=freqs.device), freqs).float()
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)


class ConvPositionEmbedding(nn.Module):
    """Two grouped convolutions give every token its local neighbourhood (relative position)."""

    def __init__(self, dim: int, kernel_size: int = 31, groups: int = 16) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError("kernel_size must be odd")
        pad = kernel_size // 2
        self.conv1d = nn.Sequential(
            nn.Conv1d(dim, dim, kernel_size, groups=groups, padding=pad),
            nn.Mish(),
            nn.Conv1d(dim, dim, kernel_size, groups=groups, padding=pad),
            nn.Mish(),
        )

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:  # (b, n, d), (b, n)
        keep = None if mask is None else mask.unsqueeze(1)  # (b, 1, n)
        x = x.transpose(1, 2)
        if keep is not None:
            x = x.masked_fill(~keep, 0.0)
        for layer in self.conv1d:
            x = layer(x)
            if keep is not None and isinstance(layer, nn.Conv1d):
                x = x.masked_fill(~keep, 0.0)
        return x.transpose(1, 2)


class GRN(nn.Module):
    """Global response normalisation (ConvNeXt-V2)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1, 1, dim))
        self.beta = nn.Parameter(torch.zeros(1, 1, dim))

    def forward(self, x: Tensor) -> Tensor:
        gx = torch.norm(x, p=2, dim=1, keepdim=True)
        nx = gx / (gx.mean(dim=-1, keepdim=True) + 1e-6)
        return self.gamma * (x * nx) + self.beta + x


class ConvNeXtV2Block(nn.Module):
    def __init__(self, dim: int, intermediate_dim: int, dilation: int = 1) -> None:
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, 7, padding=3 * dilation, groups=dim, dilation=dilation)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, intermediate_dim)
        self.act = nn.GELU()
        self.grn = GRN(intermediate_dim)
        self.pwconv2 = nn.Linear(intermediate_dim, dim)

    def forward(self, x: Tensor) -> Tensor:  # (b, n, d)
        h = self.dwconv(x.transpose(1, 2)).transpose(1, 2)
        h = self.pwconv2(self.grn(self.act(self.pwconv1(self.norm(h)))))
        return x + h


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: Tensor) -> Tensor:
        if self.weight.dtype in (torch.float16, torch.bfloat16):
            x = x.to(self.weight.dtype)
        return F.rms_norm(x, (x.shape[-1],), weight=self.weight, eps=self.eps)


class AdaLayerNorm(nn.Module):
    """adaLN-zero: LayerNorm modulated by t, plus the gates and FFN modulation for later."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.silu = nn.SiLU()
        self.linear = nn.Linear(dim, dim * 6)
        self.norm = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)

    def forward(self, x: Tensor, emb: Tensor) -> tuple[Tensor, ...]:
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = self.linear(self.silu(emb)).chunk(6, dim=1)
        x = self.norm(x) * (1 + scale_msa[:, None]) + shift_msa[:, None]
        return x, gate_msa, shift_mlp, scale_mlp, gate_mlp


class AdaLayerNormFinal(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.silu = nn.SiLU()
        self.linear = nn.Linear(dim, dim * 2)
        self.norm = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        scale, shift = self.linear(self.silu(emb)).chunk(2, dim=1)
        return self.norm(x) * (1 + scale)[:, None, :] + shift[:, None, :]


class FeedForward(nn.Module):
    def __init__(self, dim: int, mult: float = 4, dropout: float = 0.0) -> None:
        super().__init__()
        inner = int(dim * mult)
        self.ff = nn.Sequential(
            nn.Sequential(nn.Linear(dim, inner), nn.GELU(approximate="tanh")),
            nn.Dropout(dropout),
            nn.Linear(inner, dim),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.ff(x)


class RotaryEmbedding(nn.Module):
    """Rotary angles for real-valued positions (interleaved pairs, x-transformers layout).

    Positions are in mel-frame units, so a motion frame at the same instant as a mel frame
    receives the same angle; integer positions reproduce F5-TTS's rotary embedding exactly.
    """

    def __init__(self, dim_head: int, base: float = 10000.0) -> None:
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, dim_head, 2).float() / dim_head))
        self.register_buffer("inv_freq", inv_freq)  # persistent, as in F5-TTS checkpoints

    def forward(self, positions: Tensor) -> Tensor:  # (n,) -> (1, n, k)
        freqs = torch.einsum("n,j->nj", positions.to(self.inv_freq.dtype), self.inv_freq)
        return torch.stack((freqs, freqs), dim=-1).flatten(-2).unsqueeze(0)


def _rotate_pairs(x: Tensor) -> Tensor:
    x1, x2 = x.unflatten(-1, (-1, 2)).unbind(-1)
    return torch.stack((-x2, x1), dim=-1).flatten(-2)


def apply_rotary(x: Tensor, freqs: Tensor) -> Tensor:
    """x (b, h, n, k), freqs (1, n, k) -> rotated x, computed in float32 like x-transformers."""
    dtype = x.dtype
    f = freqs.unsqueeze(1)  # (1, 1, n, k)
    rot = f.shape[-1]
    head, tail = x[..., :rot], x[..., rot:]
    head = head * f.cos() + _rotate_pairs(head) * f.sin()
    return torch.cat((head, tail), dim=-1).to(dtype)


class Attention(nn.Module):
    """Projections of one modality's tokens; the softmax itself happens in `attend`.

    Split this way, self-attention (one modality) and joint attention (several modalities in one
    softmax) share every parameter layout.
    """

    def __init__(self, dim: int, heads: int, dim_head: int, dropout: float = 0.0, qk_norm: str | None = None) -> None:
        super().__init__()
        self.heads = heads
        self.dim_head = dim_head
        inner = heads * dim_head
        self.to_q = nn.Linear(dim, inner)
        self.to_k = nn.Linear(dim, inner)
        self.to_v = nn.Linear(dim, inner)
        self.q_norm = RMSNorm(dim_head) if qk_norm == "rms_norm" else None
        self.k_norm = RMSNorm(dim_head) if qk_norm == "rms_norm" else None
        self.to_out = nn.ModuleList([nn.Linear(inner, dim), nn.Dropout(dropout)])

    def qkv(self, x: Tensor, rope: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
        """(b, n, d) -> three (b, h, n, k), rotary applied to q and k."""
        b = x.shape[0]
        q, k, v = (
            proj(x).view(b, -1, self.heads, self.dim_head).transpose(1, 2) for proj in (self.to_q, self.to_k, self.to_v)
        )
        if self.q_norm is not None:
            q, k = self.q_norm(q), self.k_norm(k)
        if rope is not None:
            q, k = apply_rotary(q, rope), apply_rotary(k, rope)
        return q, k, v

    def out(self, x: Tensor, mask: Tensor | None) -> Tensor:  # (b, h, n, k) -> (b, n, d)
        x = x.transpose(1, 2).flatten(2)
        x = self.to_out[1](self.to_out[0](x))
        if mask is not None:
            x = x.masked_fill(~mask.unsqueeze(-1), 0.0)
        return x


def attend(q: Tensor, k: Tensor, v: Tensor, key_mask: Tensor | None) -> Tensor:
    """One softmax over all keys; key_mask (b, n_keys) hides padding when given."""
    attn_mask = None if key_mask is None else key_mask[:, None, None, :]
    return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask).to(q.dtype)


class DiTBlock(nn.Module):
    """adaLN-zero transformer block (F5-TTS DiTBlock), usable alone or as one side of a fusion."""

    def __init__(
        self, dim: int, heads: int, dim_head: int, ff_mult: float, dropout: float, qk_norm: str | None
    ) -> None:
        super().__init__()
        self.attn_norm = AdaLayerNorm(dim)
        self.attn = Attention(dim, heads, dim_head, dropout, qk_norm)
        self.ff_norm = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.ff = FeedForward(dim, ff_mult, dropout)

    def pre_attention(self, x: Tensor, t: Tensor, rope: Tensor | None) -> tuple[tuple[Tensor, ...], tuple[Tensor, ...]]:
        norm, gate_msa, shift_mlp, scale_mlp, gate_mlp = self.attn_norm(x, t)
        return self.attn.qkv(norm, rope), (gate_msa, shift_mlp, scale_mlp, gate_mlp)

    def post_attention(self, x: Tensor, attn: Tensor, mods: tuple[Tensor, ...], mask: Tensor | None) -> Tensor:
        gate_msa, shift_mlp, scale_mlp, gate_mlp = mods
        x = x + gate_msa.unsqueeze(1) * self.attn.out(attn, mask)
        norm = self.ff_norm(x) * (1 + scale_mlp[:, None]) + shift_mlp[:, None]
        return x + gate_mlp.unsqueeze(1) * self.ff(norm)

    def forward(self, x: Tensor, t: Tensor, mask: Tensor | None, rope: Tensor, key_mask: Tensor | None) -> Tensor:
        (q, k, v), mods = self.pre_attention(x, t, rope)
        return self.post_attention(x, attend(q, k, v, key_mask), mods, mask)


class FusionBlock(nn.Module):
    """MM-DiT joint block: per-modality adaLN/QKV/output/FFN, one softmax over both token sets.

    With no motion tokens it computes exactly `self.audio(x, ...)`, an F5-TTS DiTBlock.
    """

    def __init__(
        self, dim: int, heads: int, dim_head: int, ff_mult: float, dropout: float, qk_norm: str | None
    ) -> None:
        super().__init__()
        self.audio = DiTBlock(dim, heads, dim_head, ff_mult, dropout, qk_norm)
        self.motion = DiTBlock(dim, heads, dim_head, ff_mult, dropout, qk_norm)

    def forward(
        self,
        audio_tokens: Tensor,  # (b, na, d)
        motion_tokens: Tensor | None,  # (b, nm, d)
        t: Tensor,  # (b, d)
        masks: tuple[Tensor | None, Tensor | None],
        ropes: tuple[Tensor, Tensor | None],
        key_mask: Tensor | None,  # (b, na + nm) or None
    ) -> tuple[Tensor, Tensor | None]:
        if motion_tokens is None:
            return self.audio(audio_tokens, t, masks[0], ropes[0], key_mask), None
        # q/k/v: (b, heads, n, dim_head); one softmax over the audio and motion tokens together
        (q_audio, k_audio, v_audio_heads), mods_a = self.audio.pre_attention(audio_tokens, t, ropes[0])
        (q_motion, k_motion, v_motion_heads), mods_m = self.motion.pre_attention(motion_tokens, t, ropes[1])
        joint = attend(
            torch.cat((q_audio, q_motion), 2),
            torch.cat((k_audio, k_motion), 2),
            torch.cat((v_audio_heads, v_motion_heads), 2),
            key_mask,
        )
        na = audio_tokens.shape[1]
        audio_tokens = self.audio.post_attention(audio_tokens, joint[:, :, :na], mods_a, masks[0])
        motion_tokens = self.motion.post_attention(motion_tokens, joint[:, :, na:], mods_m, masks[1])
        return audio_tokens, motion_tokens
