"""Conditional flow matching over (mel, motion): the training loss and the ODE sampler.

Rectified flow with sigma 0: x_t = (1 - t) x0 + t x1, velocity target x1 - x0, loss only on the
region being generated. Training uses the in-context layout (reference clip then target clip of
the same source, the reference given as conditioning) or, for audio-only data, F5-TTS's random
70-100 % span. Sampling integrates the velocity from noise (t=0) to data (t=1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from avatar_omnitalker import spec
from avatar_omnitalker.model.config import ModelConfig
from avatar_omnitalker.model.dit import OmniTalkerDiT
from avatar_omnitalker.motion.stats import MotionStats

# F5-TTS's Empirically Pruned Step Sampling schedules, in 1/32 units of t.
EPSS_SCHEDULES: dict[int, tuple[int, ...]] = {
    5: (0, 2, 4, 8, 16, 32),
    6: (0, 2, 4, 6, 8, 16, 32),
    7: (0, 2, 4, 6, 8, 16, 24, 32),
    10: (0, 2, 4, 6, 8, 12, 16, 20, 24, 28, 32),
    12: (0, 2, 4, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32),
    16: (0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32),
}
METHODS = ("euler", "midpoint")


@dataclass
class TrainBatch:
    mel: Tensor  # (b, na, n_mels) log-mel, zero-padded
    mel_lens: Tensor  # (b,) valid mel frames
    text: Tensor  # (b, nt) token ids, -1 padded (or frame-level ids in aligned mode)
    motion: Tensor | None = None  # (b, nm, motion_dim) normalised motion, zero-padded
    motion_lens: Tensor | None = None  # (b,) valid motion frames; 0 = audio-only sample
    ref_frames: Tensor | None = None  # (b,) in-context reference length in motion frames; None = span mask

    def to(self, device: torch.device | str) -> TrainBatch:
        move = lambda x: None if x is None else x.to(device)
        return TrainBatch(*(move(getattr(self, f)) for f in self.__dataclass_fields__))


@dataclass
class LossOutput:
    loss: Tensor  # weighted sum, what is optimised
    audio: Tensor  # mean squared velocity error on the audio target
    motion: Tensor  # same on the motion target (0 when the batch has no motion)
    motion_delta: Tensor  # the same error's frame-to-frame difference (0 when the batch has no motion)


@dataclass
class SampleSetup:
    """One solve's inputs (FlowMatching.setup): b requests padded to na mel / nm motion frames."""

    cond_a: Tensor  # (b, na, mel_dim) reference mel, zero elsewhere
    cond_m: Tensor | None  # (b, nm, motion_dim) reference motion, zero elsewhere; None: audio only
    ref_region_a: Tensor  # (b, na, 1) bool
    ref_region_m: Tensor | None  # (b, nm, 1) bool
    audio_mask: Tensor | None  # (b, na) valid frames; None when all are valid
    motion_mask: Tensor | None  # (b, nm)
    text_c: Tensor  # (b, na, text_dim) text embedding
    text_u: Tensor | None  # (b, na, text_dim) with the text dropped (CFG's unconditional pass)
    xa: Tensor  # (b, na, mel_dim) noise at t = 0
    xm: Tensor | None  # (b, nm, motion_dim)
    ts: Tensor  # (steps + 1,) times
    mel_lens: Tensor  # (b,)
    total: Tensor  # (b,) motion frames


@dataclass
class SampleOutput:
    mel: Tensor  # (b, na, n_mels); reference region copied from the input
    motion: Tensor  # (b, nm, motion_dim) normalised; reference region copied
    mel_lens: Tensor  # (b,)
    motion_lens: Tensor  # (b,)


def lens_to_mask(lens: Tensor, length: int | None = None) -> Tensor:
    length = int(lens.max()) if length is None else length
    return torch.arange(length, device=lens.device)[None, :] < lens[:, None]


def mel_lens_for_frames(frames: Tensor) -> Tensor:
    """Vectorised spec.mel_frames_for_motion."""
    return torch.div(frames * spec.SAMPLES_PER_FRAME + spec.HOP_LENGTH - 1, spec.HOP_LENGTH, rounding_mode="floor")


def timesteps(steps: int, sway: float | None, epss: bool, device: torch.device | None = None) -> Tensor:
    """(steps + 1,) times from 0 to 1: EPSS table when one exists for `steps`, then sway."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if epss and steps in EPSS_SCHEDULES:
        t = torch.tensor(EPSS_SCHEDULES[steps], dtype=torch.float32, device=device) / 32
    else:
        t = torch.linspace(0, 1, steps + 1, device=device)
    if sway is not None:
        t = t + sway * (torch.cos(torch.pi / 2 * t) - 1 + t)
    return t


def guidance(cfg_strength: float, motion_cfg_strength: float | None) -> tuple[float, float]:
    """(audio, motion) guidance strengths; the motion branch takes the audio's unless given its own."""
    return float(cfg_strength), float(cfg_strength if motion_cfg_strength is None else motion_cfg_strength)


def f5_duration(ref_frames: int, ref_text: str, gen_text: str, speed: float = 1.0) -> int:
    """F5-TTS's length rule in motion frames: reference + generated, scaled by UTF-8 length."""
    ref_len, gen_len = len(ref_text.encode("utf-8")), len(gen_text.encode("utf-8"))
    if ref_len == 0:
        raise ValueError("the reference transcript is empty; the duration rule needs it")
    if speed <= 0:
        raise ValueError(f"speed must be positive, got {speed}")
    return ref_frames + max(1, int(ref_frames / ref_len * gen_len / speed))


class FlowMatching(nn.Module):
    """The trainable, sampleable OmniTalker: backbone + flow math + motion statistics."""

    def __init__(self, config: ModelConfig, stats: MotionStats | None = None) -> None:
        super().__init__()
        self.config = config.validate()
        self.backbone = OmniTalkerDiT(config.model)
        stats = stats or MotionStats.identity()
        self.register_buffer("motion_mean", stats.mean.clone())
        self.register_buffer("motion_std", stats.std.clone())

    @property
    def stats(self) -> MotionStats:
        return MotionStats(self.motion_mean.detach().cpu(), self.motion_std.detach().cpu())

    @stats.setter
    def stats(self, value: MotionStats) -> None:
        self.motion_mean.copy_(value.mean)
        self.motion_std.copy_(value.std)

    @property
    def device(self) -> torch.device:
        return self.motion_mean.device

    # ---------------------------------------------------------------- training
    def target_masks(self, batch: TrainBatch, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor | None]:
        """Boolean (b, na) and (b, nm) masks of the frames to generate (the loss region)."""
        na = batch.mel.shape[1]
        audio_valid = lens_to_mask(batch.mel_lens, na)
        motion_valid = None
        if batch.motion is not None:
            motion_valid = lens_to_mask(batch.motion_lens, batch.motion.shape[1])
        if batch.ref_frames is not None:
            ref_mel = mel_lens_for_frames(batch.ref_frames)
            audio_target = audio_valid & ~lens_to_mask(ref_mel, na)
            motion_target = None
            if motion_valid is not None:
                motion_target = motion_valid & ~lens_to_mask(batch.ref_frames, batch.motion.shape[1])
            return audio_target, motion_target
        # F5-TTS random span, in mel frames; motion frames whose centre falls in it follow.
        lo, hi = self.config.flow.frac_lengths_mask
        b = batch.mel.shape[0]
        frac = torch.rand(b, generator=generator).to(batch.mel.device) * (hi - lo) + lo
        span = (frac * batch.mel_lens).long()
        start = ((batch.mel_lens - span) * torch.rand(b, generator=generator).to(batch.mel.device)).long().clamp(min=0)
        pos = torch.arange(na, device=batch.mel.device)[None, :]
        audio_target = (pos >= start[:, None]) & (pos < (start + span)[:, None]) & audio_valid
        motion_target = None
        if motion_valid is not None:
            centre = spec.motion_frame_position(torch.arange(batch.motion.shape[1], device=batch.mel.device))[None, :]
            motion_target = (centre >= start[:, None]) & (centre < (start + span)[:, None]) & motion_valid
        return audio_target, motion_target

    def forward(self, batch: TrainBatch, generator: torch.Generator | None = None) -> LossOutput:
        """Flow-matching loss on the target region; `generator` (CPU) makes it reproducible."""
        self._check_batch(batch)
        b, device, dtype = batch.mel.shape[0], batch.mel.device, batch.mel.dtype
        audio_target, motion_target = self.target_masks(batch, generator)
        rand = lambda *shape: torch.rand(*shape, generator=generator).to(device)
        randn = lambda like: torch.randn(like.shape, generator=generator).to(device=device, dtype=like.dtype)

        t = rand(b).to(dtype)
        drop_all = rand(b) < self.config.flow.cond_drop_prob
        drop_cond = (rand(b) < self.config.flow.audio_drop_prob) | drop_all

        x1a = batch.mel
        x0a = randn(x1a)
        xta = (1 - t[:, None, None]) * x0a + t[:, None, None] * x1a
        conda = x1a.masked_fill(audio_target.unsqueeze(-1), 0.0)
        audio_mask = lens_to_mask(batch.mel_lens, x1a.shape[1])

        xtm = condm = motion_mask = x0m = x1m = None
        if batch.motion is not None:
            x1m = batch.motion
            x0m = randn(x1m)
            xtm = (1 - t[:, None, None]) * x0m + t[:, None, None] * x1m
            condm = x1m.masked_fill(motion_target.unsqueeze(-1), 0.0)
            motion_mask = lens_to_mask(batch.motion_lens, x1m.shape[1])

        va, vm = self.backbone(
            xta,
            conda,
            t,
            text=batch.text,
            x_motion=xtm,
            cond_motion=condm,
            audio_mask=audio_mask,
            motion_mask=motion_mask,
            drop_cond=drop_cond,
            drop_text=drop_all,
        )
        audio_loss = _masked_mse(va, x1a - x0a, audio_target)
        motion_loss = delta_loss = torch.zeros((), device=device, dtype=audio_loss.dtype)
        if vm is not None and motion_target is not None and motion_target.any():
            motion_loss = _masked_mse(vm, x1m - x0m, motion_target)
            delta_loss = _delta_mse(vm, x1m - x0m, motion_target)
        flow = self.config.flow
        loss = (
            flow.audio_loss_weight * audio_loss
            + flow.motion_loss_weight * motion_loss
            + flow.motion_delta_loss_weight * delta_loss
        )
        return LossOutput(loss, audio_loss.detach(), motion_loss.detach(), delta_loss.detach())

    def _check_batch(self, batch: TrainBatch) -> None:
        c = self.config.model
        if batch.mel.ndim != 3 or batch.mel.shape[-1] != c.mel_dim:
            raise ValueError(f"mel must be (b, n, {c.mel_dim}), got {tuple(batch.mel.shape)}")
        if batch.motion is not None:
            if batch.motion.ndim != 3 or batch.motion.shape[-1] != c.motion_dim:
                raise ValueError(f"motion must be (b, n, {c.motion_dim}), got {tuple(batch.motion.shape)}")
            if batch.motion_lens is None:
                raise ValueError("motion given without motion_lens")
            has = batch.motion_lens > 0
            expected = mel_lens_for_frames(batch.motion_lens)
            if (has & (expected != batch.mel_lens)).any():
                raise ValueError("mel_lens must equal mel_frames_for_motion(motion_lens) for samples with motion")
        if batch.ref_frames is not None:
            ref_mel = mel_lens_for_frames(batch.ref_frames)
            if ((batch.ref_frames < 1) | (ref_mel >= batch.mel_lens)).any():
                raise ValueError("ref_frames must be >= 1 and leave at least one target frame in every sample")

    # ---------------------------------------------------------------- sampling
    @torch.no_grad()
    def sample(
        self,
        ref_mel: Tensor,  # (b, nr_a, n_mels) reference log-mel
        ref_motion: Tensor | None,  # (b, nr_m, motion_dim) normalised reference motion, or None
        text: Tensor,  # (b, nt) ids covering reference transcript + text to say
        total_frames: Tensor | int,  # (b,) motion frames of reference + generation
        *,
        ref_frames: Tensor | int | None = None,  # (b,) reference motion frames; default nr_m
        steps: int,  # no default here: the product's (infer/config.py) is the one place it is chosen
        cfg_strength: float,
        motion_cfg_strength: float | None = None,  # the motion branch's guidance; None: cfg_strength
        sway: float | None = -1.0,
        method: str = "euler",
        epss: bool = True,
        seed: int | Sequence[int] | None = None,
        generate_motion: bool = True,
        engine: Callable[..., tuple[Tensor, Tensor]] | None = None,
    ) -> SampleOutput:
        """`engine` (e.g. model.onnx_engine.OnnxVelocity) replaces the guided network call; the
        loop, schedule, noise and guidance stay this code's. Both branches share one guided pass;
        each has its own strength because they trade differently (stronger motion guidance: larger
        head and jaw motion, looser lip sync; README "Settings tried after the fifth stage")."""
        cfg = guidance(cfg_strength, motion_cfg_strength)
        s = self.setup(
            ref_mel,
            ref_motion,
            text,
            total_frames,
            ref_frames=ref_frames,
            steps=steps,
            guided=max(cfg) > 0,
            sway=sway,
            method=method,
            epss=epss,
            seed=seed,
            generate_motion=generate_motion,
        )
        if engine is not None and generate_motion and max(cfg) > 0:
            velocity = self._engine_velocity_fn(
                engine, s.cond_a, s.cond_m, s.text_c, s.text_u, s.mel_lens, s.total, cfg
            )
        else:
            velocity = self._velocity_fn(s.cond_a, s.cond_m, s.text_c, s.text_u, s.audio_mask, s.motion_mask, cfg)
        xa, xm = self.integrate(velocity, s.xa, s.xm, s.ts, method)
        return self.finish(s, xa, xm)

    @torch.no_grad()
    def setup(
        self,
        ref_mel: Tensor,
        ref_motion: Tensor | None,
        text: Tensor,
        total_frames: Tensor | int,
        *,
        ref_frames: Tensor | int | None,
        steps: int,
        guided: bool,  # whether any branch is guided: the unconditional text is embedded then
        sway: float | None,
        method: str,
        epss: bool,
        seed: int | Sequence[int] | None,
        generate_motion: bool,
        frames: tuple[int, int] | None = None,
    ) -> SampleSetup:
        """Everything one solve needs, built once per request batch (see `sample` for the
        arguments). `frames` = (na, nm) pads the solve to those lengths with masks (the static
        shapes of a CUDA graph); padding changes nothing but the arrays' length."""
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        self.eval()
        device = self.device
        b = ref_mel.shape[0]
        ref_frames = _per_sample(
            ref_frames if ref_frames is not None else (ref_motion.shape[1] if ref_motion is not None else None),
            b,
            "ref_frames",
        )
        total = _per_sample(total_frames, b, "total_frames")
        if (total <= ref_frames).any():
            raise ValueError("total_frames must exceed ref_frames: there would be nothing to generate")
        mel_lens, ref_mel_lens = mel_lens_for_frames(total), mel_lens_for_frames(ref_frames)
        if (ref_mel_lens > ref_mel.shape[1]).any():
            raise ValueError(
                f"reference mel has {ref_mel.shape[1]} frames, {int(ref_mel_lens.max())} needed for "
                f"{int(ref_frames.max())} motion frames"
            )
        na, nm = int(mel_lens.max()), int(total.max())
        if frames is not None:
            if frames[0] < na or frames[1] < nm:
                raise ValueError(f"frames {frames} shorter than the request ({na}, {nm})")
            na, nm = frames
        # masks only where something is padded (without them attention may take a fused kernel);
        # always for fixed `frames`, whose graph reads the same inputs for every request
        padded = frames is not None or bool((mel_lens < na).any() or (total < nm).any())
        dtype = next(self.parameters()).dtype
        mel_lens, total, ref_frames, ref_mel_lens = (x.to(device) for x in (mel_lens, total, ref_frames, ref_mel_lens))

        ref_region_a = lens_to_mask(ref_mel_lens, na).unsqueeze(-1)
        cond_a = torch.zeros(b, na, self.config.model.mel_dim, device=device, dtype=dtype)
        n = min(na, ref_mel.shape[1])
        cond_a[:, :n] = ref_mel[:, :n].to(device=device, dtype=dtype)
        cond_a = cond_a.masked_fill(~ref_region_a, 0.0)

        cond_m = ref_region_m = None
        if generate_motion:
            ref_region_m = lens_to_mask(ref_frames, nm).unsqueeze(-1)
            cond_m = torch.zeros(b, nm, self.config.model.motion_dim, device=device, dtype=dtype)
            if ref_motion is not None:
                if (ref_frames > ref_motion.shape[1]).any():
                    raise ValueError(
                        f"reference motion has {ref_motion.shape[1]} frames, "
                        f"ref_frames asks for {int(ref_frames.max())}"
                    )
                n = min(nm, ref_motion.shape[1])
                cond_m[:, :n] = ref_motion[:, :n].to(device=device, dtype=dtype)
            cond_m = cond_m.masked_fill(~ref_region_m, 0.0)

        audio_mask = lens_to_mask(mel_lens, na) if padded else None
        motion_mask = lens_to_mask(total, nm) if (padded and generate_motion) else None
        text = text.to(device)
        text_c = _pad_frames(self.backbone.embed_text(text, mel_lens, drop_text=False), na)  # once per request
        text_u = _pad_frames(self.backbone.embed_text(text, mel_lens, drop_text=True), na) if guided else None

        # the ODE state: xa (b, na, mel_dim) mel and xm (b, nm, motion_dim) motion, noise at t = 0
        xa, xm = self._noise(mel_lens, total if generate_motion else None, seed, dtype)
        xa, xm = _pad_frames(xa, na), None if xm is None else _pad_frames(xm, nm)
        ts = timesteps(steps, sway, epss, device).to(dtype)
        return SampleSetup(
            cond_a,
            cond_m,
            ref_region_a,
            ref_region_m,
            audio_mask,
            motion_mask,
            text_c,
            text_u,
            xa,
            xm,
            ts,
            mel_lens,
            total,
        )

    @staticmethod
    def integrate(
        velocity: Callable[[Tensor, Tensor, Tensor | None], tuple[Tensor, Tensor | None]],
        xa: Tensor,
        xm: Tensor | None,
        ts: Tensor,
        method: str,
    ) -> tuple[Tensor, Tensor | None]:
        """The ODE from t = ts[0] to ts[-1]; no host synchronisation, so it can be graph-captured.
        va / vm are the velocities, ha / hm the midpoint method's half steps."""
        for i in range(ts.shape[0] - 1):
            t0, dt = ts[i], ts[i + 1] - ts[i]
            va, vm = velocity(t0, xa, xm)
            if method == "midpoint":
                ha = xa + va * dt / 2
                hm = None if xm is None else xm + vm * dt / 2
                va, vm = velocity(t0 + dt / 2, ha, hm)
            xa = xa + va * dt
            xm = None if xm is None else xm + vm * dt
        return xa, xm

    def finish(self, s: SampleSetup, xa: Tensor, xm: Tensor | None) -> SampleOutput:
        """Reference regions copied back, padding zeroed, cut to the batch's longest request."""
        b = xa.shape[0]
        na, nm = int(s.mel_lens.max()), int(s.total.max())
        mel = torch.where(s.ref_region_a, s.cond_a, xa).masked_fill(
            ~lens_to_mask(s.mel_lens, xa.shape[1]).unsqueeze(-1), 0.0
        )
        if xm is None:
            motion = torch.zeros(b, nm, self.config.model.motion_dim, device=xa.device, dtype=xa.dtype)
        else:
            motion = torch.where(s.ref_region_m, s.cond_m, xm).masked_fill(
                ~lens_to_mask(s.total, xm.shape[1]).unsqueeze(-1), 0.0
            )
        return SampleOutput(mel[:, :na], motion[:, :nm], s.mel_lens, s.total)

    def _velocity_fn(
        self,
        cond_a: Tensor,
        cond_m: Tensor | None,
        text_c: Tensor,
        text_u: Tensor | None,
        audio_mask: Tensor | None,
        motion_mask: Tensor | None,
        cfg: tuple[float, float],  # (audio, motion) guidance strengths
    ) -> Callable[[Tensor, Tensor, Tensor | None], tuple[Tensor, Tensor | None]]:
        b = cond_a.shape[0]
        cfg_audio, cfg_motion = cfg
        if max(cfg) <= 0:

            def plain(t: Tensor, xa: Tensor, xm: Tensor | None) -> tuple[Tensor, Tensor | None]:
                return self.backbone(
                    xa,
                    cond_a,
                    t.expand(b),
                    text_emb=text_c,
                    x_motion=xm,
                    cond_motion=cond_m,
                    audio_mask=audio_mask,
                    motion_mask=motion_mask,
                    mask_keys=True,
                )

            return plain

        # Conditional and unconditional passes packed into one batch of 2b. Padded keys are always
        # hidden here: a request must get what it gets alone, whatever pads its batch or bucket
        # (a model trained with attn_mask off never saw padding at batch 1 either).
        cat = lambda x: None if x is None else torch.cat((x, x), 0)
        device = cond_a.device  # flags made on the device: no host copy inside a captured graph
        drop = torch.cat(
            (torch.zeros(b, dtype=torch.bool, device=device), torch.ones(b, dtype=torch.bool, device=device))
        )
        cond_a2, cond_m2, am2, mm2 = cat(cond_a), cat(cond_m), cat(audio_mask), cat(motion_mask)
        text2 = torch.cat((text_c, text_u), 0)

        def guided(t: Tensor, xa: Tensor, xm: Tensor | None) -> tuple[Tensor, Tensor | None]:
            va, vm = self.backbone(
                cat(xa),
                cond_a2,
                t.expand(2 * b),
                text_emb=text2,
                x_motion=cat(xm),
                cond_motion=cond_m2,
                audio_mask=am2,
                motion_mask=mm2,
                drop_cond=drop,
                mask_keys=True,
            )
            va_c, va_u = va.chunk(2)
            va = va_c + (va_c - va_u) * cfg_audio
            if vm is not None:
                vm_c, vm_u = vm.chunk(2)
                vm = vm_c + (vm_c - vm_u) * cfg_motion
            return va, vm

        return guided

    def _engine_velocity_fn(
        self, engine, cond_a, cond_m, text_c, text_u, mel_lens, total, cfg: tuple[float, float]
    ) -> Callable[[Tensor, Tensor, Tensor | None], tuple[Tensor, Tensor | None]]:
        """The guided step through an external engine: masks always given (all valid for one request)."""
        device, dtype = cond_a.device, cond_a.dtype
        fixed = dict(
            cond_audio=cond_a.float(),
            cond_motion=cond_m.float(),
            text_cond=text_c.float(),
            text_uncond=text_u.float(),
            audio_mask=lens_to_mask(mel_lens, cond_a.shape[1]),
            motion_mask=lens_to_mask(total, cond_m.shape[1]),
            cfg=torch.tensor([float(c) for c in cfg]),  # (2,) audio, motion
        )

        def step(t: Tensor, xa: Tensor, xm: Tensor | None) -> tuple[Tensor, Tensor | None]:
            va, vm = engine(x_audio=xa.float(), x_motion=xm.float(), time=t.float().reshape(1), **fixed)
            return va.to(device=device, dtype=dtype), vm.to(device=device, dtype=dtype)

        return step

    def _noise(
        self, mel_lens: Tensor, motion_lens: Tensor | None, seed: int | Sequence[int] | None, dtype: torch.dtype
    ) -> tuple[Tensor, Tensor | None]:
        """Per-sample noise from a CPU generator, so a seed gives the same result on any device and
        a request gets the same noise whatever else shares its batch."""
        b = mel_lens.shape[0]
        seeds = [seed] * b if seed is None or isinstance(seed, int) else list(seed)
        if len(seeds) != b:
            raise ValueError(f"{len(seeds)} seeds for a batch of {b}")
        c = self.config.model
        na = int(mel_lens.max())
        nm = int(motion_lens.max()) if motion_lens is not None else 0
        xa = torch.zeros(b, na, c.mel_dim)
        xm = torch.zeros(b, nm, c.motion_dim) if motion_lens is not None else None
        for i, s in enumerate(seeds):
            g = torch.Generator()
            g.manual_seed(int(s) if s is not None else int(torch.randint(0, 2**62, (1,))))
            la = int(mel_lens[i])
            xa[i, :la] = torch.randn(la, c.mel_dim, generator=g)
            if xm is not None:
                lm = int(motion_lens[i])
                xm[i, :lm] = torch.randn(lm, c.motion_dim, generator=g)
        move = lambda x: None if x is None else x.to(device=self.device, dtype=dtype)
        return move(xa), move(xm)


def _masked_mse(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    if not mask.any():
        raise ValueError("empty loss region: every sample's target has length 0")
    return F.mse_loss(pred.float(), target.float(), reduction="none")[mask].mean()


def _delta_mse(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean squared frame-to-frame change of the error (pred - target) over pairs of target frames.

    The sampler sums velocities, so an error that flips sign from frame to frame is jitter in the
    result; this term weighs such errors (high temporal frequencies) up to 4x, slow drift not at all.
    """
    pairs = mask[:, 1:] & mask[:, :-1]  # (b, n - 1)
    if not pairs.any():
        return torch.zeros((), device=pred.device, dtype=torch.float32)
    err = pred.float() - target.float()  # (b, n, d)
    return (err[:, 1:] - err[:, :-1]).pow(2)[pairs].mean()


def _pad_frames(x: Tensor, n: int) -> Tensor:
    """(b, m, d) -> (b, n, d), zeros after m."""
    return x if x.shape[1] == n else F.pad(x, (0, 0, 0, n - x.shape[1]))


def _per_sample(value: Tensor | int | None, b: int, name: str) -> Tensor:
    if value is None:
        raise ValueError(f"{name} is required")
    if isinstance(value, Tensor):
        if value.shape != (b,):
            raise ValueError(f"{name} must have shape ({b},), got {tuple(value.shape)}")
        return value.long().cpu()
    return torch.full((b,), int(value), dtype=torch.long)


__all__ = [
    "FlowMatching",
    "LossOutput",
    "SampleOutput",
    "SampleSetup",
    "TrainBatch",
    "f5_duration",
    "lens_to_mask",
    "timesteps",
]
